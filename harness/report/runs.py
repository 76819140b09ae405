"""Read `results/<run>/` folders (the record in harness.record) into `Run` objects.

Everything is read and checked up front, so a report command either has all it needs or stops
with one `HarnessError` naming the file and key before anything is written.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from harness.data.provenance import check_record
from harness.errors import HarnessError
from harness.io import sha256_file, sha256_json
from harness.record import MANIFEST, PREDICTIONS, ROLES, SCORES, prediction_path, read_manifest, read_predictions, \
    read_scores
from harness.record import ModelRecord as ModelEntry
from harness.record import Prediction
from harness.record import ScoreRow as StoredScore
from harness.record import DatasetRecord, TaskRecord
from harness.record import SummaryRow as TaskSummary
from harness.metric_table import lower_is_better
from harness.tasks import recorded_definition, recorded_items

__all__ = ["MANIFEST", "PREDICTIONS", "ROLES", "SCORES", "LOWER_IS_BETTER", "ModelEntry", "Prediction", "Run",
           "StoredScore", "TaskSummary", "discover_runs", "load_run", "load_runs", "resolve_datasets"]

# from the metric registry (harness/metric_table.py): TER, an edit rate, is lower-is-better
LOWER_IS_BETTER = lower_is_better()


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
    reference_provenance: Mapping | None = None  # who wrote/reviewed the references; None for older runs
    task_records: Mapping[str, TaskRecord] = field(default_factory=dict)  # the manifest's `tasks`
    built_dataset: DatasetRecord | None = None  # the manifest's `dataset`

    def dataset_for(self, task: str) -> str:
        """The version of the data `task` read: its dataset's sha256 (the built dataset's MANIFEST
        sha256 for built-in tasks and for runs written before tasks recorded their data)."""
        record = self.task_records.get(task)
        if record is not None and record.dataset is not None:
            return record.dataset.sha256
        if self.dataset_sha256 is None:
            raise HarnessError(f"{self.path / MANIFEST}: missing key 'tasks.{task}.dataset'")
        return self.dataset_sha256

    def definition(self, task: str):
        """The task's harness.tasks.TaskDef as recorded (the built-in one for runs that predate it)."""
        return recorded_definition(task, self.task_records[task], self.path / MANIFEST)

    def items(self, task: str) -> list:
        """The task's items rebuilt from the recorded definition and data (sha256-checked)."""
        return recorded_items(task, self.task_records[task], self.built_dataset, self.path / MANIFEST)

    @property
    def config_sha256(self) -> str:
        return sha256_json(self.config)

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
    manifest = read_manifest(path)
    scores_doc = read_scores(path, manifest)
    if not scores_doc.scores:
        raise HarnessError(f"{path / SCORES}: 'scores' is empty")
    predictions = {}
    for model, task in sorted({(s.model, s.task) for s in scores_doc.scores}):
        predictions[(model, task)] = tuple(read_predictions(prediction_path(path, model, task),
                                                            n_items=manifest.tasks[task].n_items))
    return Run(
        path=path,
        name=manifest.run,
        harness_version=manifest.harness_version,
        git_commit=manifest.commit,
        started=manifest.started,
        config=manifest.config,
        config_path=manifest.config_path,
        dataset_path=(manifest.dataset.local_path or manifest.dataset.path) if manifest.dataset else None,
        dataset_sha256=manifest.dataset.manifest_sha256 if manifest.dataset else None,
        models=manifest.models,
        scores=tuple(scores_doc.scores),
        summary={(s.model, s.task): s for s in scores_doc.summary},
        predictions=predictions,
        missing_references={t: tuple(info.missing_references) for t, info in manifest.tasks.items()
                            if info.missing_references},
        reference_provenance=check_record(manifest.reference_provenance, str(path / MANIFEST)),
        task_records=dict(manifest.tasks),
        built_dataset=manifest.dataset,
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
            continue  # known, or only the config's own tasks (their items come from Run.items)
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
