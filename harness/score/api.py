"""The scoring API used by `harness score`, `harness run` and the leaderboard (see
docs/architecture.md, "Scoring")."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from harness.errors import HarnessError
from harness.metric_table import LANGUAGES, METRICS, get_spec
from harness.score.base import Comparison, Metric, Score, check_pairs, count_off_target, score_from_stats
from harness.score.resample import (
    ar_p,
    ar_sums,
    bootstrap_indices,
    paired_bootstrap_p,
    percentile_ci,
    resampled_sums,
)
from harness.score.power import ALPHA, POWER, mde, se_from_deltas
from harness.tasks import TASKS, get_task

METRIC_NAMES = tuple(METRICS)  # the registered metrics at import (harness/metric_table.py; code reads METRICS)


def task_definition(task):
    """The task's definition: a built-in name or a `harness.tasks.TaskDef` (user tasks)."""
    return get_task(task)


def get_metric(name: str, lang: str, *, tokenizer: str | None = None) -> Metric:
    """The metric ``name`` (a key of harness.metric_table.METRICS) for target language ``lang``
    ("zh", "en" or a task). ``tokenizer`` picks the Chinese ROUGE tokenizer: "char" (default) or "jieba"."""
    if lang not in LANGUAGES:
        if not isinstance(lang, str) or lang not in TASKS:
            known = ", ".join([*LANGUAGES, *TASKS])
            raise HarnessError(f"language '{lang}': expected {', '.join(LANGUAGES)} or a task ({known})")
        lang = TASKS[lang].target_lang
    spec = get_spec(name)
    if tokenizer is not None and "tokenizer" not in spec.options:
        raise HarnessError(f"--zh-tokenizer: only ROUGE takes a tokenizer, not '{name}'")
    try:
        return spec.build(lang, tokenizer=tokenizer)
    except HarnessError as e:
        raise HarnessError(f"metric {name}: {e}") from None


def resolve_metrics(task, metrics: Sequence[str | Metric] | None) -> list[Metric]:
    """Metric objects for ``task`` (a name or TaskDef): its defaults, or the given names / Metric objects."""
    definition = task_definition(task)
    lang = definition.target_lang
    wanted = definition.metrics if metrics is None else metrics
    if isinstance(wanted, str):
        wanted = [wanted]
    if not wanted:
        raise HarnessError("--metric: no metric given")
    out = []
    for m in wanted:
        metric = m if isinstance(m, Metric) else get_metric(m, lang)
        if metric.lang != lang:
            raise HarnessError(f"--metric: {metric.name} is set up for '{metric.lang}', task {definition.name} targets '{lang}'")
        out.append(metric)
    names = [m.name for m in out]
    if len(set(names)) != len(names):
        raise HarnessError(f"--metric: a metric is given twice ({', '.join(names)})")
    return out


def _all_stats(metrics: list[Metric], hypotheses, references) -> list[np.ndarray]:
    """Item statistics per metric, computing each group (e.g. all ROUGE types) in one pass."""
    groups: dict[tuple, list[int]] = {}
    for i, m in enumerate(metrics):
        groups.setdefault(m.group_key, []).append(i)
    stats: list[np.ndarray | None] = [None] * len(metrics)
    for indices in groups.values():
        members = [metrics[i] for i in indices]
        for i, s in zip(indices, type(members[0]).stats_for(members, hypotheses, references)):
            stats[i] = s
    return stats  # type: ignore[return-value]


def score(
    task: str,
    hypotheses: Sequence[str],
    references: Sequence[Sequence[str]],
    metrics: Sequence[str | Metric] | None = None,
    *,
    seed: int = 0,
    n_boot: int = 1000,
) -> list[Score]:
    """Corpus scores (0–100) with 95 % percentile bootstrap CIs over items and signatures.

    ``references[i]`` lists item i's references (the same count for every item). One set of
    ``n_boot`` resamples, drawn from ``default_rng(seed)``, is shared by all metrics.
    """
    return score_with_items(task, hypotheses, references, metrics, seed=seed, n_boot=n_boot)[0]


def item_scores(
    task: str,
    hypotheses: Sequence[str],
    references: Sequence[Sequence[str]],
    metrics: Sequence[str | Metric] | None = None,
) -> dict[str, list[float | None]]:
    """Per-item scores (0–100): ROUGE F, sentence BLEU (effective order), segment chrF / TER; None
    where a metric has no value for an item (terms: no glossary term in the source)."""
    resolved = resolve_metrics(task, metrics)
    check_pairs(hypotheses, references)
    return _item_values(resolved, _all_stats(resolved, hypotheses, references))


def score_with_items(
    task: str,
    hypotheses: Sequence[str],
    references: Sequence[Sequence[str]],
    metrics: Sequence[str | Metric] | None = None,
    *,
    seed: int = 0,
    n_boot: int = 1000,
) -> tuple[list[Score], dict[str, list[float | None]]]:
    """``score`` and ``item_scores`` together, from one pass of item statistics."""
    resolved = resolve_metrics(task, metrics)
    n_refs = check_pairs(hypotheses, references)
    if n_boot < 1:
        raise HarnessError(f"n_boot: must be at least 1, got {n_boot}")
    all_stats = _all_stats(resolved, hypotheses, references)
    idx = bootstrap_indices(np.random.default_rng(seed), len(hypotheses), n_boot)
    boot = resampled_sums(np.hstack(all_stats), idx)
    n_off = count_off_target(hypotheses, task_definition(task).target_lang)
    out, col = [], 0
    for metric, stats in zip(resolved, all_stats):
        k = stats.shape[1]
        scored = score_from_stats(metric, stats, boot[:, col : col + k], n_refs, percentile_ci)
        out.append(replace(scored, off_target=n_off))
        col += k
    return out, _item_values(resolved, all_stats)


def _item_values(metrics: list[Metric], all_stats: list[np.ndarray]) -> dict[str, list[float | None]]:
    # NaN: the metric has no value for the item (terms: a source without a glossary term) → None
    return {m.name: [float(v) if v == v else None for v in m.item_values(s)] for m, s in zip(metrics, all_stats)}


def compare(
    task: str,
    hyps_a: Sequence[str],
    hyps_b: Sequence[str],
    references: Sequence[Sequence[str]],
    metrics: Sequence[str | Metric] | None = None,
    *,
    seed: int = 0,
    n_boot: int = 1000,
    n_ar: int = 10000,
    alpha: float = ALPHA,
    power: float = POWER,
) -> list[Comparison]:
    """System B against system A on the same items, for every metric: ``delta = b − a`` with a
    paired-bootstrap 95 % CI, the paired-bootstrap p-value and the approximate-randomisation
    p-value. Draws and p-value conventions are sacrebleu's ``PairedTest`` (same seed → same
    p-values for BLEU and chrF). The minimum detectable difference at ``alpha`` (two-sided) and
    ``power`` comes from the SE of the same bootstrap deltas (`harness.score.power`)."""
    resolved = resolve_metrics(task, metrics)
    n_refs = check_pairs(hyps_a, references)
    if len(hyps_b) != len(hyps_a):
        raise HarnessError(f"hypotheses B: {len(hyps_b)} items but system A has {len(hyps_a)}")
    check_pairs(hyps_b, references)
    if n_boot < 1 or n_ar < 1:
        raise HarnessError(f"n_boot/n_ar: must be at least 1, got {n_boot}/{n_ar}")
    stats_a = _all_stats(resolved, hyps_a, references)
    stats_b = _all_stats(resolved, hyps_b, references)
    n = len(hyps_a)
    a_all, b_all = np.hstack(stats_a), np.hstack(stats_b)
    idx = bootstrap_indices(np.random.default_rng(seed), n, n_boot)
    boot_a, boot_b = resampled_sums(a_all, idx), resampled_sums(b_all, idx)
    ar_a, ar_b = ar_sums(a_all, b_all, np.random.default_rng(seed), n_ar)

    out, col = [], 0
    for metric, sa in zip(resolved, stats_a):
        cols = slice(col, col + sa.shape[1])
        col += sa.shape[1]
        value_a = float(metric.values(a_all[:, cols].sum(axis=0, keepdims=True), n)[0])
        value_b = float(metric.values(b_all[:, cols].sum(axis=0, keepdims=True), n)[0])
        delta = value_b - value_a
        va, vb = metric.values(boot_a[:, cols], n), metric.values(boot_b[:, cols], n)
        low, high = percentile_ci(vb - va)
        se = se_from_deltas(vb - va, n)
        p_ar_value = ar_p(metric.values(ar_a[:, cols], n), metric.values(ar_b[:, cols], n), delta)
        out.append(
            Comparison(
                metric=metric.name,
                value_a=value_a,
                value_b=value_b,
                delta=delta,
                ci_low=low,
                ci_high=high,
                p_bootstrap=paired_bootstrap_p(va, vb, delta),
                p_ar=p_ar_value,
                signature=f"{metric.signature(n_refs)}|seed:{seed}|bs:{n_boot}|ar:{n_ar}",
                n=n,
                se=se if se == se else None,  # NaN (fewer than two items) → None
                mde=mde(se, n, alpha, power),
            )
        )
    return out
