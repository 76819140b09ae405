"""`rescore`: item and corpus scores, scores.json and the tables from a folder's stored predictions."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from harness import __version__
from harness.environment import now
from harness.errors import HarnessError
from harness.io import write_text
from harness.record import SCHEMA_VERSION, Prediction, ScoresDoc, SummaryRow, Throughput, prediction_path, \
    read_judgements, read_manifest, read_predictions, write_predictions, write_scores
from harness.metric_table import higher_is_better
from harness.report.tables import PairPower, render_csv, render_markdown
from harness.score import compare, get_metric, score_with_items
from harness.score.neural import configure
from harness.score.text import ScoringError, off_target
from harness.tasks import recorded_definition, recorded_items


def rescore(folder: Path, *, n_boot: int = 1000) -> ScoresDoc:
    """Recompute item and corpus scores and the tables from the stored predictions (no model).
    Returns the scores document; rewrites predictions' `scores`, scores.json, results.md/csv.

    Everything is read and checked first (manifest, every predictions file, the dataset), so a
    damaged or mismatched folder is one HarnessError and no file is changed."""
    folder = Path(folder)
    manifest_file = folder / "manifest.json"
    manifest = read_manifest(folder)
    seed = manifest.config.get("seed")
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise HarnessError(f"{manifest_file}: 'config.seed' missing or not an integer")
    if not manifest.throughput:
        raise HarnessError(f"{manifest_file}: 'throughput' lists no model × task pair (nothing to score)")
    items_by_task: dict[str, dict] = {}
    definitions: dict = {}
    pairs = []
    for model, tasks in manifest.throughput.items():
        for task, throughput in tasks.items():
            path = prediction_path(folder, model, task)
            predictions = read_predictions(path, n_items=manifest.tasks[task].n_items)
            if task not in items_by_task:  # from the recorded definition and data (sha256-checked)
                definitions[task] = recorded_definition(task, manifest.tasks[task], manifest_file)
                items = recorded_items(task, manifest.tasks[task], manifest.dataset, manifest_file)
                items_by_task[task] = {it.id: it for it in items}
            unknown = [p.id for p in predictions if p.id not in items_by_task[task]]
            if unknown:
                raise HarnessError(f"{path}: ids not in the dataset: {', '.join(unknown[:5])}")
            pairs.append((model, task, throughput, path, predictions))
    judgements = read_judgements(folder, manifest)  # kept as they are: the judge is not asked again
    score_rows, summary_rows = [], []
    ranked: dict[str, list[tuple]] = {}  # task → (main metric value, model, item ids, hypotheses, references, scorer)
    for model, task, throughput, path, predictions in pairs:
        items = [items_by_task[task][p.id] for p in predictions]
        agreement = manifest.models[model].role == "agreement"
        references = [list(it.references[:1]) if agreement else list(it.references) for it in items]
        hypotheses = [p.output for p in predictions]
        metrics = manifest.tasks[task].metrics
        # bertscore/comet are built with the run's recorded metric_settings (the same encoder as the run);
        # comet and numbers also read the items' sources (numbers: precision only for summaries)
        scorers = configure([get_metric(m, definitions[task].target_lang) for m in metrics],
                            manifest.config.get("metric_settings"), sources=[it.source for it in items],
                            source_lang=definitions[task].source_lang,
                            summary=definitions[task].kind == "summarization")
        not_scored = None
        try:
            corpus, per_item = score_with_items(definitions[task], hypotheses, references, scorers, seed=seed,
                                                n_boot=n_boot)
        except ScoringError as e:  # e.g. Chinese output for an English target: no number, said loudly
            not_scored = _scoring_problem(e, predictions)
            corpus = []
        for j, p in enumerate(predictions):
            p.scores = {m: per_item[m][j] for m in metrics} if corpus else {}
        score_rows += [{"model": model, "task": task, **s.to_dict()} for s in corpus]
        main = definitions[task].main_metric
        if corpus and not agreement and main in metrics:
            value = next(s.value for s in corpus if s.metric == main)
            ranked.setdefault(task, []).append((value, model, [p.id for p in predictions], hypotheses, references,
                                                scorers[metrics.index(main)]))
        summary_rows.append(_summary_row(model, task, predictions, throughput, definitions[task].target_lang,
                                         not_scored))
    scores_doc = ScoresDoc.model_validate({
        "schema_version": SCHEMA_VERSION,
        "run": manifest.run,
        "dataset_manifest_sha256": manifest.dataset.manifest_sha256 if manifest.dataset else None,
        "harness_version": __version__,
        "created": now(),
        "scores": score_rows,
        "summary": summary_rows,
    }, strict=False)
    for _, _, _, path, predictions in pairs:  # written only once everything scored
        write_predictions(path, predictions)
    write_scores(folder, scores_doc)
    power = {task: best_pair_power(definitions[task], rows, seed, n_boot) for task, rows in ranked.items() if len(rows) > 1}
    write_text(folder / "results.md", render_markdown(manifest, scores_doc, power, judgements))
    write_text(folder / "results.csv", render_csv(manifest, scores_doc))
    return scores_doc


def best_pair_power(definition, rows: list[tuple], seed: int, n_boot: int) -> PairPower | None:
    """The MDE of the task's two best rows on its main metric (results.md's power line), from the
    same seeded paired bootstrap as `harness compare`; None if they did not answer the same items."""
    sign = 1 if higher_is_better(definition.main_metric) else -1
    (_, best, ids, hyps_best, references, scorer), (_, second, ids_second, hyps_second, _, _) = sorted(
        rows, key=lambda r: (-sign * r[0], r[1]))[:2]
    if ids != ids_second:
        return None
    (c,) = compare(definition, hyps_best, hyps_second, references, [scorer], seed=seed, n_boot=n_boot)
    return PairPower(metric=definition.main_metric, best=best, second=second, n=c.n, mde=c.mde)


def _summary_row(model: str, task: str, predictions: Sequence[Prediction], throughput: Throughput, lang: str,
                 not_scored: str | None = None) -> SummaryRow:
    """The scores.json summary row of one model × task: shares of truncated, max-token and off-target
    items (off target: mostly not in `lang`, the task's target language)."""
    n = len(predictions)
    return SummaryRow(
        model=model,
        task=task,
        n=n,
        truncated_share=sum(p.truncated for p in predictions) / n if n else None,
        max_tokens_share=sum(p.stop_reason == "max_new_tokens" for p in predictions) / n if n else None,
        # outputs mostly in the wrong language (Chinese for an English target): scored as they are
        off_target_share=sum(off_target(p.output, lang) for p in predictions) / n if n and lang else None,
        tokens_per_s=throughput.tokens_per_s,
        wall_s=throughput.wall_s,
        **({"not_scored": not_scored} if not_scored else {}),
    )


def _scoring_problem(error: ScoringError, predictions: Sequence[Prediction]) -> str:
    """The scorer's message, with its 1-based item number replaced by the item id."""
    item = getattr(error, "item", None)
    if isinstance(item, int) and 1 <= item <= len(predictions) and getattr(error, "role", None):
        role = error.role.removesuffix(" of item")
        return f"{role} of {predictions[item - 1].id}: {error.detail}"
    return str(error)
