"""Passages: each article cut into contiguous runs of whole paragraphs of roughly 400–900
characters, the items of the passage summarisation tasks (docs/data.md, "Passages").

The rule, applied to the cleaned text of every article, in order:

1. **Sections.** A section heading starts a new section: a paragraph of one sentence, at most
   30 characters, that does not end in sentence punctuation (。！？!?…：:；;，,). No passage
   crosses a section.
2. **Units.** In an interview (a speaker label such as ``机器之心:`` opens at least two
   paragraphs; the first label used is the interviewer's), a question starts a new unit and the
   answers that follow belong to it, so a question is never cut from its answer. Every other
   paragraph is a unit of its own.
3. **Passages.** A section of L characters becomes k = max(1, round(L / 650), ceil(L / 900))
   passages (at most one per unit), cut between units so that the lengths are as even as
   possible: the cut that minimises the sum of squared differences from L / k; ties go to the
   earlier cut.

Characters are counted on the paragraphs as printed (original script, punctuation included).
A passage's id is its document and its first and last paragraph (``000-p07-p15``, or
``000-p07`` for one paragraph); it lists the segment ids it covers.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from harness.data.clean import Document

TARGET_CHARS = 650
MAX_CHARS = 900
HEADING_MAX_CHARS = 30
_SENTENCE_PUNCTUATION = "。！？!?…：:；;，,"
_SPEAKER = re.compile(r"([^\s:：，,。]{2,8})[:：]")


@dataclass(frozen=True)
class Paragraph:
    id: str  # "000-p07"
    text: str
    segment_ids: tuple[str, ...]


@dataclass(frozen=True)
class Passage:
    id: str
    doc_id: str
    paragraph_ids: tuple[str, ...]
    segment_ids: tuple[str, ...]
    text: str  # the paragraphs joined by "\n", original script
    text_simplified: str = ""


def is_heading(paragraph: Paragraph) -> bool:
    text = paragraph.text.strip()
    return (len(paragraph.segment_ids) == 1 and 0 < len(text) <= HEADING_MAX_CHARS
            and text[-1] not in _SENTENCE_PUNCTUATION)


def interviewer(paragraphs: Sequence[Paragraph]) -> str | None:
    """The label of the first speaker of an interview; None when no label opens two paragraphs."""
    labels = [m.group(1) for p in paragraphs if (m := _SPEAKER.match(p.text))]
    return next((label for label in labels if labels.count(label) >= 2), None)


def sections(paragraphs: Sequence[Paragraph]) -> list[list[Paragraph]]:
    out: list[list[Paragraph]] = []
    for paragraph in paragraphs:
        if not out or is_heading(paragraph):
            out.append([])
        out[-1].append(paragraph)
    return out


def units(section: Sequence[Paragraph], asker: str | None) -> list[list[Paragraph]]:
    out: list[list[Paragraph]] = []
    for paragraph in section:
        question = asker is not None and paragraph.text.startswith(asker) and paragraph.text[len(asker):][:1] in ":："
        answer = asker is not None and not question and bool(out) and _opens_with_question(out[-1], asker)
        if answer:
            out[-1].append(paragraph)
        else:
            out.append([paragraph])
    return out


def _opens_with_question(unit: Sequence[Paragraph], asker: str) -> bool:
    return unit[0].text.startswith(asker) and unit[0].text[len(asker):][:1] in ":："


def even_cuts(lengths: Sequence[int], k: int) -> list[int]:
    """Indices where passages 2..k start: k contiguous groups of `lengths`, as even as possible."""
    n = len(lengths)
    k = min(k, n)
    prefix = [0]
    for length in lengths:
        prefix.append(prefix[-1] + length)
    mean = prefix[-1] / k
    # best[j][i]: the least cost of the first i units in j groups, and where the last group starts
    best: list[list[tuple[float, int]]] = [[(math.inf, 0)] * (n + 1) for _ in range(k + 1)]
    best[0][0] = (0.0, 0)
    for j in range(1, k + 1):
        for i in range(j, n - (k - j) + 1):
            best[j][i] = min(((best[j - 1][s][0] + (prefix[i] - prefix[s] - mean) ** 2, s)
                              for s in range(j - 1, i) if best[j - 1][s][0] < math.inf), key=lambda c: c[0])
    cuts, i = [], n
    for j in range(k, 0, -1):
        i = best[j][i][1]
        cuts.append(i)
    return sorted(cuts)[1:]


def passage_count(chars: int, n_units: int) -> int:
    return min(n_units, max(1, round(chars / TARGET_CHARS), math.ceil(chars / MAX_CHARS)))


def split_passages(doc_id: str, paragraphs: Sequence[Paragraph]) -> list[Passage]:
    asker = interviewer(paragraphs)
    out: list[Passage] = []
    for section in sections(paragraphs):
        groups = units(section, asker)
        lengths = [sum(len(p.text) for p in group) for group in groups]
        bounds = [0, *even_cuts(lengths, passage_count(sum(lengths), len(groups))), len(groups)]
        for start, end in zip(bounds, bounds[1:]):
            chosen = [p for group in groups[start:end] for p in group]
            first, last = chosen[0].id, chosen[-1].id
            out.append(Passage(
                id=first if first == last else f"{first}-{last.rsplit('-', 1)[1]}",
                doc_id=doc_id,
                paragraph_ids=tuple(p.id for p in chosen),
                segment_ids=tuple(s for p in chosen for s in p.segment_ids),
                text="\n".join(p.text for p in chosen),
            ))
    return out


def document_passages(doc: Document) -> list[Passage]:
    """The passages of a cleaned document, with their Simplified text."""
    paragraphs = [Paragraph(doc.paragraph_id(i), "".join(s.zh for s in segments), tuple(s.id for s in segments))
                  for i, segments in enumerate(doc.paragraphs, start=1)]
    simplified = {doc.paragraph_id(i): "".join(s.zh_simplified for s in segments)
                  for i, segments in enumerate(doc.paragraphs, start=1)}
    return [Passage(p.id, p.doc_id, p.paragraph_ids, p.segment_ids, p.text,
                    "\n".join(simplified[i] for i in p.paragraph_ids))
            for p in split_passages(doc.id, paragraphs)]
