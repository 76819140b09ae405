"""What every metric shares: the result records and the metric interface.

A metric works in two steps, as in sacrebleu's ``metrics/base.py``: ``item_stats`` turns each
(hypothesis, references) pair into a row of sufficient statistics (BLEU n-gram counts, chrF
counts, ROUGE F/P/R), and ``values`` turns *summed* rows into corpus scores. Bootstrap resamples
and significance tests then only re-sum rows (one matrix product); text is tokenised once.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace

import numpy as np

from harness.errors import HarnessError
from harness.score.resample import bootstrap_indices, percentile_ci, resampled_sums
from harness.score.text import off_target


@dataclass(frozen=True)
class Score:
    """One corpus-level score on a 0–100 scale with its 95 % bootstrap CI and signature."""

    metric: str
    value: float
    ci_low: float
    ci_high: float
    signature: str
    n: int
    precision: float | None = None
    recall: float | None = None
    off_target: int = 0  # hypotheses mostly in the wrong language for the target (scored as they are)

    def to_dict(self) -> dict:
        """Plain dict; ``precision``/``recall`` only where the metric has them (ROUGE)."""
        return {k: v for k, v in asdict(self).items() if v is not None or k not in ("precision", "recall")}


@dataclass(frozen=True)
class Comparison:
    """System B against system A on the same items: ``delta = b − a`` with its paired 95 % CI,
    the paired-bootstrap p-value and the approximate-randomisation p-value (two-sided), and the
    test's power on these items: the delta's bootstrap SE and the minimum detectable difference
    (`harness.score.power`; None when it cannot be sized)."""

    metric: str
    value_a: float
    value_b: float
    delta: float
    ci_low: float
    ci_high: float
    p_bootstrap: float
    p_ar: float
    signature: str
    n: int
    se: float | None = None
    mde: float | None = None

    def to_dict(self) -> dict:
        return asdict(self)


class Metric(ABC):
    """A corpus metric split into per-item sufficient statistics and a vectorised formula."""

    name: str  # the public metric name: bleu, chrf, chrf++, ter, rouge1, …
    lang: str  # target language: zh | en

    @abstractmethod
    def item_stats(self, hypotheses: Sequence[str], references: Sequence[Sequence[str]]) -> np.ndarray:
        """(n_items, k) float64 sufficient statistics; ``references[i]`` are item i's references."""

    @abstractmethod
    def values(self, sums: np.ndarray, n: int) -> np.ndarray:
        """(B, k) sums of item statistics over ``n`` items each → (B,) corpus scores, 0–100."""

    @abstractmethod
    def item_values(self, stats: np.ndarray) -> np.ndarray:
        """(n, k) item statistics → (n,) segment/document-level scores, 0–100."""

    @abstractmethod
    def signature(self, n_refs: int) -> str:
        """Everything needed to reproduce the number, e.g. ``bleu|nrefs:1|…|tok:zh|…``."""

    def precision_recall(self, sums: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray] | None:
        """(B,) precision and recall on 0–100 where the metric has them (ROUGE), else None."""
        return None

    def item_details(self, hypotheses: Sequence[str], references: Sequence[Sequence[str]]) -> list[dict] | None:
        """Per-item details for `--items` (numbers: kept / dropped / changed / added), else None.
        Kept out of the statistics: the bootstrap only ever sees numbers."""
        return None

    @property
    def group_key(self) -> tuple:
        """Metrics with the same key compute their statistics in one pass (see ``stats_for``)."""
        return (type(self).__name__, id(self))

    @classmethod
    def stats_for(cls, metrics: Sequence[Metric], hypotheses, references) -> list[np.ndarray]:
        """Statistics for several metrics of one group; ROUGE overrides this to tokenise once."""
        return [m.item_stats(hypotheses, references) for m in metrics]

    def corpus_score(self, hypotheses: Sequence[str], references: Sequence[Sequence[str]], *, seed: int = 0, n_boot: int = 1000) -> Score:
        """Corpus score with a 95 % percentile bootstrap CI over items (seeded)."""
        n_refs = check_pairs(hypotheses, references)
        stats = self.item_stats(hypotheses, references)
        idx = bootstrap_indices(np.random.default_rng(seed), len(hypotheses), n_boot)
        score = score_from_stats(self, stats, resampled_sums(stats, idx), n_refs, percentile_ci)
        return replace(score, off_target=count_off_target(hypotheses, self.lang))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, lang={self.lang!r})"


class MeanFPR(Metric):
    """A metric whose item statistics are (F, P, R) on 0–100 and whose corpus score is their mean
    (ROUGE, BERTScore): the aggregate is the mean of per-item F, never a resampled median."""

    def values(self, sums: np.ndarray, n: int) -> np.ndarray:
        return np.atleast_2d(sums)[:, 0] / n

    def item_values(self, stats: np.ndarray) -> np.ndarray:
        return stats[:, 0].copy()

    def precision_recall(self, sums: np.ndarray, n: int):
        sums = np.atleast_2d(sums)
        return sums[:, 1] / n, sums[:, 2] / n


def count_off_target(hypotheses: Sequence[str], lang: str) -> int:
    return sum(off_target(h, lang) for h in hypotheses)


def score_from_stats(metric: Metric, stats: np.ndarray, boot_sums: np.ndarray, n_refs: int, ci_fn) -> Score:
    """Point value from all items, CI from the bootstrap resamples' sums."""
    n = len(stats)
    total = stats.sum(axis=0, keepdims=True)
    value = float(metric.values(total, n)[0])
    low, high = ci_fn(metric.values(boot_sums, n))
    pr = metric.precision_recall(total, n)
    return Score(
        metric=metric.name,
        value=value,
        ci_low=low,
        ci_high=high,
        signature=metric.signature(n_refs),
        n=n,
        precision=None if pr is None else float(pr[0][0]),
        recall=None if pr is None else float(pr[1][0]),
    )


def check_pairs(hypotheses: Sequence[str], references: Sequence[Sequence[str]]) -> int:
    """Validate the (hypotheses, references) shape; return the number of references per item."""
    if isinstance(hypotheses, str) or isinstance(references, str):
        raise HarnessError("hypotheses/references: expected sequences of texts, got a single string")
    if len(hypotheses) != len(references):
        raise HarnessError(f"references: {len(references)} items but {len(hypotheses)} hypotheses")
    if not hypotheses:
        raise HarnessError("hypotheses: no items to score")
    counts = set()
    for i, refs in enumerate(references):
        if isinstance(refs, str):
            raise HarnessError(f"references: item {i + 1} is a string; expected a list of references per item")
        if not refs:
            raise HarnessError(f"references: item {i + 1} has no reference")
        counts.add(len(refs))
        for text in refs:
            if not isinstance(text, str):
                raise HarnessError(f"references: item {i + 1} has a {type(text).__name__}, expected text")
    if len(counts) != 1:
        raise HarnessError(f"references: items have different numbers of references ({sorted(counts)})")
    for i, text in enumerate(hypotheses):
        if not isinstance(text, str):
            raise HarnessError(f"hypotheses: item {i + 1} is a {type(text).__name__}, expected text")
    return counts.pop()
