"""The run: each model on its tasks, then the results folder with its manifest.

    evaluate         plan_run, then run_model per model, then write_run
    run_model        one GenerationSession per model (harness.generate.session): fit each prompt
                     into the context, cache first, generate the rest; then post-process (a backend
                     that `combines_tasks` gets all the model's tasks in one call: run_tasks_together)
    make_prediction  post-process (named rules), raw and cleaned output both kept
    write_run        the manifest and predictions, scored by `rescore` (as `harness rescore`)
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from pathlib import Path

from harness import __version__
from harness.config import RunConfig
from harness.environment import git_commit, hardware, now, versions
from harness.generate.base import Backend
from harness.generate.cache import CachedCompletion, GenerationCache, NoCache
from harness.generate.session import GenerationSession
from harness.io import read_json, sha256_text, staged_folder
from harness.names import run_folder
from harness.pipeline.plan import ModelPlan, RunPlan, TaskPlan, plan_run
from harness.pipeline.rescore import rescore
from harness.postprocess import clean, describe
from harness.record import SCHEMA_VERSION, Manifest, Prediction, prediction_path, write_manifest, write_predictions
from harness.request import Rendered


# --- what the caller sees while it runs ----------------------------------------------------------


class ProgressBar:
    """The progress of one model × task (harness.generate.session.Progress); this one shows nothing."""

    def advance(self, items: int, tokens: int) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        pass


class RunReporter:
    """What `evaluate` reports while it runs; this base shows nothing. `harness run` passes its
    display (harness.commands.progress), so the pipeline never draws anything itself."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        pass

    def bar(self, description: str, total: int) -> ProgressBar:
        return ProgressBar()

    def note(self, text: str) -> None:
        pass

    def model_done(self, model: ModelPlan, runs: Sequence[TaskRun]) -> None:
        pass

    def done(self, folder: Path) -> None:
        pass


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
             cache_dir: Path | None = None, reporter: RunReporter | None = None) -> Path:
    """Run every model on its tasks and write `results/<run>/`; returns that folder."""
    reporter = reporter or RunReporter()
    plan = plan_run(config)  # every bad input stops here: nothing loaded, nothing written
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


def open_session(plan: RunPlan, model: ModelPlan, backend: Backend, cache=None) -> GenerationSession:
    return GenerationSession(backend, model.config, plan.generation, cache)


def run_model(plan: RunPlan, model: ModelPlan, cache, reporter: RunReporter) -> ModelRun:
    """Load the model, run it on each of its tasks, close it."""
    backend = model.spec.load(model.config.settings)
    try:
        session = open_session(plan, model, backend, cache)
        tasks = [plan.tasks[task] for task in model.tasks]
        if backend.combines_tasks and len(tasks) > 1:
            runs = run_tasks_together(session, tasks, plan.config.postprocess, reporter)
        else:
            runs = [run_task(session, task, plan.config.postprocess, reporter) for task in tasks]
        # asked again: a backend may learn more while generating (the `file` backend records the
        # sha256 of each outputs file it read)
        record = {"identity": backend.identity(), "info": asdict(backend.info())}
    finally:
        backend.close()
    reporter.model_done(model, runs)
    return ModelRun(model, runs, record)


def run_task(session: GenerationSession, task: TaskPlan, rules: Sequence[str], reporter: RunReporter) -> TaskRun:
    start = time.perf_counter()
    fitted = [session.fit(task, item)[0] for item in task.items]
    with reporter.bar(f"{session.model} · {task.name}", len(fitted)) as bar:
        completions, generated = session.complete(task, fitted, bar)
    predictions = [make_prediction(r, completions[r.request.id], rules) for r in fitted]
    return TaskRun(session.model, task.name, predictions, time.perf_counter() - start, generated,
                   len(fitted) - generated)


def run_tasks_together(session: GenerationSession, tasks: Sequence[TaskPlan], rules: Sequence[str],
                       reporter: RunReporter) -> list[TaskRun]:
    """All of a model's tasks in one backend call (`share_sources`: tasks reading the same source
    evaluate it once). A task's wall time is its prompt fitting plus the latencies of the answers
    generated for it now, which add up to the shared call's wall time (harness.generate.llama_engine)."""
    fitted, fit_s = [], []
    for task in tasks:
        start = time.perf_counter()
        fitted.append([session.fit(task, item)[0] for item in task.items])
        fit_s.append(time.perf_counter() - start)
    with ExitStack() as stack:
        bars = [stack.enter_context(reporter.bar(f"{session.model} · {task.name}", len(f)))
                for task, f in zip(tasks, fitted)]
        results = session.complete_tasks(list(zip(tasks, fitted, bars)))
    runs = []
    for task, task_fitted, seconds, (completions, generated) in zip(tasks, fitted, fit_s, results):
        predictions = [make_prediction(r, completions[r.request.id], rules) for r in task_fitted]
        wall = seconds + sum(p.latency_s for p in predictions if p.id in generated)
        runs.append(TaskRun(session.model, task.name, predictions, wall, len(generated),
                            len(task_fitted) - len(generated)))
    return runs


def make_prediction(rendered: Rendered, completion: CachedCompletion, rules: Sequence[str]) -> Prediction:
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
                "references": "A only (reference B is the output)" if m.role == "agreement" else "all",
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
    target = run_folder(results_root, outcome.plan.config.run)
    manifest = build_manifest(outcome)
    with staged_folder(target) as folder:
        for r in outcome.runs:
            write_predictions(prediction_path(folder, r.model, r.task), r.predictions)
        write_manifest(folder, manifest)
        rescore(folder)  # scores and tables exactly as `harness rescore` computes them
    return target

