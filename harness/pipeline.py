"""`evaluate(config)`: the main job, one stage per function.

    plan_run         load items, prompts and shots; check every backend's inputs (no model loaded)
    run_model        one GenerationSession per model (harness.generate.session): fit each prompt
                     into the context, cache first, generate the rest; then post-process
    make_prediction  post-process (named rules), raw and cleaned output both kept
    write_run        score from the stored predictions and write the folder (`rescore`, also
                     `harness rescore`)

Every prediction records `input_tokens` and `truncated` (the truncation rule is in
harness/generate/session.py).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from harness.config import RunConfig, TaskConfig
from harness.errors import HarnessError
from harness.generate.base import GenerationSettings, Prompt, Rendered, Request
from harness.generate.cache import CachedCompletion, GenerationCache, NoCache
from harness.generate.registry import BackendSpec
from harness.generate.session import GenerationSession
from harness.record import Manifest, Prediction, ScoresDoc


# --- the plan: everything checked before a model loads -------------------------------------------


@dataclass(frozen=True)
class TaskPlan:
    name: str
    index: int  # position in config.tasks (error locations)
    config: TaskConfig
    items: tuple  # the selected items that have all their references, dataset order
    missing: tuple[str, ...]  # selected ids left out for missing references
    shots: Mapping[str, tuple]  # item id → ((source, answer), ...) from other documents
    definition: object  # harness.tasks.TaskDef
    n_references: int  # references every item has (declared, or found in a user dataset)
    dataset: Mapping[str, str]  # {"path", "local_path", "sha256"}: the data this task read

    @property
    def template(self):
        return self.config.prompt

    def prompt(self, item, source: str | None = None) -> Prompt:
        return self.template.build(item.source if source is None else source, self.shots[item.id])

    def request(self, item) -> Request:
        return Request(id=item.id, prompt=self.prompt(item), source=item.source, references=item.references,
                       max_new_tokens=self.config.max_new_tokens, task=self.name)


@dataclass(frozen=True)
class ModelPlan:
    config: object  # harness.config.ModelConfig
    spec: BackendSpec
    role: str
    tasks: tuple[str, ...]
    skipped: Mapping[str, str]  # task → why the model does not run on it

    @property
    def name(self) -> str:
        return self.config.name


@dataclass(frozen=True)
class RunPlan:
    config: RunConfig
    dataset_dir: Path | None  # the built dataset folder; None when no built-in task is run
    dataset_sha256: str | None  # its MANIFEST.json sha256
    tasks: Mapping[str, TaskPlan]
    models: tuple[ModelPlan, ...]
    generation: GenerationSettings
    notes: tuple[str, ...]


def resolve_dataset(config: RunConfig) -> Path:
    """The local dataset folder: a path (relative to the current directory) or a Hub dataset id."""
    import re

    path = Path(config.dataset).expanduser()
    if not path.exists() and re.fullmatch(r"[\w.-]+/[\w.-]+", config.dataset):
        try:
            from huggingface_hub import snapshot_download

            path = Path(snapshot_download(config.dataset, repo_type="dataset"))
        except Exception as e:  # the Hub client raises many types (offline, unknown repo, gated): all mean "not available"
            raise config.error(("dataset",), f"'{config.dataset}' is not a local folder and could not be fetched "
                                             f"from the Hugging Face Hub ({type(e).__name__})") from None
    if not path.is_dir():
        raise config.error(("dataset",), f"dataset folder '{config.dataset}' not found (build it with `harness data build`)")
    if not (path / "MANIFEST.json").is_file():
        raise config.error(("dataset",), f"'{config.dataset}' has no MANIFEST.json: not a dataset built by `harness data build`")
    return path


def plan_run(config: RunConfig) -> RunPlan:
    """Load every item, prompt and shot and run every backend's preflight; raises HarnessError
    (naming the config file, line and key) before anything is loaded or written."""
    from harness.tasks import missing_references, n_references, select_items, select_shots

    built: list = []  # [folder, MANIFEST sha256] of the built dataset, once a built-in task needs it
    notes: list[str] = []
    tasks: dict[str, TaskPlan] = {}
    for i, tc in enumerate(config.tasks):
        definition = tc.definition
        all_items, dataset = _task_data(config, i, definition, built)
        try:
            selected = select_items(all_items, ids=tc.ids, per_doc=tc.per_doc, limit=tc.limit)
        except HarnessError as e:
            raise config.error(("tasks", i, "ids"), f"{e} in {tc.task}") from None
        need = n_references(definition, all_items)
        missing = missing_references(definition, selected, need)
        complete = [it for it in selected if it.id not in set(missing)]
        if not complete:
            raise config.error(("tasks", i, "task"), f"none of the {len(selected)} selected items of {tc.task} has its "
                                                     f"{need} reference(s) in {dataset['path']}; nothing to score")
        if missing:
            notes.append(f"{tc.task}: {len(missing)} of {len(selected)} selected items lack reference(s) and are left "
                         f"out: {', '.join(missing)}")
        pool = [it for it in all_items if len(it.references) >= need]
        try:
            shots = {it.id: tuple(select_shots(it, pool, tc.shots, config.seed)) for it in complete}
        except HarnessError as e:
            raise config.error(("tasks", i, "shots"), str(e)) from None
        tasks[tc.task] = TaskPlan(tc.task, i, tc, tuple(complete), tuple(missing), shots, definition, need, dataset)

    models = []
    for i, m in enumerate(config.models):
        spec, role = m.spec, m.role
        runnable, skipped = [], {}
        for t in config.tasks_of(m):
            if role == "ceiling" and tasks[t].n_references < 2:
                if m.tasks is not None:
                    raise config.error(("models", i, "tasks", m.tasks.index(t)),
                                       f"the reference-agreement row (reference B against A) needs two references; {t} has one")
                skipped[t] = "the reference-agreement row needs two references per item"
                continue
            runnable.append(t)
        if not runnable:
            raise config.error(("models", i), f"model '{m.name}' has no task it can run")
        if skipped:
            notes.append(f"{m.name}: not run on {', '.join(skipped)} (the reference-agreement row needs two references per item)")
        try:
            spec.check(m.settings, {t: tasks[t].items for t in runnable})
        except HarnessError as e:
            raise config.error(("models", i), str(e)) from None
        models.append(ModelPlan(m, spec, role, tuple(runnable), skipped))

    g = config.generation
    generation = GenerationSettings(do_sample=g.do_sample, temperature=g.temperature, top_p=g.top_p,
                                    seed=config.seed, stop=tuple(g.stop))
    dataset_dir, dataset_sha256 = built or (None, None)
    return RunPlan(config, dataset_dir, dataset_sha256, tasks, tuple(models), generation, tuple(notes))


def _task_data(config: RunConfig, index: int, definition, built: list) -> tuple[list, dict]:
    """All items of one task and the record of the data they came from. A built-in task reads the
    run's built dataset folder (resolved once, into `built`); a user task its own dataset."""
    from harness.dataset_files import dataset_sha256
    from harness.io import sha256_file
    from harness.tasks import DatasetError, load_items

    if definition.builtin:
        if not built:
            folder = resolve_dataset(config)
            built += [folder, sha256_file(folder / "MANIFEST.json")]
        try:
            items = load_items(definition, built[0])
        except HarnessError as e:
            raise config.error(("tasks", index, "task"), str(e)) from None
        return items, {"path": config.dataset, "local_path": str(built[0]), "sha256": built[1]}
    try:
        items = load_items(definition)
        sha = dataset_sha256(definition.dataset)
    except DatasetError as e:
        raise config.error(("tasks", index, "define", e.key), str(e)) from None
    local = Path(definition.dataset).expanduser()
    return items, {"path": definition.dataset, "local_path": str(local.resolve()) if local.exists() else definition.dataset,
                   "sha256": sha}


# --- the run -------------------------------------------------------------------------------------


@dataclass
class TaskRun:
    model: str
    task: str
    predictions: list[Prediction]
    wall_s: float
    generated: int
    cached: int

    @property
    def output_tokens(self) -> int:
        return sum(p.output_tokens for p in self.predictions)

    def throughput(self) -> dict:
        generation_s = sum(p.latency_s for p in self.predictions)
        tokens = self.output_tokens
        return {
            "items": len(self.predictions),
            "generated": self.generated,
            "cached": self.cached,
            "output_tokens": tokens,
            "generation_s": round(generation_s, 4),
            # from the stored per-item latencies, so a cached rerun reports the original speed
            "tokens_per_s": round(tokens / generation_s, 2) if tokens and generation_s > 0 else None,
            "wall_s": round(self.wall_s, 3),
        }


@dataclass
class ModelRun:
    """One model's task runs and what its backend reported about itself (for the manifest)."""

    model: ModelPlan
    tasks: list[TaskRun]
    backend: dict  # {"identity", "info"}


@dataclass
class RunOutcome:
    """Everything `write_run` records: the plan, what each model produced, when, and the cache."""

    plan: RunPlan
    models: list[ModelRun]
    started: str
    finished: str
    cache: dict  # {"enabled", "path", "hits", "misses"}

    @property
    def runs(self) -> list[TaskRun]:
        return [r for m in self.models for r in m.tasks]


def evaluate(config: RunConfig, *, results_root: Path = Path("results"), use_cache: bool = True,
             quiet: bool = False, cache_dir: Path | None = None) -> Path:
    """Run every model on its tasks and write `results/<run>/`; returns that folder."""
    from harness.results import now

    plan = plan_run(config)  # every bad input stops here: nothing loaded, nothing written
    reporter = Reporter(quiet)
    for note in plan.notes:
        reporter.note(note)
    started = now()
    store = GenerationCache(cache_dir)
    cache = store if use_cache else NoCache(store)
    try:
        with reporter:
            models = [run_model(plan, model, cache, reporter) for model in plan.models]  # generate + post-process
    finally:
        cache.close()
    runs = [r for m in models for r in m.tasks]
    cache_info = {"enabled": use_cache, "path": str(store.path),
                  "hits": sum(r.cached for r in runs), "misses": sum(r.generated for r in runs)}
    folder = write_run(RunOutcome(plan, models, started, now(), cache_info), results_root)  # score + write
    reporter.done(folder)
    return folder


def open_session(plan: RunPlan, model: ModelPlan, backend, cache=None) -> GenerationSession:
    return GenerationSession(backend, model.config, plan.generation, cache)


def run_model(plan: RunPlan, model: ModelPlan, cache, reporter: Reporter) -> ModelRun:
    """Load the model, run it on each of its tasks, close it."""
    backend = model.spec.load(model.config.settings)
    try:
        session = open_session(plan, model, backend, cache)
        runs = [run_task(session, plan.tasks[task], plan.config.postprocess, reporter) for task in model.tasks]
        # asked again: a backend may learn more while generating (the `file` backend records the
        # sha256 of each outputs file it read)
        record = {"identity": backend.identity(), "info": asdict(backend.info())}
    finally:
        backend.close()
    reporter.model_done(model, runs)
    return ModelRun(model, runs, record)


def run_task(session: GenerationSession, task: TaskPlan, rules: Sequence[str], reporter: Reporter) -> TaskRun:
    start = time.perf_counter()
    fitted = [session.fit(task, item)[0] for item in task.items]
    with reporter.bar(f"{session.model} · {task.name}", len(fitted)) as bar:
        completions, generated = session.complete(task, fitted, bar)
    predictions = [make_prediction(r, completions[r.request.id], rules) for r in fitted]
    return TaskRun(session.model, task.name, predictions, time.perf_counter() - start, generated,
                   len(fitted) - generated)


def make_prediction(rendered: Rendered, completion: CachedCompletion, rules: Sequence[str]) -> Prediction:
    from harness.postprocess import clean
    from harness.io import sha256_text

    return Prediction(
        id=rendered.request.id,
        prompt_sha256=sha256_text(rendered.text),
        raw=completion.raw,
        output=clean(completion.raw, rules),
        input_tokens=rendered.input_tokens,
        output_tokens=completion.output_tokens,
        truncated=rendered.truncated,
        stop_reason=completion.stop_reason,
        latency_s=completion.latency_s,
    )


# --- results -------------------------------------------------------------------------------------


def build_manifest(outcome: RunOutcome) -> Manifest:
    from harness import __version__
    from harness.postprocess import describe
    from harness.io import read_json
    from harness.record import SCHEMA_VERSION
    from harness.results import git_commit, hardware, versions

    plan = outcome.plan
    config = plan.config
    backends = {m.model.name: m.backend for m in outcome.models}
    git = git_commit()
    throughput: dict[str, dict] = {}
    for r in outcome.runs:
        throughput.setdefault(r.model, {})[r.task] = r.throughput()
    return Manifest.model_validate({
        "schema_version": SCHEMA_VERSION,
        "run": config.run,
        "harness_version": __version__,
        "git_commit": git["commit"] if git else None,
        "git_dirty": git["dirty"] if git else None,
        "config": config.to_dict(),
        "config_file": config.source.file,
        "overrides": list(config.source.overrides.values()),
        # the built dataset folder (built-in tasks); None when only the config's own tasks ran
        "dataset": None if plan.dataset_dir is None else
        {"path": config.dataset, "local_path": str(plan.dataset_dir), "manifest_sha256": plan.dataset_sha256},
        "versions": versions(),
        "hardware": hardware(),
        "started": outcome.started,
        "finished": outcome.finished,
        "models": {
            m.name: {
                "backend": m.config.backend,
                "role": m.role,
                "identity": backends[m.name]["identity"],
                "info": backends[m.name]["info"],
                "tasks": list(m.tasks),
                "skipped": dict(m.skipped),
                "references": "A only (reference B is the output)" if m.role == "ceiling" else "all",
            }
            for m in plan.models
        },
        "tasks": {
            t.name: {
                "metrics": list(t.config.metrics),
                "n_items": len(t.items),
                "prompt_sha256": t.template.sha256,
                "prompt_version": t.template.version,
                "shots": t.config.shots,
                "max_new_tokens": t.config.max_new_tokens,
                "missing_references": list(t.missing),
                "n_references": t.n_references,
                "definition": t.definition.to_dict(),  # rescore and the reports rebuild the items from it
                "dataset": dict(t.dataset),  # the data the items came from, and its sha256
            }
            for t in plan.tasks.values()
        },
        "throughput": throughput,
        "cache": outcome.cache,
        "postprocess_rules": describe(config.postprocess),
        # who wrote and reviewed the references (harness.data.provenance); reports render labels from it
        "reference_provenance": None if plan.dataset_dir is None else
        read_json(plan.dataset_dir / "MANIFEST.json").get("reference_provenance"),
    }, strict=False)  # built here from typed values; strict checking is for what is read back


def write_run(outcome: RunOutcome, results_root: Path) -> Path:
    """Write the whole folder into a staging sibling and swap it in: never half a results folder."""
    from harness.io import staged_folder
    from harness.names import run_folder
    from harness.record import prediction_path, write_manifest, write_predictions

    target = run_folder(results_root, outcome.plan.config.run)
    manifest = build_manifest(outcome)
    with staged_folder(target) as folder:
        for r in outcome.runs:
            write_predictions(prediction_path(folder, r.model, r.task), r.predictions)
        write_manifest(folder, manifest)
        rescore(folder)  # scores and tables exactly as `harness rescore` computes them
    return target


def rescore(folder: Path, *, n_boot: int = 1000) -> ScoresDoc:
    """Recompute item and corpus scores and the tables from the stored predictions (no model).
    Returns the scores document; rewrites predictions' `scores`, scores.json, results.md/csv.

    Everything is read and checked first (manifest, every predictions file, the dataset), so a
    damaged or mismatched folder is one HarnessError and no file is changed."""
    from harness import __version__
    from harness.io import write_text
    from harness.record import SCHEMA_VERSION, prediction_path, read_manifest, read_predictions, \
        write_predictions, write_scores
    from harness.report.tables import render_csv, render_markdown
    from harness.results import now
    from harness.score import get_metric, score_with_items
    from harness.score.neural import configure
    from harness.score.text import ScoringError
    from harness.tasks import recorded_definition, recorded_items

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
    score_rows, summary_rows = [], []
    for model, task, throughput, path, predictions in pairs:
        items = [items_by_task[task][p.id] for p in predictions]
        ceiling = manifest.models[model].role == "ceiling"
        references = [list(it.references[:1]) if ceiling else list(it.references) for it in items]
        hypotheses = [p.output for p in predictions]
        metrics = manifest.tasks[task].metrics
        # bertscore/comet are built with the run's recorded metric_settings (the same encoder as the run);
        # comet also reads the items' sources
        scorers = configure([get_metric(m, definitions[task].target_lang) for m in metrics],
                            manifest.config.get("metric_settings"), sources=[it.source for it in items])
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
    write_text(folder / "results.md", render_markdown(manifest, scores_doc))
    write_text(folder / "results.csv", render_csv(manifest, scores_doc))
    return scores_doc


def _summary_row(model: str, task: str, predictions: Sequence[Prediction], throughput, lang: str,
                 not_scored: str | None = None):
    """The scores.json summary row of one model × task: shares of truncated, max-token and off-target
    items (off target: mostly not in `lang`, the task's target language)."""
    from harness.record import SummaryRow
    from harness.score.text import off_target

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


def _scoring_problem(error, predictions: Sequence[Prediction]) -> str:
    """The scorer's message, with its 1-based item number replaced by the item id."""
    item = getattr(error, "item", None)
    if isinstance(item, int) and 1 <= item <= len(predictions) and getattr(error, "role", None):
        role = error.role.removesuffix(" of item")
        return f"{role} of {predictions[item - 1].id}: {error.detail}"
    return str(error)


# --- rendering for `harness render` --------------------------------------------------------------


@dataclass(frozen=True)
class RenderedView:
    model: str
    task: str
    item_id: str
    rendered: Rendered
    note: str | None  # how the source was truncated, None when it fits
    context_length: int | None
    reads_prompt: bool


def render_prompts(config: RunConfig, *, model: str | None = None, task: str | None = None,
                   n: int = 3) -> Iterator[RenderedView]:
    """The exact strings each model receives for the first `n` items of each task."""
    plan = plan_run(config)
    for m in plan.models:
        if model is not None and m.name != model:
            continue
        backend = m.spec.load(m.config.settings)
        try:
            session = open_session(plan, m, backend)
            for t in m.tasks:
                if task is not None and t != task:
                    continue
                for item in plan.tasks[t].items[:n]:
                    rendered, note = session.fit(plan.tasks[t], item)
                    yield RenderedView(m.name, t, item.id, rendered, note, backend.context_length,
                                       reads_prompt=not m.spec.reads)
        finally:
            backend.close()


# --- progress ------------------------------------------------------------------------------------


class _NullBar:
    def advance(self, items: int, tokens: int) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        pass


@dataclass
class _Bar:
    progress: object
    task_id: int
    started: float = field(default_factory=time.perf_counter)
    tokens: int = 0

    def advance(self, items: int, tokens: int) -> None:
        self.tokens += tokens
        elapsed = time.perf_counter() - self.started
        rate = f"{self.tokens / elapsed:,.0f} tok/s" if self.tokens and elapsed > 0 else ""
        self.progress.update(self.task_id, advance=items, rate=rate)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        pass


class Reporter:
    """Rich progress bars per model × task (stderr), notes and one summary line per model."""

    def __init__(self, quiet: bool):
        from rich.console import Console

        self.quiet = quiet
        self.console = Console(stderr=True, highlight=False)
        self.out = Console(highlight=False, soft_wrap=True)
        self._progress = None

    def __enter__(self):
        if not self.quiet:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self._progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                      TextColumn("{task.fields[rate]}"), TimeRemainingColumn(),
                                      console=self.out)
            self._progress.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self._progress is not None:
            self._progress.__exit__(*exc)
            self._progress = None

    def bar(self, description: str, total: int):
        if self._progress is None:
            return _NullBar()
        return _Bar(self._progress, self._progress.add_task(description, total=total, rate=""))

    def note(self, text: str) -> None:
        self.console.print(f"note: {text}", markup=False)

    def model_done(self, model: ModelPlan, runs: Sequence[TaskRun]) -> None:
        items = sum(len(r.predictions) for r in runs)
        cached = sum(r.cached for r in runs)
        truncated = sum(p.truncated for r in runs for p in r.predictions)
        max_tokens = sum(p.stop_reason == "max_new_tokens" for r in runs for p in r.predictions)
        tokens = sum(r.output_tokens for r in runs)
        wall = sum(r.wall_s for r in runs)
        line = (f"{model.name} ({model.role}): {len(runs)} task(s), {items} items ({cached} cached, "
                f"{items - cached} generated), {truncated} truncated, {max_tokens} hit max_new_tokens, "
                f"{tokens} output tokens, {wall:.1f} s")
        self.out.print(line, markup=False)  # above the live bars when they are shown

    def done(self, folder: Path) -> None:
        self.out.print(f"wrote {folder}/ (results.md, results.csv, scores.json, manifest.json, predictions/)",
                       markup=False)
