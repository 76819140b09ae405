"""Reading a results folder the way the run tests compare them."""

from __future__ import annotations

import json
from pathlib import Path


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def without_timing(folder: Path) -> dict[str, str]:
    """Every file of a results folder, minus what measures time (latency, wall, dates)."""
    out = {}
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.name == "manifest.json":
            continue
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".jsonl":
            text = "".join(json.dumps({k: v for k, v in row.items() if k != "latency_s"}, ensure_ascii=False) + "\n"
                           for row in lines(path))
        elif path.name == "scores.json":
            doc = json.loads(text)
            doc.pop("created")
            for row in doc["summary"]:
                row.pop("wall_s")
                row.pop("tokens_per_s")
            text = json.dumps(doc, ensure_ascii=False)
        elif path.suffix == ".md":
            text = "\n".join(line for line in text.splitlines() if not line.startswith("Dataset `"))
        elif path.suffix == ".csv":
            text = "\n".join(",".join(line.split(",")[:-1]) for line in text.splitlines())  # drop wall_s
        out[str(path.relative_to(folder))] = text
    return out
