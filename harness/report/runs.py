"""Read `results/<run>/` folders (the contract in docs/architecture.md) into frozen objects.

Everything is read and checked up front, so a report command either has all it needs or stops
with one `HarnessError` naming the file and key before anything is written.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import HarnessError
from harness.results import read_jsonl, sha256_file
from harness.score.registry import lower_is_better

MANIFEST = "manifest.json"
SCORES = "scores.json"
PREDICTIONS = "predictions"
ROLES = ("model", "baseline", "ceiling")
# from the metric registry (harness/score/registry.py): TER, an edit rate, is lower-is-better
LOWER_IS_BETTER = lower_is_better()


@dataclass(frozen=True)
class Prediction:
    id: str
    output: str
    truncated: bool
    stop_reason: str
    scores: Mapping[str, float]  # per-item metric values, 0–100


@dataclass(frozen=True)
class ModelEntry:
    name: str
    role: str  # "model" | "baseline" | "ceiling"
    backend: str


@dataclass(frozen=True)
class StoredScore:
    model: str
    task: str
    metric: str
    value: float
    ci_low: float
    ci_high: float
    signature: str
    n: int


@dataclass(frozen=True)
class TaskSummary:
    model: str
    task: str
    n: int
    truncated_share: float | None  # None when the model produced nothing for the task
    max_tokens_share: float | None
    off_target_share: float | None  # None for runs written before it was recorded, or without a target language
    not_scored: str | None = None  # why the run could not score this model on this task


@dataclass(frozen=True, eq=False)  # identity semantics: runs are compared as objects
class Run:
    """One results folder, fully loaded."""

    path: Path
    name: str
    harness_version: str
    git_commit: str | None
    started: str
    config: Mapping
    config_path: str | None
    dataset_path: str | None  # the built dataset folder (None: only the config's own tasks ran)
    dataset_sha256: str | None
    models: Mapping[str, ModelEntry]
    scores: tuple[StoredScore, ...]
    summary: Mapping[tuple[str, str], TaskSummary]  # (model, task) -> shares
    predictions: Mapping[tuple[str, str], tuple[Prediction, ...]]  # (model, task) -> items in dataset order
    missing_references: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # task -> item ids left out
    task_info: Mapping[str, Mapping] = field(default_factory=dict)  # the manifest's `tasks` entries

    def dataset_for(self, task: str) -> str:
        """The version of the data `task` read: its dataset's sha256 (the built dataset's MANIFEST
        sha256 for built-in tasks)."""
        record = (self.task_info.get(task) or {}).get("dataset")
        if isinstance(record, Mapping) and isinstance(record.get("sha256"), str):
            return record["sha256"]
        if self.dataset_sha256 is None:
            raise HarnessError(f"{self.path / MANIFEST}: tasks.{task}.dataset.sha256 is missing")
        return self.dataset_sha256

    def definition(self, task: str):
        """The task's harness.tasks.TaskDef as recorded (built-in for runs that predate it)."""
        from harness.tasks import recorded_definition

        return recorded_definition({"tasks": self.task_info}, task, self.path / MANIFEST)

    def items(self, task: str) -> list:
        """The items of a user task rebuilt from the recorded definition and dataset (sha256-checked)."""
        from harness.tasks import recorded_items

        return recorded_items({"tasks": self.task_info, "dataset": None}, task, self.path / MANIFEST)

    @property
    def config_sha256(self) -> str:
        canonical = json.dumps(self.config, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    @property
    def tasks(self) -> tuple[str, ...]:
        return tuple(sorted({s.task for s in self.scores}))

    def scores_for(self, model: str, task: str) -> dict[str, StoredScore]:
        return {s.metric: s for s in self.scores if s.model == model and s.task == task}

    def models_for(self, task: str) -> tuple[str, ...]:
        return tuple(sorted({s.model for s in self.scores if s.task == task}))

    def item_ids(self, model: str, task: str) -> tuple[str, ...]:
        return tuple(p.id for p in self.predictions[(model, task)])


def discover_runs(paths: Iterable[Path]) -> list[Path]:
    """Results folders named directly, or held one level down in a parent folder (sorted)."""
    found: list[Path] = []
    for path in paths:
        path = Path(path)
        if not path.exists():
            raise HarnessError(f"{path}: no such file or folder")
        if (path / MANIFEST).is_file():
            candidates = [path]
        elif path.is_dir():
            # hidden folders are `harness run`'s staging copies of an unfinished run
            candidates = sorted(p for p in path.iterdir() if not p.name.startswith(".") and (p / MANIFEST).is_file())
            if not candidates:
                raise HarnessError(f"{path}: not a results folder (no {MANIFEST} in it or in its subfolders)")
        else:
            raise HarnessError(f"{path}: not a results folder (expected a folder holding {MANIFEST})")
        for c in candidates:
            if c.resolve() not in {f.resolve() for f in found}:
                found.append(c)
    return found


def load_runs(paths: Iterable[Path]) -> list[Run]:
    return [load_run(p) for p in discover_runs(paths)]


def load_run(path: Path) -> Run:
    path = Path(path)
    manifest_file = path / MANIFEST
    manifest = _read_json(manifest_file)
    scores_doc = _read_json(path / SCORES)
    name = _get(manifest, "run", manifest_file, str)
    dataset = manifest.get("dataset")  # null when the run used only tasks defined in its config
    if dataset is not None:
        dataset = _get(manifest, "dataset", manifest_file, dict)
    dataset_sha = None if dataset is None else _get(dataset, "manifest_sha256", manifest_file, str,
                                                    "dataset.manifest_sha256")
    if scores_doc.get("dataset_manifest_sha256", dataset_sha) != dataset_sha:
        raise HarnessError(
            f"{path / SCORES}: dataset_manifest_sha256 {str(scores_doc['dataset_manifest_sha256'])[:12]}… differs from "
            f"{MANIFEST}'s dataset.manifest_sha256 {str(dataset_sha)[:12]}…"
        )
    models = {}
    for model_name, entry in _get(manifest, "models", manifest_file, dict).items():
        where = f"models.{model_name}"
        role = _get(entry, "role", manifest_file, str, f"{where}.role")
        if role not in ROLES:
            raise HarnessError(f"{manifest_file}: {where}.role is '{role}', expected one of {', '.join(ROLES)}")
        models[model_name] = ModelEntry(model_name, role, str(entry.get("backend", "")))
    scores = tuple(_parse_score(s, path / SCORES, i) for i, s in enumerate(_get(scores_doc, "scores", path / SCORES, list)))
    if not scores:
        raise HarnessError(f"{path / SCORES}: 'scores' is empty")
    for s in scores:
        if s.model not in models:
            raise HarnessError(f"{path / SCORES}: model '{s.model}' is not in {MANIFEST}'s models")
    summary = {}
    for i, row in enumerate(scores_doc.get("summary", [])):
        where = f"summary[{i}]"
        key = (_get(row, "model", path / SCORES, str, f"{where}.model"), _get(row, "task", path / SCORES, str, f"{where}.task"))
        summary[key] = TaskSummary(
            model=key[0],
            task=key[1],
            n=int(_get(row, "n", path / SCORES, (int, float), f"{where}.n")),
            truncated_share=_share(row, "truncated_share", path / SCORES, where),
            max_tokens_share=_share(row, "max_tokens_share", path / SCORES, where),
            off_target_share=_share(row, "off_target_share", path / SCORES, where) if "off_target_share" in row else None,
            not_scored=str(row["not_scored"]) if row.get("not_scored") else None,
        )
    predictions = {}
    for model, task in sorted({(s.model, s.task) for s in scores}):
        predictions[(model, task)] = _read_predictions(path / PREDICTIONS / model / f"{task}.jsonl")
    config = manifest.get("config") or {}
    tasks_info = manifest.get("tasks") if isinstance(manifest.get("tasks"), dict) else {}
    missing = {t: tuple(info.get("missing_references") or ()) for t, info in tasks_info.items() if isinstance(info, dict)}
    return Run(
        path=path,
        name=name,
        harness_version=_get(manifest, "harness_version", manifest_file, str),
        git_commit=_commit(manifest.get("git_commit"), manifest.get("git_dirty")),
        started=_get(manifest, "started", manifest_file, str),
        config=config,
        config_path=manifest.get("config_file") or manifest.get("config_path"),
        dataset_path=None if dataset is None else
        dataset.get("local_path") or _get(dataset, "path", manifest_file, str, "dataset.path"),
        dataset_sha256=dataset_sha,
        models=models,
        scores=scores,
        summary=summary,
        predictions=predictions,
        missing_references={t: ids for t, ids in missing.items() if ids},
        task_info={t: info for t, info in tasks_info.items() if isinstance(info, dict)},
    )


def dataset_manifest_sha256(dataset_dir: Path) -> str:
    """The dataset version a run records: sha256 of the dataset's MANIFEST.json bytes."""
    manifest = Path(dataset_dir) / "MANIFEST.json"
    if not manifest.is_file():
        raise HarnessError(f"{dataset_dir}: not a built dataset (no MANIFEST.json; run `harness data build`)")
    return sha256_file(manifest)


def resolve_datasets(runs: Iterable[Run], dataset_dirs: Sequence[Path] = ()) -> dict[str, Path]:
    """dataset version (MANIFEST sha256) -> a folder holding exactly that version, for every version
    the runs use. Candidates: the folders given (`--dataset`), then each run's recorded dataset.path.

    References are read from this folder; a dataset that changed since a run would silently give
    other numbers, so a version without a matching folder is an error, not a warning.
    """
    runs = list(runs)
    found: dict[str, Path] = {}
    hashes: dict[Path, str | None] = {}

    def version_of(folder: Path) -> str | None:
        if folder not in hashes:
            hashes[folder] = dataset_manifest_sha256(folder) if (folder / "MANIFEST.json").is_file() else None
        return hashes[folder]

    for folder in dataset_dirs:
        if version_of(Path(folder)) is None:
            raise HarnessError(f"--dataset: {folder} is not a built dataset (no MANIFEST.json)")
    for run in runs:
        if run.dataset_sha256 in found or not any(run.definition(t).builtin for t in run.tasks):
            continue  # known, or only the config's own tasks (harness.tasks.recorded_items reads those)
        for folder in [*map(Path, dataset_dirs), Path(run.dataset_path)]:
            if version_of(folder) == run.dataset_sha256:
                found[run.dataset_sha256] = folder
                break
        else:
            seen = ", ".join(f"{f} is {v[:12]}…" for f, v in hashes.items() if v) or "no built dataset found"
            raise HarnessError(
                f"{run.path / MANIFEST}: made on dataset version {run.dataset_sha256[:12]}… ({run.dataset_path}); {seen}. "
                "Pass --dataset with a folder of that version (e.g. rebuild it from that commit)"
            )
    return found


def _read_json(file: Path) -> dict:
    if not file.is_file():
        raise HarnessError(f"{file}: missing (not a complete results folder)")
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise HarnessError(f"{file}: not UTF-8") from None
    except json.JSONDecodeError as e:
        raise HarnessError(f"{file}: invalid JSON at line {e.lineno}: {e.msg}") from None
    if not isinstance(data, dict):
        raise HarnessError(f"{file}: expected a JSON object")
    return data


def _get(data: Mapping, key: str, file: Path, kind, where: str | None = None):
    if not isinstance(data, Mapping) or key not in data or data[key] is None:
        raise HarnessError(f"{file}: missing key '{where or key}'")
    value = data[key]
    if not isinstance(value, kind) or isinstance(value, bool) and kind != bool:
        raise HarnessError(f"{file}: '{where or key}' has the wrong type ({type(value).__name__})")
    return value


def _share(row: Mapping, key: str, file: Path, where: str) -> float | None:
    if key not in row:
        raise HarnessError(f"{file}: missing key '{where}.{key}'")
    value = row[key]
    if value is None:
        return None
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value <= 1:
        raise HarnessError(f"{file}: '{where}.{key}' must be a share between 0 and 1, got {value!r}")
    return float(value)


def _commit(value, dirty=None) -> str | None:
    """The commit, marked when the checkout had local changes (`git_dirty`)."""
    if isinstance(value, Mapping):  # {"commit", "dirty"}
        value, dirty = value.get("commit"), value.get("dirty")
    if not isinstance(value, str) or not value:
        return None
    return f"{value} (with local changes)" if dirty else value


def _finite(s: Mapping, key: str, file: Path, where: str) -> float:
    value = float(_get(s, key, file, (int, float), f"{where}.{key}"))
    if not math.isfinite(value):
        raise HarnessError(f"{file}: '{where}.{key}' must be a finite number, got {value!r}")
    return value


def _parse_score(s: Mapping, file: Path, i: int) -> StoredScore:
    where = f"scores[{i}]"
    number = (int, float)
    return StoredScore(
        model=_get(s, "model", file, str, f"{where}.model"),
        task=_get(s, "task", file, str, f"{where}.task"),
        metric=_get(s, "metric", file, str, f"{where}.metric"),
        value=_finite(s, "value", file, where),
        ci_low=_finite(s, "ci_low", file, where),
        ci_high=_finite(s, "ci_high", file, where),
        signature=_get(s, "signature", file, str, f"{where}.signature"),
        n=int(_get(s, "n", file, number, f"{where}.n")),
    )


def _read_predictions(file: Path) -> tuple[Prediction, ...]:
    if not file.is_file():
        raise HarnessError(f"{file}: missing (scores.json has scores for it)")
    out: list[Prediction] = []
    seen: set[str] = set()
    for where, row in read_jsonl(file):
        item_id = _get(row, "id", where, str)
        if item_id in seen:
            raise HarnessError(f"{where}: item id '{item_id}' appears twice")
        seen.add(item_id)
        scores = row.get("scores") or {}
        if not isinstance(scores, dict):
            raise HarnessError(f"{where}: 'scores' must be an object")
        out.append(
            Prediction(
                id=item_id,
                output=_get(row, "output", where, str),
                truncated=bool(row.get("truncated", False)),
                stop_reason=str(row.get("stop_reason", "none")),
                scores={str(k): float(v) for k, v in scores.items() if isinstance(v, (int, float)) and math.isfinite(v)},
            )
        )
    if not out:
        raise HarnessError(f"{file}: empty (no predictions)")
    return tuple(out)
