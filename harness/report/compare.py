"""`harness compare RUN_A RUN_B`: is B better or worse than A, beyond noise? And the CI gate.

For every model in both runs (agreement rows excluded: they measure the references, not a system),
every task both ran and every metric both scored, the stored outputs of A and B on the items both
have are compared with `harness.score.compare` against the dataset's references: B − A with its
95 % paired-bootstrap CI, the paired-bootstrap and the approximate-randomisation p-values.

The gate fails when any compared metric got significantly worse (p < α under the chosen test) by
more than `max_drop` points; a smaller or non-significant change never fails it.

Beside every delta stand the test's power on these items, the minimum detectable difference
(`harness.score.power`), and for BLEU, chrF/chrF++ and COMET the estimated accuracy the delta's
size reaches in Kocmi et al. (2024) (`harness.score.delta_accuracy`). Where the gate's `max_drop`
is below the MDE the report says the gate is underpowered: a real drop between the two can pass.

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
from harness.score.delta_accuracy import SOURCE as AGREEMENT_SOURCE
from harness.score.delta_accuracy import Agreement, agreement
from harness.score.power import POWER


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
    se: float | None = None  # bootstrap SE of the delta
    mde: float | None = None  # minimum detectable difference (None: fewer than 2 items or no spread)

    @property
    def estimated_accuracy(self) -> Agreement:
        return agreement(self.metric, self.delta, self.signature)

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

    def underpowered(self) -> list[dict]:
        """Per task and metric, where the gate's max drop is below what the test can detect."""
        groups: dict[tuple[str, str], list[Delta]] = {}
        for d in self.deltas:
            groups.setdefault((d.task, d.metric), []).append(d)
        out = []
        for (task, metric), deltas in groups.items():
            n = min(d.n for d in deltas)
            if self.settings.test == "ar" and 2 / 2**n >= self.settings.alpha:
                # swapping no item or every item gives the observed |delta| again: p ≥ 2/2^n
                out.append({"task": task, "metric": metric, "n": n, "mde": None, "models": [d.model for d in deltas],
                            "message": f"underpowered: with n = {n} the approximate-randomisation test cannot go below "
                                       f"p = {self.settings.alpha:g} on {task} (its smallest p-value is about 2/2^{n} = "
                                       f"{2 / 2**n:.3g})"})
                continue
            sized = [d for d in deltas if d.mde is not None and d.mde > self.max_drop]
            if not sized:
                continue
            low, high = min(d.mde for d in sized), max(d.mde for d in sized)
            size = f"≥ {low:.2f}" if len(sized) == 1 else f"≥ {low:.2f} to {high:.2f} (by model)"
            out.append({"task": task, "metric": metric, "n": n, "mde": round(high, 4), "models": [d.model for d in sized],
                        "detects": f"{metric} differences {size}",
                        "message": f"underpowered: with n = {n} this test detects {metric} differences {size} on {task}, "
                                   f"more than the gate's max drop of {self.max_drop:g}"})
        return out

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
    models_a = {m for m, e in run_a.models.items() if e.role != "agreement"}
    models_b = {m for m, e in run_b.models.items() if e.role != "agreement"}
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

    deltas = []
    for model, task, ids, chosen in plans:
        items = items_for(run_a.dataset_for(task))(task, ids)
        references = [list(item.references) for item in items]
        # terms reads the sources and run A's glossary (metric_settings), as rescore does
        comparisons = compare_outputs(
            run_a.definition(task), outputs(run_a, model, task, ids), outputs(run_b, model, task, ids), references, chosen,
            settings, sources=[item.source for item in items], metric_settings=run_a.config.get("metric_settings"),
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
                    se=c.se,
                    mde=c.mde,
                )
            )
    return CompareReport(
        path_a=str(run_a.path),
        path_b=str(run_b.path),
        dataset_sha256=_versions(run_a, {task for _, task, _, _ in plans}),
        settings=settings,
        max_drop=max_drop,
        deltas=tuple(deltas),
        notes=tuple(notes),
    )


def check_comparable(run_a: Run, run_b: Run, max_drop: float) -> None:
    """The checks that need no references: run them before looking for a dataset folder."""
    if max_drop < 0:
        raise HarnessError(f"--max-drop: must be 0 or more points, got {max_drop}")
    for task in sorted(set(run_a.tasks) & set(run_b.tasks)):
        version_a, version_b = run_a.dataset_for(task), run_b.dataset_for(task)
        if version_a != version_b:
            raise HarnessError(
                f"{run_b.path}: {task} was made on dataset version {version_b[:12]}… but in {run_a.path} on "
                f"{version_a[:12]}…; runs on different references cannot be compared"
            )


def _versions(run: Run, tasks) -> str:
    """The dataset version(s) the compared tasks read (usually one)."""
    return ", ".join(dict.fromkeys(run.dataset_for(t) for t in sorted(tasks)))


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
        f"A = {md_code(report.path_a)}, B = {md_code(report.path_b)}, dataset {md_code(', '.join(v[:12] for v in report.dataset_sha256.split(', ')))}. "
        f"B − A in points (0–100) with its 95 % paired-bootstrap CI; ▲/▼ mark significant changes "
        f"({test} p < {s.alpha:g}; for TER lower is better). Gate: no significant drop larger than {report.max_drop:g}.",
        "",
    ]
    lines += [f"- ⚠️ {md_text(line)}" for line in underpowered_lines(report)]
    lines += [""] if lines[-1] != "" else []
    header = ["model", "task", "metric", "n", "A", "B", "B − A [95 % CI]", "p bootstrap", "p AR", "MDE",
              "est. accuracy", ""]
    rows = [
        [d.model, d.task, d.metric, str(d.n), f"{d.value_a:.2f}", f"{d.value_b:.2f}",
         f"{d.delta:+.2f} [{d.ci_low:+.2f}, {d.ci_high:+.2f}]", f"{d.p_bootstrap:.4f}", f"{d.p_ar:.4f}",
         "—" if d.mde is None else f"{d.mde:.2f}", d.estimated_accuracy.label,
         Markdown(d.mark + (" **gate**" if d.fails_gate else ""))]
        for d in report.deltas
    ]
    lines += markdown_table(header, rows, "lllrrrrrrrrc")
    lines += ["", power_note(report)]
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
        "power": {"alpha": report.settings.alpha, "power": POWER},
        "underpowered": report.underpowered(),
        "comparisons": [{**asdict(d), "mark": d.mark, "estimated_accuracy": _agreement_dict(d.estimated_accuracy)}
                        for d in report.deltas],
        "notes": list(report.notes),
    }


def underpowered_lines(report: CompareReport) -> list[str]:
    """`report.underpowered()` for people: one line per task, its metrics together."""
    by_task: dict[str, list[dict]] = {}
    for u in report.underpowered():
        by_task.setdefault(u["task"], []).append(u)
    lines = []
    for task, entries in by_task.items():
        if entries[0]["mde"] is None:  # the AR floor: the same for every metric of the task
            lines.append(entries[0]["message"])
        elif len(entries) == 1:
            lines.append(entries[0]["message"])
        else:
            detects = [u["detects"] for u in entries]
            lines.append(f"underpowered: with n = {entries[0]['n']} this test detects {', '.join(detects[:-1])} and "
                         f"{detects[-1]} on {task}, each more than the gate's max drop of {report.max_drop:g}")
    return lines


def _agreement_dict(a: Agreement) -> dict:
    return {"level": a.label, "paper_row": a.row, "note": a.note}


def power_note(report: CompareReport) -> str:
    """What the MDE and estimated-accuracy columns mean, with the rows the table read."""
    rows = sorted({d.estimated_accuracy.note for d in report.deltas if d.estimated_accuracy.row is not None})
    unpublished = sorted({d.metric for d in report.deltas if d.estimated_accuracy.row is None})
    read = f" ({'; '.join(rows)})" if rows else ""
    none = f"; for {', '.join(unpublished)} no such figure is published" if unpublished else ""
    same = ("; —: the paired differences have no spread (e.g. identical outputs), so there is nothing to size the "
            "test from" if any(d.mde is None for d in report.deltas) else "")
    return md_text(
        f"MDE: the smallest true |B − A| that a paired test at α = {report.settings.alpha:g} detects with "
        f"{POWER * 100:.0f} % power on these n items, from the spread of these items' paired differences (docs/leaderboard.md){same}. "
        f"Estimated accuracy: how often a system-level delta of this size agrees with human judgements of MT "
        f"systems, {AGREEMENT_SOURCE}{read}{none}."
    )


def to_json(report: CompareReport) -> str:
    return json_text(to_dict(report))
