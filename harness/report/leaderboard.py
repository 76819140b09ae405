"""Leaderboard tables from results folders, with rank bands from paired significance.

One table per task and comparable group: rows on the same dataset version (MANIFEST hash), the
same metric signatures and the same items. Anything else is a separate table with a note, never
one table, because numbers from different references or scorers are not comparable.

Ranks are bands: the rows are sorted by the task's main metric; the best row opens band 1 and
every following row whose difference from it is not significant (paired test on the same items,
recomputed from the stored predictions) shares its rank; the first row that is significantly
worse opens the next band with its own position as rank (1, 1, 3, …). The agreement row, the
agreement of reference B with reference A, is shown above the models and never ranked. Every table
names who wrote and reviewed its references (harness.data.provenance).

This module builds the leaderboard; harness.report.leaderboard_writers renders it as Markdown, CSV
and JSON, harness.report.html as one HTML page.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from harness import __version__
from harness.data.provenance import AGREEMENT_NAME, task_references_label
from harness.errors import HarnessError
from harness.metric_table import higher_is_better
from harness.report.runs import Run
from harness.report.significance import ItemsLookup, Settings, compare_outputs, outputs
from harness.report.tables import reference_column
from harness.tasks import TASKS

TASK_ORDER = tuple(TASKS)  # the built-in tasks in their defined order; the config's own tasks follow by name
ROLE_ORDER = ("agreement", "model", "baseline")


def default_main_metric(task: str, runs: Sequence[Run]) -> str:
    """The main metric the task's definition declares (as the first run holding it recorded it)."""
    for run in runs:
        if task in run.tasks:
            return run.definition(task).main_metric
    raise HarnessError(f"no run holds task {task}")


def parse_main_metrics(specs: Sequence[str]) -> dict[str, str]:
    """`--main-metric` values: `METRIC` (every task) or `TASK=METRIC`; key '*' is the catch-all."""
    out: dict[str, str] = {}
    for spec in specs:
        task, sep, metric = spec.partition("=")
        if not sep:
            task, metric = "*", spec
        if not task or not metric:
            raise HarnessError(f"--main-metric: '{spec}' is not METRIC or TASK=METRIC")
        out[task] = metric
    return out


@dataclass(frozen=True)
class ScoreCell:
    """One metric of one row: the value and its 95 % CI."""

    value: float
    ci_low: float
    ci_high: float


@dataclass(frozen=True)
class Row:
    label: str  # unique within its table: the model name, plus the run where models repeat
    model: str
    run: str
    role: str  # model | baseline | agreement
    rank: int | None  # band rank; None for the agreement row
    cells: Mapping[str, ScoreCell]
    signatures: Mapping[str, str]
    n: int
    truncated_share: float | None
    max_tokens_share: float | None
    off_target_share: float | None
    band_leader: str | None = None  # the row whose band this row shares (itself when it leads)
    delta_vs_leader: float | None = None  # main metric, this row − band leader
    p_vs_leader: float | None = None
    next_ranked: str | None = None  # the label of the row ranked just below this one
    mde_vs_next: float | None = None  # main metric: minimum detectable difference of this row vs next_ranked


@dataclass(frozen=True)
class Source:
    """Where a table's numbers come from: one results folder."""

    run: str
    path: str
    started: str
    config: str
    config_sha256: str
    harness_version: str
    git_commit: str | None


@dataclass(frozen=True)
class LeaderboardTable:
    id: str  # unique, used as anchor and file-safe key
    task: str
    main_metric: str
    metrics: tuple[str, ...]
    signatures: Mapping[str, str]
    dataset_sha256: str
    item_ids: tuple[str, ...]
    sources: tuple[Source, ...]
    rows: tuple[Row, ...]
    notes: tuple[str, ...] = ()
    references: str = ""  # provenance label of the references (harness.data.provenance)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)


@dataclass(frozen=True)
class Leaderboard:
    tables: tuple[LeaderboardTable, ...]
    settings: Settings
    notes: tuple[str, ...] = ()
    harness_version: str = __version__  # the harness that built the leaderboard


# --------------------------------------------------------------------------- building


@dataclass(frozen=True)
class _Entry:
    """One (run, model, task) before grouping."""

    run: Run
    task: str
    model: str
    role: str
    signatures: tuple[tuple[str, str], ...]
    item_ids: tuple[str, ...]


def rank_bands(ordered: Sequence[str], differs: Callable[[str, str], bool]) -> dict[str, int]:
    """Competition ranks in bands for labels sorted best first.

    ``differs(leader, other)`` says whether ``other`` is significantly different from ``leader``.
    Bands are contiguous: the first significantly different row opens the next band.
    """
    ranks: dict[str, int] = {}
    i = 0
    while i < len(ordered):
        leader = ordered[i]
        ranks[leader] = i + 1
        j = i + 1
        while j < len(ordered) and not differs(leader, ordered[j]):
            ranks[ordered[j]] = i + 1
            j += 1
        i = j
    return ranks


def build_leaderboard(
    runs: Sequence[Run],
    items_for: Callable[[str], ItemsLookup],
    main_metrics: Mapping[str, str] | None = None,
    settings: Settings = Settings(),
) -> Leaderboard:
    """Tables for every task in ``runs``. ``items_for(dataset_sha256)`` gives the items (source and
    references) of that dataset version, already checked by the caller."""
    if not runs:
        raise HarnessError("RESULTS: no results folder given")
    main_metrics = dict(main_metrics or {})
    _check_unique_runs(runs)
    groups = _group(runs)
    tables: list[LeaderboardTable] = []
    notes: list[str] = []
    per_task: dict[str, list[tuple]] = {}
    for key in groups:
        per_task.setdefault(key[0], []).append(key)
    for task in sorted(per_task, key=_task_sort_key):
        keys = per_task[task]
        if len(keys) > 1:
            notes.append(_split_note(task, keys))
        for k, key in enumerate(keys, 1):
            table_id = task if len(keys) == 1 else f"{task}-{k}"
            main = main_metrics.get(task) or main_metrics.get("*") or default_main_metric(task, runs)
            tables.append(_build_table(table_id, key, groups[key], main, items_for, settings))
    notes.extend(_unscored_notes(runs, {t.task for t in tables}))
    unknown = set(main_metrics) - {"*"} - set(per_task)
    if unknown:
        raise HarnessError(f"--main-metric: no task '{sorted(unknown)[0]}' in these results (tasks: {', '.join(sorted(per_task))})")
    return Leaderboard(tables=tuple(tables), settings=settings, notes=tuple(notes))


def _unscored_notes(runs: Sequence[Run], tasks_with_tables: set[str]) -> list[str]:
    """What a run recorded but could not score, and items it left out: said, never silently dropped."""
    notes = []
    for run in runs:
        for (model, task), row in sorted(run.summary.items()):
            if row.not_scored:
                shown = "" if task in tasks_with_tables else " (no table for this task)"
                notes.append(f"{run.path.name}: {model} on {task} was not scored{shown}: {row.not_scored}")
        for task, ids in sorted(run.missing_references.items()):
            notes.append(
                f"{run.path.name}: {task} left out {len(ids)} item(s) without references: {', '.join(ids[:10])}"
                + (" …" if len(ids) > 10 else "")
            )
    return notes


def _check_unique_runs(runs: Sequence[Run]) -> None:
    seen: dict[str, Path] = {}
    for r in runs:
        if r.path.name in seen:
            raise HarnessError(f"{r.path}: two results folders named '{r.path.name}' ({seen[r.path.name]}); rename one")
        seen[r.path.name] = r.path


def _task_sort_key(task: str) -> tuple:
    return (TASK_ORDER.index(task) if task in TASK_ORDER else len(TASK_ORDER), task)


def _group(runs: Sequence[Run]) -> dict[tuple, list[_Entry]]:
    """Group (run, model, task) entries by (task, dataset version, signatures, item ids).

    The agreement row (reference B against reference A) has fewer references than the models, so its
    signatures differ by construction: it joins the group of its own run and task instead.
    """
    groups: dict[tuple, list[_Entry]] = {}
    agreements: list[_Entry] = []
    for run in sorted(runs, key=lambda r: (r.started, r.path.name)):
        for task in run.tasks:
            for model in run.models_for(task):
                scores = run.scores_for(model, task)
                entry = _Entry(
                    run=run,
                    task=task,
                    model=model,
                    role=run.models[model].role,
                    signatures=tuple(sorted((m, s.signature) for m, s in scores.items())),
                    item_ids=run.item_ids(model, task),
                )
                if entry.role == "agreement":
                    agreements.append(entry)
                    continue
                key = (task, run.dataset_for(task), entry.signatures, entry.item_ids)
                groups.setdefault(key, []).append(entry)
    for c in agreements:
        homes = [k for k, entries in groups.items() if k[0] == c.task and any(e.run is c.run for e in entries)]
        homes = [k for k in homes if k[3] == c.item_ids] or homes
        if not homes:  # a run with only an agreement row for this task: a table of its own
            groups.setdefault((c.task, c.run.dataset_for(c.task), c.signatures, c.item_ids), []).append(c)
        else:
            groups[homes[0]].append(c)
    return groups


def _split_note(task: str, keys: list[tuple]) -> str:
    reasons = []
    if len({k[1] for k in keys}) > 1:
        reasons.append("dataset versions " + ", ".join(f"{k[1][:12]}…" for k in dict.fromkeys(keys)))
    if len({k[2] for k in keys}) > 1:
        reasons.append("metric signatures")
    if len({k[3] for k in keys}) > 1:
        reasons.append("item sets (" + ", ".join(f"{len(k[3])} items" for k in keys) + ")")
    return (
        f"{task} is reported in {len(keys)} separate tables because the runs differ in "
        + " and ".join(reasons)
        + "; numbers from different tables are not comparable."
    )


def _build_table(
    table_id: str,
    key: tuple,
    entries: list[_Entry],
    main: str,
    items_for: Callable[[str], ItemsLookup],
    settings: Settings,
) -> LeaderboardTable:
    task, dataset_sha, signatures, item_ids = key
    metrics = tuple(m for m, _ in signatures) or tuple(dict.fromkeys(m for e in entries for m, _ in e.signatures))
    if main not in metrics:
        raise HarnessError(
            f"--main-metric: table {table_id} ({task}) has no metric '{main}' (it has {', '.join(metrics)}); "
            f"pass --main-metric {task}=METRIC"
        )
    names = [e.model for e in entries]
    labels = {id(e): (e.model if names.count(e.model) == 1 else f"{e.model} ({e.run.path.name})") for e in entries}
    ranked = [e for e in entries if e.role != "agreement"]
    sign = 1.0 if higher_is_better(main) else -1.0
    ranked.sort(key=lambda e: (-sign * e.run.scores_for(e.model, task)[main].value, labels[id(e)]))
    order = [labels[id(e)] for e in ranked]
    by_label = {labels[id(e)]: e for e in ranked}
    comparisons: dict[tuple[str, str], object] = {}

    items = items_for(dataset_sha)(task, item_ids) if len(ranked) > 1 else None
    references = None if items is None else [list(item.references) for item in items]
    sources = None if items is None else [item.source for item in items]  # numbers compares with them

    def compared(leader: str, other: str):
        if (leader, other) in comparisons:
            return comparisons[(leader, other)]
        a, b = by_label[leader], by_label[other]
        c = compare_outputs(
            a.run.definition(task),
            outputs(a.run, a.model, task, item_ids),
            outputs(b.run, b.model, task, item_ids),
            references,
            [main],
            settings,
            sources=sources,
            metric_settings=a.run.config.get("metric_settings"),  # terms: the glossary the runs scored with
        )[main]
        stored = a.run.scores_for(a.model, task)[main].signature
        if not c.signature.startswith(stored + "|"):
            raise HarnessError(
                f"{a.run.path}: {task} {main} was scored as '{stored}' but this harness computes "
                f"'{c.signature}'; rescore the run (`harness rescore`) before building a leaderboard"
            )
        comparisons[(leader, other)] = c
        return c

    ranks = rank_bands(order, lambda leader, other: settings.significant(compared(leader, other)))
    # the power of each adjacent-rank pair: the difference the test could have found between them
    next_ranked = dict(zip(order, order[1:]))
    mde_next = {label: compared(label, below).mde for label, below in next_ranked.items()}
    leaders = {label: order[ranks[label] - 1] for label in order}  # a band's rank is its leader's position

    rows = []
    for e in sorted(entries, key=lambda e: (ROLE_ORDER.index(e.role), order.index(labels[id(e)]) if e.role != "agreement" else 0)):
        label = labels[id(e)]
        scores = e.run.scores_for(e.model, task)
        summary = e.run.summary.get((e.model, task))
        leader = leaders.get(label)
        c = comparisons.get((leader, label)) if leader and leader != label else None
        rows.append(
            Row(
                label=label,
                model=e.model,
                run=e.run.path.name,
                role=e.role,
                rank=ranks.get(label),
                cells={m: ScoreCell(s.value, s.ci_low, s.ci_high) for m, s in scores.items() if m in metrics},
                signatures={m: s.signature for m, s in scores.items()},
                n=len(e.item_ids),
                truncated_share=summary.truncated_share if summary else None,
                max_tokens_share=summary.max_tokens_share if summary else None,
                off_target_share=summary.off_target_share if summary else None,
                band_leader=leader,
                delta_vs_leader=None if c is None else c.delta,
                p_vs_leader=None if c is None else settings.p_value(c),
                next_ranked=next_ranked.get(label),
                mde_vs_next=mde_next.get(label),
            )
        )
    table_signatures = dict(signatures) if signatures else {}
    references = references_label([e.run for e in entries], task)
    notes = [f"References: {references}."]
    for row in rows:
        if row.role == "agreement" and table_signatures:
            differing = sorted(m for m, s in row.signatures.items() if table_signatures.get(m) != s)
            if differing:
                notes.append(
                    f"The agreement row '{row.label}' ({AGREEMENT_NAME}) scores reference B against reference A alone, so its "
                    f"signatures differ from the models' ({', '.join(differing)}; see the JSON for them); it is shown for "
                    "scale and not ranked."
                )
    if not table_signatures:  # a table holding only an agreement row
        table_signatures = dict(entries[0].signatures)
    runs = list(dict.fromkeys(e.run for e in entries))
    return LeaderboardTable(
        id=table_id,
        task=task,
        main_metric=main,
        metrics=metrics,
        signatures=table_signatures,
        dataset_sha256=dataset_sha,
        item_ids=item_ids,
        sources=tuple(_source(r) for r in runs),
        rows=tuple(rows),
        notes=tuple(notes),
        references=references,
    )


def references_label(runs: Sequence[Run], task: str) -> str:
    """The provenance label of a table's references; runs that recorded different ones are all named."""
    column = reference_column(task)
    labels = list(dict.fromkeys(task_references_label(r.reference_provenance, column) for r in runs))
    return labels[0] if len(labels) == 1 else " / ".join(f"{r.path.name}: {task_references_label(r.reference_provenance, column)}"
                                                          for r in dict.fromkeys(runs))


def _source(run: Run) -> Source:
    return Source(
        run=run.name,
        path=run.path.name,
        started=run.started,
        config=run.config_path or run.name,
        config_sha256=run.config_sha256,
        harness_version=run.harness_version,
        git_commit=run.git_commit,
    )
