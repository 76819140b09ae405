"""Reading a filled-in review sheet (`review_sheet.py`) and checking every row of it against the
current sources and references, before `harness refs apply` writes anything.

Any problem is one HarnessError naming the sheet, the row and the id: an unknown, duplicate or
missing id, a row of another file or file version, a source or reference text that changed since
the sheet was written (its sha256 differs) or was edited in the sheet, a missing or unknown
verdict, a correction on an `ok` row, a `fix` without a correction or with one equal to the
reference, a segment correction of more than one line.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from harness.data.clean import Document
from harness.data.references import VERDICTS, References
from harness.data.review_sheet import COLUMNS, SheetRow, cell_text, doc_of, sheet_rows, text_sha256
from harness.errors import HarnessError
from harness.io import sha256_file


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


def _check_texts(row: dict[str, str], want: SheetRow, where: str) -> None:
    """The row was made from the current file version, source and reference, and neither text was
    edited in the sheet."""
    if row["file"].strip() != want.file:
        raise HarnessError(f"{where}: file '{row['file']}' is not the file of this id ({want.file})")
    if row["file_version"].strip() != str(want.file_version):
        raise HarnessError(f"{where}: the sheet is for version {row['file_version'].strip() or '<empty>'} of "
                           f"{want.file}, which is now at version {want.file_version}; write a new sheet")
    if row["source_sha256"].strip() != text_sha256(want.source):
        raise HarnessError(f"{where}: the source text changed since the sheet was written (source_sha256 differs); "
                           "write a new sheet")
    if text_sha256(row["source"]) != text_sha256(want.source):
        raise HarnessError(f"{where}: the source text was edited in the sheet; leave the source column as it is")
    if row["reference_sha256"].strip() != text_sha256(want.reference):
        raise HarnessError(f"{where}: the reference text in {want.file} changed since the sheet was written "
                           "(reference_sha256 differs); write a new sheet")
    if cell_text(row["reference"]) != cell_text(want.reference):
        raise HarnessError(f"{where}: the reference was edited in the sheet (it differs from the current text of "
                           f"{want.file}); leave the reference column as it is and put changes in 'correction'")


def _verdict(row: dict[str, str], want: SheetRow, where: str) -> Verdict:
    verdict = row["verdict"].strip().lower()
    correction = cell_text(row["correction"]).strip()
    if not verdict:
        raise HarnessError(f"{where}: missing verdict ({' or '.join(VERDICTS)})")
    if verdict not in VERDICTS:
        raise HarnessError(f"{where}: unknown verdict '{row['verdict'].strip()}' ({' or '.join(VERDICTS)})")
    if verdict == "ok" and correction:
        raise HarnessError(f"{where}: a correction on an 'ok' row; use verdict 'fix' to apply it")
    if verdict == "fix" and not correction:
        raise HarnessError(f"{where}: verdict 'fix' without a correction")
    if verdict == "fix" and correction == cell_text(want.reference).strip():
        raise HarnessError(f"{where}: the correction equals the reference; use verdict 'ok'")
    if verdict == "fix" and want.kind == "segment" and "\n" in correction:
        raise HarnessError(f"{where}: a segment's correction must be one line")
    return Verdict(want.id, verdict, correction, cell_text(row["comment"]).strip(), want.reference)


def check_sheet(path: Path, docs: list[Document], refs: References) -> CheckedSheet:
    """Validate a whole sheet against the current sources and references; raise on the first problem."""
    raw = read_sheet(path)
    first = raw[0]["id"].strip()
    doc = next((d for d in docs if d.id == doc_of(first)), None)
    if doc is None:
        raise HarnessError(f"{path}: row {raw[0]['_row']}: unknown id '{first}'")
    expected = {r.id: r for r in sheet_rows(doc, refs)}
    seen: set[str] = set()
    verdicts = []
    for row in raw:
        item_id = row["id"].strip()
        where = f"{path}: row {row['_row']} (id {item_id or '<empty>'})"
        if item_id not in expected:
            other = doc_of(item_id)
            why = f"belongs to document {other}, the sheet is for {doc.id}" if other != doc.id and any(
                d.id == other for d in docs) else "unknown id"
            raise HarnessError(f"{where}: {why}")
        if item_id in seen:
            raise HarnessError(f"{where}: the id appears twice")
        seen.add(item_id)
        _check_texts(row, expected[item_id], where)
        verdicts.append(_verdict(row, expected[item_id], where))
    missing = [i for i in expected if i not in seen]
    if missing:
        raise HarnessError(f"{path}: no row for {len(missing)} id(s): {', '.join(missing[:5])}"
                           + (" …" if len(missing) > 5 else ""))
    return CheckedSheet(path, sha256_file(path), doc.id, tuple(verdicts))
