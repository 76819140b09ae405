"""Paired significance for reports: a thin layer over `harness.score.compare`.

Reports never score text themselves. They take the stored outputs of two systems on the same
items, the dataset's references for those items, and ask the scoring stage for the difference
with its CI and p-values; this module only decides what counts as significant.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.errors import HarnessError
from harness.metric_table import higher_is_better
from harness.report.runs import Run
from harness.score import compare, get_metric
from harness.score.api import task_definition
from harness.score.neural import configure
from harness.tasks import load_items

TESTS = ("ar", "bootstrap")


@dataclass(frozen=True)
class Settings:
    """How significance is decided. `test` picks which p-value decides: approximate randomisation
    (default: no resampling assumptions, and the more conservative of the two at small n,
    Riezler & Maxwell 2005) or the paired bootstrap."""

    alpha: float = 0.05
    test: str = "ar"
    seed: int = 0
    n_boot: int = 1000
    n_ar: int = 10000

    def __post_init__(self) -> None:
        if not 0 < self.alpha < 1:
            raise HarnessError(f"--alpha: must be between 0 and 1, got {self.alpha}")
        if self.test not in TESTS:
            raise HarnessError(f"--test: must be one of {', '.join(TESTS)}, got '{self.test}'")

    def p_value(self, comparison) -> float:
        return comparison.p_ar if self.test == "ar" else comparison.p_bootstrap

    def significant(self, comparison) -> bool:
        return self.p_value(comparison) < self.alpha


def gain(metric: str, delta: float) -> float:
    """`delta` (b − a) turned into an improvement: positive when b is better (TER: lower is better)."""
    return delta if higher_is_better(metric) else -delta


ItemsLookup = Callable[[str, Sequence[str]], list]
"""items(task, item_ids) -> objects with .id, .source and .references (harness.tasks.Item), in that order."""


def dataset_items(dataset_dir: Path) -> ItemsLookup:
    """The items of a built dataset folder, through `harness.tasks.load_items`."""
    return _lookup(str(dataset_dir), lambda task: load_items(task, Path(dataset_dir)))


#: The definition keys that decide which items and references a task has.
_DATA_KEYS = ("id", "doc", "source", "references", "n_references", "config", "split", "target_lang")


def user_task_items(runs: Sequence[Run]) -> dict[str, ItemsLookup]:
    """dataset sha256 → the items of the tasks the runs defined themselves over that dataset,
    rebuilt from each run's recorded definition and dataset (no config file needed). The same
    task name over the same data must be defined alike in every run, or its references differ."""
    by_sha: dict[str, dict[str, Run]] = {}
    for run in runs:
        for task in run.tasks:
            definition = run.definition(task)
            if definition.builtin:
                continue
            seen = by_sha.setdefault(run.dataset_for(task), {})
            if task in seen:
                first = seen[task].definition(task)
                differ = [k for k in _DATA_KEYS if getattr(first, k) != getattr(definition, k)]
                if differ:
                    raise HarnessError(f"{run.path}: task {task} reads the same data as in {seen[task].path} but defines "
                                       f"{', '.join(differ)} differently; rename one of the tasks")
                continue
            seen[task] = run
    return {sha: _lookup(f"dataset {sha[:12]}…", lambda task, _runs=tasks: _runs[task].items(task))
            for sha, tasks in by_sha.items()}


def _lookup(where: str, load: Callable[[str], list]) -> ItemsLookup:
    loaded: dict[str, dict] = {}

    def items(task: str, item_ids: Sequence[str]) -> list:
        if task not in loaded:
            loaded[task] = {item.id: item for item in load(task)}
        by_id = loaded[task]
        missing = [i for i in item_ids if i not in by_id]
        if missing:
            raise HarnessError(
                f"{where}: task {task} has no item {missing[0]!r}"
                + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else "")
                + "; the predictions do not belong to this dataset"
            )
        return [by_id[i] for i in item_ids]

    return items


def compare_outputs(
    task,  # a task name or its harness.tasks.TaskDef (tasks a config defined)
    hyps_a: Sequence[str],
    hyps_b: Sequence[str],
    references: Sequence[Sequence[str]],
    metrics: Sequence[str],
    settings: Settings,
    sources: Sequence[str] | None = None,
    metric_settings: Mapping | None = None,
) -> dict[str, object]:
    """metric -> harness.score Comparison of b against a on the same items. ``sources`` (the
    items' sources) and ``metric_settings`` (run A's) reach the metrics that read them: `numbers`
    and `terms` compare outputs with the sources, as `harness run` scored them."""
    definition = task_definition(task)
    scorers = configure([get_metric(m, definition.target_lang) for m in metrics], metric_settings,
                        sources=None if sources is None else list(sources), source_lang=definition.source_lang,
                        summary=definition.kind == "summarization")
    comparisons = compare(
        task,
        list(hyps_a),
        list(hyps_b),
        [list(r) for r in references],
        scorers,
        seed=settings.seed,
        n_boot=settings.n_boot,
        n_ar=settings.n_ar,
        alpha=settings.alpha,  # the MDE is sized for the test the report runs (power: harness.score.power.POWER)
    )
    return {c.metric: c for c in comparisons}


def outputs(run: Run, model: str, task: str, item_ids: Sequence[str]) -> list[str]:
    """The model's outputs for exactly these items, in this order."""
    by_id: Mapping[str, str] = {p.id: p.output for p in run.predictions[(model, task)]}
    return [by_id[i] for i in item_ids]
