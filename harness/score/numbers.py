"""`numbers`: does the output keep the source's numbers? A reference-free metric (issue 20).

A wrong number in a translated news article is a critical error, and the references are
AI-written, so the output is compared with the **source**, not with the references (they are
ignored). Both texts are read into quantities (`harness.data.quantities`: exact values and the
ranges of approximate forms such as 三十多, 几十, 六七个亿, 上万亿). Per item:

- recall: source quantities (strict reading) that overlap a quantity of the output (loose reading);
- precision: output quantities (strict reading) that overlap a quantity of the source (loose reading).

Item statistics: ``[recall matches, source quantities, precision matches, output quantities]``.
The corpus score is the micro F: P and R from the *summed* statistics, so an item with many
numbers weighs more than one with a single number, and an item with no number on either side adds
nothing (it neither helps nor drags the score). An empty side is perfect (0/0 → 100): an output
with no number for a source with none is right. Item values are the item's F on the same rule.
Summary tasks (kind `summarization`) score precision only: a number the summary invents is an
error, one it leaves out is not. The signature says which (``mode:f`` / ``mode:precision``).

Per-item details (kept, dropped, changed, added quantities: `number_fates`; as display strings:
`number_details`) are not statistics and never enter the arrays.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from harness.data.quantities import Quantity, read_quantities
from harness.errors import HarnessError
from harness.score.base import Metric

VERSION = 1
MODES = ("f", "precision")


@dataclass(frozen=True)
class ItemMatch:
    """One item's quantities sorted by fate (source side: kept / dropped; output side: added)."""

    kept: tuple[Quantity, ...]  # source quantities the output keeps
    missing: tuple[Quantity, ...]  # source quantities the output lacks
    supported: tuple[Quantity, ...]  # output quantities found in the source
    added: tuple[Quantity, ...]  # output quantities not in the source

    def stats(self) -> list[float]:
        return [len(self.kept), len(self.kept) + len(self.missing),
                len(self.supported), len(self.supported) + len(self.added)]


def match_item(source: str, output: str, src_lang: str, out_lang: str) -> ItemMatch:
    src, out = read_quantities(source, src_lang), read_quantities(output, out_lang)
    return ItemMatch(
        kept=tuple(q for q in src.strict if out.matches(q)),
        missing=tuple(q for q in src.strict if not out.matches(q)),
        supported=tuple(q for q in out.strict if src.matches(q)),
        added=tuple(q for q in out.strict if not src.matches(q)),
    )


@dataclass(frozen=True)
class NumberFates:
    """One item's quantities as the details show them: a source quantity the output lacks and a quantity
    the output adds are one ``changed`` pair (source, output) when they look like one number gone
    wrong (`pair_changes`); the rest are ``dropped`` / ``added``."""

    kept: tuple[Quantity, ...]
    dropped: tuple[Quantity, ...]
    changed: tuple[tuple[Quantity, Quantity], ...]
    added: tuple[Quantity, ...]
    supported: tuple[Quantity, ...]  # output quantities found in the source


def number_fates(source: str, output: str, src_lang: str, out_lang: str) -> NumberFates:
    m = match_item(source, output, src_lang, out_lang)
    pairs = pair_changes(m.missing, m.added)
    paired_src, paired_out = {id(s) for s, _ in pairs}, {id(o) for _, o in pairs}
    return NumberFates(
        kept=m.kept,
        dropped=tuple(q for q in m.missing if id(q) not in paired_src),
        changed=tuple(pairs),
        added=tuple(q for q in m.added if id(q) not in paired_out),
        supported=m.supported,
    )


def number_details(source: str, output: str, src_lang: str, out_lang: str) -> dict:
    """What the output did with the numbers (`number_fates`), as display strings (``1750亿 = 175000000000``)."""
    f = number_fates(source, output, src_lang, out_lang)
    return {
        "kept": [q.display() for q in f.kept],
        "dropped": [q.display() for q in f.dropped],
        "changed": [{"source": s.display(), "output": o.display()} for s, o in f.changed],
        "added": [q.display() for q in f.added],
        "output_numbers_supported": [q.display() for q in f.supported],
    }


def significant_digits(q: Quantity) -> str:
    """1750亿 and 17.5 billion → ``175``: the same digits under another unit."""
    return str(q.low.normalize()).split("E")[0].replace(".", "").replace("-", "").strip("0")


def pair_changes(missing: Sequence[Quantity], added: Sequence[Quantity]) -> list[tuple[Quantity, Quantity]]:
    """Missing source and added output quantities that look like one number changed: first the same
    significant digits (a unit error: 1750亿 → 17.5 billion), then values within a factor of 10 of
    each other (a digit error: 30 → 32); each in order of appearance, each quantity used once."""
    pairs: list[tuple[Quantity, Quantity]] = []
    free = list(added)
    for related in (lambda s, o: significant_digits(s) == significant_digits(o),
                    lambda s, o: s.low > 0 and o.low > 0 and Decimal("0.1") < o.low / s.low < 10):
        for s in missing:
            if any(s is p for p, _ in pairs):
                continue
            match = next((o for o in free if related(s, o)), None)
            if match is not None:
                pairs.append((s, match))
                free.remove(match)
    order = {id(s): i for i, s in enumerate(missing)}
    return sorted(pairs, key=lambda pair: order[id(pair[0])])


def ratio(matched: np.ndarray, total: np.ndarray) -> np.ndarray:
    """100 × matched / total; an empty side (total 0) has nothing wrong: 100."""
    safe = np.where(total > 0, total, 1.0)
    return np.where(total > 0, 100.0 * matched / safe, 100.0)


def f_score(p: np.ndarray, r: np.ndarray) -> np.ndarray:
    both = p + r
    return np.where(both > 0, 2 * p * r / np.where(both > 0, both, 1.0), 0.0)


class Numbers(Metric):
    """Numbers kept from the source (see the module docstring)."""

    name = "numbers"

    def __init__(self, lang: str, *, mode: str = "f", sources: Sequence[str] | None = None,
                 source_lang: str | Sequence[str] | None = None) -> None:
        if mode not in MODES:
            raise HarnessError(f"numbers: mode '{mode}' (expected {' or '.join(MODES)})")
        self.lang = lang
        self.mode = mode
        self.sources = None if sources is None else list(sources)
        self.source_lang = source_lang if source_lang is None or isinstance(source_lang, str) else list(source_lang)

    def with_sources(self, sources: Sequence[str], source_lang: str | Sequence[str], *,
                     summary: bool = False) -> Numbers:
        """This metric reading ``sources`` (one per item) written in ``source_lang`` (one language,
        or one per item); ``summary`` scores precision only."""
        return Numbers(self.lang, mode="precision" if summary else "f", sources=sources, source_lang=source_lang)

    def _source_langs(self, n: int) -> list[str]:
        if self.sources is None or self.source_lang is None:
            raise HarnessError("numbers: needs the source texts (--src FILE for harness score)")
        if len(self.sources) != n:
            raise HarnessError(f"numbers: {len(self.sources)} sources but {n} hypotheses")
        langs = [self.source_lang] * n if isinstance(self.source_lang, str) else self.source_lang
        if len(langs) != n:
            raise HarnessError(f"numbers: {len(langs)} source languages but {n} hypotheses")
        return langs

    def item_stats(self, hypotheses, references) -> np.ndarray:
        langs = self._source_langs(len(hypotheses))
        rows = [match_item(s, h, lang, self.lang).stats() for s, h, lang in zip(self.sources, hypotheses, langs)]
        return np.asarray(rows, dtype=np.float64).reshape(len(rows), 4)

    def item_details(self, hypotheses, references) -> list[dict]:
        langs = self._source_langs(len(hypotheses))
        return [number_details(s, h, lang, self.lang) for s, h, lang in zip(self.sources, hypotheses, langs)]

    def _pr(self, stats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        stats = np.atleast_2d(stats)
        return ratio(stats[:, 2], stats[:, 3]), ratio(stats[:, 0], stats[:, 1])

    def values(self, sums: np.ndarray, n: int) -> np.ndarray:
        p, r = self._pr(sums)
        return p if self.mode == "precision" else f_score(p, r)

    def item_values(self, stats: np.ndarray) -> np.ndarray:
        return self.values(stats, 1)

    def precision_recall(self, sums: np.ndarray, n: int):
        return self._pr(sums)

    def signature(self, n_refs: int) -> str:
        src = self.source_lang if isinstance(self.source_lang, str) or self.source_lang is None else "per-item"
        return (f"numbers|against:source|src:{src or 'unset'}|tgt:{self.lang}|refs:none"
                f"|match:value+range|mode:{self.mode}|agg:micro|v:{VERSION}")

    def __repr__(self) -> str:
        return f"Numbers(lang={self.lang!r}, mode={self.mode!r})"
