"""Tasks as data: every task, built-in or a user's, is a `TaskDef` read from YAML.

A definition names the dataset and its columns (id, source, references, optionally a document
column), the source and target language, the kind (translation | summarization, which picks the
default prompt, metrics, main metric and max_new_tokens), and those defaults when they differ.
The seven built-in tasks ship as `harness/taskdefs/<name>.yaml` and read the dataset folder built
by `harness data build` (the run config's `dataset:`); a config defines its own with `define:`
(docs/run.md, "Your own tasks"), reading a .jsonl/.csv/.parquet file, a `datasets` folder or a
Hub dataset.

`load_items(task, dataset_dir)` is the contract the pipeline and the reports share
(docs/architecture.md, "Tasks"): items in dataset order, references as stored, nothing invented.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from harness.dataset_files import dataset_sha256, read_table
from harness.errors import DatasetError, HarnessError, excerpt
from harness.io import sha256_file
from harness.metric_table import LANGUAGES, METRICS
from harness.names import name_problem
from harness.registry import did_you_mean, lookup
from harness.yaml_source import first_error, read_yaml

PROMPTS_DIR = Path(__file__).parent / "prompts"
TASKDEFS_DIR = Path(__file__).parent / "taskdefs"
#: The built-in definitions (harness/taskdefs/<name>.yaml), in report order.
BUILTIN = ("summarize_zh", "summarize_en", "summarize_passage_zh", "summarize_passage_en", "translate_zh_en",
           "translate_zh_en_doc", "translate_en_zh")


@dataclass(frozen=True)
class Item:
    id: str
    doc_id: str
    source: str
    references: tuple[str, ...]  # non-empty references only; fewer than expected = missing
    lead_source: str = ""  # the text the `lead` baseline reads when the task names one (else the source)


@dataclass(frozen=True)
class KindDefaults:
    metrics: tuple[str, ...]
    main_metric: str
    max_new_tokens: int


#: What `kind` fills in when a definition leaves it out.
KIND_DEFAULTS: Mapping[str, KindDefaults] = {
    "translation": KindDefaults(("bleu", "chrf++"), "chrf++", 320),
    "summarization": KindDefaults(("rouge1", "rouge2", "rougeL", "rougeLsum"), "rougeL", 320),
}
#: The built-in prompt (harness/prompts/<name>.yaml) for a (kind, source_lang, target_lang).
DEFAULT_PROMPTS: Mapping[tuple[str, str, str], str] = {
    ("translation", "zh", "en"): "translate_zh_en",
    ("translation", "en", "zh"): "translate_en_zh",
    ("summarization", "zh", "zh"): "summarize_zh",
    ("summarization", "zh", "en"): "summarize_en",
}


def builtin_prompts() -> list[str]:
    return sorted(p.stem for p in PROMPTS_DIR.glob("*.yaml"))


class TaskDef(BaseModel):
    """One task. `dataset` None means the run's built dataset folder (the built-in tasks)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    name: str
    description: str = ""
    kind: Literal["translation", "summarization"]
    dataset: str | None = None  # .jsonl / .csv / .parquet file, a `datasets` folder, or a Hub dataset id
    config: str | None = None  # built-in: <dataset folder>/<config>.parquet; else the `datasets` config name
    split: str | None = None  # the `datasets` split (folders and Hub ids)
    id: str  # column of the item ids (unique)
    doc: str | None = None  # column of document ids (shots come from other documents); None: each item its own
    source: str  # column of the model's input
    lead_source: str | None = None  # built-in only: column the `lead` baseline reads instead of the source
    references: list[str]  # one or more columns, or one list column
    n_references: int | None = Field(None, ge=1)  # None: every item must have the same number
    source_lang: str
    target_lang: str
    prompt: str | None = None  # a built-in prompt name; default from (kind, source_lang, target_lang)
    metrics: list[str]
    main_metric: str
    max_new_tokens: int = Field(ge=1)

    @model_validator(mode="before")
    @classmethod
    def _kind_defaults(cls, data):
        return with_kind_defaults(data)

    @field_validator("references", mode="before")
    @classmethod
    def _one_or_more(cls, value):
        return [value] if isinstance(value, str) else value

    @field_validator("name")
    @classmethod
    def _folder_name(cls, value: str) -> str:
        problem = name_problem(value)  # the one name rule: the task names its predictions file
        if problem is not None:
            raise PydanticCustomError("bad_name", "task name {v}: {problem}", {"v": excerpt(value), "problem": problem})
        return value

    @field_validator("id", "source", "doc", "dataset", "config", "split")
    @classmethod
    def _not_blank(cls, value):
        if value is not None and not value.strip():
            raise PydanticCustomError("empty", "must not be empty")
        return value

    @field_validator("references")
    @classmethod
    def _columns(cls, value: list[str]) -> list[str]:
        if not value or any(not c.strip() for c in value):
            raise PydanticCustomError("empty", "needs one or more column names")
        if len(set(value)) != len(value):
            raise PydanticCustomError("duplicate", "lists a column twice")
        return value

    @field_validator("source_lang", "target_lang")
    @classmethod
    def _known_language(cls, value: str) -> str:
        if value not in LANGUAGES:
            raise PydanticCustomError("unknown_name", "unknown language '{v}'{hint}",
                                      {"v": value, "hint": did_you_mean(value, LANGUAGES)})
        return value

    @field_validator("prompt")
    @classmethod
    def _known_prompt(cls, value: str | None) -> str | None:
        if value is not None and value not in builtin_prompts():
            raise PydanticCustomError("unknown_name", "unknown built-in prompt '{v}'{hint}; for your own prompt "
                                      "set `prompt:` on the task (a file or a mapping)",
                                      {"v": value, "hint": did_you_mean(value, builtin_prompts())})
        return value

    @model_validator(mode="after")
    def _metrics_fit(self):
        for name in self.metrics:
            if name not in METRICS:
                raise PydanticCustomError("unknown_name", "metrics: unknown metric '{v}'{hint}",
                                          {"v": name, "hint": did_you_mean(name, METRICS)})
            if self.target_lang not in METRICS[name].languages:
                raise PydanticCustomError("metric_lang", "metrics: {m} does not score target language '{lang}'",
                                          {"m": name, "lang": self.target_lang})
        if self.main_metric not in self.metrics:
            raise PydanticCustomError("main_metric", "main_metric '{m}' is not among metrics ({ms})",
                                      {"m": self.main_metric, "ms": ", ".join(self.metrics)})
        if len(self.references) > 1 and self.n_references is not None and self.n_references > len(self.references):
            raise PydanticCustomError("n_references", "n_references {n} is more than the {k} reference columns",
                                      {"n": self.n_references, "k": len(self.references)})
        if self.lead_source is not None and self.dataset is not None:
            raise PydanticCustomError("lead_source", "lead_source is read only for the built-in dataset's tasks")
        return self

    @property
    def builtin(self) -> bool:
        return self.dataset is None

    @property
    def prompt_path(self) -> Path | None:
        return None if self.prompt is None else PROMPTS_DIR / f"{self.prompt}.yaml"

    def to_dict(self) -> dict:
        """The definition as the manifest records it (every default filled in)."""
        return self.model_dump(mode="json")


def with_kind_defaults(data):
    """A definition mapping with what its `kind` (and languages) imply filled in where left out."""
    if not isinstance(data, dict) or data.get("kind") not in KIND_DEFAULTS:
        return data
    defaults = KIND_DEFAULTS[data["kind"]]
    data = dict(data)
    if data.get("metrics") is None:
        data["metrics"] = list(defaults.metrics)
    if data.get("main_metric") is None:
        data["main_metric"] = defaults.main_metric
    if data.get("max_new_tokens") is None:
        data["max_new_tokens"] = defaults.max_new_tokens
    if data.get("prompt") is None:
        data["prompt"] = DEFAULT_PROMPTS.get((data["kind"], data.get("source_lang"), data.get("target_lang")))
    return data


def read_definition(path: Path) -> TaskDef:
    """A task definition file; errors name the file, line and key."""
    data, source = read_yaml(path, "task definition")
    try:
        return TaskDef.model_validate(data)
    except ValidationError as e:
        raise first_error(e, source, TaskDef) from None


TASKS: dict[str, TaskDef] = {name: read_definition(TASKDEFS_DIR / f"{name}.yaml") for name in BUILTIN}


def get_task(task: str | TaskDef) -> TaskDef:
    """A built-in task by name (a TaskDef is returned as it is)."""
    return task if isinstance(task, TaskDef) else lookup("task", task, TASKS)


# --- items -------------------------------------------------------------------------------------


def _references(value) -> tuple[str, ...]:
    values = value if isinstance(value, (list, tuple)) else [value]
    return tuple(v for v in values if isinstance(v, str) and v.strip())


def load_items(task: str | TaskDef, dataset_dir: Path | None = None) -> list[Item]:
    """Every item of `task` in dataset order. Built-in tasks read `dataset_dir` (a folder built by
    `harness data build`), user tasks their own `dataset`. References that are null or empty are
    left out of `Item.references` (see `missing_references`); nothing is filled in."""
    t = get_task(task)
    if not t.builtin:
        return user_items(t, read_table(t.dataset, config=t.config, split=t.split))
    if dataset_dir is None:
        raise HarnessError(f"task {t.name} reads the built dataset folder; none given")
    path = Path(dataset_dir) / f"{t.config}.parquet"
    if not path.is_file():
        raise DatasetError(
            f"{dataset_dir}: no '{t.config}' config ({path.name}) for task {t.name}; "
            "rebuild the dataset with `harness data build`"
        )
    import pyarrow.parquet as pq  # pyarrow: heavy (0.2 s), needed only to read a built dataset

    doc = t.doc or t.id
    columns = list(dict.fromkeys([t.id, doc, t.source, *t.references, *([t.lead_source] if t.lead_source else [])]))
    parquet = pq.ParquetFile(path)  # not pq.read_table: that imports pandas through pyarrow.dataset (0.5 s)
    absent = [c for c in columns if c not in parquet.schema_arrow.names]
    if absent:
        raise DatasetError(f"{path}: missing column(s) {', '.join(absent)} needed by task {t.name}")
    table = parquet.read(columns=columns).to_pydict()
    refs = zip(*(table[c] for c in t.references)) if len(t.references) > 1 else table[t.references[0]]
    leads = table[t.lead_source] if t.lead_source else [""] * len(table[t.id])
    return [
        Item(id=i, doc_id=d, source=s, references=_references(list(r) if len(t.references) > 1 else r), lead_source=lead)
        for i, d, s, r, lead in zip(table[t.id], table[doc], table[t.source], refs, leads)
    ]


def user_items(t: TaskDef, table) -> list[Item]:
    """Items of a user dataset (a `dataset_files.DatasetTable`), every row checked: the columns exist,
    ids are unique, sources are not empty, every item has the same number of references."""
    if not table.rows:
        raise DatasetError(f"{table.name}: no items", "dataset")
    wanted = {"id": t.id, "source": t.source, "references": None, "doc": t.doc}
    for key, column in wanted.items():
        if column is not None and column not in table.columns:
            raise DatasetError(f"{table.name}: no column '{column}' (key {key}; columns: {', '.join(table.columns)})", key)
    for column in t.references:
        if column not in table.columns:
            raise DatasetError(f"{table.name}: no reference column '{column}' (columns: {', '.join(table.columns)})",
                               "references")
    items: list[Item] = []
    first_line: dict[str, str] = {}
    count_of_first: int | None = None
    for where, row in table.rows:
        raw_id = row.get(t.id)
        if isinstance(raw_id, bool) or not isinstance(raw_id, (str, int)) or not str(raw_id).strip():
            raise DatasetError(f"{where}: empty or non-text id in column '{t.id}'", "id")
        item_id = str(raw_id)
        if item_id in first_line:
            raise DatasetError(f"{where}: id '{item_id}' appears twice (first at {first_line[item_id]})", "id")
        first_line[item_id] = where
        source = row.get(t.source)
        if not isinstance(source, str) or not source.strip():
            raise DatasetError(f"{where}: empty source in column '{t.source}' (item {item_id})", "source")
        if len(t.references) == 1 and isinstance(row.get(t.references[0]), (list, tuple)):
            values = list(row[t.references[0]])
        else:
            values = [row.get(c) for c in t.references]
        for v in values:
            if v is not None and not isinstance(v, str):
                raise DatasetError(f"{where}: a reference of item {item_id} is a {type(v).__name__}, expected text",
                                   "references")
        refs = _references(values)
        if t.n_references is None:
            if not refs:
                raise DatasetError(f"{where}: item {item_id} has no reference in {', '.join(t.references)}", "references")
            if count_of_first is None:
                count_of_first = len(refs)
            elif len(refs) != count_of_first:
                raise DatasetError(
                    f"{where}: item {item_id} has {len(refs)} reference(s) but {items[0].id} has {count_of_first}; "
                    "every item needs the same number (or set n_references to leave short items out)", "references")
        doc = row.get(t.doc) if t.doc else item_id
        if t.doc and (isinstance(doc, bool) or not isinstance(doc, (str, int)) or not str(doc).strip()):
            raise DatasetError(f"{where}: empty document id in column '{t.doc}' (item {item_id})", "doc")
        items.append(Item(id=item_id, doc_id=str(doc), source=source, references=refs))
    return items


def n_references(task: TaskDef, items: Sequence[Item]) -> int:
    """How many references every item should have: declared, or (user data) the count they all have."""
    if task.n_references is not None:
        return task.n_references
    return min((len(i.references) for i in items), default=0)


def missing_references(task: str | TaskDef, items: Sequence[Item], need: int | None = None) -> list[str]:
    """Ids of items with fewer references than the task expects."""
    need = get_task(task).n_references if need is None else need
    return [i.id for i in items if len(i.references) < (need or 0)]


# --- a run's tasks, rebuilt from its manifest (rescore, leaderboard, compare) ------------------


def recorded_definition(task: str, record, where: Path | str) -> TaskDef:
    """The task's definition as a run recorded it (`record`: its harness.record.TaskRecord). Runs
    from before definitions were recorded ran only built-in tasks: the built-in one of that name."""
    if record.definition is None:
        if task not in TASKS:
            raise HarnessError(f"{where}: tasks.{task} has no definition and is not a built-in task")
        return TASKS[task]
    try:
        return TaskDef.model_validate(record.definition)
    except ValidationError as e:
        err = e.errors()[0]
        raise HarnessError(f"{where}: tasks.{task}.definition.{'.'.join(map(str, err['loc']))}: {err['msg']}") from None


def recorded_items(task: str, record, built, where: Path | str) -> list[Item]:
    """The items of `task` rebuilt from its recorded definition and data (no config file needed),
    after checking that the data still has the recorded sha256. `record` is the run's
    harness.record.TaskRecord, `built` its built-dataset DatasetRecord (None when it used none)."""
    definition = recorded_definition(task, record, where)
    if definition.builtin:
        dataset = Path((built.local_path or built.path) if built else "")
        if built is None or not (dataset / "MANIFEST.json").is_file():
            raise HarnessError(f"{where}: dataset folder '{dataset}' of the run not found")
        if sha256_file(dataset / "MANIFEST.json") != built.manifest_sha256:
            raise HarnessError(f"{dataset}: the dataset changed since the run (MANIFEST sha256 differs); "
                               "rebuild the dataset the run used or run again")
        return load_items(definition, dataset)
    data = record.dataset
    if data is None:
        raise HarnessError(f"{where}: missing key 'tasks.{task}.dataset' (the data of a task the config defined)")
    seen = []
    for candidate in dict.fromkeys(c for c in (data.path, data.local_path) if c):
        if Path(candidate).expanduser().exists():
            sha = dataset_sha256(candidate)
            if sha == data.sha256:
                return load_items(definition.model_copy(update={"dataset": candidate}))
            seen.append(f"{candidate} has sha256 {sha[:12]}…")
    found = "; ".join(seen) if seen else f"{data.path} not found"
    raise HarnessError(f"{where}: tasks.{task}.dataset: the run read {data.sha256[:12]}…, but {found}; "
                       "restore that dataset to rescore or report this run")


def select_items(items: Sequence[Item], *, ids=None, per_doc=None, limit=None) -> list[Item]:
    """The documented subset rule: explicit `ids` (in dataset order), then the first `per_doc`
    items of every document, then the first `limit` items. Unknown ids are an error."""
    chosen = list(items)
    if ids is not None:
        known = {i.id for i in chosen}
        unknown = [i for i in ids if i not in known]
        if unknown:
            raise HarnessError(f"unknown item id(s) {', '.join(unknown[:5])}")
        wanted = set(ids)
        chosen = [i for i in chosen if i.id in wanted]
    if per_doc is not None:
        seen: dict[str, int] = {}
        kept = []
        for item in chosen:
            seen[item.doc_id] = seen.get(item.doc_id, 0) + 1
            if seen[item.doc_id] <= per_doc:
                kept.append(item)
        chosen = kept
    if limit is not None:
        chosen = chosen[:limit]
    return chosen


# --- prompts -----------------------------------------------------------------------------------


def default_prompt_path(task: str | TaskDef) -> Path | None:
    """The task's built-in prompt file; None when its kind and languages have none."""
    return get_task(task).prompt_path


def select_shots(item: Item, pool: Sequence[Item], k: int, seed: int) -> list[tuple[str, str]]:
    """k (source, reference A) pairs from documents other than the item's own, chosen by a
    generator seeded from (seed, item id): the same item gets the same shots whatever the subset."""
    if k == 0:
        return []
    others = [p for p in pool if p.doc_id != item.doc_id and p.references]
    if len(others) < k:
        raise HarnessError(f"{k} shots need {k} items from other documents; only {len(others)} exist")
    rng = np.random.default_rng([seed, zlib.crc32(item.id.encode("utf-8"))])
    picked = rng.choice(len(others), size=k, replace=False)
    return [(others[i].source, others[i].references[0]) for i in picked]
