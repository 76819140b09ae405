"""`harness compare RUN_A RUN_B`: is B better or worse than A, beyond noise? And the CI gate.

For every model in both runs (ceilings excluded: they measure the references, not a system),
every task both ran and every metric both scored, the stored outputs of A and B on the items both
have are compared with `harness.score.compare` against the dataset's references: B − A with its
95 % paired-bootstrap CI, the paired-bootstrap and the approximate-randomisation p-values.

The gate fails when any compared metric got significantly worse (p < α under the chosen test) by
more than `max_drop` points; a smaller or non-significant change never fails it.

The default test here is the paired bootstrap, not approximate randomisation as for leaderboard
bands: with n items the smallest two-sided AR p-value is about 2 / 2**n, so AR can never reach
α = 0.05 on five summaries, and a gate that cannot fire on a task is no gate for it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

from harness.errors import HarnessError
from harness.io import Markdown, json_text, markdown_table, md_code, md_text
from harness.report.runs import LOWER_IS_BETTER, Run
from harness.report.significance import ItemsLookup, Settings, compare_outputs, gain, outputs


@dataclass(frozen=True)
class Delta:
    model: str
    task: str
    metric: str
    value_a: float
    value_b: float
    delta: float  # b − a, in metric points (0–100)
    ci_low: float
    ci_high: float
    p_bootstrap: float
    p_ar: float
    n: int
    signature: str
    significant: bool
    fails_gate: bool

    @property
    def improvement(self) -> float:
        """delta oriented so that positive is better (TER: lower is better)."""
        return gain(self.metric, self.delta)

    @property
    def mark(self) -> str:
        if not self.significant:
            return ""
        return "▲" if self.improvement > 0 else "▼"


@dataclass(frozen=True)
class CompareReport:
    path_a: str
    path_b: str
    dataset_sha256: str
    settings: Settings
    max_drop: float
    deltas: tuple[Delta, ...]
    notes: tuple[str, ...]

    @property
    def failures(self) -> tuple[Delta, ...]:
        return tuple(d for d in self.deltas if d.fails_gate)

    def verdict(self) -> str:
        better = sum(1 for d in self.deltas if d.significant and d.improvement > 0)
        worse = sum(1 for d in self.deltas if d.significant and d.improvement < 0)
        counts = f"{len(self.deltas)} comparisons: {better} significantly better, {worse} significantly worse"
        if self.failures:
            first = self.failures[0]
            more = f" and {len(self.failures) - 1} more" if len(self.failures) > 1 else ""
            return (
                f"❌ Regression: {first.model} on {first.task} {first.metric} {first.delta:+.2f} points "
                f"(p = {self.settings.p_value(first):.4f}){more}; the gate allows no significant drop larger "
                f"than {self.max_drop:g} ({counts})."
            )
        return f"✅ No significant drop larger than {self.max_drop:g} points ({counts}, α = {self.settings.alpha:g})."


def compare_runs(
    run_a: Run,
    run_b: Run,
    items_for: Callable[[str], ItemsLookup],
    *,
    metrics: Sequence[str] | None = None,
    max_drop: float = 0.5,
    intersect: bool = False,
    settings: Settings = Settings(test="bootstrap"),
) -> CompareReport:
    check_comparable(run_a, run_b, max_drop)
    notes: list[str] = []
    models_a = {m for m, e in run_a.models.items() if e.role != "ceiling"}
    models_b = {m for m, e in run_b.models.items() if e.role != "ceiling"}
    shared_models = sorted(models_a & models_b)
    if not shared_models:
        raise HarnessError(
            f"{run_b.path}: no model in common with {run_a.path} "
            f"(A: {', '.join(sorted(models_a)) or 'none'}; B: {', '.join(sorted(models_b)) or 'none'})"
        )
    for only, side in ((sorted(models_a - models_b), "A"), (sorted(models_b - models_a), "B")):
        if only:
            notes.append(f"only in {side}, not compared: {', '.join(only)}")
    for model in shared_models:
        for side, run in (("A", run_a), ("B", run_b)):
            for (m, task), row in sorted(run.summary.items()):
                if m == model and row.not_scored:
                    notes.append(f"{model} {task} was not scored in {side}, not compared: {row.not_scored}")
    wanted = list(dict.fromkeys(metrics)) if metrics else None
    used_metrics: set[str] = set()
    plans = []
    for model in shared_models:
        tasks_a, tasks_b = set(_tasks_of(run_a, model)), set(_tasks_of(run_b, model))
        for task in sorted(tasks_a - tasks_b):
            notes.append(f"{model} ran {task} only in A: not compared")
        for task in sorted(tasks_b - tasks_a):
            notes.append(f"{model} ran {task} only in B: not compared")
        for task in sorted(tasks_a & tasks_b):
            ids = _shared_items(run_a, run_b, model, task, intersect, notes)
            stored_a, stored_b = run_a.scores_for(model, task), run_b.scores_for(model, task)
            common = [m for m in stored_a if m in stored_b]
            chosen = [m for m in common if wanted is None or m in wanted]
            used_metrics.update(chosen)
            for m in chosen:
                if stored_a[m].signature != stored_b[m].signature:
                    notes.append(
                        f"{model} {task} {m}: A was scored as {stored_a[m].signature!r}, B as {stored_b[m].signature!r}; "
                        "both are recomputed here with the current scorer"
                    )
            if chosen:
                plans.append((model, task, ids, chosen))
    if wanted:
        unknown = [m for m in wanted if m not in used_metrics]
        if unknown:
            raise HarnessError(f"--metric: '{unknown[0]}' is not scored in both runs for any shared model and task")
    if not plans:
        raise HarnessError(f"{run_b.path}: no task and metric that both runs scored for a shared model")

    items = items_for(run_a.dataset_sha256)
    deltas = []
    for model, task, ids, chosen in plans:
        references = [list(item.references) for item in items(task, ids)]
        comparisons = compare_outputs(
            task, outputs(run_a, model, task, ids), outputs(run_b, model, task, ids), references, chosen, settings
        )
        for m in chosen:
            c = comparisons[m]
            significant = settings.significant(c)
            deltas.append(
                Delta(
                    model=model,
                    task=task,
                    metric=m,
                    value_a=c.value_a,
                    value_b=c.value_b,
                    delta=c.delta,
                    ci_low=c.ci_low,
                    ci_high=c.ci_high,
                    p_bootstrap=c.p_bootstrap,
                    p_ar=c.p_ar,
                    n=c.n,
                    signature=c.signature,
                    significant=significant,
                    fails_gate=significant and gain(m, c.delta) < -max_drop,
                )
            )
    return CompareReport(
        path_a=str(run_a.path),
        path_b=str(run_b.path),
        dataset_sha256=run_a.dataset_sha256,
        settings=settings,
        max_drop=max_drop,
        deltas=tuple(deltas),
        notes=tuple(notes),
    )


def check_comparable(run_a: Run, run_b: Run, max_drop: float) -> None:
    """The checks that need no references: run them before looking for a dataset folder."""
    if max_drop < 0:
        raise HarnessError(f"--max-drop: must be 0 or more points, got {max_drop}")
    if run_a.dataset_sha256 != run_b.dataset_sha256:
        raise HarnessError(
            f"{run_b.path}: made on dataset version {run_b.dataset_sha256[:12]}… but {run_a.path} on "
            f"{run_a.dataset_sha256[:12]}…; runs on different references cannot be compared"
        )


def _tasks_of(run: Run, model: str) -> list[str]:
    return [t for t in run.tasks if (model, t) in run.predictions]


def _shared_items(run_a: Run, run_b: Run, model: str, task: str, intersect: bool, notes: list[str]) -> list[str]:
    ids_a, ids_b = run_a.item_ids(model, task), run_b.item_ids(model, task)
    if ids_a == ids_b:
        return list(ids_a)
    in_b = set(ids_b)
    shared = [i for i in ids_a if i in in_b]
    if not intersect:
        raise HarnessError(
            f"{run_b.path}: {model} {task} has {len(ids_b)} items, {run_a.path} has {len(ids_a)} "
            f"({len(shared)} shared); pass --intersect to compare on the shared items"
        )
    if not shared:
        raise HarnessError(f"{run_b.path}: {model} {task} shares no item with {run_a.path}")
    notes.append(f"{model} {task}: compared on the {len(shared)} items both runs have (A {len(ids_a)}, B {len(ids_b)})")
    return shared


# --------------------------------------------------------------------------- reports


def to_markdown(report: CompareReport) -> str:
    s = report.settings
    test = "approximate randomisation" if s.test == "ar" else "paired bootstrap"
    lines = [
        f"**{md_text(report.verdict())}**",
        "",
        f"A = {md_code(report.path_a)}, B = {md_code(report.path_b)}, dataset {md_code(report.dataset_sha256[:12])}. "
        f"B − A in points (0–100) with its 95 % paired-bootstrap CI; ▲/▼ mark significant changes "
        f"({test} p < {s.alpha:g}; for TER lower is better). Gate: no significant drop larger than {report.max_drop:g}.",
        "",
    ]
    header = ["model", "task", "metric", "n", "A", "B", "B − A [95 % CI]", "p bootstrap", "p AR", ""]
    rows = [
        [d.model, d.task, d.metric, str(d.n), f"{d.value_a:.2f}", f"{d.value_b:.2f}",
         f"{d.delta:+.2f} [{d.ci_low:+.2f}, {d.ci_high:+.2f}]", f"{d.p_bootstrap:.4f}", f"{d.p_ar:.4f}",
         Markdown(d.mark + (" **gate**" if d.fails_gate else ""))]
        for d in report.deltas
    ]
    lines += markdown_table(header, rows, "lllrrrrrrc")
    if report.notes:
        lines += ["", "Notes:", ""] + [f"- {md_text(n)}" for n in report.notes]
    signatures = sorted({d.signature for d in report.deltas})
    lines += ["", "<details><summary>Signatures</summary>", ""] + [f"- {md_code(sig)}" for sig in signatures]
    lines += ["", "</details>", ""]
    return "\n".join(lines)


def to_dict(report: CompareReport) -> dict:
    return {
        "verdict": report.verdict(),
        "gate_passed": not report.failures,
        "run_a": report.path_a,
        "run_b": report.path_b,
        "dataset_manifest_sha256": report.dataset_sha256,
        "significance": asdict(report.settings),
        "max_drop": report.max_drop,
        "lower_is_better": sorted(LOWER_IS_BETTER),
        "comparisons": [{**asdict(d), "mark": d.mark} for d in report.deltas],
        "notes": list(report.notes),
    }


def to_json(report: CompareReport) -> str:
    return json_text(to_dict(report))
