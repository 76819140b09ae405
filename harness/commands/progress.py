"""`harness run`'s display: rich progress bars per model × task (stderr), notes and one summary
line per model. The pipeline reports through `RunReporter`; this is the implementation the
command passes in. Not a command: it registers nothing."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from harness.pipeline.plan import ModelPlan
from harness.pipeline.run import ProgressBar, RunReporter, TaskRun

if TYPE_CHECKING:
    from rich.progress import Progress


@dataclass
class RichBar(ProgressBar):
    progress: Progress
    task_id: int
    started: float = field(default_factory=time.perf_counter)
    tokens: int = 0

    def advance(self, items: int, tokens: int) -> None:
        self.tokens += tokens
        elapsed = time.perf_counter() - self.started
        rate = f"{self.tokens / elapsed:,.0f} tok/s" if self.tokens and elapsed > 0 else ""
        self.progress.update(self.task_id, advance=items, rate=rate)


class RichReporter(RunReporter):
    """Bars unless `quiet`; notes and the per-model summaries always."""

    def __init__(self, quiet: bool):
        from rich.console import Console  # heavy: only `harness run` draws

        self.quiet = quiet
        self.console = Console(stderr=True, highlight=False)
        self.out = Console(highlight=False, soft_wrap=True)
        self._progress = None

    def __enter__(self):
        if not self.quiet:
            from rich.progress import (  # heavy: only `harness run` draws
                BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn,
            )

            self._progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                      TextColumn("{task.fields[rate]}"), TimeRemainingColumn(),
                                      console=self.out)
            self._progress.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self._progress is not None:
            self._progress.__exit__(*exc)
            self._progress = None

    def bar(self, description: str, total: int) -> ProgressBar:
        if self._progress is None:
            return ProgressBar()
        return RichBar(self._progress, self._progress.add_task(description, total=total, rate=""))

    def note(self, text: str) -> None:
        self.console.print(f"note: {text}", markup=False)

    def model_done(self, model: ModelPlan, runs: Sequence[TaskRun]) -> None:
        items = sum(len(r.predictions) for r in runs)
        cached = sum(r.cached for r in runs)
        truncated = sum(p.truncated for r in runs for p in r.predictions)
        max_tokens = sum(p.stop_reason == "max_new_tokens" for r in runs for p in r.predictions)
        tokens = sum(r.output_tokens for r in runs)
        wall = sum(r.wall_s for r in runs)
        line = (f"{model.name} ({model.role}): {len(runs)} task(s), {items} items ({cached} cached, "
                f"{items - cached} generated), {truncated} truncated, {max_tokens} hit max_new_tokens, "
                f"{tokens} output tokens, {wall:.1f} s")
        self.out.print(line, markup=False)  # above the live bars when they are shown

    def done(self, folder: Path) -> None:
        self.out.print(f"wrote {folder}/ (results.md, results.csv, scores.json, manifest.json, predictions/)",
                       markup=False)
