"""Text layout for `harness refs review`: source and references side by side for a bilingual reviewer.

Pure functions. Widths are terminal cells: CJK and full-width characters take two.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from harness.data.clean import Document
from harness.data.passages import document_passages
from harness.data.provenance import collapse, label
from harness.data.reference_checks import SUMMARY_UNIT, Problem, summary_length
from harness.data.references import References
from harness.data.review_sheet import reviewed_files

# A Latin word (with the spaces after it) stays whole; every other character is its own unit.
UNIT = re.compile(r"[A-Za-z0-9'’.,;:!?%$&()\"\-–/+]+ *| +|.")


def cell_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def wrap_cells(text: str, width: int) -> list[str]:
    """Greedy wrap to ``width`` cells; words longer than a line are cut."""
    lines, line, used = [], "", 0
    for unit in UNIT.findall(text):
        w = cell_width(unit.rstrip())
        if used + w > width and line.strip():
            lines.append(line.rstrip())
            line, used = "", 0
            unit = unit.lstrip()
            w = cell_width(unit.rstrip())
        while w > width:  # a single unit wider than the column
            lines.append(unit[:width])
            unit = unit[width:]
            w = cell_width(unit.rstrip())
        line += unit
        used += cell_width(unit)
    if line.strip() or not lines:
        lines.append(line.rstrip())
    return lines


def pad(text: str, width: int) -> str:
    return text + " " * max(0, width - cell_width(text))


def side_by_side(left: str, right: str, left_width: int, right_width: int, prefix: str, gap: str = " │ ") -> list[str]:
    """Two wrapped columns; ``prefix`` (e.g. a segment id) on the first line, spaces below it."""
    a, b = wrap_cells(left, left_width), wrap_cells(right, right_width)
    rows = []
    for i in range(max(len(a), len(b))):
        head = prefix if i == 0 else " " * cell_width(prefix)
        rows.append((head + pad(a[i] if i < len(a) else "", left_width) + gap + (b[i] if i < len(b) else "")).rstrip())
    return rows


def _status(p) -> str:
    return f"version {p.version}, " + collapse([label(w, p.reviewed_by, p.reviewed_on) for w in p.written_by])


def render_review(doc: Document, refs: References, found: Iterable[Problem], width: int) -> list[str]:
    """The whole review sheet of one document, as lines."""
    translation = refs.translations[doc.id]
    english = translation.by_segment()
    title = doc.metadata.get("title") or "(no title)"
    out = [
        f"# {doc.id}  {title}",
        f"# script {doc.script}, {len(doc.paragraphs)} paragraphs, {len(doc.segments)} segments; "
        f"GUIDELINES.md version {refs.guideline_version}",
        "",
        "## Review status",
    ]
    for f in reviewed_files(doc, refs):
        p = f.provenance
        out.append(f"- {f.path.relative_to(refs.folder).as_posix()}: guideline {p.guideline_version}, "
                   f"written {p.written_on}, {_status(p)}")
    mine = [p for p in found if p.id.startswith(doc.id) or f"/{doc.id}." in p.id]  # ids or file names
    out.append("- validation: " + ("OK" if not mine else "; ".join(f"{p.rule}: {p.id}" for p in mine)))
    text_width = max(20, width - 2)
    for language in ("zh", "en"):
        out += ["", f"## Summaries ({language})"]
        for s in refs.summaries[doc.id, language].summaries:
            n = summary_length(s.text, language)
            out.append(f"[{s.reference}] ({n} {SUMMARY_UNIT[language]})")
            out += ["  " + line for line in wrap_cells(s.text, text_width)]
    out += ["", "## Passage summaries (the passage's segments are in the translation below)"]
    for passage in document_passages(doc):
        first, last = passage.segment_ids[0], passage.segment_ids[-1]
        out.append(f"-- {passage.id}: segments {first} to {last} ({len(passage.segment_ids)} segments, "
                   f"{len(passage.text)} characters)")  # counted as docs/data.md counts passages
        for language in ("zh", "en"):
            summaries = refs.passages[doc.id, language].passages.get(passage.id, ())
            if not summaries:
                out.append(f"[{language}] (MISSING)")
            for s in summaries:
                n = summary_length(s.text, language)
                out.append(f"[{language} {s.reference}] ({n} {SUMMARY_UNIT[language]})")
                out += ["  " + line for line in wrap_cells(s.text, text_width)]
    id_width = len(doc.segments[0].id) + 2 if doc.segments else 2
    # Chinese takes two cells a character and ~3.8 English characters translate one: 2:3 of the room
    # keeps both columns about equally long.
    room = max(40, width - id_width - 3)
    zh_column = room * 2 // 5
    out += ["", "## Translation (segment id │ source │ English reference)"]
    for p_index, paragraph in enumerate(doc.paragraphs, start=1):
        out.append(f"-- {doc.paragraph_id(p_index)}")
        for seg in paragraph:
            en = english.get(seg.id, "(MISSING)")
            out += side_by_side(seg.zh, en, zh_column, room - zh_column, pad(seg.id, id_width))
    return out
