"""The results record: `results/<run>/` described once (docs/architecture.md, "Results folder").

    manifest.json                    `Manifest`: resolved config, versions, dataset hash, models, tasks, timings, cache
    predictions/<model>/<task>.jsonl one `Prediction` per line, dataset order
    scores.json                      `ScoresDoc`: per model × task × metric a `ScoreRow`; one `SummaryRow` per pair
    judgements/<model>/<task>.<prompt>.jsonl   optional, `harness judge --run`: each item's judgement
    judgements.json                  optional, `JudgementsDoc`: one `JudgeRow` per model × task × judge prompt

The writer (`harness run`), `harness rescore`, the leaderboard, compare and the CI gate all read and
write through these models. Reading is strict: a value of the wrong type is refused, never
coerced, and every problem is one `HarnessError` naming the file and the key (or line).

Versioning: `schema_version` is written into manifest.json and scores.json. Folders written before
it existed carry none and are read as version 1. A field added later must be optional (with a
default), so older folders keep loading; unknown extra fields are kept (other tools and later
versions may add them), so a record can grow without a version bump.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from harness import io
from harness.errors import HarnessError
from harness.names import check_name, child_path

SCHEMA_VERSION = 1
MANIFEST = "manifest.json"
SCORES = "scores.json"
PREDICTIONS = "predictions"
JUDGEMENTS = "judgements"  # the folder; judgements.json the summary
ROLES = ("model", "baseline", "agreement")
Role = Literal["model", "baseline", "agreement"]
# Folders written before the rename call the agreement row `ceiling`; read as `agreement`.
LEGACY_ROLES = {"ceiling": "agreement"}

FiniteFloat = Field(allow_inf_nan=False)


class _Record(BaseModel):
    # strict: `"output": 12345` or `"truncated": "yes"` are errors, not silently converted.
    # extra="allow": fields other versions or tools add are kept and written back.
    model_config = ConfigDict(strict=True, extra="allow")


class _Versioned(_Record):
    schema_version: int = SCHEMA_VERSION  # absent in folders written before it existed: version 1

    @field_validator("schema_version")
    @classmethod
    def _known(cls, v: int) -> int:
        if v != SCHEMA_VERSION:
            raise ValueError(f"is {v}; this harness reads version {SCHEMA_VERSION} (use the harness that wrote it)")
        return v


# --- manifest.json ---------------------------------------------------------------------------------


class DatasetRecord(_Record):
    path: str  # as the config gave it
    local_path: str | None = None  # the folder actually read (resolved)
    manifest_sha256: str  # sha256 of the dataset's MANIFEST.json: the dataset version


class ModelRecord(_Record):
    backend: str
    role: Role
    identity: dict[str, Any] = {}  # everything that identifies the weights/engine (part of the cache key)
    info: dict[str, Any] = {}  # engine details that do not change outputs (load time, threads)
    tasks: list[str] = []
    skipped: dict[str, str] = {}  # task -> why the model does not run on it
    references: str | None = None  # which references score it ("all", or "A only" for the agreement row)

    @field_validator("role", mode="before")
    @classmethod
    def _legacy_role(cls, v):
        return LEGACY_ROLES.get(v, v) if isinstance(v, str) else v


class TaskDataRecord(_Record):
    """The data one task read: what rescore and the reports rebuild its items from."""

    path: str  # as the config gave it (the built dataset folder for built-in tasks)
    local_path: str | None = None  # the same, resolved (absolute for a task's own dataset)
    sha256: str  # the dataset version: file sha256, canonical folder hash, or the built MANIFEST sha256


class TaskRecord(_Record):
    metrics: list[str]
    n_items: int  # items scored (after the limit and leaving out items missing references)
    prompt_sha256: str | None = None
    prompt_version: str | None = None
    shots: int = 0
    max_new_tokens: int | None = None
    missing_references: list[str] = []  # selected item ids left out for missing references
    n_references: int | None = None  # references per item (declared, or found in a task's own dataset)
    # The task's definition (harness.tasks.TaskDef, every default filled in) and its data. Absent
    # in folders written before tasks were data: those tasks are the built-in ones of that name.
    definition: dict[str, Any] | None = None
    dataset: TaskDataRecord | None = None


class Throughput(_Record):
    items: int | None = None
    generated: int | None = None
    cached: int | None = None
    output_tokens: int | None = None
    generation_s: float | None = None
    tokens_per_s: float | None = None
    wall_s: float | None = None


class Manifest(_Versioned):
    run: str
    harness_version: str
    git_commit: str | None = None
    git_dirty: bool | None = None
    config: dict[str, Any] = {}  # the resolved config (harness.config.RunConfig.to_dict())
    config_file: str | None = None
    overrides: list[str] = []
    dataset: DatasetRecord | None  # the built dataset folder; null when only the config's own tasks ran
    versions: dict[str, str | None] = {}
    hardware: dict[str, Any] = {}
    started: str
    finished: str | None = None
    models: dict[str, ModelRecord]
    tasks: dict[str, TaskRecord]
    throughput: dict[str, dict[str, Throughput]] = {}  # model -> task -> timings; the pairs that ran
    cache: dict[str, Any] = {}
    postprocess_rules: list[dict[str, Any]] = []
    # who wrote and reviewed the references (harness.data.provenance), copied from the dataset's
    # MANIFEST.json; reports render every reference label from it. None in runs written before it existed.
    reference_provenance: dict[str, Any] | None = None

    @property
    def config_path(self) -> str | None:
        """The config file; `config_path` in folders written by early versions."""
        legacy = (self.model_extra or {}).get("config_path")
        return self.config_file or (legacy if isinstance(legacy, str) else None)

    @property
    def commit(self) -> str | None:
        """The commit, marked when the checkout had local changes."""
        if not self.git_commit:
            return None
        return f"{self.git_commit} (with local changes)" if self.git_dirty else self.git_commit


# --- predictions/<model>/<task>.jsonl --------------------------------------------------------------


class Prediction(_Record):
    id: str
    prompt_sha256: str | None = None  # None for outputs that were read, not prompted for (older folders)
    raw: str
    output: str  # raw after the post-processing rules: what is scored
    input_tokens: int | None = None
    output_tokens: int | None = None
    truncated: bool
    stop_reason: str
    latency_s: float | None = None
    scores: dict[str, float | None] = {}  # per-item metric values, 0–100


# --- scores.json -----------------------------------------------------------------------------------


class ScoreRow(_Record):
    model: str
    task: str
    metric: str
    value: float = FiniteFloat
    ci_low: float = FiniteFloat
    ci_high: float = FiniteFloat
    signature: str
    n: int


def _share(v: float | None) -> float | None:
    if v is not None and not 0 <= v <= 1:
        raise ValueError(f"must be a share between 0 and 1, got {v!r}")
    return v


class SummaryRow(_Record):
    model: str
    task: str
    n: int
    truncated_share: float | None  # None when the model produced nothing for the task
    max_tokens_share: float | None
    off_target_share: float | None = None  # None without a target language (or written before it was recorded)
    tokens_per_s: float | None = None
    wall_s: float | None = None
    not_scored: str | None = None  # why the run could not score this model on this task

    _shares = field_validator("truncated_share", "max_tokens_share", "off_target_share")(_share)


class ScoresDoc(_Versioned):
    run: str
    dataset_manifest_sha256: str | None  # the manifest's dataset.manifest_sha256 (null with it)
    harness_version: str
    created: str
    scores: list[ScoreRow]
    summary: list[SummaryRow] = []


# --- judgements.json (written by `harness judge --run`, after the run) -------------------------------


class JudgeRow(_Record):
    """A judge's score of one model on one task: the mean over parsed items (None when none parsed)."""

    model: str  # the judged system (pairwise: system A)
    task: str
    judge: str  # the judge: `name@identity-hash`
    metric: str  # judge:<prompt name>
    value: float | None = FiniteFloat
    ci_low: float | None = FiniteFloat
    ci_high: float | None = FiniteFloat
    signature: str  # names the judge, the prompt (version, sha256), the scale and unparsed k/n
    n: int
    n_unparsed: int
    system_b: str | None = None  # pairwise: the second system (the score is its preference over `model`)
    file: str  # the items' judgements, relative to the run folder


class JudgementsDoc(_Versioned):
    run: str
    judgements: list[JudgeRow]


# --- reading ---------------------------------------------------------------------------------------


def parse(model: type[BaseModel], data, where: str):
    """`model` from decoded JSON, or one HarnessError naming `where` and the first bad key."""
    try:
        return model.model_validate(data)
    except ValidationError as e:
        raise HarnessError(f"{where}: {_describe(e.errors()[0])}") from None


def _describe(error: Mapping) -> str:
    key = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error["loc"]).lstrip(".")
    kind, value = error["type"], error.get("input")
    if not key:
        return f"expected a JSON object, got {_json_type(value)}"
    if kind == "missing":
        return f"missing key '{key}'"
    if kind == "literal_error":
        return f"{key} is {value!r}, expected one of {', '.join(ROLES)}" if key.endswith("role") else f"{key} is {value!r}"
    if kind == "value_error":
        return f"'{key}' {error['msg'].removeprefix('Value error, ')}"
    if kind == "finite_number":
        return f"'{key}' must be a finite number, got {value!r}"
    expected = kind.removesuffix("_type").removesuffix("_parsing").replace("model_attributes", "object")
    return f"'{key}' has the wrong type ({_json_type(value)}, expected {_EXPECTED.get(expected, expected)})"


_EXPECTED = {"string": "a string", "int": "an integer", "float": "a number", "bool": "true or false",
             "dict": "an object", "model": "an object", "list": "a list"}


def _json_type(value) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "a list",
            dict: "an object"}.get(type(value), type(value).__name__)


def prediction_path(folder: Path, model: str, task: str) -> Path:
    """predictions/<model>/<task>.jsonl; both names follow the one name rule (harness.names), so a
    model named ".." in a damaged manifest cannot point outside predictions/."""
    check_name(task, "task name")
    return child_path(Path(folder) / PREDICTIONS, model, "model name") / f"{task}.jsonl"


def _read_json(file: Path):
    if not file.is_file():
        raise HarnessError(f"{file}: missing (not a complete results folder)")
    return io.read_json(file)


def read_manifest(folder: Path) -> Manifest:
    file = Path(folder) / MANIFEST
    manifest = parse(Manifest, _read_json(file), str(file))
    for model, entry in manifest.throughput.items():
        if model not in manifest.models:
            raise HarnessError(f"{file}: throughput.{model}: model not in 'models'")
        for task in entry:
            if task not in manifest.tasks:
                raise HarnessError(f"{file}: throughput.{model}.{task}: task not in 'tasks'")
    return manifest


def read_scores(folder: Path, manifest: Manifest) -> ScoresDoc:
    """scores.json, checked to belong to the same run as the manifest."""
    file = Path(folder) / SCORES
    doc = parse(ScoresDoc, _read_json(file), str(file))
    if doc.run != manifest.run:
        raise HarnessError(f"{file}: run is '{doc.run}' but {MANIFEST} is run '{manifest.run}' (scores of another run)")
    built = manifest.dataset.manifest_sha256 if manifest.dataset else None
    if doc.dataset_manifest_sha256 != built:
        raise HarnessError(
            f"{file}: dataset_manifest_sha256 {str(doc.dataset_manifest_sha256)[:12]}… differs from "
            f"{MANIFEST}'s dataset.manifest_sha256 {str(built)[:12]}…"
        )
    for i, s in enumerate(doc.scores):
        if s.model not in manifest.models:
            raise HarnessError(f"{file}: scores[{i}]: model '{s.model}' is not in {MANIFEST}'s models")
        if s.task not in manifest.tasks:
            raise HarnessError(f"{file}: scores[{i}]: task '{s.task}' is not in {MANIFEST}'s tasks")
    return doc


def read_predictions(path: Path, n_items: int | None = None) -> list[Prediction]:
    """The lines of one predictions file: every id once; exactly `n_items` lines when given
    (the manifest's count, so a cut or padded file is refused)."""
    path = Path(path)
    if not path.is_file():
        raise HarnessError(f"{path}: missing (the manifest lists this model × task)")
    out: list[Prediction] = []
    seen: dict[str, str] = {}
    for where, row in io.read_jsonl(path):
        p = parse(Prediction, row, where)
        if p.id in seen:
            raise HarnessError(f"{where}: item id '{p.id}' appears twice (first at line {seen[p.id]})")
        seen[p.id] = where.rsplit(":", 1)[1]
        out.append(p)
    if not out:
        raise HarnessError(f"{path}: empty (no predictions)")
    if n_items is not None and len(out) != n_items:
        raise HarnessError(f"{path}: {len(out)} prediction line(s), but {MANIFEST} says the task has {n_items} items")
    return out


def judgement_path(folder: Path, model: str, task: str, judge: str, prompt: str,
                   system_b: str | None = None) -> Path:
    """judgements/<model>/<task>.<judge>.<prompt>[.vs-<system_b>].jsonl (`judge`: its config name), every
    part under the one name rule."""
    parts = [check_name(task, "task name"), check_name(judge, "judge model name"),
             check_name(prompt, "judge prompt name")]
    if system_b is not None:
        parts.append(f"vs-{check_name(system_b, 'model name')}")
    return child_path(Path(folder) / JUDGEMENTS, model, "model name") / (".".join(parts) + ".jsonl")


def read_judgements(folder: Path, manifest: Manifest) -> JudgementsDoc | None:
    """judgements.json (None when the run was never judged), checked to belong to the run."""
    file = Path(folder) / f"{JUDGEMENTS}.json"
    if not file.is_file():
        return None
    doc = parse(JudgementsDoc, io.read_json(file), str(file))
    if doc.run != manifest.run:
        raise HarnessError(f"{file}: run is '{doc.run}' but {MANIFEST} is run '{manifest.run}'")
    return doc


# --- writing ---------------------------------------------------------------------------------------


def dump(record: BaseModel) -> dict:
    """The JSON form of a record: the fields it was given, in declared order, extras after."""
    return record.model_dump(mode="json", exclude_unset=True)


def write_manifest(folder: Path, manifest: Manifest) -> None:
    io.write_json(Path(folder) / MANIFEST, dump(manifest))


def write_scores(folder: Path, doc: ScoresDoc) -> None:
    io.write_json(Path(folder) / SCORES, dump(doc))


def write_predictions(path: Path, predictions: Sequence[Prediction]) -> None:
    io.write_jsonl(path, (dump(p) for p in predictions))


def write_judgements(folder: Path, doc: JudgementsDoc) -> None:
    io.write_json(Path(folder) / f"{JUDGEMENTS}.json", dump(doc))
