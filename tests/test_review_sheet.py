"""`harness refs review --out` / `harness refs apply`: the round trip on copies, and broken sheets refused."""

import csv
import hashlib
import json
import re
import shutil

import pytest
import yaml

DOC = "004"
FIXED = "004-p01-s02"


@pytest.fixture
def tree(root, tmp_path):
    """Copies of seeds/ and references/ and a data/ built from them; the real files are never touched."""
    from harness.data.build import build_dataset
    from harness.score.agreement import reference_agreement

    shutil.copytree(root / "seeds", tmp_path / "seeds")
    shutil.copytree(root / "references", tmp_path / "references")
    build_dataset(tmp_path / "seeds", tmp_path / "data", tmp_path / "references", agreement=reference_agreement)
    return tmp_path


def _args(tree, *args):
    return [*args, "--seeds", str(tree / "seeds"), "--references", str(tree / "references")]


def _sheet(tree, run_cli, doc_id=DOC):
    out = tree / f"review-{doc_id}.csv"
    code, stdout, err = run_cli("refs", "review", doc_id, "--out", str(out), *_args(tree))
    assert code == 0 and err == "", err
    return out, stdout


def _read(path):
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def _write(path, rows):
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _fill(rows, fixes=None):
    """Every row ok; the rows of ``fixes`` (id -> (old, new): the correction replaces old by new in
    the reference) corrected; by default FIXED."""
    fixes = fixes or {FIXED: ("ChatGPT marks", "ChatGPT is")}
    for r in rows:
        r["verdict"] = "ok"
    for item_id, (old, new) in fixes.items():
        row = next(r for r in rows if r["id"] == item_id)
        assert old in row["reference"]
        row["verdict"], row["correction"], row["comment"] = "fix", row["reference"].replace(old, new, 1), "plainer"
    return rows


def _snapshot(tree):
    return {p.relative_to(tree).as_posix(): p.read_bytes() for folder in ("references", "data")
            for p in sorted((tree / folder).rglob("*")) if p.is_file()}


PASSAGES_004 = ["004-p01-p02", "004-p03-p09", "004-p10-p19", "004-p20-p27", "004-p28-p33", "004-p34-p37",
                "004-p38-p43", "004-p44-p49"]


def test_sheet_has_one_row_per_summary_passage_summary_and_segment(tree, run_cli, documents):
    out, stdout = _sheet(tree, run_cli)
    assert stdout == f"wrote {out} (150 rows to review) and {out.with_suffix('.html')}\n"  # 4 + 8 × 4 + 114
    assert out.read_bytes().startswith(b"\xef\xbb\xbfid,kind,file,file_version,source_sha256,reference_sha256,source,"
                                       b"reference,verdict,correction,comment\r\n")
    rows = _read(out)
    doc = documents[DOC]
    passages = [f"{p}/{lang}/{ref}" for p in PASSAGES_004 for lang in ("zh", "en") for ref in ("A", "B")]
    assert [r["id"] for r in rows] == ["004/zh/A", "004/zh/B", "004/en/A", "004/en/B", *passages,
                                       *(s.id for s in doc.segments)]
    seg = next(r for r in rows if r["id"] == "004-p06-s01")
    assert seg["source"] == next(s.zh for s in doc.segments if s.id == "004-p06-s01")
    assert seg["source_sha256"] == hashlib.sha256(seg["source"].encode()).hexdigest()
    assert seg["reference_sha256"] == hashlib.sha256(seg["reference"].encode()).hexdigest()
    assert seg["reference"].startswith("ChatGPT's development went through 3 stages. Earlier")
    assert (seg["file"], seg["file_version"]) == ("translations/en/004.jsonl", "3")
    assert rows[0]["source"] == doc.text and rows[0]["file"] == "summaries/zh/004.yaml"
    assert all(r["verdict"] == r["correction"] == r["comment"] == "" for r in rows)


# A passage's rows: its source is the passage's paragraphs joined by a line break (the `passages`
# config's `text`), its reference the summary in passages/{zh,en}/004.yaml, version 1.
@pytest.mark.parametrize("item_id, row, file, source_start, source_chars, reference_start", [
    ("004-p01-p02/zh/A", 6, "passages/zh/004.yaml", "ChatGPT是一款由美國OpenAI公司開發的自然語言人機", 300,
     "美国OpenAI公司推出的ChatGPT语言能力近似人类，用户增长最快。"),
    ("004-p03-p09/zh/B", 11, "passages/zh/004.yaml", "ChatGPT具有里程碑意義將引發新一輪人工智能革命\nCha", 708,
     "OpenAI从GPT-1喂约7000本书到GPT-3吞下45TB文本,"),
    ("004-p03-p09/en/B", 13, "passages/en/004.yaml", "ChatGPT具有里程碑意義將引發新一輪人工智能革命\nCha", 708,
     "Of ChatGPT's three props, two appear here:"),
    ("004-p44-p49/en/A", 36, "passages/en/004.yaml", "三是布局“大算力”,聚焦建立算力統一大市場。\n充分發揮市場機", 613,
     "The article's final recommendations are a unified computing-"),
])
def test_passage_rows_hold_the_passage_and_its_summary(tree, run_cli, root, item_id, row, file, source_start,
                                                       source_chars, reference_start):
    out, _ = _sheet(tree, run_cli)
    r = _read(out)[row - 2]
    assert (r["id"], r["kind"], r["file"], r["file_version"]) == (item_id, "passage", file, "1")
    assert r["source"].startswith(source_start) and len(r["source"]) == source_chars
    passage_id, language, name = item_id.split("/")
    meta = yaml.safe_load((root / "references" / file).read_text(encoding="utf-8"))
    (summary,) = [s for p in meta["passages"] if p["passage_id"] == passage_id for s in p["summaries"]
                  if s["reference"] == name]
    assert r["reference"] == summary["text"].strip() and r["reference"].startswith(reference_start)
    assert r["source_sha256"] == hashlib.sha256(r["source"].encode()).hexdigest()
    assert r["reference_sha256"] == hashlib.sha256(r["reference"].encode()).hexdigest()


def test_html_view_is_self_contained_and_escaped(tree, run_cli):
    refs = tree / "references"
    path = refs / "translations" / "en" / f"{DOC}.jsonl"
    lines = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]
    lines[0]["en"] = lines[0]["en"] + ' <script>alert("x")</script> & <img src=x onerror=alert(1)>'
    path.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), encoding="utf-8")
    out, _ = _sheet(tree, run_cli)
    page = out.with_suffix(".html").read_text(encoding="utf-8")
    assert "<script" not in page and "<img" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;img src=x onerror=alert(1)&gt;" in page
    tags = set(re.findall(r"<([a-zA-Z][a-zA-Z0-9]*)", page))
    assert tags == {"html", "head", "meta", "title", "style", "body", "h1", "p", "code", "b", "ul", "li", "table",
                    "thead", "tr", "th", "tbody", "td"}  # no script, link, img, iframe: nothing to fetch or run
    assert "url(" not in page and "@import" not in page
    assert page.count("<tr class=\"segment\">") == 114 and page.count("<tr class=\"summary\">") == 4
    assert page.count("<tr class=\"passage\">") == 32
    # The article and each of the 8 passages: one source cell beside its four summaries.
    assert page.count('rowspan="4"') == 9 and page.count("rowspan=") == 9
    assert page.count("<li><code>passages/") == 2 and "AI-written (Claude), not reviewed" in page


def test_round_trip_applies_corrections_and_signs_off(tree, run_cli):
    out, _ = _sheet(tree, run_cli)
    rows = _fill(_read(out))
    previous = next(r["reference"] for r in rows if r["id"] == FIXED)
    corrected = next(r["correction"] for r in rows if r["id"] == FIXED)
    _write(out, rows)
    code, stdout, err = run_cli("refs", "apply", str(out), "--reviewer", "Wang  Fang", "--date", "2026-12-10",
                                *_args(tree), "--data", str(tree / "data"))
    assert code == 0 and err == "", err
    assert stdout.startswith(f"applied {out}: document 004, 149 ok, 1 corrected, reviewed by Wang Fang (human) on "
                             "2026-12-10; summaries/zh/004.yaml → version 4")

    refs = tree / "references"
    entry = next(json.loads(x) for x in (refs / "translations/en/004.jsonl").read_text(encoding="utf-8").splitlines()
                 if json.loads(x)["segment_id"] == FIXED)
    assert entry["en"] == corrected
    meta = yaml.safe_load((refs / "translations/en/004.meta.yaml").read_text(encoding="utf-8"))
    assert meta["version"] == 4 and meta["reviewed_by"] == {"name": "Wang Fang", "kind": "human"}
    assert meta["reviewed_on"] == "2026-12-10" and meta["written_by"]["kind"] == "ai-model"
    (review,) = meta["review_history"]
    assert review["version"] == 4 and review["sheet_sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert len(review["items"]) == 114 and {"id": "004-p01-s01", "verdict": "ok"} in review["items"]
    assert {"id": FIXED, "verdict": "fix", "comment": "plainer", "previous": previous} in review["items"]
    summary = yaml.safe_load((refs / "summaries/zh/004.yaml").read_text(encoding="utf-8"))
    assert summary["version"] == 4 and [i["verdict"] for i in summary["review_history"][0]["items"]] == ["ok", "ok"]
    other = yaml.safe_load((refs / "summaries/zh/003.yaml").read_text(encoding="utf-8"))
    assert other["version"] == 2 and other["reviewed_by"] is None  # other documents untouched

    # The rebuilt dataset and every label follow, with no hand edit.
    card = (tree / "data" / "README.md").read_text(encoding="utf-8")
    row = re.search(r"^\| `translations/en/004\.jsonl` \| 4 \| 1\.1 \| Claude \[(\d+)\] \| 2026-11-25 \| Wang Fang \[(\d+)\] "
                    r"\| 2026-12-10 \| AI-written \(Claude\), reviewed by Wang Fang \(human\), 2026-12-10 \|$", card, re.M)
    assert row, "the signed-off translation's row"
    notes = dict(re.findall(r"^(\d+)\. (.*)$", card, re.M))  # the numbered writers' and reviewers' notes
    assert notes[row.group(2)].startswith("Wang Fang (human)") and notes[row.group(1)].startswith("Claude (AI model)")
    assert card.count("| not yet reviewed |") == 20  # 25 files, the document's 5 signed off
    assert "114 items (113 ok, 1 corrected" in card
    manifest = json.loads((tree / "data" / "MANIFEST.json").read_text())
    labels = manifest["reference_provenance"]["labels"]
    assert labels["en"] == ("AI-written (Claude), not reviewed (4 of 5); "
                            "AI-written (Claude), reviewed by Wang Fang (human), 2026-12-10 (1 of 5)")
    import pyarrow.parquet as pq

    table = pq.read_table(tree / "data" / "translation.parquet").to_pylist()
    assert next(r["en"] for r in table if r["segment_id"] == FIXED) == corrected
    code, stdout, _ = run_cli("refs", "check", *_args(tree))
    assert code == 0 and "5 of 25 files reviewed" in stdout  # article summaries, passage summaries, translation
    assert "translations/en/004.jsonl (version 4): AI-written (Claude), reviewed by Wang Fang (human), 2026-12-10" in stdout

    # The same sheet again is for an old version: refused, nothing written.
    before = _snapshot(tree)
    code, stdout, err = run_cli("refs", "apply", str(out), "--reviewer", "Wang Fang", *_args(tree),
                                "--data", str(tree / "data"))
    assert code == 2 and stdout == "" and err.count("\n") == 1
    assert "the sheet is for version 3 of summaries/zh/004.yaml, which is now at version 4" in err
    assert _snapshot(tree) == before


# What a sheet without a segment correction rewrites: the translation's lines stay byte for byte,
# its sign-off goes to the .meta.yaml.
SIGNED_OFF = {"summaries/zh/004.yaml", "summaries/en/004.yaml", "passages/zh/004.yaml", "passages/en/004.yaml",
              "translations/en/004.meta.yaml"}
REVIEWED = "AI-written (Claude), reviewed by Wang Fang (human), 2026-12-10"
ONE_OF_FIVE = f"AI-written (Claude), not reviewed (4 of 5); {REVIEWED} (1 of 5)"


@pytest.mark.parametrize("item_id, old, new", [
    ("004-p03-p09/zh/A", "OpenAI公司的ChatGPT", "OpenAI的ChatGPT"),
    ("004-p03-p09/en/B", "Of ChatGPT's three props, two appear here:", "Two of ChatGPT's three props appear here:"),
    ("004-p44-p49/en/A", "The article's final recommendations are", "The article ends by recommending"),
])
def test_apply_corrects_and_signs_off_the_passage_files(tree, run_cli, item_id, old, new):
    passage_id, language, name = item_id.split("/")
    refs = tree / "references"
    before = {rel: yaml.safe_load((refs / rel).read_text(encoding="utf-8"))
              for rel in ("passages/zh/004.yaml", "passages/en/004.yaml")}
    files_before = _snapshot(tree)
    out, _ = _sheet(tree, run_cli)
    rows = _fill(_read(out), {item_id: (old, new)})
    previous = next(r["reference"] for r in rows if r["id"] == item_id)
    corrected = previous.replace(old, new, 1)
    _write(out, rows)
    code, stdout, err = run_cli("refs", "apply", str(out), "--reviewer", "Wang Fang", "--date", "2026-12-10",
                                *_args(tree), "--data", str(tree / "data"))
    assert code == 0 and err == "", err
    assert stdout == (f"applied {out}: document 004, 149 ok, 1 corrected, reviewed by Wang Fang (human) on 2026-12-10; "
                      "summaries/zh/004.yaml → version 4, summaries/en/004.yaml → version 3, passages/zh/004.yaml → "
                      "version 2, passages/en/004.yaml → version 2, translations/en/004.meta.yaml → version 4; "
                      f"rebuilt {tree / 'data'}/\n")

    # Only the document's files changed in references/: every other passage file is byte for byte the same.
    after = _snapshot(tree)
    changed = {k.removeprefix("references/") for k in files_before if k.startswith("references/")
               and files_before[k] != after[k]}
    assert changed == SIGNED_OFF and set(after) == set(files_before)
    for rel, old_meta in before.items():
        meta = yaml.safe_load((refs / rel).read_text(encoding="utf-8"))
        assert (meta["version"], meta["reviewed_by"], meta["reviewed_on"]) == (
            2, {"name": "Wang Fang", "kind": "human"}, "2026-12-10")
        texts = {(p["passage_id"], s["reference"]): s["text"] for p in meta["passages"] for s in p["summaries"]}
        expected = {(p["passage_id"], s["reference"]): s["text"] for p in old_meta["passages"] for s in p["summaries"]}
        if rel == f"passages/{language}/004.yaml":
            expected[passage_id, name] = corrected
        assert texts == expected  # the one correction, nothing else
        (review,) = meta["review_history"]
        assert review["version"] == 2 and review["sheet_sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
        assert [i["id"] for i in review["items"]] == [f"{p}/{rel.split('/')[1]}/{r}" for p in PASSAGES_004
                                                      for r in ("A", "B")]
        fixes = [i for i in review["items"] if i["verdict"] == "fix"]
        assert fixes == ([{"id": item_id, "verdict": "fix", "comment": "plainer", "previous": previous}]
                         if rel == f"passages/{language}/004.yaml" else [])

    # Labels, through the same provenance code: dataset card, MANIFEST.json, results tables, refs check.
    from harness.data.provenance import task_references_label
    from harness.report.tables import reference_column

    manifest = json.loads((tree / "data" / "MANIFEST.json").read_text())
    record = manifest["reference_provenance"]
    for lang in ("zh", "en"):
        assert record["labels"][f"passage_summaries_{lang}"] == f"A: {ONE_OF_FIVE}; B: {ONE_OF_FIVE}"
        assert task_references_label(record, reference_column(f"summarize_passage_{lang}")) == (
            f"A: {ONE_OF_FIVE}; B: {ONE_OF_FIVE}")
    card = (tree / "data" / "README.md").read_text(encoding="utf-8")
    for lang in ("zh", "en"):
        assert re.search(rf"^\| `passages/{lang}/004\.yaml` \| 2 \| 1\.1 \| Claude \[\d+\], Claude \[\d+\] \| 2026-12-07 \| "
                         rf"Wang Fang \[\d+\] \| 2026-12-10 \| {re.escape(REVIEWED)} \|$", card, re.M)
    assert f"- `passages/{language}/004.yaml` version 2: reviewed by Wang Fang (human) on 2026-12-10, 16 items " \
           "(15 ok, 1 corrected;" in card
    import pyarrow.parquet as pq

    table = pq.read_table(tree / "data" / "passages.parquet").to_pylist()
    row = next(r for r in table if r["passage_id"] == passage_id)
    assert row[f"passage_summaries_{language}"][("A", "B").index(name)] == corrected
    code, stdout, _ = run_cli("refs", "check", *_args(tree))
    assert code == 0 and "5 of 25 files reviewed" in stdout
    assert f"passages/{language}/004.yaml (version 2): {REVIEWED}" in stdout
    assert "passages/zh/003.yaml (version 1): AI-written (Claude), not reviewed" in stdout


def _edit_yaml(rel, edit):
    def damage(refs):
        meta = yaml.safe_load((refs / rel).read_text(encoding="utf-8"))
        edit(meta)
        (refs / rel).write_text(yaml.safe_dump(meta, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return damage


def _passage_summary(meta, passage_id, name):
    return next(s for p in meta["passages"] if p["passage_id"] == passage_id for s in p["summaries"]
                if s["reference"] == name)


def _retext(meta, passage_id, name, text):
    _passage_summary(meta, passage_id, name)["text"] = text


def _corrected_by_hand(meta):
    """A correction by hand as GUIDELINES §3 asks for one: text replaced, version + 1, an entry."""
    summary = _passage_summary(meta, "004-p44-p49", "A")
    meta["corrections"] = [{"version": 2, "date": "2026-12-08", "by": {"name": "Claude", "kind": "ai-model"},
                            "id": "004-p44-p49/en/A", "previous": summary["text"], "reason": "plainer"}]
    summary["text"] = summary["text"].replace("final recommendations are", "last recommendations are")
    meta["version"] = 2


def _retranslate(refs):
    path = refs / "translations/en/004.jsonl"
    lines = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]
    next(x for x in lines if x["segment_id"] == "004-p02-s01")["en"] += " Indeed."
    path.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), encoding="utf-8")


# The reference files change after the sheet was written: the sheet is stale, whatever its verdicts.
STALE = {
    "passage-summary-edited": (
        _edit_yaml("passages/zh/004.yaml", lambda m: _retext(m, "004-p03-p09", "B", "改写过的摘要。")),
        "row 11 (id 004-p03-p09/zh/B): the reference text in passages/zh/004.yaml changed since the sheet was "
        "written (reference_sha256 differs); write a new sheet"),
    "passage-file-corrected-by-hand": (
        _edit_yaml("passages/en/004.yaml", _corrected_by_hand),
        "row 8 (id 004-p01-p02/en/A): the sheet is for version 1 of passages/en/004.yaml, which is now at "
        "version 2; write a new sheet"),
    "summary-edited": (
        _edit_yaml("summaries/en/004.yaml", lambda m: m["summaries"][1].update(text="Something else.")),
        "row 5 (id 004/en/B): the reference text in summaries/en/004.yaml changed since the sheet was written"),
    "translation-edited": (
        _retranslate,
        "row 40 (id 004-p02-s01): the reference text in translations/en/004.jsonl changed since the sheet was "
        "written"),
}


@pytest.mark.parametrize("name", STALE)
def test_stale_sheets_exit_2_with_one_line_and_write_nothing(tree, run_cli, name):
    out, _ = _sheet(tree, run_cli)
    _write(out, _fill(_read(out)))
    change, message = STALE[name]
    change(tree / "references")
    before = _snapshot(tree)
    code, stdout, err = run_cli("refs", "apply", str(out), "--reviewer", "Wang Fang", *_args(tree),
                                "--data", str(tree / "data"))
    assert code == 2 and stdout == "" and err.count("\n") == 1, err
    assert err.startswith(f"error: {out}: ") and message in err, err
    assert _snapshot(tree) == before


def test_a_summary_of_no_current_passage_cannot_be_signed_off(tree, run_cli):
    """A passage file holding a passage the document no longer has: the sheet cannot cover it."""
    def extra(meta):
        meta["passages"].append({**meta["passages"][-1], "passage_id": "004-p50-p51"})

    _edit_yaml("passages/zh/004.yaml", extra)(tree / "references")
    out, _ = _sheet(tree, run_cli)
    _write(out, _fill(_read(out)))
    before = _snapshot(tree)
    code, stdout, err = run_cli("refs", "apply", str(out), "--reviewer", "Wang Fang", *_args(tree),
                                "--data", str(tree / "data"))
    assert code == 2 and stdout == "" and err.count("\n") == 1, err
    assert err == (f"error: {out}: passages/zh/004.yaml: 004-p50-p51/zh/A has no row on the sheet (not a passage or "
                   "segment of the current document; `harness refs check` names the problem)\n")
    assert _snapshot(tree) == before


def _set(rows, item_id, **values):
    next(r for r in rows if r["id"] == item_id).update(values)
    return rows


BROKEN = {
    "unknown-id": (lambda rows: _set(rows, "004-p01-s01", id="004-p99-s01"),
                   "row 38 (id 004-p99-s01): unknown id"),
    "unknown-passage": (lambda rows: _set(rows, "004-p01-p02/zh/A", id="004-p01-p03/zh/A"),
                        "row 6 (id 004-p01-p03/zh/A): unknown id"),
    "other-document": (lambda rows: _set(rows, "004-p01-s01", id="003-p01-s01"),
                       "row 38 (id 003-p01-s01): belongs to document 003, the sheet is for 004"),
    "passage-of-other-document": (lambda rows: _set(rows, "004-p01-p02/en/B", id="003-p01-p05/en/B"),
                                  "row 9 (id 003-p01-p05/en/B): belongs to document 003, the sheet is for 004"),
    "duplicate-id": (lambda rows: rows + [dict(rows[36])], "row 152 (id 004-p01-s01): the id appears twice"),
    "duplicate-passage": (lambda rows: rows + [dict(rows[4])], "row 152 (id 004-p01-p02/zh/A): the id appears twice"),
    "missing-row": (lambda rows: rows[:-1], "no row for 1 id(s): 004-p49-s04"),
    "changed-source": (lambda rows: _set(rows, "004-p02-s01", source_sha256="0" * 64),
                       "row 40 (id 004-p02-s01): the source text changed since the sheet was written"),
    "changed-passage-source": (lambda rows: _set(rows, "004-p28-p33/en/A", source_sha256="0" * 64),
                               "row 24 (id 004-p28-p33/en/A): the source text changed since the sheet was written"),
    "edited-source": (lambda rows: _set(rows, "004-p02-s01", source="改过的原文"),
                      "row 40 (id 004-p02-s01): the source text was edited in the sheet"),
    "edited-passage-source": (lambda rows: _set(rows, "004-p03-p09/en/A", source="改过的原文"),
                              "row 12 (id 004-p03-p09/en/A): the source text was edited in the sheet"),
    "changed-reference-hash": (lambda rows: _set(rows, "004-p03-p09/en/A", reference_sha256="0" * 64),
                               "row 12 (id 004-p03-p09/en/A): the reference text in passages/en/004.yaml changed "
                               "since the sheet was written"),
    "edited-reference": (lambda rows: _set(rows, "004/en/B", reference="Something else."),
                         "row 5 (id 004/en/B): the reference was edited in the sheet (it differs from the current "
                         "text of summaries/en/004.yaml); leave the reference column as it is"),
    "edited-passage-reference": (lambda rows: _set(rows, "004-p03-p09/zh/A", reference="改过的摘要"),
                                 "row 10 (id 004-p03-p09/zh/A): the reference was edited in the sheet (it differs "
                                 "from the current text of passages/zh/004.yaml)"),
    "missing-verdict": (lambda rows: _set(rows, "004-p03-s01", verdict=""),
                        "row 42 (id 004-p03-s01): missing verdict (ok or fix)"),
    "missing-passage-verdict": (lambda rows: _set(rows, "004-p44-p49/en/B", verdict=""),
                                "row 37 (id 004-p44-p49/en/B): missing verdict (ok or fix)"),
    "unknown-verdict": (lambda rows: _set(rows, "004-p03-s01", verdict="good"),
                        "row 42 (id 004-p03-s01): unknown verdict 'good' (ok or fix)"),
    "correction-on-ok": (lambda rows: _set(rows, "004-p03-s01", correction="Better."),
                         "row 42 (id 004-p03-s01): a correction on an 'ok' row"),
    "fix-without-correction": (lambda rows: _set(rows, "004-p03-s01", verdict="fix"),
                               "row 42 (id 004-p03-s01): verdict 'fix' without a correction"),
    "passage-fix-without-correction": (lambda rows: _set(rows, "004-p20-p27/en/A", verdict="fix"),
                                       "row 20 (id 004-p20-p27/en/A): verdict 'fix' without a correction"),
    "fix-equal-to-reference": (lambda rows: _set(rows, "004/zh/A", verdict="fix", correction=rows[0]["reference"]),
                               "row 2 (id 004/zh/A): the correction equals the reference; use verdict 'ok'"),
    "other-version": (lambda rows: _set(rows, "004-p03-s01", file_version="2"),
                      "row 42 (id 004-p03-s01): the sheet is for version 2 of translations/en/004.jsonl, which is "
                      "now at version 3"),
    "passage-other-version": (lambda rows: _set(rows, "004-p10-p19/zh/A", file_version="2"),
                              "row 14 (id 004-p10-p19/zh/A): the sheet is for version 2 of passages/zh/004.yaml, "
                              "which is now at version 1"),
    "wrong-file": (lambda rows: _set(rows, "004/en/A", file="summaries/zh/004.yaml"),
                   "row 4 (id 004/en/A): file 'summaries/zh/004.yaml' is not the file of this id"),
    "passage-wrong-file": (lambda rows: _set(rows, "004-p10-p19/en/B", file="passages/zh/004.yaml"),
                           "row 17 (id 004-p10-p19/en/B): file 'passages/zh/004.yaml' is not the file of this id "
                           "(passages/en/004.yaml)"),
    # Valid sheet, but the correction breaks a guideline rule: the build refuses it, nothing written.
    "correction-fails-validation": (lambda rows: _set(rows, "004-p05-s01", verdict="fix", correction="Too short."),
                                    "the corrected references do not pass the build"),
    "passage-correction-fails-validation": (
        lambda rows: _set(rows, "004-p20-p27/zh/B", verdict="fix", correction="太短了。"),
        "references: 1 problem: zh passage summary length outside 50–110 characters: 004-p20-p27/zh/B (4)"),
}


@pytest.mark.parametrize("name", BROKEN)
def test_broken_sheets_exit_2_with_one_line_and_write_nothing(tree, run_cli, name):
    out, _ = _sheet(tree, run_cli)
    damage, message = BROKEN[name]
    _write(out, damage(_fill(_read(out))))
    before = _snapshot(tree)
    code, stdout, err = run_cli("refs", "apply", str(out), "--reviewer", "Wang Fang", *_args(tree),
                                "--data", str(tree / "data"))
    assert code == 2 and stdout == "" and err.count("\n") == 1, err
    assert err.startswith(f"error: {out}") and message in err, err
    assert _snapshot(tree) == before
    assert sorted(p.name for p in tree.iterdir()) == ["data", "references", out.name, out.with_suffix(".html").name,
                                                       "seeds"]  # no staging folder left behind


@pytest.mark.parametrize("args, message", [
    (["--reviewer", " "], "--reviewer: give the reviewer's name"),
    (["--reviewer", "Wang Fang", "--date", "10.12.2026"], "--date: '10.12.2026' is not YYYY-MM-DD"),
])
def test_bad_options_exit_2(tree, run_cli, args, message):
    out, _ = _sheet(tree, run_cli)
    _write(out, _fill(_read(out)))
    code, _, err = run_cli("refs", "apply", str(out), *args, *_args(tree), "--data", str(tree / "data"))
    assert code == 2 and message in err and err.count("\n") == 1


def test_unreadable_sheets_exit_2(tree, run_cli):
    bad = tree / "bad.csv"
    bad.write_bytes("id,kind\n".encode("utf-16"))
    code, _, err = run_cli("refs", "apply", str(bad), "--reviewer", "X", *_args(tree), "--data", str(tree / "data"))
    assert code == 2 and "not UTF-8" in err
    bad.write_text("id,kind\n004-p01-s01,segment\n", encoding="utf-8")
    code, _, err = run_cli("refs", "apply", str(bad), "--reviewer", "X", *_args(tree), "--data", str(tree / "data"))
    assert code == 2 and f"{bad}: row 1: missing column(s) file, file_version" in err


def test_review_out_must_be_csv(tree, run_cli):
    code, _, err = run_cli("refs", "review", DOC, "--out", str(tree / "sheet.xlsx"), *_args(tree))
    assert code == 2 and "the review sheet is a CSV file" in err


def test_rollback_when_the_data_swap_fails(tree, monkeypatch):
    """A failure after the references were replaced puts them back: no half-applied sheet."""
    from harness.data import build, review_apply, review_sheet
    from harness.data.seeds import load_documents
    from harness.data.references import load_references
    from harness.score.agreement import reference_agreement

    docs = load_documents(tree / "seeds")
    refs = load_references(tree / "references", [d.id for d in docs])
    out = tree / "sheet.csv"
    review_sheet.write_sheet(next(d for d in docs if d.id == DOC), refs, out)
    _write(out, _fill(_read(out)))
    before = _snapshot(tree)

    real, calls = build.atomic_write_dir, []

    def broken_swap(target, fill):
        calls.append(target)
        if target == tree / "data":  # the staging build passes; swapping in the new data/ fails
            raise OSError("disk full")
        real(target, fill)

    monkeypatch.setattr(build, "atomic_write_dir", broken_swap)  # the staging build's swap
    monkeypatch.setattr(review_apply, "atomic_write_dir", broken_swap)  # the swap of the rebuilt data/
    with pytest.raises(OSError, match="disk full"):
        review_apply.apply_sheet(out, "Wang Fang", "2026-12-10", seeds=tree / "seeds", references=tree / "references",
                                 data=tree / "data", agreement=reference_agreement)
    assert _snapshot(tree) == before
    assert calls[-1] == tree / "data" and len(calls) == 2


@pytest.mark.parametrize("item_id, doc_id", [
    ("004/zh/A", "004"),
    ("004-p03-p09/en/B", "004"),
    ("000-p07/zh/A", "000"),  # a passage of one paragraph
    ("003-p12-s04", "003"),
])
def test_doc_of_a_sheet_id(item_id, doc_id):
    from harness.data.review_sheet import doc_of

    assert doc_of(item_id) == doc_id
