"""results.md and results.csv of one results folder: one table per task, models as rows (config order);
results.md ends with the judge's scores when `harness judge --run` judged the run (`judge_section`)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from harness.data.provenance import AGREEMENT_NAME, agreement_label, task_references_label
from harness.io import csv_text, md_code, markdown_table
from harness.record import JudgementsDoc, Manifest, ScoreRow, ScoresDoc, SummaryRow
from harness.score.power import ALPHA, POWER
from harness.tasks import TASKS


@dataclass(frozen=True)
class PairPower:
    """The power of one task's headline comparison: the two best rows on its main metric."""

    metric: str
    best: str
    second: str
    n: int
    mde: float | None  # None: the pair's per-item differences have no spread


def power_line(power: PairPower | None) -> str:
    """The results.md line under a task's table: n and the MDE, and which pair it belongs to."""
    if power is None:
        return "MDE: — (fewer than two systems scored on the same items: no pair to compare)."
    size = ("— (their per-item differences have no spread: nothing to size the test from)" if power.mde is None
            else f"{power.mde:.2f} points")
    return (f"MDE ({power.metric}, n = {power.n}): {size}: the smallest {power.metric} difference a paired test at "
            f"α = {ALPHA:g} detects with {POWER * 100:.0f} % power on these items, for the two best rows, "
            f"{power.best} vs {power.second}, from their per-item differences.")


def reference_column(task: str) -> str | None:
    """The dataset column a built-in task reads its references from; None for a config's own task."""
    if task not in TASKS:
        return None
    (column,) = TASKS[task].references  # every built-in task reads one reference column
    return column


def _pct(share: float | None) -> str:
    return "–" if share is None else f"{100 * share:.0f} %"


def _num(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _cell(score: ScoreRow | None) -> str:
    if score is None:
        return "–"
    return f"{score.value:.2f} [{score.ci_low:.2f}, {score.ci_high:.2f}]"


def table_rows(manifest: Manifest, scores_doc: ScoresDoc) -> Iterator[tuple[str, list[str], list[dict]]]:
    """(task, metrics, rows) per task in config order; rows in config model order."""
    by_key = {(s.model, s.task, s.metric): s for s in scores_doc.scores}
    summary: dict[tuple[str, str], SummaryRow] = {(s.model, s.task): s for s in scores_doc.summary}
    for task, info in manifest.tasks.items():
        rows = []
        for model, entry in manifest.models.items():
            if (model, task) not in summary:
                continue
            rows.append({
                "model": model,
                "role": entry.role,
                "summary": summary[(model, task)],
                "scores": {m: by_key.get((model, task, m)) for m in info.metrics},
                "not_scored": summary[(model, task)].not_scored,
            })
        yield task, list(info.metrics), rows


def role_name(role: str) -> str:
    """What a role is called in tables: `agreement` is the agreement of reference B with A."""
    return AGREEMENT_NAME if role == "agreement" else role


JUDGE_BEGIN, JUDGE_END = "<!-- judge-scores:begin -->", "<!-- judge-scores:end -->"


def judge_section(doc: JudgementsDoc | None) -> str:
    """The judge scores of results.md (empty without judgements), between markers: `harness judge
    --run` replaces just this part (`with_judge_section`), rescoring nothing."""
    if doc is None or not doc.judgements:
        return ""
    rows = []
    for r in doc.judgements:
        value = "n/a (no answer parsed)" if r.value is None else f"{r.value:.2f} [{r.ci_low:.2f}, {r.ci_high:.2f}]"
        system = r.model if r.system_b is None else f"{r.system_b} over {r.model}"
        rows.append([r.task, system, f"{r.judge}, {r.metric}", str(r.n), str(r.n_unparsed), value, md_code(r.file)])
    lines = ["", JUDGE_BEGIN, "## Judge scores", "",
             "A model as a judge (`harness judge --run`), 0–100 with the 95 % bootstrap CI over the parsed items. "
             "Unparsed answers are counted and left out of the mean, never scored as 0. A judge's score means "
             "something only with its accuracy on `harness metrics check`'s controlled errors (docs/scoring.md), "
             "and is comparable only under one signature.", ""]
    lines += markdown_table(["task", "model", "judge", "n", "unparsed", "score", "judgements"], rows, "lllrrrl")
    lines += ["", "Signatures:"] + list(dict.fromkeys(f"- `{r.signature}`" for r in doc.judgements))
    return "\n".join([*lines, JUDGE_END]) + "\n"


def with_judge_section(results_md: str, doc: JudgementsDoc | None) -> str:
    """results.md with its judge section replaced (or added at the end)."""
    if JUDGE_BEGIN in results_md:
        results_md = results_md.split(JUDGE_BEGIN, 1)[0].rstrip("\n") + "\n"
    return results_md + judge_section(doc)


def render_markdown(manifest: Manifest, scores_doc: ScoresDoc, power: Mapping[str, PairPower] | None = None,
                    judgements: JudgementsDoc | None = None) -> str:
    """results.md; ``power`` (task → its best pair's MDE, pipeline.rescore computes it) adds the MDE line;
    ``judgements`` (judgements.json) the judge section at the end."""
    provenance = manifest.reference_provenance

    git = manifest.git_commit
    commit = f", git {git[:10]}{' (with local changes)' if manifest.git_dirty else ''}" if git else ""
    rules = ", ".join(str(r.get("name")) for r in manifest.postprocess_rules) or "none"
    built = manifest.dataset
    datasets = [f"Dataset `{built.path}` (MANIFEST sha256 `{built.manifest_sha256[:16]}…`)"] if built else []
    own = {(i.dataset.path, i.dataset.sha256) for i in manifest.tasks.values()
           if i.dataset is not None and (i.definition or {}).get("dataset")}  # the config's own tasks
    datasets += [f"dataset `{path}` (sha256 `{sha[:16]}…`)" for path, sha in sorted(own)]
    datasets[0] = datasets[0][0].upper() + datasets[0][1:]
    lines = [
        f"# Results: {manifest.run}",
        "",
        f"{', '.join(datasets)}, harness {manifest.harness_version}{commit}, finished {manifest.finished}.",
        "Scores on a 0–100 scale with their 95 % bootstrap confidence interval in brackets. "
        f"Post-processing: {rules}.",
    ]
    for task, metrics, rows in table_rows(manifest, scores_doc):
        if not rows:
            continue
        info = manifest.tasks[task]
        description = (info.definition or {}).get("description", TASKS[task].description if task in TASKS else "")
        references = task_references_label(provenance, reference_column(task))
        lines += ["", f"## {task}: {description}", "", f"References: {references}.", ""]
        header = ["model", "role", "n", *metrics, "truncated", "hit max tokens", "off-target", "tokens/s"]
        cells = []
        for row in rows:
            s = row["summary"]
            line = [row["model"], role_name(row["role"]), str(s.n)]
            if row["not_scored"]:
                line += ["not scored"] + ["–"] * (len(metrics) - 1)
            else:
                line += [_cell(row["scores"][m]) for m in metrics]
            line += [_pct(s.truncated_share), _pct(s.max_tokens_share), _pct(s.off_target_share), _num(s.tokens_per_s, 1)]
            cells.append(line)
        lines += markdown_table(header, cells, "llr" + "r" * (len(header) - 3))
        if power is not None:
            lines += ["", power_line(power.get(task))]
        signatures: dict[str, list[str]] = {}
        for row in rows:
            for m in metrics:
                if row["scores"][m]:
                    signatures.setdefault(row["scores"][m].signature, []).append(row["model"])
        # Once one signature applies to some rows only (the agreement row has fewer references), every
        # line names its rows: a line without names beside lines with them would read as unattributed.
        named = any(len(models) != len(rows) for models in signatures.values())
        lines += ["", "Signatures:"]
        for signature, models in signatures.items():
            lines.append(f"- `{signature}`" + (f" ({', '.join(models)})" if named else ""))
        notes = []
        for row in rows:
            if row["role"] == "agreement":
                notes.append(f"{row['model']} is the {AGREEMENT_NAME}: reference B scored against reference A alone "
                             f"({references}); every other row is scored against all "
                             "references.")
            if row["not_scored"]:
                notes.append(f"{row['model']} was not scored: {row['not_scored']}")
        if info.missing_references:
            ids = info.missing_references
            notes.append(f"{len(ids)} item(s) left out for missing references: {', '.join(ids)}.")
        if notes:
            lines += ["", "Notes:"] + [f"- {n}" for n in notes]
    return "\n".join(lines) + "\n" + judge_section(judgements)


def render_csv(manifest: Manifest, scores_doc: ScoresDoc) -> str:
    provenance = manifest.reference_provenance
    tables = list(table_rows(manifest, scores_doc))
    all_metrics = list(dict.fromkeys(m for _, metrics, _ in tables for m in metrics))
    header = ["task", "model", "role", "n"]
    for m in all_metrics:
        header += [m, f"{m}_ci_low", f"{m}_ci_high"]
    header += ["references", "truncated_share", "max_tokens_share", "off_target_share", "tokens_per_s", "wall_s"]

    def fmt(v):
        return "" if v is None else (f"{v:.4f}" if isinstance(v, float) else v)

    out = []
    for task, _, rows in tables:
        column = reference_column(task)
        for row in rows:
            s = row["summary"]
            line = [task, row["model"], row["role"], s.n]
            for m in all_metrics:
                score = row["scores"].get(m)
                line += [fmt(score.value), fmt(score.ci_low), fmt(score.ci_high)] if score else ["", "", ""]
            refs = agreement_label(provenance, column) if row["role"] == "agreement" else task_references_label(provenance, column)
            line += [refs, fmt(s.truncated_share), fmt(s.max_tokens_share), fmt(s.off_target_share), fmt(s.tokens_per_s),
                     fmt(s.wall_s)]
            out.append(line)
    return csv_text(header, out)
