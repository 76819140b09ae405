"""The plan of a run: everything read and checked before a model loads."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from harness.config import ModelConfig, RunConfig, TaskConfig
from harness.dataset_files import dataset_sha256
from harness.errors import DatasetError, HarnessError
from harness.generate.registry import BackendSpec
from harness.io import sha256_file
from harness.prompt_template import PromptTemplate
from harness.request import GenerationSettings, Prompt, Request
from harness.tasks import Item, TaskDef, load_items, missing_references, n_references, select_items, select_shots


@dataclass(frozen=True)
class TaskPlan:
    name: str
    index: int  # position in config.tasks (error locations)
    config: TaskConfig
    items: tuple[Item, ...]  # the selected items that have all their references, dataset order
    missing: tuple[str, ...]  # selected ids left out for missing references
    shots: Mapping[str, tuple]  # item id → ((source, answer), ...) from other documents
    definition: TaskDef
    n_references: int  # references every item has (declared, or found in a user dataset)
    dataset: Mapping[str, str]  # {"path", "local_path", "sha256"}: the data this task read

    @property
    def template(self) -> PromptTemplate:
        return self.config.prompt

    def prompt(self, item: Item, source: str | None = None) -> Prompt:
        return self.template.build(item.source if source is None else source, self.shots[item.id])

    def request(self, item: Item) -> Request:
        return Request(id=item.id, prompt=self.prompt(item), source=item.source, references=item.references,
                       max_new_tokens=self.config.max_new_tokens, task=self.name, lead_source=item.lead_source)


@dataclass(frozen=True)
class ModelPlan:
    config: ModelConfig
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
    path = Path(config.dataset).expanduser()
    if not path.exists() and re.fullmatch(r"[\w.-]+/[\w.-]+", config.dataset):
        try:
            from huggingface_hub import snapshot_download  # heavy: only a Hub dataset id needs the client

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
            if role == "agreement" and tasks[t].n_references < 2:
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
    dataset_dir, manifest_sha256 = built or (None, None)
    return RunPlan(config, dataset_dir, manifest_sha256, tasks, tuple(models), generation, tuple(notes))


def _task_data(config: RunConfig, index: int, definition: TaskDef, built: list) -> tuple[list[Item], dict]:
    """All items of one task and the record of the data they came from. A built-in task reads the
    run's built dataset folder (resolved once, into `built`); a user task its own dataset."""
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

