"""Metric name → how to build it and what it promises: the one table a new metric is added to.

Every other place (config validation, `harness score --metric`, the leaderboard's sort order,
`harness compare`'s gate direction) reads this table. A metric entry declares

- `factory`: "module:callable", called as ``factory(lang=..., **args, **options)`` and returning a
  ``harness.score.base.Metric`` (imported only when the metric is used);
- `languages`: what it does for each target language it supports (a task whose target language
  is not listed cannot use it);
- `higher_is_better`;
- `options`: keyword options a caller may pass (ROUGE's Chinese `tokenizer`).

Its signature comes from the built metric (``Metric.signature(n_refs)``; ``MetricSpec.signature``
builds one to show it). Adding a metric is one entry, e.g.::

    "bertscore": MetricSpec("harness.score.bertscore:BertScore", languages={"zh": "...", "en": "..."}),
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from harness.errors import HarnessError
from harness.registry import lookup

#: The languages the harness scores (and so the languages a task may have): code → name.
LANGUAGES = MappingProxyType({"zh": "Chinese", "en": "English"})

_ZH_NORM = "Traditional → Simplified + NFKC on both sides"


@dataclass(frozen=True)
class MetricSpec:
    factory: str  # "module:callable" → Metric
    languages: Mapping[str, str]  # target language → what the metric does for it
    args: Mapping[str, object] = field(default_factory=dict)  # fixed arguments (ROUGE type, chrF word order)
    higher_is_better: bool = True
    options: tuple[str, ...] = ()  # keyword options callers may pass (e.g. "tokenizer")

    def build(self, lang: str, **options):
        """The metric object for target language `lang`."""
        if lang not in self.languages:
            raise HarnessError(f"no '{lang}' handling (it scores {', '.join(self.languages)})")
        unknown = [k for k, v in options.items() if v is not None and k not in self.options]
        if unknown:
            raise HarnessError(f"option '{unknown[0]}' is not taken (options: {', '.join(self.options) or 'none'})")
        module, _, attr = self.factory.partition(":")
        factory = getattr(importlib.import_module(module), attr)
        given = {k: v for k, v in options.items() if v is not None}
        return factory(lang=lang, **self.args, **given)

    def signature(self, lang: str, n_refs: int = 1) -> str:
        """How the metric computes for `lang`, e.g. ``bleu|nrefs:1|…|tok:zh|…``."""
        return self.build(lang).signature(n_refs)


def _rouge(rouge_type: str, what: str) -> MetricSpec:
    return MetricSpec(
        "harness.score.rouge:Rouge",
        args={"rouge_type": rouge_type},
        options=("tokenizer",),
        languages={
            "zh": f"{what} F over characters (jieba words with tokenizer: jieba), {_ZH_NORM}",
            "en": f"{what} F over rouge-score tokens with Porter stemming",
        },
    )


METRICS: dict[str, MetricSpec] = {
    "rouge1": _rouge("rouge1", "unigram"),
    "rouge2": _rouge("rouge2", "bigram"),
    "rougeL": _rouge("rougeL", "longest common subsequence"),
    "rougeLsum": _rouge("rougeLsum", "summary-level LCS over sentences"),
    "bleu": MetricSpec("harness.score.sacre:Bleu", languages={
        "zh": f"sacrebleu BLEU, tokenize=zh (characters), {_ZH_NORM}",
        "en": "sacrebleu BLEU, tokenize=13a",
    }),
    "chrf": MetricSpec("harness.score.sacre:Chrf", args={"word_order": 0}, languages={
        "zh": f"sacrebleu chrF (character 6-grams), {_ZH_NORM}",
        "en": "sacrebleu chrF (character 6-grams)",
    }),
    "chrf++": MetricSpec("harness.score.sacre:Chrf", args={"word_order": 2}, languages={
        "zh": f"sacrebleu chrF++ (character 6-grams + word 1–2-grams over zh tokens), {_ZH_NORM}",
        "en": "sacrebleu chrF++ (character 6-grams + word 1–2-grams)",
    }),
    "ter": MetricSpec("harness.score.sacre:Ter", higher_is_better=False, languages={
        "zh": f"sacrebleu TER with asian_support, normalized, {_ZH_NORM}",
        "en": "sacrebleu TER",
    }),
    # Neural metrics (docs/scoring.md): their settings (encoder, COMET interpreter and model) come from
    # the run config's `metric_settings` through harness.score.neural.configure.
    "bertscore": MetricSpec("harness.score.bertscore:BertScore", languages={
        "zh": f"BERTScore F (bert-score) on the bundled multilingual-e5-small, layer 12, no idf, no rescaling, {_ZH_NORM}",
        "en": "BERTScore F (bert-score) on the bundled multilingual-e5-small, layer 12, no idf, no rescaling",
    }),
    "comet": MetricSpec("harness.score.comet:Comet", languages={
        "zh": "COMET (unbabel-comet in the user's own environment, as a subprocess); needs the sources",
        "en": "COMET (unbabel-comet in the user's own environment, as a subprocess); needs the sources",
    }),
    # Reference-free: compares the output's numbers with the source's (harness/score/numbers.py); the
    # sources, their language and the task kind (summaries: precision only) come through
    # harness.score.neural.configure.
    "numbers": MetricSpec("harness.score.numbers:Numbers", languages={
        "zh": "numeric quantities of the output (Chinese) against the source's: values and ranges, micro F; needs the sources",
        "en": "numeric quantities of the output (English) against the source's: values and ranges, micro F; needs the sources",
    }),
    # Terminology against a glossary (harness/score/terms.py): reads the sources, no reference; the
    # glossary comes from `metric_settings.terms.glossary` or `harness score --glossary`.
    "terms": MetricSpec("harness.score.terms:Terms", options=("glossary",), languages={
        "zh": "glossary terms of the English source rendered in the Chinese output (Traditional → Simplified), "
              "share of terms per item, micro-averaged; needs the sources",
        "en": "glossary terms of the Chinese source rendered in the English output (whole words, any case, "
              "plural -s), share of terms per item, micro-averaged; needs the sources",
    }),
}


def get_spec(name: str) -> MetricSpec:
    return lookup("metric", name, METRICS)


def higher_is_better(name: str) -> bool:
    """Unknown names (a metric removed since a run was scored) count as higher-is-better."""
    spec = METRICS.get(name)
    return spec.higher_is_better if spec else True


def lower_is_better() -> frozenset[str]:
    return frozenset(n for n, s in METRICS.items() if not s.higher_is_better)
