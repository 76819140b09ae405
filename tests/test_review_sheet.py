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


def _fill(rows, correction=None):
    """Every row ok; FIXED corrected."""
    for r in rows:
        r["verdict"] = "ok"
    row = next(r for r in rows if r["id"] == FIXED)
    row["verdict"], row["correction"], row["comment"] = "fix", correction or row["reference"].replace(
        "ChatGPT marks", "ChatGPT is", 1), "plainer"
    return rows


def _snapshot(tree):
    return {p.relative_to(tree).as_posix(): p.read_bytes() for folder in ("references", "data")
            for p in sorted((tree / folder).rglob("*")) if p.is_file()}


def test_sheet_has_one_row_per_summary_and_segment(tree, run_cli, documents):
    out, stdout = _sheet(tree, run_cli)
    assert stdout == f"wrote {out} (118 rows to review) and {out.with_suffix('.html')}\n"
    assert out.read_bytes().startswith(b"\xef\xbb\xbfid,kind,file,file_version,source_sha256,source,reference,")
    rows = _read(out)
    doc = documents[DOC]
    assert [r["id"] for r in rows] == ["004/zh/A", "004/zh/B", "004/en/A", "004/en/B", *(s.id for s in doc.segments)]
    seg = next(r for r in rows if r["id"] == "004-p06-s01")
    assert seg["source"] == next(s.zh for s in doc.segments if s.id == "004-p06-s01")
    assert seg["source_sha256"] == hashlib.sha256(seg["source"].encode()).hexdigest()
    assert seg["reference"].startswith("ChatGPT's development went through 3 stages. Earlier")
    assert (seg["file"], seg["file_version"]) == ("translations/en/004.jsonl", "3")
    assert rows[0]["source"] == doc.text and rows[0]["file"] == "summaries/zh/004.yaml"
    assert all(r["verdict"] == r["correction"] == r["comment"] == "" for r in rows)


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
    assert "AI-written (Claude), not reviewed" in page


def test_round_trip_applies_corrections_and_signs_off(tree, run_cli):
    out, _ = _sheet(tree, run_cli)
    rows = _fill(_read(out))
    previous = next(r["reference"] for r in rows if r["id"] == FIXED)
    corrected = next(r["correction"] for r in rows if r["id"] == FIXED)
    _write(out, rows)
    code, stdout, err = run_cli("refs", "apply", str(out), "--reviewer", "Wang  Fang", "--date", "2026-12-10",
                                *_args(tree), "--data", str(tree / "data"))
    assert code == 0 and err == "", err
    assert stdout.startswith(f"applied {out}: document 004, 117 ok, 1 corrected, reviewed by Wang Fang (human) on "
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
    assert card.count("| not yet reviewed |") == 22  # 25 files, the document's 3 signed off
    assert "114 items (113 ok, 1 corrected" in card
    manifest = json.loads((tree / "data" / "MANIFEST.json").read_text())
    labels = manifest["reference_provenance"]["labels"]
    assert labels["en"] == ("AI-written (Claude), not reviewed (4 of 5); "
                            "AI-written (Claude), reviewed by Wang Fang (human), 2026-12-10 (1 of 5)")
    import pyarrow.parquet as pq

    table = pq.read_table(tree / "data" / "translation.parquet").to_pylist()
    assert next(r["en"] for r in table if r["segment_id"] == FIXED) == corrected
    code, stdout, _ = run_cli("refs", "check", *_args(tree))
    assert code == 0 and "3 of 25 files reviewed" in stdout  # the sheet covers the article summaries and the translation
    assert "translations/en/004.jsonl (version 4): AI-written (Claude), reviewed by Wang Fang (human), 2026-12-10" in stdout

    # The same sheet again is for an old version: refused, nothing written.
    before = _snapshot(tree)
    code, stdout, err = run_cli("refs", "apply", str(out), "--reviewer", "Wang Fang", *_args(tree),
                                "--data", str(tree / "data"))
    assert code == 2 and stdout == "" and err.count("\n") == 1
    assert "the sheet is for version 3 of summaries/zh/004.yaml, which is now at version 4" in err
    assert _snapshot(tree) == before


def _set(rows, item_id, **values):
    next(r for r in rows if r["id"] == item_id).update(values)
    return rows


BROKEN = {
    "unknown-id": (lambda rows: _set(rows, "004-p01-s01", id="004-p99-s01"),
                   "row 6 (id 004-p99-s01): unknown id"),
    "other-document": (lambda rows: _set(rows, "004-p01-s01", id="003-p01-s01"),
                       "row 6 (id 003-p01-s01): belongs to document 003, the sheet is for 004"),
    "duplicate-id": (lambda rows: rows + [dict(rows[4])], "row 120 (id 004-p01-s01): the id appears twice"),
    "missing-row": (lambda rows: rows[:-1], "no row for 1 id(s): 004-p49-s04"),
    "changed-source": (lambda rows: _set(rows, "004-p02-s01", source_sha256="0" * 64),
                       "row 8 (id 004-p02-s01): the source text changed since the sheet was written"),
    "edited-source": (lambda rows: _set(rows, "004-p02-s01", source="改过的原文"),
                      "row 8 (id 004-p02-s01): the source text was edited in the sheet"),
    "edited-reference": (lambda rows: _set(rows, "004/en/B", reference="Something else."),
                         "row 5 (id 004/en/B): the reference differs from the current text of summaries/en/004.yaml"),
    "missing-verdict": (lambda rows: _set(rows, "004-p03-s01", verdict=""),
                        "row 10 (id 004-p03-s01): missing verdict (ok or fix)"),
    "unknown-verdict": (lambda rows: _set(rows, "004-p03-s01", verdict="good"),
                        "row 10 (id 004-p03-s01): unknown verdict 'good' (ok or fix)"),
    "correction-on-ok": (lambda rows: _set(rows, "004-p03-s01", correction="Better."),
                         "row 10 (id 004-p03-s01): a correction on an 'ok' row"),
    "fix-without-correction": (lambda rows: _set(rows, "004-p03-s01", verdict="fix"),
                               "row 10 (id 004-p03-s01): verdict 'fix' without a correction"),
    "fix-equal-to-reference": (lambda rows: _set(rows, "004/zh/A", verdict="fix", correction=rows[0]["reference"]),
                               "row 2 (id 004/zh/A): the correction equals the reference; use verdict 'ok'"),
    "other-version": (lambda rows: _set(rows, "004-p03-s01", file_version="2"),
                      "row 10 (id 004-p03-s01): the sheet is for version 2 of translations/en/004.jsonl, which is "
                      "now at version 3"),
    "wrong-file": (lambda rows: _set(rows, "004/en/A", file="summaries/zh/004.yaml"),
                   "row 4 (id 004/en/A): file 'summaries/zh/004.yaml' is not the file of this id"),
    # Valid sheet, but the correction breaks a guideline rule: the build refuses it, nothing written.
    "correction-fails-validation": (lambda rows: _set(rows, "004-p05-s01", verdict="fix", correction="Too short."),
                                    "the corrected references do not pass the build"),
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
    from harness.data import build, review_sheet
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
    monkeypatch.setattr(review_sheet, "atomic_write_dir", broken_swap)  # the swap of the rebuilt data/
    with pytest.raises(OSError, match="disk full"):
        review_sheet.apply_sheet(out, "Wang Fang", "2026-12-10", seeds=tree / "seeds", references=tree / "references",
                                 data=tree / "data", agreement=reference_agreement)
    assert _snapshot(tree) == before
    assert calls[-1] == tree / "data" and len(calls) == 2
