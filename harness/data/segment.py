"""Sentence segmentation for cleaned Chinese paragraphs.

A sentence ends after a run of 。！？!?… plus the closing quotes that directly follow it,
unless that run sits inside a quotation that continues (the quote is still open after the
closers). Segments partition the paragraph exactly: ``"".join(split_sentences(p)) == p``.
"""

from __future__ import annotations

from harness.data.rules import CLOSERS, SENTENCE_END

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
