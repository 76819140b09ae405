"""Scoring that is right for Chinese and English: ROUGE-1/2/L/Lsum (rouge-score), BLEU, chrF,
chrF++ and TER (sacrebleu), each with a signature, a seeded 95 % bootstrap CI and paired
significance tests. See docs/scoring.md and docs/architecture.md ("Scoring")."""

from harness.score.api import (
    METRIC_NAMES,
    compare,
    get_metric,
    item_scores,
    score,
    score_with_items,
)
from harness.score.base import Comparison, Metric, Score

__all__ = [
    "METRIC_NAMES",
    "get_metric",
    "score",
    "item_scores",
    "score_with_items",
    "compare",
    "Score",
    "Comparison",
    "Metric",
]
