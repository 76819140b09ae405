"""`harness leaderboard`: golden Markdown/CSV/JSON on tiny results folders, rank bands, grouping
(dataset versions, signatures, item sets are never mixed) and bad input.

Regenerate the golden files after an intended change with
    UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_report_leaderboard.py
and read the diff before committing it.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
from pathlib import Path

import pytest

from helpers.report_runs import (Item, ModelSpec, items_for, run_smoke, standard_models, task_items, tiny_provenance,
                                write_dataset, write_run)

GOLDEN = Path(__file__).parent / "data" / "report" / "golden"


def golden_runs(root: Path):
    from harness.report.runs import load_runs

    write_run(root, "tiny", standard_models(), reference_provenance=tiny_provenance())
    zh_refs = task_items("summarize_zh")[2]
    # A second run on the same dataset and items: its model joins the same table; a model name
    # that appears in both runs gets the run folder in its label.
    write_run(
        root,
        "tiny-b",
        {"alpha": ModelSpec(outputs={"summarize_zh": [r[1] for r in zh_refs]}), "gamma": ModelSpec(outputs={"summarize_zh": [r[0][:5] for r in zh_refs]})},
        started="2025-02-03T04:05:06+00:00",
        config_path="configs/tiny-b.yaml",
        reference_provenance=tiny_provenance(),
    )
    return load_runs([root])


@pytest.fixture(scope="module")
def board(tmp_path_factory):
    from harness.report.leaderboard import build_leaderboard

    runs = golden_runs(tmp_path_factory.mktemp("golden"))
    return build_leaderboard(runs, items_for)


@pytest.mark.parametrize(
    ("name", "render"),
    [
        ("leaderboard.md", "to_markdown"),
        ("leaderboard.csv", "to_csv"),
        ("leaderboard.json", "to_json"),
    ],
)
def test_golden_files(board, name, render):
    import harness.report.leaderboard_writers as lb

    text = getattr(lb, render)(board)
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.is_file(), f"{path} missing: run with UPDATE_GOLDEN=1 once"
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from the golden file (UPDATE_GOLDEN=1 to accept)"


def test_golden_tables_rank_as_the_data_supports(board):
    """What the golden files must show, asserted directly (so a bad golden file cannot pass)."""
    zh, en = board.tables
    assert (zh.task, zh.main_metric, en.task, en.main_metric) == ("summarize_zh", "rougeL", "translate_zh_en", "chrf++")
    ranks = {r.label: (r.rank, r.role) for r in zh.rows}
    # alpha (tiny) repeats reference A, alpha (tiny-b) reference B: both score 100 and share the band.
    assert ranks == {
        "human": (None, "agreement"),
        "alpha (tiny)": (1, "model"),
        "alpha (tiny-b)": (1, "model"),
        "beta": (3, "model"),
        "gamma": (4, "model"),
        "lead-1": (5, "baseline"),
    }
    assert [r.role for r in zh.rows] == ["agreement", "model", "model", "model", "model", "baseline"]
    assert [s.run for s in zh.sources] == ["tiny", "tiny-b"]
    # translation: alpha and beta differ by noise (each drops a word on every other item) → one band
    assert {r.label: r.rank for r in en.rows} == {"beta": 1, "alpha": 1, "lead-1": 3}
    lead = next(r for r in zh.rows if r.label == "lead-1")
    assert (lead.truncated_share, lead.max_tokens_share, lead.off_target_share) == (pytest.approx(2 / 6), 0.0, 0.0)
    assert next(r for r in zh.rows if r.label == "beta").max_tokens_share == 1.0
    assert any("agreement row 'human'" in n for n in zh.notes)
    # Who wrote and reviewed the references, from the runs' reference_provenance.
    assert zh.references == ("A: AI-written (Claude), reviewed by Wang Fang (human), 2026-12-10 (1 of 2); "
                             "AI-written (Claude), not reviewed (1 of 2); B: human-written (Li Lei), not reviewed")
    assert en.references == "AI-written (Claude), not reviewed"
    assert zh.notes[0] == f"References: {zh.references}."
    assert next(r for r in zh.rows if r.label == "human").role == "agreement"


@pytest.mark.parametrize(
    ("table", "label", "next_ranked", "mde"),
    [  # the main metric's MDE of each adjacent-rank pair (seed 0, 1000 resamples)
        ("summarize_zh", "human", None, None),  # the agreement row is not ranked
        ("summarize_zh", "alpha (tiny)", "alpha (tiny-b)", None),  # both 100 on every item: no spread
        ("summarize_zh", "alpha (tiny-b)", "beta", 0.8152),
        ("summarize_zh", "beta", "gamma", 5.4059),
        ("summarize_zh", "gamma", "lead-1", 3.8029),
        ("summarize_zh", "lead-1", None, None),  # ranked last
        ("translate_zh_en", "beta", "alpha", 17.5099),  # 8 items of corpus chrF++
        ("translate_zh_en", "alpha", "lead-1", 12.3482),
    ],
)
def test_each_row_has_the_mde_against_the_next_ranked_row(board, table, label, next_ranked, mde):
    from harness.report.leaderboard_writers import mde_text

    row = next(r for t in board.tables if t.id == table for r in t.rows if r.label == label)
    assert row.next_ranked == next_ranked
    assert row.mde_vs_next == (None if mde is None else pytest.approx(mde, abs=1e-4))
    shown = "—" if next_ranked is None else f"{'—' if mde is None else f'{mde:.1f}'} vs {next_ranked}"
    assert mde_text(row) == shown


def test_runs_without_reference_provenance_say_so(tmp_path):
    from harness.report.html import page_html
    from harness.report.leaderboard import build_leaderboard
    from harness.report.leaderboard_writers import to_csv, to_dict, to_markdown
    from harness.report.runs import load_runs

    write_run(tmp_path, "old", standard_models())  # a manifest written before the field existed
    board = build_leaderboard(load_runs([tmp_path]), items_for)
    assert {t.references for t in board.tables} == {"reference provenance not recorded"}
    assert "> **Note:** References: reference provenance not recorded." in to_markdown(board)
    assert "reference provenance not recorded" in to_csv(board).splitlines()[1]
    assert to_dict(board)["tables"][0]["references"] == "reference provenance not recorded"
    assert "References: reference provenance not recorded." in page_html(board, {"tables": []})
    assert "human" not in to_markdown(board).replace("'human'", "").replace("*human*", "")  # the agreement row's name


def test_csv_and_json_agree_with_the_tables(board):
    rows = list(csv.DictReader(io.StringIO(__import__("harness.report.leaderboard_writers", fromlist=["to_csv"]).to_csv(board))))
    assert len(rows) == sum(len(r.cells) for t in board.tables for r in t.rows)
    beta_rouge = next(r for r in rows if r["model"] == "beta" and r["metric"] == "rougeL")
    cell = next(r for r in board.tables[0].rows if r.label == "beta").cells["rougeL"]
    assert float(beta_rouge["value"]) == pytest.approx(cell.value, abs=1e-4)
    assert beta_rouge["rank"] == "3" and beta_rouge["role"] == "model"
    doc = json.loads(__import__("harness.report.leaderboard_writers", fromlist=["to_json"]).to_json(board))
    assert doc["significance"] == {"alpha": 0.05, "test": "ar", "seed": 0, "n_boot": 1000, "n_ar": 10000}
    assert [t["id"] for t in doc["tables"]] == ["summarize_zh", "translate_zh_en"]


@pytest.mark.parametrize(
    ("order", "different", "expected"),
    [
        (["a", "b", "c"], set(), [1, 1, 1]),
        (["a", "b", "c"], {("a", "b"), ("a", "c"), ("b", "c")}, [1, 2, 3]),
        (["a", "b", "c"], {("a", "c")}, [1, 1, 3]),
        (["a", "b", "c", "d"], {("a", "c"), ("a", "d")}, [1, 1, 3, 3]),
        # contiguous bands: d is not different from a, but c (above it) is, so d follows c's band
        (["a", "b", "c", "d"], {("a", "b"), ("b", "c")}, [1, 2, 3, 3]),
        (["a"], set(), [1]),
    ],
)
def test_rank_bands(order, different, expected):
    from harness.report.leaderboard import rank_bands

    ranks = rank_bands(order, lambda leader, other: (leader, other) in different)
    assert [ranks[x] for x in order] == expected


def real_translation(n: int) -> tuple[list[str], list[str], list[list[str]]]:
    """The first n segments of the real dataset's zh→en task (ids, sources, references)."""
    from harness.tasks import load_items

    items = load_items("translate_zh_en", Path(__file__).resolve().parents[1] / "data")[:n]
    return [i.id for i in items], [i.source for i in items], [list(i.references) for i in items]


def test_bands_on_real_references_noise_shares_a_band_a_clear_winner_does_not(tmp_path):
    """Two systems that lose words at random (different seeds) are not separable; the exact
    references are clearly better; keeping only three words is clearly worse."""
    import numpy as np

    from harness.report.leaderboard import build_leaderboard
    from harness.report.runs import load_runs

    ids, sources, refs = real_translation(60)
    data = {"translate_zh_en": (ids, sources, refs)}

    def noisy(seed: int) -> list[str]:
        rng = np.random.default_rng(seed)
        out = []
        for r in refs:
            words = r[0].split()
            if len(words) > 3 and rng.random() < 0.5:
                del words[int(rng.integers(len(words)))]
            out.append(" ".join(words))
        return out

    models = {
        "exact": ModelSpec(outputs={"translate_zh_en": [r[0] for r in refs]}),
        "noisy-1": ModelSpec(outputs={"translate_zh_en": noisy(1)}),
        "noisy-2": ModelSpec(outputs={"translate_zh_en": noisy(2)}),
        "three-words": ModelSpec(outputs={"translate_zh_en": [" ".join(r[0].split()[:3]) for r in refs]}),
    }
    write_run(tmp_path, "real", models, data=data)
    lookup = _lookup(data)
    (table,) = build_leaderboard(load_runs([tmp_path]), lookup).tables
    ranks = {r.label: r.rank for r in table.rows}
    assert ranks == {"exact": 1, "noisy-1": 2, "noisy-2": 2, "three-words": 4}
    noisy_2 = next(r for r in table.rows if r.label in ("noisy-1", "noisy-2") and r.band_leader != r.label)
    assert noisy_2.p_vs_leader >= 0.05 and noisy_2.delta_vs_leader < 0


def _lookup(data):
    def items_for(_sha):
        def items(task, item_ids):
            ids, sources, refs = data[task]
            by_id = {i: Item(i, i[:3], s, tuple(r)) for i, s, r in zip(ids, sources, refs)}
            return [by_id[i] for i in item_ids]

        return items

    return items_for


def test_lower_is_better_metric_sorts_ascending(tmp_path):
    from harness.report.leaderboard import build_leaderboard
    from harness.report.runs import load_runs

    en_refs = task_items("translate_zh_en")[2]
    models = {
        "good": ModelSpec(outputs={"translate_zh_en": [r[0] for r in en_refs]}),
        "bad": ModelSpec(outputs={"translate_zh_en": ["Nothing here at all." for _ in en_refs]}),
    }
    write_run(tmp_path, "ter", models, metrics={"translate_zh_en": ["chrf++", "ter"]})
    (table,) = build_leaderboard(load_runs([tmp_path]), items_for, {"*": "ter"}).tables
    assert [(r.label, r.rank) for r in table.rows] == [("good", 1), ("bad", 2)]
    assert table.rows[0].cells["ter"].value < table.rows[1].cells["ter"].value


def test_mixed_dataset_versions_are_never_mixed_in_one_table(tmp_path):
    from harness.report.leaderboard import build_leaderboard
    from harness.report.leaderboard_writers import to_markdown
    from harness.report.runs import load_runs

    write_run(tmp_path, "old", standard_models(), dataset_sha="a" * 64, started="2025-01-01T00:00:00+00:00")
    write_run(tmp_path, "new", standard_models(), dataset_sha="b" * 64, started="2025-03-01T00:00:00+00:00")
    board = build_leaderboard(load_runs([tmp_path]), items_for)
    assert [(t.id, t.dataset_sha256[0]) for t in board.tables] == [
        ("summarize_zh-1", "a"),
        ("summarize_zh-2", "b"),
        ("translate_zh_en-1", "a"),
        ("translate_zh_en-2", "b"),
    ]
    for t in board.tables:
        assert {r.run for r in t.rows} == {"old" if t.dataset_sha256[0] == "a" else "new"}
    assert any("separate tables" in n and "dataset versions" in n for n in board.notes)
    assert "not comparable" in to_markdown(board)


def test_mixed_dataset_versions_need_each_version_on_disk(tmp_path, run_cli):
    """Through the CLI, references come from dataset folders checked by MANIFEST hash."""
    old, old_sha = write_dataset(tmp_path / "data-old", version="old")
    new, new_sha = write_dataset(tmp_path / "data-new", version="new")
    write_run(tmp_path / "results", "old", standard_models(), dataset_path=str(old), dataset_sha=old_sha)
    write_run(tmp_path / "results", "new", standard_models(), dataset_path=str(new), dataset_sha=new_sha)
    code, out, err = run_cli("leaderboard", str(tmp_path / "results"), "--out", str(tmp_path / "site"))
    assert (code, err) == (0, "")
    assert "4 tables from 2 runs" in out and "separate tables" in out
    shutil.rmtree(old)
    code, out, err = run_cli("leaderboard", str(tmp_path / "results"), "--out", str(tmp_path / "site2"))
    assert code == 2 and "made on dataset version" in err and old_sha[:12] in err
    assert not (tmp_path / "site2").exists()


def test_different_signatures_and_item_sets_get_separate_tables(tmp_path):
    from harness.report.leaderboard import build_leaderboard
    from harness.report.runs import load_runs

    write_run(tmp_path, "full", {"alpha": standard_models()["alpha"]})
    write_run(tmp_path, "first4", {"beta": standard_models()["beta"]}, item_limit={"summarize_zh": 4, "translate_zh_en": 4})
    other = write_run(tmp_path, "oldscorer", {"gamma": standard_models()["alpha"]})
    scores = json.loads((other / "scores.json").read_text(encoding="utf-8"))
    for s in scores["scores"]:
        s["signature"] = s["signature"].replace("rouge-score:0.1.2", "rouge-score:0.1.1")
    (other / "scores.json").write_text(json.dumps(scores), encoding="utf-8")
    board = build_leaderboard(load_runs([tmp_path]), items_for)
    zh = [t for t in board.tables if t.task == "summarize_zh"]
    assert sorted((t.n_items, tuple(r.label for r in t.rows)) for t in zh) == [(4, ("beta",)), (6, ("alpha",)), (6, ("gamma",))]
    note = next(n for n in board.notes if n.startswith("summarize_zh"))
    assert "metric signatures" in note and "item sets" in note


def test_stored_signature_that_the_scorer_no_longer_produces_is_refused(tmp_path):
    from harness.errors import HarnessError
    from harness.report.leaderboard import build_leaderboard
    from harness.report.runs import load_runs

    run = write_run(tmp_path, "stale", standard_models())
    scores = json.loads((run / "scores.json").read_text(encoding="utf-8"))
    for s in scores["scores"]:
        s["signature"] = s["signature"].replace("version:2.6.0", "version:1.5.0")
    (run / "scores.json").write_text(json.dumps(scores), encoding="utf-8")
    with pytest.raises(HarnessError, match="rescore"):
        build_leaderboard(load_runs([tmp_path]), items_for)


def test_unknown_main_metric_names_the_table(tmp_path):
    from harness.errors import HarnessError
    from harness.report.leaderboard import build_leaderboard, parse_main_metrics
    from harness.report.runs import load_runs

    write_run(tmp_path, "tiny", standard_models())
    runs = load_runs([tmp_path])
    with pytest.raises(HarnessError, match=r"table summarize_zh .* has no metric 'bleu'"):
        build_leaderboard(runs, items_for, parse_main_metrics(["bleu"]))
    board = build_leaderboard(runs, items_for, parse_main_metrics(["summarize_zh=rouge1", "translate_zh_en=bleu"]))
    assert [t.main_metric for t in board.tables] == ["rouge1", "bleu"]
    with pytest.raises(HarnessError, match="no task 'summarize_xx'"):
        build_leaderboard(runs, items_for, parse_main_metrics(["summarize_xx=rouge1"]))


def _break(run: Path, what: str) -> str:
    """Damage a results folder; return the text the error must contain."""
    if what == "no manifest":
        (run / "manifest.json").unlink()
        return "not a results folder"
    if what == "bad json":
        (run / "scores.json").write_text('{"scores": [', encoding="utf-8")
        return "scores.json: invalid JSON at line 1"
    if what == "missing key":
        doc = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
        del doc["dataset"]["manifest_sha256"]
        (run / "manifest.json").write_text(json.dumps(doc), encoding="utf-8")
        return "missing key 'dataset.manifest_sha256'"
    if what == "bad role":
        doc = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
        doc["models"]["alpha"]["role"] = "champion"
        (run / "manifest.json").write_text(json.dumps(doc), encoding="utf-8")
        return "models.alpha.role is 'champion'"
    if what == "missing predictions":
        (run / "predictions" / "beta" / "summarize_zh.jsonl").unlink()
        return "summarize_zh.jsonl: missing"
    if what == "duplicate item":
        path = run / "predictions" / "beta" / "translate_zh_en.jsonl"
        lines = path.read_text(encoding="utf-8").splitlines()
        path.write_text("\n".join(lines + lines[:1]) + "\n", encoding="utf-8")
        return "appears twice"
    if what == "not utf-8":
        (run / "predictions" / "alpha" / "summarize_zh.jsonl").write_bytes(b"\xff\xfe{}")
        return "not UTF-8"
    if what == "scores for unknown model":
        doc = json.loads((run / "scores.json").read_text(encoding="utf-8"))
        doc["scores"][0]["model"] = "ghost"
        (run / "scores.json").write_text(json.dumps(doc), encoding="utf-8")
        return "model 'ghost' is not in manifest.json"
    if what == "share out of range":
        doc = json.loads((run / "scores.json").read_text(encoding="utf-8"))
        doc["summary"][0]["truncated_share"] = 3
        (run / "scores.json").write_text(json.dumps(doc), encoding="utf-8")
        return "must be a share between 0 and 1"
    raise AssertionError(what)


@pytest.mark.parametrize(
    "what",
    ["no manifest", "bad json", "missing key", "bad role", "missing predictions", "duplicate item", "not utf-8", "scores for unknown model", "share out of range"],
)
def test_bad_results_folder_exits_2_with_one_line_and_writes_nothing(tmp_path, run_cli, what):
    folder, sha = write_dataset(tmp_path / "data")
    run = write_run(tmp_path / "results", "tiny", standard_models(), dataset_path=str(folder), dataset_sha=sha)
    expected = _break(run, what)
    code, out, err = run_cli("leaderboard", str(run), "--out", str(tmp_path / "site"))
    assert code == 2, err
    assert err.startswith("error: ") and err.count("\n") == 1 and expected in err, err
    assert "Traceback" not in err and out == ""
    assert not (tmp_path / "site").exists()


def test_missing_results_path_and_empty_parent(tmp_path, run_cli):
    code, _, err = run_cli("leaderboard", str(tmp_path / "nope"), "--out", str(tmp_path / "site"))
    assert code == 2 and "no such file or folder" in err
    (tmp_path / "empty").mkdir()
    code, _, err = run_cli("leaderboard", str(tmp_path / "empty"), "--out", str(tmp_path / "site"))
    assert code == 2 and "no manifest.json in it or in its subfolders" in err


def test_parent_folder_finds_runs_and_skips_staging_folders(tmp_path):
    from harness.report.runs import discover_runs

    a = write_run(tmp_path, "a", {"alpha": standard_models()["alpha"]})
    b = write_run(tmp_path, "b", {"beta": standard_models()["beta"]})
    shutil.copytree(a, tmp_path / ".a.tmp-123")  # an unfinished `harness run` staging copy
    (tmp_path / "README.md").write_text("results\n", encoding="utf-8")
    assert discover_runs([tmp_path]) == [a, b]
    assert discover_runs([a, tmp_path]) == [a, b]  # named twice, read once


def test_cli_writes_the_four_files_and_the_sample_pages(tmp_path, run_cli):
    folder, sha = write_dataset(tmp_path / "data")
    write_run(tmp_path / "results", "tiny", standard_models(), dataset_path=str(folder), dataset_sha=sha)
    code, out, err = run_cli("leaderboard", str(tmp_path / "results"), "--out", str(tmp_path / "site"), "--page-items", "4")
    assert (code, err) == (0, "")
    # summarize_zh: 6 items, 4 rows → 2 pages each; translate_zh_en: 8 items, 3 rows → 2 pages each
    assert out.splitlines()[0] == (f"wrote {tmp_path / 'site'}/: leaderboard.md, leaderboard.csv, leaderboard.json, index.html, "
                                   "samples/ (14 pages) (2 tables from 1 runs)")
    files = sorted(p.name for p in (tmp_path / "site").iterdir())
    assert files == ["index.html", "leaderboard.csv", "leaderboard.json", "leaderboard.md", "samples"]
    assert sorted(p.relative_to(tmp_path / "site" / "samples").as_posix() for p in (tmp_path / "site" / "samples").rglob("*.js")) == [
        f"{task}/{model}/page-000{k}.js" for task, models in (("summarize_zh", ("alpha", "beta", "human", "lead-1")),
                                                              ("translate_zh_en", ("alpha", "beta", "lead-1")))
        for model in models for k in (1, 2)
    ]
    assert all(oct(p.stat().st_mode & 0o777) == "0o644" for p in (tmp_path / "site").rglob("*") if p.is_file())
    md = (tmp_path / "site" / "leaderboard.md").read_text(encoding="utf-8")
    assert sha in md and "configs/tiny.yaml" in md and "harness `0.1.0`" in md and "2025-01-02" in md


def test_leaderboard_of_a_real_run(tmp_path, run_cli, capsys):
    """configs/smoke.yaml run by `harness run` on the real dataset, then published."""
    smoke = run_smoke(tmp_path)
    capsys.readouterr()  # the run's own progress lines
    code, out, err = run_cli("leaderboard", str(smoke), "--out", str(tmp_path / "site"))
    assert (code, err) == (0, "")
    doc = json.loads((tmp_path / "site" / "leaderboard.json").read_text(encoding="utf-8"))
    tables = {t["task"]: t for t in doc["tables"]}
    assert list(tables) == ["summarize_zh", "summarize_en", "translate_zh_en", "translate_zh_en_doc", "translate_en_zh"]
    zh = tables["summarize_zh"]
    assert [(r["label"], r["role"], r["rank"]) for r in zh["rows"]] == [
        ("reference-B", "agreement", None),
        ("lead-3", "baseline", 1),
        ("lead-120c", "baseline", 1),  # five documents cannot separate them (AR: p ≥ 2/2^5)
    ]
    manifest = json.loads((smoke / "manifest.json").read_text(encoding="utf-8"))
    assert zh["dataset_manifest_sha256"] == manifest["dataset"]["manifest_sha256"]
    assert zh["sources"][0]["config"].endswith("configs/smoke.yaml")
    # The copy baseline's Chinese output into English is off-target: scored as it is, never dropped.
    assert [(r["label"], r["rank"]) for r in tables["translate_zh_en"]["rows"]] == [("copy", 1)]
    assert doc["notes"] == []
    page = (tmp_path / "site" / "samples" / "translate_zh_en" / "copy" / "page-0001.js").read_text(encoding="utf-8")
    assert "000-p01-s01" in page and "太忙了" in page


def test_runs_without_an_off_target_share_still_load(tmp_path):
    """Runs written before the share was recorded: shown as "—", not refused and not faked as 0."""
    from harness.report.leaderboard import build_leaderboard
    from harness.report.leaderboard_writers import to_markdown
    from harness.report.runs import load_run

    run = write_run(tmp_path, "old", standard_models())
    doc = json.loads((run / "scores.json").read_text(encoding="utf-8"))
    for row in doc["summary"]:
        del row["off_target_share"]
    (run / "scores.json").write_text(json.dumps(doc), encoding="utf-8")
    loaded = load_run(run)
    assert {s.off_target_share for s in loaded.summary.values()} == {None}
    md = to_markdown(build_leaderboard([loaded], items_for))
    assert "| off-target |" in md and " | — |\n" in md


@pytest.mark.parametrize("record", [{"columns": {"en": [{"doc_id": "000"}]}}, {"columns": [1]}, "yes"])
def test_malformed_reference_provenance_is_one_line(tmp_path, run_cli, record):
    folder = write_run(tmp_path, "bad", standard_models(), reference_provenance=record)
    code, out, err = run_cli("leaderboard", str(tmp_path), "--out", str(tmp_path / "lb"))
    assert code == 2 and out == "" and err.count("\n") == 1
    # the record's type check (a string) or provenance.check_record (a malformed object) names file and key
    assert f"{folder / 'manifest.json'}: " in err and "reference_provenance" in err
    assert not (tmp_path / "lb").exists()
