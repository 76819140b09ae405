"""Review sheets: `harness refs review DOC_ID --out FILE` writes one, `harness refs apply FILE` records it.

A sheet is a CSV file (UTF-8 with a byte-order mark, so that spreadsheets open it as Unicode)
with one row per summary and per segment of a document: its id, the reference file and that
file's version, the sha256 of the source text, the source, the reference, and the reviewer's
`verdict` (`ok` or `fix`), `correction` and `comment`. A read-only HTML view of the same rows is
written beside it (`FILE.html`: self-contained, works offline, every text escaped).

Applying a sheet validates all of it first (`check_sheet`): any problem is one HarnessError naming
the file and the row, and nothing is written. Then `apply_sheet` writes the corrected texts, signs
every file of the document off (`reviewed_by` the reviewer, a human; `reviewed_on`; `version` + 1;
a `review_history` entry with each item's verdict, comment and previous text) and rebuilds the
dataset, all prepared and built in a staging copy first and swapped in only when complete
(references/GUIDELINES.md §4).
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import yaml

from harness.data.build import Agreement, atomic_write_dir, build_dataset
from harness.data.clean import Document
from harness.data.provenance import Agent, label
from harness.data.references import REFERENCE_NAMES, SUMMARY_LANGUAGES, VERDICTS, References, load_references
from harness.data.seeds import load_documents
from harness.errors import HarnessError
from harness.io import scratch_folder, sha256_file, sha256_text, write_bytes, write_text

COLUMNS = ("id", "kind", "file", "file_version", "source_sha256", "source", "reference", "verdict", "correction",
           "comment")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _text(value: str) -> str:
    """Cell text as compared: spreadsheets may save line breaks as CRLF."""
    return value.replace("\r\n", "\n").replace("\r", "\n")


def source_sha256(text: str) -> str:
    return sha256_text(_text(text))


@dataclass(frozen=True)
class SheetRow:
    id: str
    kind: str  # summary | segment
    file: str  # the reference file inside references/ (what `file_version` refers to)
    file_version: int
    source: str
    reference: str

    def cells(self) -> dict[str, str]:
        return {"id": self.id, "kind": self.kind, "file": self.file, "file_version": str(self.file_version),
                "source_sha256": source_sha256(self.source), "source": self.source, "reference": self.reference,
                "verdict": "", "correction": "", "comment": ""}


def summary_id(doc_id: str, language: str, reference: str) -> str:
    return f"{doc_id}/{language}/{reference}"


def sheet_rows(doc: Document, refs: References) -> list[SheetRow]:
    """Summaries (zh A, zh B, en A, en B) then every segment in order. A summary's source is the
    whole cleaned article."""
    rows = []
    for language in SUMMARY_LANGUAGES:
        f = refs.summaries[doc.id, language]
        texts = dict(zip(REFERENCE_NAMES, f.texts()))
        for name in REFERENCE_NAMES:
            rows.append(SheetRow(summary_id(doc.id, language, name), "summary",
                                 f.path.relative_to(refs.folder).as_posix(), f.provenance.version, doc.text,
                                 texts[name]))
    t = refs.translations[doc.id]
    english = t.by_segment()
    for seg in doc.segments:
        rows.append(SheetRow(seg.id, "segment", t.path.relative_to(refs.folder).as_posix(), t.provenance.version,
                             seg.zh, english.get(seg.id, "")))
    return rows


def render_csv(rows: list[SheetRow]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row.cells())
    return "\ufeff" + buf.getvalue()


def render_html(doc: Document, refs: References, rows: list[SheetRow], sheet_name: str) -> str:
    """A read-only view of the sheet: no script, no external resource, every text escaped."""
    e = html.escape
    files = [refs.summaries[doc.id, "zh"], refs.summaries[doc.id, "en"], refs.translations[doc.id]]
    status = "".join(
        f"<li><code>{e(f.path.relative_to(refs.folder).as_posix())}</code>: version {f.provenance.version}, "
        f"{e('; '.join(dict.fromkeys(label(w, f.provenance.reviewed_by, f.provenance.reviewed_on) for w in f.provenance.written_by)))}</li>"
        for f in files
    )
    body = "".join(
        f'<tr class="{e(r.kind)}"><td class="id">{e(r.id)}</td><td class="src" lang="zh">{e(r.source)}</td>'
        f'<td class="ref" lang="{"zh" if "/zh/" in r.id else "en"}">{e(r.reference)}</td>'
        "<td></td><td></td><td></td></tr>"
        for r in rows
    )
    title = doc.metadata.get("title") or "(no title)"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Review sheet {e(doc.id)}</title>
<style>
body{{font-family:system-ui,sans-serif;margin:1.5rem;line-height:1.45}}
table{{border-collapse:collapse;width:100%}}td,th{{border:1px solid #bbb;padding:.35rem;vertical-align:top}}
th{{background:#eee;position:sticky;top:0}}td.id{{white-space:nowrap;font-family:monospace}}
tr.summary td.src{{max-width:40rem;white-space:pre-wrap;font-size:.85em}}td.src,td.ref{{width:35%}}
</style></head><body>
<h1>Review sheet {e(doc.id)}: {e(title)}</h1>
<p>A view of <code>{e(sheet_name)}</code>. Fill in the CSV file, not this page: for every row a
<b>verdict</b> (<code>ok</code>: the reference is right as it stands; <code>fix</code>: put the
corrected text in <b>correction</b>), and any <b>comment</b>. Then run
<code>harness refs apply {e(sheet_name)} --reviewer "YOUR NAME"</code>.</p>
<ul>{status}</ul>
<table><thead><tr><th>id</th><th>source</th><th>reference</th><th>verdict</th><th>correction</th><th>comment</th></tr></thead>
<tbody>{body}</tbody></table>
</body></html>
"""


def write_sheet(doc: Document, refs: References, out: Path) -> tuple[Path, Path]:
    """Write the CSV sheet and its HTML view (same name, `.html`); returns both paths."""
    if out.suffix.lower() != ".csv":
        raise HarnessError(f"--out: {out}: the review sheet is a CSV file; give a name ending in .csv")
    rows = sheet_rows(doc, refs)
    view = out.with_suffix(".html")
    write_text(out, render_csv(rows))
    write_text(view, render_html(doc, refs, rows, out.name))
    return out, view


# --------------------------------------------------------------------------------------------
# Reading and checking a filled-in sheet.


@dataclass(frozen=True)
class Verdict:
    id: str
    verdict: str  # ok | fix
    correction: str
    comment: str
    previous: str  # the reference text the reviewer saw


@dataclass(frozen=True)
class CheckedSheet:
    path: Path
    sha256: str
    doc_id: str
    verdicts: tuple[Verdict, ...]  # in sheet order


def read_sheet(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        raise HarnessError(f"{path}: no such review sheet")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise HarnessError(f"{path}: not UTF-8 (save the sheet as CSV UTF-8)") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        table = list(reader)
    except csv.Error as err:
        raise HarnessError(f"{path}: not a readable CSV file ({err})") from None
    if not table:
        raise HarnessError(f"{path}: empty file")
    header = [h.strip() for h in table[0]]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise HarnessError(f"{path}: row 1: missing column(s) {', '.join(missing)}")
    rows = []
    for n, cells in enumerate(table[1:], start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(header):
            raise HarnessError(f"{path}: row {n}: {len(cells)} cells, the header has {len(header)}")
        row = dict(zip(header, cells + [""] * (len(header) - len(cells))))
        row["_row"] = str(n)
        rows.append(row)
    if not rows:
        raise HarnessError(f"{path}: no rows below the header")
    return rows


def _doc_of(item_id: str) -> str:
    return item_id.split("/")[0] if "/" in item_id else item_id.split("-")[0]


def check_sheet(path: Path, docs: list[Document], refs: References) -> CheckedSheet:
    """Validate a whole sheet against the current sources and references; raise on the first problem."""
    raw = read_sheet(path)
    first = raw[0]["id"].strip()
    doc = next((d for d in docs if d.id == _doc_of(first)), None)
    if doc is None:
        raise HarnessError(f"{path}: row {raw[0]['_row']}: unknown id '{first}'")
    expected = {r.id: r for r in sheet_rows(doc, refs)}
    seen: set[str] = set()
    verdicts = []
    for row in raw:
        item_id = row["id"].strip()
        where = f"{path}: row {row['_row']} (id {item_id or '<empty>'})"
        if item_id not in expected:
            other = _doc_of(item_id)
            why = f"belongs to document {other}, the sheet is for {doc.id}" if other != doc.id and any(
                d.id == other for d in docs) else "unknown id"
            raise HarnessError(f"{where}: {why}")
        if item_id in seen:
            raise HarnessError(f"{where}: the id appears twice")
        seen.add(item_id)
        want = expected[item_id]
        if row["file"].strip() != want.file:
            raise HarnessError(f"{where}: file '{row['file']}' is not the file of this id ({want.file})")
        if row["file_version"].strip() != str(want.file_version):
            raise HarnessError(f"{where}: the sheet is for version {row['file_version'].strip() or '<empty>'} of "
                               f"{want.file}, which is now at version {want.file_version}; write a new sheet")
        if row["source_sha256"].strip() != source_sha256(want.source):
            raise HarnessError(f"{where}: the source text changed since the sheet was written (source_sha256 differs); "
                               "write a new sheet")
        if source_sha256(row["source"]) != source_sha256(want.source):
            raise HarnessError(f"{where}: the source text was edited in the sheet; leave the source column as it is")
        if _text(row["reference"]) != _text(want.reference):
            raise HarnessError(f"{where}: the reference differs from the current text of {want.file}; leave the "
                               "reference column as it is and put changes in 'correction'")
        verdict = row["verdict"].strip().lower()
        correction = _text(row["correction"]).strip()
        if not verdict:
            raise HarnessError(f"{where}: missing verdict ({' or '.join(VERDICTS)})")
        if verdict not in VERDICTS:
            raise HarnessError(f"{where}: unknown verdict '{row['verdict'].strip()}' ({' or '.join(VERDICTS)})")
        if verdict == "ok" and correction:
            raise HarnessError(f"{where}: a correction on an 'ok' row; use verdict 'fix' to apply it")
        if verdict == "fix" and not correction:
            raise HarnessError(f"{where}: verdict 'fix' without a correction")
        if verdict == "fix" and correction == _text(want.reference).strip():
            raise HarnessError(f"{where}: the correction equals the reference; use verdict 'ok'")
        if verdict == "fix" and want.kind == "segment" and "\n" in correction:
            raise HarnessError(f"{where}: a segment's correction must be one line")
        verdicts.append(Verdict(item_id, verdict, correction, _text(row["comment"]).strip(), want.reference))
    missing = [i for i in expected if i not in seen]
    if missing:
        raise HarnessError(f"{path}: no row for {len(missing)} id(s): {', '.join(missing[:5])}"
                           + (" …" if len(missing) > 5 else ""))
    digest = sha256_file(path)
    return CheckedSheet(path, digest, doc.id, tuple(verdicts))


# --------------------------------------------------------------------------------------------
# Applying a checked sheet.


def dump_yaml(data) -> str:
    """YAML as the reference files are written: keys in the given order, Unicode as is, lines folded."""
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100, default_flow_style=False)


def _review_entry(version: int, reviewer: Agent, date: str, sheet: CheckedSheet, verdicts: list[Verdict]) -> dict:
    items = []
    for v in verdicts:
        item = {"id": v.id, "verdict": v.verdict}
        if v.comment:
            item["comment"] = v.comment
        if v.verdict == "fix":
            item["previous"] = v.previous
        items.append(item)
    return {"version": version, "reviewed_by": reviewer.to_dict(), "reviewed_on": date,
            "sheet_sha256": sheet.sha256, "items": items}


def _sign_off(meta: dict, reviewer: Agent, date: str, sheet: CheckedSheet, verdicts: list[Verdict]) -> None:
    meta["version"] = int(meta["version"]) + 1
    meta["reviewed_by"] = reviewer.to_dict()
    meta["reviewed_on"] = date
    meta["review_history"] = [*(meta.get("review_history") or []),
                              _review_entry(meta["version"], reviewer, date, sheet, verdicts)]


def planned_changes(sheet: CheckedSheet, refs: References, reviewer: Agent, date: str) -> dict[str, str]:
    """New contents of every reference file the sheet touches, keyed by path inside references/."""
    by_id = {v.id: v for v in sheet.verdicts}
    out: dict[str, str] = {}
    for language in SUMMARY_LANGUAGES:
        f = refs.summaries[sheet.doc_id, language]
        meta = yaml.safe_load(f.path.read_text(encoding="utf-8"))
        verdicts = []
        for item in meta["summaries"]:
            v = by_id[summary_id(sheet.doc_id, language, item["reference"])]
            verdicts.append(v)
            if v.verdict == "fix":
                item["text"] = v.correction
        _sign_off(meta, reviewer, date, sheet, verdicts)
        out[f.path.relative_to(refs.folder).as_posix()] = dump_yaml(meta)
    t = refs.translations[sheet.doc_id]
    lines = t.path.read_text(encoding="utf-8").split("\n")
    verdicts = []
    for n, line in enumerate(lines):
        if not line.strip():
            continue
        entry = json.loads(line)
        v = by_id[entry["segment_id"]]
        verdicts.append(v)
        if v.verdict == "fix":  # only corrected lines are rewritten; the others stay byte for byte
            entry["en"] = v.correction
            lines[n] = json.dumps(entry, ensure_ascii=False)
    out[t.path.relative_to(refs.folder).as_posix()] = "\n".join(lines)
    meta = yaml.safe_load(t.meta_path.read_text(encoding="utf-8"))
    _sign_off(meta, reviewer, date, sheet, verdicts)
    out[t.meta_path.relative_to(refs.folder).as_posix()] = dump_yaml(meta)
    return out


@dataclass(frozen=True)
class Applied:
    doc_id: str
    files: tuple[str, ...]  # reference files rewritten, inside references/
    ok: int
    fixed: int
    versions: dict[str, int]  # file -> its new version


def apply_sheet(sheet_path: Path, reviewer_name: str, date: str, *, seeds: Path, references: Path,
                data: Path, agreement: Agreement) -> Applied:
    """Check the sheet, write the corrected and signed-off reference files and rebuild ``data``
    (``agreement``: as for build_dataset).

    Everything is first written to a staging copy (references and a full dataset build, which
    validates the corrected texts); the real files are replaced only when that succeeded, and put
    back if replacing them fails half-way."""
    name = " ".join(reviewer_name.split())
    if not name:
        raise HarnessError("--reviewer: give the reviewer's name")
    if not DATE.match(date):
        raise HarnessError(f"--date: '{date}' is not YYYY-MM-DD")
    docs = load_documents(seeds)
    refs = load_references(references, [d.id for d in docs])
    sheet = check_sheet(sheet_path, docs, refs)
    changes = planned_changes(sheet, refs, Agent(name, "human"), date)

    with scratch_folder(references, ".refs-apply-") as staging:
        staged_refs = staging / "references"
        shutil.copytree(references, staged_refs)
        for rel, text in changes.items():
            (staged_refs / rel).write_text(text, encoding="utf-8")
        try:
            build_dataset(seeds, staging / "data", staged_refs, agreement=agreement)
        except HarnessError as err:
            raise HarnessError(f"{sheet_path}: the corrected references do not pass the build: "
                               f"{str(err).replace(str(staged_refs), str(references))}") from None
        originals = _replace_files(references, changes)
        try:
            atomic_write_dir(data, lambda folder: _copy_files(staging / "data", folder))
        except BaseException:
            _restore(references, originals)
            raise
    versions = {rel: yaml.safe_load(text)["version"] for rel, text in changes.items() if rel.endswith(".yaml")}
    fixed = sum(1 for v in sheet.verdicts if v.verdict == "fix")
    return Applied(sheet.doc_id, tuple(changes), len(sheet.verdicts) - fixed, fixed, versions)


def _copy_files(src: Path, dst: Path) -> None:
    for p in sorted(src.iterdir()):
        shutil.copy2(p, dst / p.name)


def _replace_files(folder: Path, changes: dict[str, str]) -> dict[str, bytes]:
    """Replace every file, each by a rename; on a failure put back those already replaced.
    Returns the original bytes, for a rollback by the caller."""
    originals = {rel: (folder / rel).read_bytes() for rel in changes}
    done = []
    try:
        for rel, text in changes.items():
            write_bytes(folder / rel, text.encode("utf-8"))
            done.append(rel)
    except BaseException:
        _restore(folder, {rel: originals[rel] for rel in done})
        raise
    return originals


def _restore(folder: Path, originals: dict[str, bytes]) -> None:
    for rel, data in originals.items():
        write_bytes(folder / rel, data)


