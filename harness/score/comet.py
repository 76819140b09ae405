"""COMET (Rei et al. 2020) for users who have it, run in their own environment.

unbabel-comet cannot live in this project's environment (it pins numpy<2 and transformers<5) and
its checkpoints come from the Hub, so the harness does not import it. The user names a Python
interpreter that has `comet` installed and a model (a Hub name such as Unbabel/wmt22-comet-da or
Unbabel/wmt22-cometkiwi-da, or a local `.ckpt` path):

    metric_settings:                 # run config, top level (docs/scoring.md)
      comet: {python: /path/to/venv/bin/python, model: Unbabel/wmt22-comet-da}

    harness score --task translate_zh_en --metric comet --src src.txt --hyp out.txt --ref ref.txt \\
        --comet-python /path/to/venv/bin/python --comet-model Unbabel/wmt22-comet-da

Protocol: the harness writes a JSON request (model, src, mt, ref lists) to a temporary folder and
runs a copy of `harness/score/comet_driver.py` with that interpreter; the driver imports comet, loads the
model, predicts and writes a JSON response (scores, the model, the comet version it ran, whether
the model read references). Reference-free models (CometKiwi) are run without references. A
missing interpreter, a missing checkpoint or a crash is one line and exit code 2.

Per item the statistic is 100 × the segment score (COMET's own scale × 100; not bounded to
0–100); the corpus value is the mean, so the bootstrap CIs and paired tests apply. With several
references per item each is scored and the item keeps the highest.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from harness.errors import HarnessError
from harness.io import read_json
from harness.score.base import Metric

DRIVER = Path(__file__).with_name("comet_driver.py")


class Comet(Metric):
    """COMET segment scores × 100 through the user's interpreter (see the module docstring)."""

    name = "comet"

    def __init__(self, lang: str, *, python: str | None = None, model: str | None = None,
                 sources: Sequence[str] | None = None, batch_size: int = 16, gpus: int | None = None) -> None:
        self.lang = lang
        self.python = python
        self.model = model
        self.sources = None if sources is None else list(sources)
        self.batch_size = batch_size
        self.gpus = gpus
        self.ran: dict | None = None  # the driver's report of the last run (model, version, references)

    def with_sources(self, sources: Sequence[str]) -> Comet:
        return Comet(self.lang, python=self.python, model=self.model, sources=sources,
                     batch_size=self.batch_size, gpus=self.gpus)

    def _check_settings(self) -> None:
        if not self.python or not self.model:
            raise HarnessError("comet: needs python: (an interpreter with unbabel-comet) and model: "
                               "(metric_settings.comet in the run config, or --comet-python/--comet-model)")
        python = Path(self.python).expanduser()
        if not python.is_file() or not os.access(python, os.X_OK):
            raise HarnessError(f"comet: python {self.python} not found or not executable")

    def item_stats(self, hypotheses, references) -> np.ndarray:
        self._check_settings()
        if self.sources is None:
            raise HarnessError("comet: needs the source texts (--src FILE for harness score)")
        if len(self.sources) != len(hypotheses):
            raise HarnessError(f"comet: {len(self.sources)} sources but {len(hypotheses)} hypotheses")
        columns = [list(c) for c in zip(*references)]
        first = self._run(list(hypotheses), columns[0])
        if not self.ran["uses_reference"]:
            return 100 * first[:, None]
        scores = [first] + [self._run(list(hypotheses), column) for column in columns[1:]]
        return 100 * np.max(np.stack(scores), axis=0)[:, None]

    def _run(self, hypotheses: list[str], references: list[str]) -> np.ndarray:
        request = {"model": self.model, "src": self.sources, "mt": hypotheses, "ref": references,
                   "batch_size": self.batch_size, "gpus": self.gpus}
        with tempfile.TemporaryDirectory(prefix="harness-comet-") as tmp:
            request_path, response_path = Path(tmp) / "request.json", Path(tmp) / "response.json"
            request_path.write_text(json.dumps(request, ensure_ascii=False), encoding="utf-8")
            # run a copy: the script's folder is sys.path[0], and next to the original lies our own comet.py
            driver = Path(tmp) / DRIVER.name
            shutil.copyfile(DRIVER, driver)
            try:
                proc = subprocess.run([str(Path(self.python).expanduser()), str(driver), str(request_path), str(response_path)],
                                      capture_output=True, text=True, errors="replace")
            except OSError as e:
                raise HarnessError(f"comet: cannot run {self.python} ({e.strerror})") from None
            response = None
            if response_path.is_file():
                try:
                    response = read_json(response_path)
                except HarnessError:  # half-written or garbage: reported below from the driver's stderr
                    response = None
        if isinstance(response, dict) and "error" in response:
            raise HarnessError(f"comet: {response['error']}")
        if proc.returncode != 0 or not isinstance(response, dict):
            lines = [line for line in proc.stderr.splitlines() if line.strip()]
            last = lines[-1].strip() if lines else f"exit code {proc.returncode}"
            raise HarnessError(f"comet: the driver failed under {self.python}: {last}")
        scores = response.get("scores")
        if not isinstance(scores, list) or len(scores) != len(hypotheses):
            raise HarnessError(f"comet: the driver returned {len(scores) if isinstance(scores, list) else 'no'} scores "
                               f"for {len(hypotheses)} items")
        self.ran = {k: response.get(k) for k in ("model", "comet_version", "uses_reference")}
        return np.asarray(scores, dtype=np.float64)

    def values(self, sums: np.ndarray, n: int) -> np.ndarray:
        return np.atleast_2d(sums)[:, 0] / n

    def item_values(self, stats: np.ndarray) -> np.ndarray:
        return stats[:, 0].copy()

    def signature(self, n_refs: int) -> str:
        ran = self.ran or {}
        refs = f"refs:{n_refs}|multiref:max" if ran.get("uses_reference", True) else "refs:none"
        return (f"comet|model:{self.model}|comet:{ran.get('comet_version', 'not-run')}|{refs}"
                f"|src:yes|scale:x100|agg:mean")

    def __repr__(self) -> str:
        return f"Comet(lang={self.lang!r}, model={self.model!r})"
