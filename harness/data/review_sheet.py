"""Review sheets: `harness refs review DOC_ID --out FILE` writes one (this module), `harness refs
apply FILE` checks it (`review_check.py`) and records it (`review_apply.py`).

A sheet is a CSV file (UTF-8 with a byte-order mark, so that spreadsheets open it as Unicode)
with one row per reviewed text of a document: its four article summaries, the four summaries
(zh A, zh B, en A, en B) of each of its passages, then every segment's translation. A row holds
the text's id, the reference file and that file's version, the sha256 of the source text and of
the reference text as they were when the sheet was written, the source, the reference, and the
reviewer's `verdict` (`ok` or `fix`), `correction` and `comment`. A read-only HTML view of the same
rows is written beside it (`FILE.html`: self-contained, works offline, every text escaped).
"""

from __future__ import annotations

import csv
import html
import io
from dataclasses import dataclass
from pathlib import Path

from harness.data.clean import Document
from harness.data.passages import document_passages
from harness.data.provenance import label
from harness.data.references import REFERENCE_NAMES, SUMMARY_LANGUAGES, References
from harness.errors import HarnessError
from harness.io import sha256_text, write_text

COLUMNS = ("id", "kind", "file", "file_version", "source_sha256", "reference_sha256", "source", "reference",
           "verdict", "correction", "comment")
KINDS = ("summary", "passage", "segment")  # article summary, passage summary, segment translation


def cell_text(value: str) -> str:
    """Cell text as compared: spreadsheets may save line breaks as CRLF."""
    return value.replace("\r\n", "\n").replace("\r", "\n")


def text_sha256(text: str) -> str:
    """The sha256 a sheet records of a source or reference text (line breaks normalised)."""
    return sha256_text(cell_text(text))


@dataclass(frozen=True)
class SheetRow:
    id: str
    kind: str  # one of KINDS
    file: str  # the reference file inside references/ (what `file_version` refers to)
    file_version: int
    source: str
    reference: str

    def cells(self) -> dict[str, str]:
        return {"id": self.id, "kind": self.kind, "file": self.file, "file_version": str(self.file_version),
                "source_sha256": text_sha256(self.source), "reference_sha256": text_sha256(self.reference),
                "source": self.source, "reference": self.reference, "verdict": "", "correction": "", "comment": ""}


def summary_id(owner_id: str, language: str, reference: str) -> str:
    """`004/zh/A` for an article summary, `004-p03-p09/zh/A` for a passage summary (the ids the
    build's validation names too)."""
    return f"{owner_id}/{language}/{reference}"


def doc_of(item_id: str) -> str:
    """The document of a sheet id: `004/zh/A`, `004-p03-p09/en/B` and `004-p01-s02` are all 004's."""
    return item_id.split("/")[0].split("-")[0]


def _rel(refs: References, path: Path) -> str:
    return path.relative_to(refs.folder).as_posix()


def sheet_rows(doc: Document, refs: References) -> list[SheetRow]:
    """Article summaries (zh A, zh B, en A, en B; their source is the whole cleaned article), then
    each passage's summaries in the same order (their source is the passage's text), then every
    segment in order. A text missing from its file is an empty reference (the sheet is written
    for references that do not pass validation too)."""
    rows = []
    for language in SUMMARY_LANGUAGES:
        f = refs.summaries[doc.id, language]
        texts = dict(zip(REFERENCE_NAMES, f.texts()))
        for name in REFERENCE_NAMES:
            rows.append(SheetRow(summary_id(doc.id, language, name), "summary", _rel(refs, f.path),
                                 f.provenance.version, doc.text, texts[name]))
    for passage in document_passages(doc):
        for language in SUMMARY_LANGUAGES:
            f = refs.passages[doc.id, language]
            texts = {s.reference: s.text for s in f.passages.get(passage.id, ())}
            for name in REFERENCE_NAMES:
                rows.append(SheetRow(summary_id(passage.id, language, name), "passage", _rel(refs, f.path),
                                     f.provenance.version, passage.text, texts.get(name, "")))
    t = refs.translations[doc.id]
    english = t.by_segment()
    for seg in doc.segments:
        rows.append(SheetRow(seg.id, "segment", _rel(refs, t.path), t.provenance.version, seg.zh,
                             english.get(seg.id, "")))
    return rows


def reviewed_files(doc: Document, refs: References) -> list:
    """The reference files a document's sheet signs off, in sheet order."""
    return [refs.summaries[doc.id, "zh"], refs.summaries[doc.id, "en"], refs.passages[doc.id, "zh"],
            refs.passages[doc.id, "en"], refs.translations[doc.id]]


def render_csv(rows: list[SheetRow]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row.cells())
    return "\ufeff" + buf.getvalue()


def _html_rows(rows: list[SheetRow]) -> str:
    """One table row per sheet row; the summaries of one text (the article, a passage) share one
    source cell, so that the reviewer reads it once next to its four summaries."""
    e = html.escape
    out = []
    for i, r in enumerate(rows):
        source = ""
        if r.kind == "segment" or i == 0 or (rows[i - 1].kind, rows[i - 1].source) != (r.kind, r.source):
            span = 1
            while r.kind != "segment" and i + span < len(rows) and (rows[i + span].kind, rows[i + span].source) == (
                    r.kind, r.source):
                span += 1
            rowspan = f' rowspan="{span}"' if span > 1 else ""
            source = f'<td class="src" lang="zh"{rowspan}>{e(r.source)}</td>'
        out.append(f'<tr class="{e(r.kind)}"><td class="id">{e(r.id)}</td>{source}'
                   f'<td class="ref" lang="{"zh" if "/zh/" in r.id else "en"}">{e(r.reference)}</td>'
                   "<td></td><td></td><td></td></tr>")
    return "".join(out)


def render_html(doc: Document, refs: References, rows: list[SheetRow], sheet_name: str) -> str:
    """A read-only view of the sheet: no script, no external resource, every text escaped."""
    e = html.escape
    status = "".join(
        f"<li><code>{e(_rel(refs, f.path))}</code>: version {f.provenance.version}, "
        f"{e('; '.join(dict.fromkeys(label(w, f.provenance.reviewed_by, f.provenance.reviewed_on) for w in f.provenance.written_by)))}</li>"
        for f in reviewed_files(doc, refs)
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
tr.summary td.src,tr.passage td.src{{max-width:40rem;white-space:pre-wrap;font-size:.85em}}td.src,td.ref{{width:35%}}
tr.passage td{{background:#f7f7fb}}
</style></head><body>
<h1>Review sheet {e(doc.id)}: {e(title)}</h1>
<p>A view of <code>{e(sheet_name)}</code>: the article's summaries, each passage's summaries (the
id names the passage's first and last paragraph), then every segment's translation. Fill in the
CSV file, not this page: for every row a <b>verdict</b> (<code>ok</code>: the reference is right as
it stands; <code>fix</code>: put the corrected text in <b>correction</b>), and any <b>comment</b>.
Then run <code>harness refs apply {e(sheet_name)} --reviewer "YOUR NAME"</code>.</p>
<ul>{status}</ul>
<table><thead><tr><th>id</th><th>source</th><th>reference</th><th>verdict</th><th>correction</th><th>comment</th></tr></thead>
<tbody>{_html_rows(rows)}</tbody></table>
</body></html>
"""


def write_sheet(doc: Document, refs: References, out: Path) -> tuple[Path, Path, int]:
    """Write the CSV sheet and its HTML view (same name, `.html`); returns both paths and the
    number of rows to review."""
    if out.suffix.lower() != ".csv":
        raise HarnessError(f"--out: {out}: the review sheet is a CSV file; give a name ending in .csv")
    rows = sheet_rows(doc, refs)
    view = out.with_suffix(".html")
    write_text(out, render_csv(rows))
    write_text(view, render_html(doc, refs, rows, out.name))
    return out, view, len(rows)
