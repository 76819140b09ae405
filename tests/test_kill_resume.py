"""Kill test: `harness run` stopped at random (seeded) moments, alternately with SIGKILL and with
SIGINT, then resumed, ends with exactly the results of an uninterrupted run.

Four rounds, each with its own cache, stop the run six times (24 stops, half of each signal) and
then let it finish. A SIGINT stop must end with exit 130 and one line; any stop leaves no results
folder and no staging folder; what was committed is never lost; the resumed run's predictions
(raw and cleaned output, scores, every field but latency) and scores equal the uninterrupted
run's. Baselines with a per-item delay make each attempt a second or two; marked `slow` (CI runs
it: plain `pytest` selects it), about a minute on two cores.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from harness.generate.cache import FILENAME

ROOT = Path(__file__).resolve().parents[1]

CONFIG = """\
run: killed
dataset: {data}
seed: 0
tasks:
  - task: translate_en_zh
    limit: 60
  - task: summarize_zh
models:
  - {{name: slow-copy, backend: baseline, kind: copy, delay_s: 0.02, tasks: [translate_en_zh]}}
  - {{name: slow-lead, backend: baseline, kind: lead, n: 2, delay_s: 0.02}}
"""
TOTAL = 60 + 60 + 5
ROUNDS, STOPS_PER_ROUND = 4, 6


def start(config: Path, cache: Path, results: Path) -> subprocess.Popen:
    env = {**os.environ, "HARNESS_CACHE": str(cache), "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "harness.cli", "run", str(config), "--results", str(results),
                             "--quiet"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def committed(cache: Path) -> int:
    path = cache / FILENAME
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(path, timeout=30) as db:
            return db.execute("SELECT COUNT(*) FROM completions").fetchone()[0]
    except sqlite3.OperationalError:  # the table is being created
        return 0


def results_of(folder: Path) -> dict:
    """Predictions (all fields but latency) and the corpus scores of a results folder."""
    predictions = {}
    for path in sorted((folder / "predictions").rglob("*.jsonl")):
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        predictions[str(path.relative_to(folder))] = [{k: v for k, v in r.items() if k != "latency_s"} for r in rows]
    scores = json.loads((folder / "scores.json").read_text(encoding="utf-8"))["scores"]
    return {"predictions": predictions, "scores": scores}


@pytest.mark.slow
def test_runs_stopped_at_random_moments_resume_to_the_uninterrupted_result(tmp_path):
    config = tmp_path / "killed.yaml"
    config.write_text(CONFIG.format(data=ROOT / "data"), encoding="utf-8")
    reference = start(config, tmp_path / "cache-ref", tmp_path / "ref")
    _, err = reference.communicate(timeout=120)
    assert reference.returncode == 0, err
    expected = results_of(tmp_path / "ref" / "killed")
    assert sum(len(rows) for rows in expected["predictions"].values()) == TOTAL

    rng = np.random.default_rng(13)
    stops = {signal.SIGKILL: 0, signal.SIGINT: 0}
    for round_ in range(ROUNDS):
        cache, results = tmp_path / f"cache-{round_}", tmp_path / f"res-{round_}"
        for attempt in range(STOPS_PER_ROUND):
            sig = signal.SIGINT if (round_ + attempt) % 2 else signal.SIGKILL
            before = committed(cache)
            staged_before = set(results.glob(".killed.*"))
            proc = start(config, cache, results)
            deadline = time.monotonic() + 60
            while committed(cache) <= before and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.01)  # generating now…
            time.sleep(rng.uniform(0.0, 0.25))  # …stop at a random moment
            if proc.poll() is not None:
                break  # it finished first: nothing left to stop in this round
            proc.send_signal(sig)
            _, err = proc.communicate(timeout=60)
            if proc.returncode in (0, -signal.SIGINT) and (results / "killed" / "scores.json").exists():
                # the run had written its results when the signal came (a loaded machine can stretch the
                # random pause past the end of the run); a signal during interpreter shutdown, after the
                # handlers are gone, ends the process by SIGINT: either way nothing was lost or half-written
                break
            stops[sig] += 1
            if sig == signal.SIGINT:
                assert proc.returncode == 130, err
                assert err.count("\n") == 1 and err.startswith("interrupted by SIGINT"), err
            else:
                assert proc.returncode == -signal.SIGKILL
            after = committed(cache)
            assert after >= before  # nothing committed is ever lost
            assert not (results / "killed").exists()  # no results folder from a stopped run
            if sig == signal.SIGINT:  # an interrupted run removes its own staging folder
                assert set(results.glob(".killed.*")) <= staged_before
        rows = committed(cache)
        final = start(config, cache, results)
        _, err = final.communicate(timeout=120)
        assert final.returncode == 0, err
        manifest = json.loads((results / "killed" / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["cache"]["hits"] == rows and manifest["cache"]["misses"] == TOTAL - rows
        assert not list(results.glob(".killed.*"))  # no staging folder left over
        assert results_of(results / "killed") == expected
    assert stops[signal.SIGKILL] + stops[signal.SIGINT] >= 20, stops
    assert min(stops.values()) >= 8, stops
