"""`terms`: terminology accuracy against a glossary (harness.data.glossary; docs/scoring.md, "terms").

For each item, the glossary terms named in the source (the other language than the target: a
Chinese source for an English target, an English source for a Chinese one) are found with the
glossary's matching rule; a term counts once per item however often it occurs (a translation
may say "it" the second time), and it is rendered when one of its allowed renderings in the target
language appears anywhere in the output. Item statistics: (rendered, terms). The corpus score is
100 × Σ rendered / Σ terms over all items (micro average), so the bootstrap resamples items.

An item whose source names no glossary term has no value (None in item scores and JSON; it adds
0/0 to the sums). A set of items (or a bootstrap resample) without any term scores 100: nothing
was rendered wrongly; `harness score` says so when it happens.

The metric reads no reference; like COMET it needs the sources (`with_sources`). The signature
names the glossary and its sha256, so a number says which glossary it was scored against.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from harness.data.glossary import Glossary, Matcher, load_glossary, other
from harness.errors import HarnessError
from harness.score.base import Metric

VERSION = 1
MATCH = {"en": "word-ci+plural", "zh": "t2s-substring"}  # how renderings are found in the output


class TermMatcher:
    """A glossary's matchers for one direction (source language → target language)."""

    def __init__(self, glossary: Glossary, target_lang: str) -> None:
        self.glossary = glossary
        self.target_lang = target_lang
        self.source_lang = other(target_lang)
        self.source = Matcher(glossary.forms(self.source_lang), self.source_lang)
        self.output = Matcher(glossary.forms(target_lang), target_lang)

    def details(self, source: str, output: str) -> dict:
        """Every term of ``source`` and whether ``output`` renders it (see `term_details`)."""
        found_in_source: dict[int, list[str]] = {}
        for m in self.source.find(source):
            found_in_source.setdefault(m.entry, []).append(m.text)
        rendered = self.output.counts(output)
        terms = []
        for entry, spans in found_in_source.items():
            t = self.glossary.terms[entry]
            terms.append({
                "term": t.zh if self.source_lang == "zh" else t.en[0],
                "source": sorted(set(spans)),
                "expected": list(t.en if self.target_lang == "en" else t.zh_forms),
                "rendered": rendered[entry] > 0,
            })
        correct = sum(t["rendered"] for t in terms)
        return {"terms": len(terms), "rendered": correct,
                "misses": [{k: t[k] for k in ("term", "source", "expected")} for t in terms if not t["rendered"]]}


def term_details(source: str, output: str, *, target_lang: str, glossary: Glossary | None = None) -> dict:
    """One item: ``{"terms": n, "rendered": k, "misses": [{"term", "source", "expected"}]}``: the
    glossary terms ``source`` names (counted once each), how many ``output`` renders, and for each
    miss the term, the forms the source used and the renderings that would have counted.
    ``glossary`` None: the project glossary."""
    return TermMatcher(glossary or load_glossary(), target_lang).details(source, output)


class Terms(Metric):
    """Share of the sources' glossary terms that the outputs render (module docstring)."""

    name = "terms"

    def __init__(self, lang: str, *, glossary: str | None = None, sources: Sequence[str] | None = None) -> None:
        self.lang = lang
        self.glossary_path = glossary
        self.matcher = TermMatcher(load_glossary(glossary), lang)  # a bad file fails here, before any scoring
        self.sources = None if sources is None else list(sources)

    def with_sources(self, sources: Sequence[str]) -> Terms:
        return Terms(self.lang, glossary=self.glossary_path, sources=sources)

    def item_details(self, hypotheses: Sequence[str], references: Sequence[Sequence[str]] = ()) -> list[dict]:
        """`term_details` of every item (the misses that `harness score --items` lists)."""
        if self.sources is None:
            raise HarnessError("terms: needs the source texts (--src FILE for harness score)")
        if len(self.sources) != len(hypotheses):
            raise HarnessError(f"terms: {len(self.sources)} sources but {len(hypotheses)} hypotheses")
        return [self.matcher.details(s, h) for s, h in zip(self.sources, hypotheses)]

    def item_stats(self, hypotheses, references) -> np.ndarray:
        details = self.item_details(hypotheses)
        return np.array([[d["rendered"], d["terms"]] for d in details], dtype=np.float64).reshape(-1, 2)

    def values(self, sums: np.ndarray, n: int) -> np.ndarray:
        sums = np.atleast_2d(sums)
        rendered, terms = sums[:, 0], sums[:, 1]
        return np.where(terms > 0, 100 * rendered / np.maximum(terms, 1), 100.0)

    def item_values(self, stats: np.ndarray) -> np.ndarray:
        rendered, terms = stats[:, 0], stats[:, 1]
        return np.where(terms > 0, 100 * rendered / np.maximum(terms, 1), np.nan)

    def signature(self, n_refs: int) -> str:
        source_lang = self.matcher.source_lang
        return (f"terms|glossary:{self.matcher.glossary.short_id}|src:{source_lang}|tgt:{self.lang}"
                f"|match:{MATCH[self.lang]}|unit:term-per-item|agg:micro|refs:none|v:{VERSION}")

    def __repr__(self) -> str:
        return f"Terms(lang={self.lang!r}, glossary={self.matcher.glossary.short_id!r})"
