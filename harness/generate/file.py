"""The `file` backend: precomputed outputs of any outside system, scored through the same pipeline.

`path` is a JSONL file with one object per line: `{"id": "<item id>", "output": "<text>"}`, and
optionally `"task": "<task>"` when one file holds several tasks whose ids overlap (the summary
tasks share document ids, the two segment translation tasks share segment ids). `path` may also
contain `{task}`, e.g. `outputs/mysystem/{task}.jsonl`, one file per task.

The file is UTF-8 (a leading BOM is dropped, as `harness score` does). A lone surrogate (a
`"\ud800"` escape without its pair) is refused with the file and line: it is not text and could
not be written to the results. Every item of every task the model runs on must have an output:
a missing id stops the run before anything is generated, naming the file and the ids. Outputs
are read, not generated, so they are never cached (the file is the cache).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from harness.errors import HarnessError
from harness.io import parse_jsonl, sha256_bytes
from harness.generate.base import Backend, BackendInfo
from harness.request import Completion, GenerationSettings, Rendered


class FileSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    path: str  # JSONL; may contain {task}


def task_path(settings: FileSettings, task: str) -> Path:
    return Path(settings.path.replace("{task}", task))


def read_outputs(path: Path) -> dict[tuple[str | None, str], str]:
    """(task or None, id) → output, from a JSONL file; every malformed line is an error."""
    return _read(path)[1]


def _read(path: Path) -> tuple[str, dict[tuple[str | None, str], str]]:
    if not path.is_file():
        raise HarnessError(f"{path}: outputs file not found")
    out: dict[tuple[str | None, str], str] = {}
    data = path.read_bytes()
    for where, row in parse_jsonl(data, path):  # "\n" lines only; a BOM is accepted, as `harness score` does
        if not isinstance(row, dict) or not isinstance(row.get("id"), str) or not isinstance(row.get("output"), str):
            raise HarnessError(f'{where}: each line needs string "id" and "output" fields')
        for name in ("id", "output", "task"):
            if isinstance(row.get(name), str) and not _encodable(row[name]):
                # a "\ud800" escape decodes to a lone surrogate: not text, and no file can hold it
                raise HarnessError(f'{where}: "{name}" holds a lone surrogate (an unpaired \\ud800-\\udfff '
                                   "escape), which is not Unicode text")
        task = row.get("task")
        if task is not None and not isinstance(task, str):
            raise HarnessError(f'{where}: "task" must be a string')
        key = (task, row["id"])
        if key in out:
            raise HarnessError(f"{where}: id {row['id']}{' of ' + task if task else ''} appears twice")
        out[key] = row["output"]
    return sha256_bytes(data), out


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _lookup(outputs: Mapping, task: str, item_id: str) -> str | None:
    if (task, item_id) in outputs:
        return outputs[(task, item_id)]
    return outputs.get((None, item_id))


def preflight(settings: FileSettings, items_by_task: Mapping[str, Sequence]) -> None:
    """Every item of every task must have an output (checked before any model runs)."""
    for task, items in items_by_task.items():
        path = task_path(settings, task)
        outputs = read_outputs(path)
        missing = [i.id for i in items if _lookup(outputs, task, i.id) is None]
        if missing:
            shown = ", ".join(missing[:8]) + (f" … and {len(missing) - 8} more" if len(missing) > 8 else "")
            raise HarnessError(f"{path}: no output for {len(missing)} item(s) of {task}: {shown}")


class FileBackend(Backend):
    context_length = None

    def __init__(self, settings: FileSettings):
        self.settings = settings
        self._files: dict[str, tuple[str, dict]] = {}  # task → (sha256, outputs), as read

    def _outputs(self, task: str) -> dict:
        if task not in self._files:
            self._files[task] = _read(task_path(self.settings, task))
        return self._files[task][1]

    def identity(self) -> dict:
        """The path and the sha256 of every file read so far (the manifest asks after the run)."""
        return {"engine": "file", "path": self.settings.path,
                "sha256": {task: sha for task, (sha, _) in sorted(self._files.items())}}

    def generate(self, batch: Sequence[Rendered], settings: GenerationSettings) -> Iterator[Completion]:
        for rendered in batch:
            request = rendered.request
            raw = _lookup(self._outputs(request.task), request.task, request.id)
            if raw is None:
                raise HarnessError(f"{task_path(self.settings, request.task)}: no output for {request.id}")
            yield Completion(id=request.id, raw=raw, output_tokens=0, stop_reason="none", latency_s=0.0)

    def info(self) -> BackendInfo:
        return BackendInfo(engine="file", details={"path": self.settings.path})


def load(settings: FileSettings) -> FileBackend:
    return FileBackend(settings)
