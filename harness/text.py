"""Text helpers shared by stages that must not import each other: sentence units for the source
truncation rule (harness.generate.session) and the `lead` baseline (harness.generate.baseline).

It imports nothing from tasks, generate or score, so every stage can use it.
"""

from __future__ import annotations

import re

_EN_SENTENCE_END = re.compile(r"[.!?][\"'”’)\]]*\s+(?=[\"'“‘(\[]*[A-Z0-9])")


def sentence_units(text: str) -> list[str]:
    """Split `text` into sentences that partition it exactly (`"".join(units) == text`).

    Line breaks end a unit; inside a line Chinese sentences end after 。！？!?… and the closing
    quotes that follow (quote-aware, as in the dataset's segmentation), English ones after . ! ?
    followed by space and a capital or digit.
    """
    from harness.data.segment import split_sentences

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


