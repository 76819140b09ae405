"""Kill-and-resume: a run SIGKILLed at random points several times and restarted ends with the same
predictions and scores as an uninterrupted run, and regenerates nothing that was committed."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from harness.generate.cache import FILENAME
from helpers.results import without_timing

CONFIG = """\
run: resume
dataset: {data}
seed: 0
tasks:
  - task: translate_en_zh
    limit: 50
  - task: summarize_zh
models:
  - {{name: slow-copy, backend: baseline, kind: copy, delay_s: 0.03, tasks: [translate_en_zh]}}
  - {{name: slow-lead, backend: baseline, kind: lead, n: 2, delay_s: 0.03}}
"""
TOTAL = 50 + 50 + 5


def start(config: Path, cache: Path, results: Path, root: Path) -> subprocess.Popen:
    env = {**os.environ, "HARNESS_CACHE": str(cache)}
    return subprocess.Popen([sys.executable, "-m", "harness.cli", "run", str(config), "--results", str(results),
                             "--quiet"], cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def committed(cache: Path) -> int:
    path = cache / FILENAME
    if not path.exists():
        return 0
    db = sqlite3.connect(path, timeout=30)
    try:
        return db.execute("SELECT COUNT(*) FROM completions").fetchone()[0]
    except sqlite3.OperationalError:  # the table is being created
        return 0
    finally:
        db.close()


def finish(proc: subprocess.Popen) -> str:
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return out


def test_killed_runs_resume_to_the_uninterrupted_result(tmp_path, root):
    config = tmp_path / "resume.yaml"
    config.write_text(CONFIG.format(data=root / "data"), encoding="utf-8")

    finish(start(config, tmp_path / "cache-a", tmp_path / "a", root))
    uninterrupted = tmp_path / "a" / "resume"

    cache, results = tmp_path / "cache-b", tmp_path / "b"
    rng = np.random.default_rng(7)
    kills = []
    for _ in range(3):
        before = committed(cache)
        proc = start(config, cache, results, root)
        deadline = time.monotonic() + 60
        while committed(cache) <= before and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)  # wait until this run has committed something new…
        time.sleep(rng.uniform(0.0, 0.3))  # …then kill it at a random moment
        assert proc.poll() is None, "the run finished before it could be killed; make it slower"
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        kills.append(committed(cache))
        assert not (results / "resume").exists()  # a killed run leaves no results folder behind
    assert kills == sorted(kills) and 0 < kills[-1] < TOTAL

    rows_before = committed(cache)
    out = finish(start(config, cache, results, root))
    manifest = json.loads((results / "resume" / "manifest.json").read_text())
    assert manifest["cache"]["hits"] == rows_before  # everything committed was reused…
    assert manifest["cache"]["misses"] == TOTAL - rows_before  # …and only the rest generated
    assert committed(cache) == TOTAL
    assert "slow-lead (baseline): 2 task(s), 55 items" in out
    assert not list(results.glob(".resume.*"))  # no staging folders left over

    assert without_timing(results / "resume") == without_timing(uninterrupted)
    # cached latencies are the ones measured when each item was generated
    rerun_cache = finish(start(config, cache, tmp_path / "c", root))
    assert "55 items (55 cached, 0 generated)" in rerun_cache
    for path in (results / "resume" / "predictions").rglob("*.jsonl"):
        assert (tmp_path / "c" / "resume" / path.relative_to(results / "resume")).read_bytes() == path.read_bytes()
