"""The results folder `results/<run>/` (docs/architecture.md, "Results folder"): reading, writing
(every file atomically), the environment record and the Markdown/CSV tables.

Layout:
    manifest.json                    resolved config, versions, dataset hash, models, tasks, timings, cache
    predictions/<model>/<task>.jsonl one line per item, dataset order, raw + cleaned output + item scores
    scores.json                      per model × task × metric: value, 95 % CI, signature, n; summary rows
    results.md, results.csv          one table per task, models as rows
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from harness.errors import HarnessError

PREDICTION_FIELDS = ("id", "prompt_sha256", "raw", "output", "input_tokens", "output_tokens", "truncated",
                     "stop_reason", "latency_s", "scores")
VERSIONED_PACKAGES = ("torch", "transformers", "sacrebleu", "rouge-score", "datasets", "numpy", "pyarrow",
                      "pydantic", "opencc", "jieba", "tokenizers")


@dataclass
class Prediction:
    id: str
    prompt_sha256: str
    raw: str
    output: str
    input_tokens: int
    output_tokens: int
    truncated: bool
    stop_reason: str
    latency_s: float
    scores: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {name: getattr(self, name) for name in PREDICTION_FIELDS}

    @classmethod
    def from_dict(cls, row: Mapping, where: str) -> Prediction:
        missing = [f for f in PREDICTION_FIELDS if f not in row]
        if missing:
            raise HarnessError(f"{where}: missing field(s) {', '.join(missing)}")
        return cls(**{f: row[f] for f in PREDICTION_FIELDS})


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# --- atomic files --------------------------------------------------------------------------------


def write_text(path: Path, text: str) -> None:
    """Write via a temporary sibling + rename: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; results and sites are published (Pages, artefacts)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def dumps(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=2) + "\n"


def write_json(path: Path, obj) -> None:
    write_text(path, dumps(obj))


def write_predictions(path: Path, predictions: Iterable[Prediction]) -> None:
    write_text(path, "".join(json.dumps(p.to_dict(), ensure_ascii=False) + "\n" for p in predictions))


def read_json(path: Path) -> dict:
    if not path.is_file():
        raise HarnessError(f"{path}: not found")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise HarnessError(f"{path}: not valid JSON ({e})") from None


def read_jsonl(path: Path) -> list[tuple[str, object]]:
    """(`file:line`, value) per non-blank line. Split on "\n" only: str.splitlines() also splits
    on U+2028/U+2029, which JSON written with ensure_ascii=False leaves raw inside strings."""
    try:
        lines = path.read_text(encoding="utf-8").split("\n")
    except UnicodeDecodeError:
        raise HarnessError(f"{path}: not UTF-8") from None
    out = []
    for n, line in enumerate(lines, 1):
        if line.strip():
            try:
                out.append((f"{path}:{n}", json.loads(line)))
            except json.JSONDecodeError as e:
                raise HarnessError(f"{path}:{n}: not valid JSON ({e.msg})") from None
    return out


def read_predictions(path: Path) -> list[Prediction]:
    if not path.is_file():
        raise HarnessError(f"{path}: not found")
    return [Prediction.from_dict(row, where) for where, row in read_jsonl(path)]


def prediction_path(folder: Path, model: str, task: str) -> Path:
    from harness.names import check_name, child_path

    check_name(task, "task name")
    return child_path(folder / "predictions", model, "model name") / f"{task}.jsonl"


@contextmanager
def staged_folder(target: Path):
    """Yield an empty hidden sibling folder; on success it replaces `target` in one rename, on
    failure it is removed. Staging folders left by killed runs (their process is gone) are cleared.
    Refuses a target that is not a direct child of its parent (".", "..", a symlink elsewhere):
    replacing it would replace the parent or a sibling."""
    from harness.names import child_path

    child_path(target.parent, target.name, "folder name")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise HarnessError(f"{target.parent}: cannot create the folder ({e.strerror})") from None
    for stale in target.parent.glob(f".{target.name}.tmp-*-*"):
        pid = stale.name.removeprefix(f".{target.name}.tmp-").split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(stale, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-{os.getpid()}-", dir=target.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
        old.rmdir()
        target.rename(old)
    tmp.rename(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


# --- environment ---------------------------------------------------------------------------------


def sha256_file(path: Path) -> str:
    """Streamed in 4 MiB blocks: model files are hundreds of MB."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def versions() -> dict[str, str | None]:
    from importlib.metadata import PackageNotFoundError, version

    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in VERSIONED_PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


def git_commit() -> dict | None:
    """The commit of the checkout the harness runs from, and whether it has local changes."""
    root = Path(__file__).resolve().parents[1]
    if not (root / ".git").exists():
        return None
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if head.returncode != 0:
        return None
    return {"commit": head.stdout.strip(), "dirty": bool(dirty.stdout.strip())}


def hardware() -> dict:
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = None
    try:
        memory = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        pass
    return {"platform": platform.platform(), "cpu": cpu, "cpu_count": os.cpu_count(), "memory_gib": memory,
            "gpus": _gpus()}


def _gpus() -> list[str]:
    torch = sys.modules.get("torch")  # only when a backend already imported it: never import torch for this
    if torch is not None and torch.cuda.is_available():
        return [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    if shutil.which("nvidia-smi"):
        try:
            out = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"], capture_output=True,
                                 text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return []
        return [line.strip() for line in out.stdout.splitlines() if line.strip()] if out.returncode == 0 else []
    return []


# --- summary rows and tables ---------------------------------------------------------------------


def summary_row(model: str, task: str, predictions: Sequence[Prediction], throughput: Mapping) -> dict:
    from harness.score import TASK_LANG
    from harness.score.text import off_target

    n = len(predictions)
    lang = TASK_LANG.get(task)
    return {
        "model": model,
        "task": task,
        "n": n,
        "truncated_share": sum(p.truncated for p in predictions) / n if n else None,
        "max_tokens_share": sum(p.stop_reason == "max_new_tokens" for p in predictions) / n if n else None,
        # outputs mostly in the wrong language (Chinese for an English target): scored as they are
        "off_target_share": sum(off_target(p.output, lang) for p in predictions) / n if n and lang else None,
        "tokens_per_s": throughput.get("tokens_per_s"),
        "wall_s": throughput.get("wall_s"),
    }


def _pct(share: float | None) -> str:
    return "–" if share is None else f"{100 * share:.0f} %"


def _num(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _cell(score: Mapping | None) -> str:
    if score is None:
        return "–"
    return f"{score['value']:.2f} [{score['ci_low']:.2f}, {score['ci_high']:.2f}]"


def table_rows(manifest: Mapping, scores_doc: Mapping):
    """(task, metrics, rows) per task in config order; rows in config model order."""
    by_key = {(s["model"], s["task"], s["metric"]): s for s in scores_doc["scores"]}
    summary = {(s["model"], s["task"]): s for s in scores_doc["summary"]}
    model_order = list(manifest["models"])
    for task, info in manifest["tasks"].items():
        metrics = info["metrics"]
        rows = []
        for model in model_order:
            if (model, task) not in summary:
                continue
            rows.append({
                "model": model,
                "role": manifest["models"][model]["role"],
                "summary": summary[(model, task)],
                "scores": {m: by_key.get((model, task, m)) for m in metrics},
                "not_scored": summary[(model, task)].get("not_scored"),
            })
        yield task, metrics, rows


def render_markdown(manifest: Mapping, scores_doc: Mapping) -> str:
    from harness.tasks import TASKS

    git = manifest.get("git_commit")
    commit = f", git {git[:10]}{' (with local changes)' if manifest.get('git_dirty') else ''}" if git else ""
    lines = [
        f"# Results: {manifest['run']}",
        "",
        f"Dataset `{manifest['dataset']['path']}` (MANIFEST sha256 `{manifest['dataset']['manifest_sha256'][:16]}…`), "
        f"harness {manifest['harness_version']}{commit}, finished {manifest['finished']}.",
        "Scores on a 0–100 scale with their 95 % bootstrap confidence interval in brackets. "
        f"Post-processing: {', '.join(r['name'] for r in manifest['postprocess_rules']) or 'none'}.",
    ]
    for task, metrics, rows in table_rows(manifest, scores_doc):
        if not rows:
            continue
        info = manifest["tasks"][task]
        lines += ["", f"## {task}: {TASKS[task].description if task in TASKS else ''}", ""]
        header = ["model", "role", "n", *metrics, "truncated", "hit max tokens", "off-target", "tokens/s"]
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "|".join("---" if i < 2 else "---:" for i in range(len(header))) + "|")
        for row in rows:
            s = row["summary"]
            cells = [row["model"], row["role"], str(s["n"])]
            if row["not_scored"]:
                cells += ["not scored"] + ["–"] * (len(metrics) - 1)
            else:
                cells += [_cell(row["scores"][m]) for m in metrics]
            cells += [_pct(s["truncated_share"]), _pct(s["max_tokens_share"]), _pct(s.get("off_target_share")),
                      _num(s["tokens_per_s"], 1)]
            lines.append("| " + " | ".join(cells) + " |")
        signatures = {}
        for row in rows:
            for m in metrics:
                if row["scores"][m]:
                    signatures.setdefault(row["scores"][m]["signature"], []).append(row["model"])
        lines += ["", "Signatures:"]
        for signature, models in signatures.items():
            lines.append(f"- `{signature}`" + ("" if len(models) == len(rows) else f" ({', '.join(models)})"))
        notes = []
        for row in rows:
            if row["role"] == "ceiling":
                notes.append(f"{row['model']} is reference B scored against reference A alone (the human-agreement "
                             "ceiling); every other row is scored against all references.")
            if row["not_scored"]:
                notes.append(f"{row['model']} was not scored: {row['not_scored']}")
        if info.get("missing_references"):
            ids = info["missing_references"]
            notes.append(f"{len(ids)} item(s) left out for missing references: {', '.join(ids)}.")
        if notes:
            lines += ["", "Notes:"] + [f"- {n}" for n in notes]
    return "\n".join(lines) + "\n"


def render_csv(manifest: Mapping, scores_doc: Mapping) -> str:
    tables = list(table_rows(manifest, scores_doc))
    all_metrics = list(dict.fromkeys(m for _, metrics, _ in tables for m in metrics))
    header = ["task", "model", "role", "n"]
    for m in all_metrics:
        header += [m, f"{m}_ci_low", f"{m}_ci_high"]
    header += ["truncated_share", "max_tokens_share", "off_target_share", "tokens_per_s", "wall_s"]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)

    def fmt(v):
        return "" if v is None else (f"{v:.4f}" if isinstance(v, float) else v)

    for task, metrics, rows in tables:
        for row in rows:
            s = row["summary"]
            out = [task, row["model"], row["role"], s["n"]]
            for m in all_metrics:
                score = row["scores"].get(m)
                out += [fmt(score["value"]), fmt(score["ci_low"]), fmt(score["ci_high"])] if score else ["", "", ""]
            out += [fmt(s["truncated_share"]), fmt(s["max_tokens_share"]), fmt(s.get("off_target_share")),
                    fmt(s["tokens_per_s"]), fmt(s["wall_s"])]
            writer.writerow(out)
    return buf.getvalue()
