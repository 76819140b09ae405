"""`evaluate(config)`: the main job, one stage per function.

    plan_run        load items, prompts and shots; check every backend's inputs (no model loaded)
    fit             render each prompt for the model; truncate the source when it does not fit
    generate        cache first; the backend generates the rest, committed in batches as they finish
    make_prediction post-process (named rules), raw and cleaned output both kept
    rescore         score from the stored predictions and write the tables (also `harness rescore`)

Truncation rule: when prompt + max_new_tokens exceed the model's context, the item's source keeps
its head, cut at a sentence boundary (the most whole sentences that fit; only when not even the
first sentence fits is it cut inside that sentence, by characters). Shots and the instruction are
never cut. Every prediction records `input_tokens` and `truncated`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from harness.config import RunConfig, TaskConfig
from harness.errors import HarnessError
from harness.generate.base import STOP_REASONS, Backend, GenerationSettings, Prompt, Rendered, Request
from harness.generate.cache import CachedCompletion, GenerationCache, NoCache, cache_key
from harness.generate.registry import BackendSpec
from harness.results import Prediction

COMMIT_EVERY_S = 0.5  # commit generated completions at least this often…
COMMIT_EVERY_N = 64  # …or whenever this many are pending
CACHE_KEY_VERSION = 1


# --- the plan: everything checked before a model loads -------------------------------------------


@dataclass(frozen=True)
class TaskPlan:
    name: str
    index: int  # position in config.tasks (error locations)
    config: TaskConfig
    items: tuple  # the selected items that have all their references, dataset order
    missing: tuple[str, ...]  # selected ids left out for missing references
    shots: Mapping[str, tuple]  # item id → ((source, answer), ...) from other documents

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
    dataset_dir: Path
    dataset_sha256: str
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
    from harness.results import sha256_file
    from harness.tasks import TASKS, load_items, missing_references, select_items, select_shots

    dataset_dir = resolve_dataset(config)
    notes: list[str] = []
    tasks: dict[str, TaskPlan] = {}
    for i, tc in enumerate(config.tasks):
        try:
            all_items = load_items(tc.task, dataset_dir)
        except HarnessError as e:
            raise config.error(("tasks", i, "task"), str(e)) from None
        try:
            selected = select_items(all_items, ids=tc.ids, per_doc=tc.per_doc, limit=tc.limit)
        except HarnessError as e:
            raise config.error(("tasks", i, "ids"), f"{e} in {tc.task}") from None
        missing = missing_references(tc.task, selected)
        complete = [it for it in selected if it.id not in set(missing)]
        need = TASKS[tc.task].n_references
        if not complete:
            raise config.error(("tasks", i, "task"), f"none of the {len(selected)} selected items of {tc.task} has its "
                                                     f"{need} reference(s) in {config.dataset}; nothing to score")
        if missing:
            notes.append(f"{tc.task}: {len(missing)} of {len(selected)} selected items lack reference(s) and are left "
                         f"out: {', '.join(missing)}")
        pool = [it for it in all_items if len(it.references) >= need]
        try:
            shots = {it.id: tuple(select_shots(it, pool, tc.shots, config.seed)) for it in complete}
        except HarnessError as e:
            raise config.error(("tasks", i, "shots"), str(e)) from None
        tasks[tc.task] = TaskPlan(tc.task, i, tc, tuple(complete), tuple(missing), shots)

    models = []
    for i, m in enumerate(config.models):
        spec, role = m.spec, m.role
        runnable, skipped = [], {}
        for t in config.tasks_of(m):
            if role == "ceiling" and TASKS[t].n_references < 2:
                if m.tasks is not None:
                    raise config.error(("models", i, "tasks", m.tasks.index(t)),
                                       f"the human ceiling (reference B against A) needs two references; {t} has one")
                skipped[t] = "the human ceiling needs two references per item"
                continue
            runnable.append(t)
        if not runnable:
            raise config.error(("models", i), f"model '{m.name}' has no task it can run")
        if skipped:
            notes.append(f"{m.name}: not run on {', '.join(skipped)} (the human ceiling needs two references per item)")
        try:
            spec.check(m.settings, {t: tasks[t].items for t in runnable})
        except HarnessError as e:
            raise config.error(("models", i), str(e)) from None
        models.append(ModelPlan(m, spec, role, tuple(runnable), skipped))

    g = config.generation
    generation = GenerationSettings(do_sample=g.do_sample, temperature=g.temperature, top_p=g.top_p,
                                    seed=config.seed, stop=tuple(g.stop))
    return RunPlan(config, dataset_dir, sha256_file(dataset_dir / "MANIFEST.json"), tasks, tuple(models),
                   generation, tuple(notes))


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


def evaluate(config: RunConfig, *, results_root: Path = Path("results"), use_cache: bool = True,
             quiet: bool = False, cache_dir: Path | None = None) -> Path:
    """Run every model on its tasks and write `results/<run>/`; returns that folder."""
    from harness.results import now

    plan = plan_run(config)  # every bad input stops here: nothing loaded, nothing written
    reporter = Reporter(quiet)
    for note in plan.notes:
        reporter.note(note)
    store = GenerationCache(cache_dir)
    cache = store if use_cache else NoCache(store)
    started = now()
    runs: list[TaskRun] = []
    backends: dict[str, dict] = {}
    try:
        with reporter:
            for model in plan.models:
                backend = model.spec.load(model.config.settings)
                try:
                    identity = backend.identity()
                    for task in model.tasks:
                        runs.append(run_task(backend, identity, model, plan.tasks[task], plan, cache, reporter))
                    info = backend.info()
                    # asked again: a backend may learn more while generating (the `file` backend
                    # records the sha256 of each outputs file it read)
                    backends[model.name] = {"identity": backend.identity(), "info": asdict(info)}
                finally:
                    backend.close()
                reporter.model_done(model, [r for r in runs if r.model == model.name])
    finally:
        cache.close()
    cache_info = {"enabled": use_cache, "path": str(store.path),
                  "hits": sum(r.cached for r in runs), "misses": sum(r.generated for r in runs)}
    folder = write_run(plan, runs, backends, started, now(), cache_info, results_root)
    reporter.done(folder)
    return folder


def run_task(backend: Backend, identity: dict, model: ModelPlan, task: TaskPlan, plan: RunPlan, cache,
             reporter: Reporter) -> TaskRun:
    start = time.perf_counter()
    fitted = [fit(backend, task, item, model.name)[0] for item in task.items]
    keys = [cache_key(key_parts(model, identity, r, task, plan.generation)) for r in fitted]
    with reporter.bar(f"{model.name} · {task.name}", len(fitted)) as bar:
        completions, generated = generate(backend, fitted, keys, cache, plan.generation, model, bar)
    predictions = [make_prediction(r, completions[r.request.id], plan.config.postprocess) for r in fitted]
    cached = len(fitted) - generated
    return TaskRun(model.name, task.name, predictions, time.perf_counter() - start, generated, cached)


# --- render + fit --------------------------------------------------------------------------------


def fit(backend: Backend, task: TaskPlan, item, model_name: str) -> tuple[Rendered, str | None]:
    """Render the item's prompt for the backend, truncating the source to fit the context.
    Returns the Rendered request and, when truncated, a note saying how much was kept."""
    from harness.tasks import sentence_units

    request = task.request(item)

    def attempt(source: str | None) -> tuple[str, int, Prompt]:
        prompt = request.prompt if source is None else task.prompt(item, source)
        text = backend.render(prompt)
        return text, backend.count_tokens(text), prompt

    text, tokens, _ = attempt(None)
    limit = backend.context_length
    if limit is None:
        return Rendered(request, text, tokens, False), None
    budget = limit - request.max_new_tokens
    if tokens <= budget:
        return Rendered(request, text, tokens, False), None
    empty_tokens = attempt("")[1]
    if empty_tokens > budget:
        raise HarnessError(
            f"model {model_name}, task {task.name}: the prompt without any source takes {empty_tokens} tokens but the "
            f"context of {limit} minus max_new_tokens {request.max_new_tokens} leaves {budget}; lower max_new_tokens "
            "or shots, or use a model with a longer context"
        )
    units = sentence_units(item.source)
    fits = lambda s: attempt(s)[1] <= budget  # noqa: E731
    kept = _largest(len(units) - 1, lambda k: fits("".join(units[:k]).rstrip()))
    if kept > 0:
        source = "".join(units[:kept]).rstrip()
        note = f"kept {kept} of {len(units)} sentences"
    else:  # not even the first sentence fits: cut inside it
        chars = _largest(len(units[0]) - 1, lambda c: fits(units[0][:c].rstrip()))
        source = units[0][:chars].rstrip()
        note = f"kept {chars} characters of the first of {len(units)} sentences"
    text, tokens, prompt = attempt(source)
    return Rendered(replace(request, prompt=prompt), text, tokens, True), note


def _largest(upper: int, ok) -> int:
    """The largest k in [0, upper] with ok(k), given ok(0) (binary search; ok is monotone)."""
    lo, hi = 0, upper
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if ok(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo


# --- generate (cache first) ----------------------------------------------------------------------


def key_parts(model: ModelPlan, identity: dict, rendered: Rendered, task: TaskPlan, generation: GenerationSettings) -> dict:
    """Everything that can change a completion (see harness.generate.cache)."""
    settings = model.config.settings.model_dump(mode="json", exclude=set(model.spec.cache_neutral))
    return {
        "v": CACHE_KEY_VERSION,
        "backend": model.config.backend,
        "identity": identity,
        "settings": settings,
        "generation": asdict(generation),
        "max_new_tokens": rendered.request.max_new_tokens,
        "prompt": rendered.text,
        "plain_stop": list(rendered.request.prompt.plain_stop),  # ends answers of plain-form prompts
        "template": {"version": task.template.version, "sha256": task.template.sha256},
        "reads": {f: getattr(rendered.request, f) for f in model.spec.reads},
    }


def generate(backend: Backend, fitted: Sequence[Rendered], keys: Sequence[str], cache, settings: GenerationSettings,
             model: ModelPlan, bar) -> tuple[dict[str, CachedCompletion], int]:
    """Completions by item id (cached ones first) and how many were generated now."""
    hits = cache.get_many(keys) if model.spec.cached else {}
    out = {r.request.id: hits[k] for r, k in zip(fitted, keys) if k in hits}
    bar.advance(len(out), 0)
    todo = [(r, k) for r, k in zip(fitted, keys) if k not in hits]
    if not todo:
        return out, 0
    key_of = {r.request.id: k for r, k in todo}
    pending: list[tuple[str, str, CachedCompletion]] = []
    last_commit = time.monotonic()
    try:
        for c in backend.generate([r for r, _ in todo], settings):
            if c.id not in key_of or c.id in out:
                raise RuntimeError(f"backend of {model.name} returned an unexpected or repeated id {c.id!r}")
            if c.stop_reason not in STOP_REASONS:
                raise RuntimeError(f"backend of {model.name} returned stop_reason {c.stop_reason!r}")
            out[c.id] = CachedCompletion(c.raw, c.output_tokens, c.stop_reason, c.latency_s)
            if model.spec.cached:
                pending.append((key_of[c.id], model.name, out[c.id]))
                if len(pending) >= COMMIT_EVERY_N or time.monotonic() - last_commit >= COMMIT_EVERY_S:
                    cache.put_many(pending)
                    pending, last_commit = [], time.monotonic()
            bar.advance(1, c.output_tokens)
    finally:
        cache.put_many(pending)  # also on an exception: what finished is kept
    lost = [i for i in key_of if i not in out]
    if lost:
        raise RuntimeError(f"backend of {model.name} returned no completion for {len(lost)} item(s): {', '.join(lost[:5])}")
    return out, len(todo)


def make_prediction(rendered: Rendered, completion: CachedCompletion, rules: Sequence[str]) -> Prediction:
    from harness.postprocess import clean
    from harness.results import sha256_text

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


def build_manifest(plan: RunPlan, runs: Sequence[TaskRun], backends: Mapping[str, dict], started: str,
                   finished: str, cache_info: dict) -> dict:
    from harness import __version__
    from harness.postprocess import describe
    from harness.results import git_commit, hardware, versions

    config = plan.config
    git = git_commit()
    throughput: dict[str, dict] = {}
    for r in runs:
        throughput.setdefault(r.model, {})[r.task] = r.throughput()
    return {
        "run": config.run,
        "harness_version": __version__,
        "git_commit": git["commit"] if git else None,
        "git_dirty": git["dirty"] if git else None,
        "config": config.to_dict(),
        "config_file": config.source.file,
        "overrides": list(config.source.overrides.values()),
        "dataset": {"path": config.dataset, "local_path": str(plan.dataset_dir), "manifest_sha256": plan.dataset_sha256},
        "versions": versions(),
        "hardware": hardware(),
        "started": started,
        "finished": finished,
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
            }
            for t in plan.tasks.values()
        },
        "throughput": throughput,
        "cache": cache_info,
        "postprocess_rules": describe(config.postprocess),
    }


def write_run(plan: RunPlan, runs: Sequence[TaskRun], backends, started: str, finished: str, cache_info: dict,
              results_root: Path) -> Path:
    """Write the whole folder into a staging sibling and swap it in: never half a results folder."""
    from harness.results import prediction_path, staged_folder, write_json, write_predictions

    target = Path(results_root) / plan.config.run
    manifest = build_manifest(plan, runs, backends, started, finished, cache_info)
    with staged_folder(target) as folder:
        for r in runs:
            write_predictions(prediction_path(folder, r.model, r.task), r.predictions)
        write_json(folder / "manifest.json", manifest)
        rescore(folder)  # scores and tables exactly as `harness rescore` computes them
    return target


def rescore(folder: Path, *, n_boot: int = 1000) -> dict:
    """Recompute item and corpus scores and the tables from the stored predictions (no model).
    Returns the scores document; rewrites predictions' `scores`, scores.json, results.md/csv."""
    from harness import __version__
    from harness.results import (
        now,
        prediction_path,
        read_json,
        read_predictions,
        render_csv,
        render_markdown,
        sha256_file,
        summary_row,
        write_json,
        write_predictions,
        write_text,
    )
    from harness.score import get_metric, score_with_items
    from harness.score.neural import configure
    from harness.score.text import ScoringError
    from harness.tasks import load_items

    folder = Path(folder)
    manifest = read_json(folder / "manifest.json")
    dataset = Path(manifest["dataset"].get("local_path") or manifest["dataset"]["path"])
    if not (dataset / "MANIFEST.json").is_file():
        raise HarnessError(f"{folder}/manifest.json: dataset folder '{dataset}' of the run not found")
    if sha256_file(dataset / "MANIFEST.json") != manifest["dataset"]["manifest_sha256"]:
        raise HarnessError(f"{dataset}: the dataset changed since the run (MANIFEST sha256 differs); "
                           "rebuild the dataset the run used or run again")
    seed = manifest["config"]["seed"]
    items_by_task: dict[str, dict] = {}
    score_rows, summary_rows = [], []
    for model, tasks in manifest["throughput"].items():
        role = manifest["models"][model]["role"]
        for task, throughput in tasks.items():
            path = prediction_path(folder, model, task)
            predictions = read_predictions(path)
            if task not in items_by_task:
                items_by_task[task] = {it.id: it for it in load_items(task, dataset)}
            unknown = [p.id for p in predictions if p.id not in items_by_task[task]]
            if unknown:
                raise HarnessError(f"{path}: ids not in the dataset: {', '.join(unknown[:5])}")
            items = [items_by_task[task][p.id] for p in predictions]
            references = [list(it.references[:1]) if role == "ceiling" else list(it.references) for it in items]
            hypotheses = [p.output for p in predictions]
            metrics = manifest["tasks"][task]["metrics"]
            # issue 14: bertscore/comet with the run's metric_settings; comet reads the sources
            scorers = configure([get_metric(m, task) for m in metrics], manifest["config"].get("metric_settings"),
                                sources=[it.source for it in items])
            row = summary_row(model, task, predictions, throughput)
            try:
                corpus, per_item = score_with_items(task, hypotheses, references, scorers, seed=seed, n_boot=n_boot)
            except ScoringError as e:  # e.g. Chinese output for an English target: no number, said loudly
                row["not_scored"] = _scoring_problem(e, predictions)
                corpus, per_item = [], {m: [None] * len(predictions) for m in metrics}
            for j, p in enumerate(predictions):
                p.scores = {m: per_item[m][j] for m in metrics} if corpus else {}
            write_predictions(path, predictions)
            score_rows += [{"model": model, "task": task, **s.to_dict()} for s in corpus]
            summary_rows.append(row)
    scores_doc = {
        "run": manifest["run"],
        "dataset_manifest_sha256": manifest["dataset"]["manifest_sha256"],
        "harness_version": __version__,
        "created": now(),
        "scores": score_rows,
        "summary": summary_rows,
    }
    write_json(folder / "scores.json", scores_doc)
    write_text(folder / "results.md", render_markdown(manifest, scores_doc))
    write_text(folder / "results.csv", render_csv(manifest, scores_doc))
    return scores_doc


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
            for t in m.tasks:
                if task is not None and t != task:
                    continue
                for item in plan.tasks[t].items[:n]:
                    rendered, note = fit(backend, plan.tasks[t], item, m.name)
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
