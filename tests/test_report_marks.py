"""The per-sample viewer's marks (harness.report.marks, harness.report.samples): the numbers an output
dropped, changed or added and the glossary terms it missed, in each system's pages of a leaderboard
site, computed as the run scored them (its glossary), kept within the page's byte share and
escaped; the leaderboard tables and results.md show the `numbers` and `terms` columns and
signatures like any metric. (The marks in a real Chromium: tests/test_html_browser.py.)"""

from __future__ import annotations

import csv
import io
import json
from types import SimpleNamespace

import pytest

from helpers.report_runs import ModelSpec, read_sample_page, write_dataset, write_run

TRANSLATE = (
    ["000-p01-s01", "000-p01-s02", "000-p01-s03"],
    ["英伟达的营收增长30%，算力需求很大。", "员工两千人，去年营收1750亿元。", "今天天气很好。"],
    [["Nvidia's revenue grew 30%, and demand for computing power is high."],
     ["It has 2,000 staff and revenue of 175 billion yuan last year."],
     ["The weather is nice today."]],
)
SUMMARIZE = (
    ["000", "001"],
    ["营收1750亿元，员工两千人。", "大模型发展很快。"],
    [["营收1750亿元。", "员工两千人。"], ["大模型发展快。", "大模型很快。"]],
)
DATA = {"translate_zh_en": TRANSLATE, "summarize_zh": SUMMARIZE}
METRICS = {"translate_zh_en": ["chrf++", "numbers", "terms"], "summarize_zh": ["rougeL", "numbers"]}
SLOPPY = {  # 30% → 32%, 算力 as "compute"; 1750亿 dropped and 12 added; in the summary 两千 → 三千
    "translate_zh_en": ["Nvidia's revenue grew 32%, and demand for compute is high.",
                        "It has 2,000 staff working 12 hours.", "The weather is nice today."],
    "summarize_zh": ["员工三千人，营收增长。", "大模型发展很快。"],
}


def models() -> dict[str, ModelSpec]:
    return {
        "careful": ModelSpec(outputs={"translate_zh_en": [r[0] for r in TRANSLATE[2]],
                                      "summarize_zh": ["营收1750亿元。", "大模型发展快。"]}),
        "sloppy": ModelSpec(outputs=SLOPPY),
        "human": ModelSpec(role="agreement", outputs={"summarize_zh": [r[1] for r in SUMMARIZE[2]]}),
    }


def tiny_run(root, outputs=None, metric_settings=None):
    """root/results/tiny (careful, sloppy and the agreement row by default) over DATA, scored with METRICS."""
    folder, sha = write_dataset(root / "data", data=DATA)
    return write_run(root / "results", "tiny", outputs or models(), dataset_path=str(folder), dataset_sha=sha, data=DATA,
                     metrics=METRICS, metric_settings=metric_settings)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from harness.cli import main

    root = tmp_path_factory.mktemp("marks")
    tiny_run(root)
    try:
        main(["leaderboard", str(root / "results"), "--out", str(root / "site")])
    except SystemExit as e:  # pragma: no cover - only on failure
        pytest.fail(f"harness leaderboard exited {e.code}")
    return root


def page_items(site, task: str, model: str) -> dict[str, dict]:
    return {it["id"]: it for it in read_sample_page(site / "site" / "samples" / task / model / "page-0001.js")["items"]}


def q(text: str, value: str | None = None) -> dict:
    return {"text": text, "value": text if value is None else value}


@pytest.mark.parametrize("task, model, item, marks", [
    ("translate_zh_en", "sloppy", "000-p01-s01", {
        "numbers": {"changed": [{"source": q("30"), "output": q("32")}]},
        "terms": [{"term": "算力", "source": ["算力"], "expected": ["computing power"]}]}),  # 英伟达 → Nvidia is rendered
    ("translate_zh_en", "sloppy", "000-p01-s02", {
        "numbers": {"dropped": [q("1750亿", "175000000000")], "added": [q("12")]}}),  # 两千 = 2,000 is kept
    ("translate_zh_en", "sloppy", "000-p01-s03", None),
    ("translate_zh_en", "careful", "000-p01-s01", None),
    ("translate_zh_en", "careful", "000-p01-s02", None),  # 175 billion = 1750亿
    # a summary scores numbers by precision: 1750亿 left out is no error, 三千 for 两千 is
    ("summarize_zh", "sloppy", "000", {"numbers": {"changed": [{"source": q("两千", "2000"), "output": q("三千", "3000")}]}}),
    ("summarize_zh", "sloppy", "001", None),
    ("summarize_zh", "careful", "000", None),
    ("summarize_zh", "human", "000", None),  # the agreement row is marked too: 两千 is in the source
])
def test_pages_carry_each_outputs_marks(site, task, model, item, marks):
    entry = page_items(site, task, model)[item]
    assert entry.get("marks") == marks
    assert entry["output"] == models()[model].outputs[task][DATA[task][0].index(item)]  # marked, not changed


@pytest.mark.parametrize("task, model, numbers, terms", [
    # numbers: items 1 and 2 keep 1 of 3 source numbers and 1 of 3 output numbers are the source's → F 33.33
    ("translate_zh_en", "sloppy", 100 / 3, 50.0),  # terms: 英伟达 rendered, 算力 not (item 3 names none)
    ("translate_zh_en", "careful", 100.0, 100.0),
    ("summarize_zh", "sloppy", 0.0, None),  # precision: 三千 is not in the source
    ("summarize_zh", "careful", 100.0, None),
])
def test_leaderboard_tables_show_numbers_and_terms(site, task, model, numbers, terms):
    md = (site / "site" / "leaderboard.md").read_text(encoding="utf-8")
    section = md.split(f"## `{task}`")[1].split("\n## ")[0]
    header = next(line for line in section.splitlines() if line.startswith("| rank"))
    row = next(line for line in section.splitlines() if f"| **{model}** |" in line)
    cells = dict(zip(header.split(" | "), row.split(" | ")))
    assert cells["numbers"].startswith(f"{numbers:.1f} [")
    assert ("terms" not in cells) if terms is None else cells["terms"].startswith(f"{terms:.1f} [")
    rows = [r for r in csv.DictReader(io.StringIO((site / "site" / "leaderboard.csv").read_text(encoding="utf-8")))
            if (r["task"], r["model"]) == (task, model)]
    values = {r["metric"]: float(r["value"]) for r in rows}
    assert values["numbers"] == pytest.approx(numbers, abs=1e-3)
    assert ("terms" not in values) if terms is None else values["terms"] == pytest.approx(terms, abs=1e-3)
    signatures = {r["metric"]: r["signature"] for r in rows}
    assert signatures["numbers"].startswith("numbers|against:source|src:zh|")
    board = json.loads((site / "site" / "leaderboard.json").read_text(encoding="utf-8"))
    table = next(t for t in board["tables"] if t["task"] == task)
    assert "numbers" in table["metrics"] and ("terms" in table["metrics"]) == (terms is not None)
    html = (site / "site" / "index.html").read_text(encoding="utf-8").split(f"<h2><code>{task}</code>")[1].split("<h2>")[0]
    # the column header, the plot's caption and the signature
    assert html.count(">numbers<") == 3 and html.count(">terms<") == (0 if terms is None else 3)


def test_results_md_names_the_rows_of_every_signature(site):
    from harness.record import read_manifest, read_scores
    from harness.report.tables import render_markdown

    folder = site / "results" / "tiny"
    manifest = read_manifest(folder)
    scores = read_scores(folder, manifest)
    md = render_markdown(manifest, scores)
    signature = {(s.model, s.task, s.metric): s.signature for s in scores.scores}
    summary = md.split("## summarize_zh")[1].split("\n## ")[0]
    # the agreement row has one reference, so rougeL has two signatures; numbers reads no reference
    assert summary.split("Signatures:\n")[1].split("\n\n")[0].splitlines() == [
        f"- `{signature[('careful', 'summarize_zh', 'rougeL')]}` (careful, sloppy)",
        f"- `{signature[('careful', 'summarize_zh', 'numbers')]}` (careful, sloppy, human)",
        f"- `{signature[('human', 'summarize_zh', 'rougeL')]}` (human)",
    ]
    translate = md.split("## translate_zh_en")[1]
    # one signature per metric for every row: no names needed
    assert translate.split("Signatures:\n")[1].split("\n\n")[0].splitlines() == [
        f"- `{signature[('careful', 'translate_zh_en', m)]}`" for m in METRICS["translate_zh_en"]]


def entries(n: int) -> list[dict]:
    return [q(str(i)) for i in range(1, n + 1)]


@pytest.mark.parametrize("marks, budget, fitted", [
    # {"numbers":{"added":[…]}} of 10 entries: 12 + 9 + 9 × 24 ({"text":"1","value":"1"}) + 26 ("10") + 9 commas
    # + 3 = 275 bytes
    ({"numbers": {"added": entries(10)}}, 275, {"numbers": {"added": entries(10)}}),
    # 274: 274 − 128 (the frame) = 146 bytes for entries of 24 + 1 (the comma) each: 5 of them
    ({"numbers": {"added": entries(10)}}, 274, {"numbers": {"added": entries(5)}, "left_out": 5}),
    ({"numbers": {"added": entries(10)}}, 100, {"left_out": 10}),
    # the order: dropped, changed, added, then the terms
    ({"numbers": {"dropped": entries(2), "added": entries(2)}, "terms": [{"term": "算力", "source": ["算力"], "expected": ["computing power"]}]},
     128 + 3 * 25, {"numbers": {"dropped": entries(2), "added": entries(1)}, "left_out": 2}),
])
def test_marks_keep_to_their_share_of_the_page(marks, budget, fitted):
    from harness.report.html import embed_json
    from harness.report.marks import fit_marks

    assert fit_marks(marks, budget) == fitted
    assert len(embed_json(fitted).encode("utf-8")) <= budget


@pytest.mark.parametrize("n_refs, marked, budget", [
    (2, False, (100_000 - 16_384) // 5),  # id, source, output, two references
    (2, True, (100_000 - 16_384) // 6),  # and the marks
    (1, True, (100_000 - 16_384) // 5),
])
def test_a_marked_table_gives_the_marks_a_share_of_the_page(n_refs, marked, budget):
    from harness.report.samples import PageLimits, text_budget

    assert text_budget(SimpleNamespace(references=("r",) * n_refs), PageLimits(bytes=100_000), marked) == budget


def test_an_output_that_drops_thousands_of_numbers_still_fits_its_page():
    """3,000 source numbers, none in the output: the page holds the first that fit the marks' share
    ((100,000 − 16,384) // 5 = 16,723 bytes, 16,595 after the frame): 9 entries of 25 bytes
    ({"text":"1","value":"1"} and a comma), 90 of 27 and 480 of 29 (16,575 bytes); 2,421 left out."""
    from harness.report.html import embed_json
    from harness.report.marks import MarkReader
    from harness.report.samples import PageLimits, output_fields, text_budget
    from harness.score.numbers import Numbers

    item = SimpleNamespace(id="x", source="、".join(str(i) for i in range(1, 3001)), references=("r",))
    prediction = SimpleNamespace(output="No numbers.", truncated=False, stop_reason="eos", scores={"numbers": 0.0})
    reader = MarkReader(numbers=Numbers("en").with_sources((), "zh"), terms=None)
    budget = text_budget(item, PageLimits(bytes=100_000), True)
    fields = output_fields(item, prediction, ["numbers"], budget, reader)
    assert fields["marks"] == {"numbers": {"dropped": entries(579)}, "left_out": 2421}
    assert len(embed_json(fields["marks"]).encode("utf-8")) <= budget == 16_723


HOSTILE_OUTPUT = "</script><script>window.__pwned=true</script> revenue grew 32% & \u2028 <b>bold</b>"
HOSTILE_GLOSSARY = """name: hostile
terms:
  - zh: 算力
    en: ["</script><img src=x onerror=alert(1)> power"]
"""


def test_marks_in_a_page_are_escaped_json(tmp_path, run_cli):
    """A hostile output and a hostile glossary rendering reach the page only inside escaped JSON."""
    glossary = tmp_path / "glossary.yaml"
    glossary.write_text(HOSTILE_GLOSSARY, encoding="utf-8")
    outputs = models()
    outputs["sloppy"] = ModelSpec(outputs={**SLOPPY, "translate_zh_en": [HOSTILE_OUTPUT, *SLOPPY["translate_zh_en"][1:]]})
    tiny_run(tmp_path, outputs, {"terms": {"glossary": str(glossary)}})
    code, _, err = run_cli("leaderboard", str(tmp_path / "results"), "--out", str(tmp_path / "site"))
    assert code == 0, err
    path = tmp_path / "site" / "samples" / "translate_zh_en" / "sloppy" / "page-0001.js"
    text = path.read_text(encoding="utf-8")
    for raw in ("<", ">", "&", "\u2028"):
        assert raw not in text
    assert text.count("harnessSamples(") == 1 and text.count(";") == 1
    first = read_sample_page(path)["items"][0]
    assert first["output"] == HOSTILE_OUTPUT
    assert first["marks"] == {"numbers": {"changed": [{"source": q("30"), "output": q("32")}]},
                              "terms": [{"term": "算力", "source": ["算力"], "expected": ["</script><img src=x onerror=alert(1)> power"]}]}


@pytest.mark.parametrize("damage, message", [
    ("edit", "{run}: careful on translate_zh_en: terms was scored as 'terms|glossary:mine@sha256:{old}|src:zh|tgt:en|"
             "match:word-ci+plural|unit:term-per-item|agg:micro|refs:none|v:1' but this harness computes "
             "'terms|glossary:mine@sha256:{new}|src:zh|tgt:en|match:word-ci+plural|unit:term-per-item|agg:micro|refs:none|v:1'; "
             "rescore the run (`harness rescore`) before building a leaderboard"),
    ("delete", "{run}/manifest.json: metric settings: terms.glossary: {glossary}: glossary file not found"),
])
def test_marks_refuse_a_glossary_that_changed_since_the_run(tmp_path, run_cli, damage, message):
    """The marks must say what the scores counted: a run's glossary that changed or went is one line, exit 2,
    and no site."""
    from harness.io import sha256_file

    glossary = tmp_path / "glossary.yaml"
    glossary.write_text("name: mine\nterms:\n  - zh: 算力\n    en: [computing power]\n", encoding="utf-8")
    old = sha256_file(glossary)[:12]
    run = tiny_run(tmp_path, metric_settings={"terms": {"glossary": str(glossary)}})
    if damage == "edit":
        glossary.write_text("name: mine\nterms:\n  - zh: 算力\n    en: [compute]\n", encoding="utf-8")
    else:
        glossary.unlink()
    new = sha256_file(glossary)[:12] if glossary.exists() else ""
    code, out, err = run_cli("leaderboard", str(tmp_path / "results"), "--out", str(tmp_path / "site"))
    assert (code, out) == (2, "")
    assert err == "error: " + message.format(run=run, old=old, new=new, glossary=glossary) + "\n"
    assert not (tmp_path / "site").exists()


def test_ranking_on_terms_reads_the_runs_glossary(tmp_path, run_cli):
    """--main-metric terms: the paired test recomputes terms with the run's own glossary (not the
    project's, whose signature would differ from the stored one and stop the leaderboard)."""
    glossary = tmp_path / "glossary.yaml"
    glossary.write_text("name: mine\nterms:\n  - zh: 算力\n    en: [computing power]\n", encoding="utf-8")
    tiny_run(tmp_path, metric_settings={"terms": {"glossary": str(glossary)}})
    code, _, err = run_cli("leaderboard", str(tmp_path / "results"), "--out", str(tmp_path / "site"),
                           "--main-metric", "translate_zh_en=terms")
    assert code == 0, err
    board = json.loads((tmp_path / "site" / "leaderboard.json").read_text(encoding="utf-8"))
    table = next(t for t in board["tables"] if t["task"] == "translate_zh_en")
    assert table["main_metric"] == "terms" and table["signatures"]["terms"].startswith("terms|glossary:mine@sha256:")
    # only item 1 names a term (算力): careful renders it, sloppy does not; every AR swap of that one
    # item gives the same |Δ|, so p = 1 and both share band 1
    assert [(r["label"], r["rank"], r["scores"]["terms"]["value"], r["delta_vs_band_leader"], r["p_vs_band_leader"])
            for r in table["rows"]] == [("careful", 1, 100.0, None, None), ("sloppy", 1, 0.0, -100.0, 1.0)]
