"""Sentence rules every stage shares: the dataset's segmentation of cleaned Chinese paragraphs
(harness.data), and the sentence units of the source truncation rule (harness.generate.session)
and of the `lead` baseline (harness.generate.baseline).

A Chinese sentence ends after a run of 。！？!?… plus the closing quotes that directly follow it,
unless that run sits inside a quotation that continues (the quote is still open after the
closers). Segments partition the paragraph exactly: ``"".join(split_sentences(p)) == p``.

It imports no other harness module, so every layer can use it.
"""

from __future__ import annotations

import re

SENTENCE_END = "。！？!?…"
CLOSERS = "”’」』"
OPENERS = "“‘「『"


def split_sentences(paragraph: str) -> list[str]:
    segments: list[str] = []
    start = 0
    depth = 0  # how many quotations are open
    i, n = 0, len(paragraph)
    while i < n:
        ch = paragraph[i]
        if ch in OPENERS:
            depth += 1
        elif ch in CLOSERS:
            depth = max(0, depth - 1)
        elif ch in SENTENCE_END:
            j = i + 1
            while j < n and paragraph[j] in SENTENCE_END:
                j += 1
            k, d = j, depth
            while k < n and paragraph[k] in CLOSERS:
                d = max(0, d - 1)
                k += 1
            if d == 0:
                segments.append(paragraph[start:k])
                start, depth, i = k, 0, k
                continue
            i = j
            continue
        i += 1
    if start < n:
        segments.append(paragraph[start:])
    return segments


def unbalanced_quotes(paragraph: str) -> bool:
    """True when a quotation opens and never closes (or closes without opening)."""
    depth = 0
    for ch in paragraph:
        if ch in OPENERS:
            depth += 1
        elif ch in CLOSERS:
            depth -= 1
            if depth < 0:
                return True
    return depth != 0


_EN_SENTENCE_END = re.compile(r"[.!?][\"'”’)\]]*\s+(?=[\"'“‘(\[]*[A-Z0-9])")


def sentence_units(text: str) -> list[str]:
    """Split `text` into sentences that partition it exactly (`"".join(units) == text`).

    Line breaks end a unit; inside a line Chinese sentences end after 。！？!?… and the closing
    quotes that follow (quote-aware, as in the dataset's segmentation), English ones after . ! ?
    followed by space and a capital or digit.
    """
    units: list[str] = []
    for line in text.splitlines(keepends=True):
        for zh in split_sentences(line):
            start = 0
            for m in _EN_SENTENCE_END.finditer(zh):
                units.append(zh[start : m.end()])
                start = m.end()
            if start < len(zh):
                units.append(zh[start:])
    merged: list[str] = []
    for unit in units:  # whitespace (a line break after a sentence) belongs to the sentence before it
        if merged and not unit.strip():
            merged[-1] += unit
        else:
            merged.append(unit)
    return merged


