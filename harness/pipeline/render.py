"""`harness render`: the exact strings each model receives, nothing generated."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from harness.config import RunConfig
from harness.pipeline.plan import plan_run
from harness.pipeline.run import open_session
from harness.request import Rendered


@dataclass(frozen=True)
class RenderedView:
    model: str
    task: str
    item_id: str
    rendered: Rendered
    note: str | None  # how the source was truncated, None when it fits
    context_length: int | None
    reads_prompt: bool


def render_prompts(config: RunConfig, *, model: str | None = None, task: str | None = None,
                   n: int = 3) -> Iterator[RenderedView]:
    """The exact strings each model receives for the first `n` items of each task."""
    plan = plan_run(config)
    for m in plan.models:
        if model is not None and m.name != model:
            continue
        backend = m.spec.load(m.config.settings)
        try:
            session = open_session(plan, m, backend)
            for t in m.tasks:
                if task is not None and t != task:
                    continue
                for item in plan.tasks[t].items[:n]:
                    rendered, note = session.fit(plan.tasks[t], item)
                    yield RenderedView(m.name, t, item.id, rendered, note, backend.context_length,
                                       reads_prompt=not m.spec.reads)
        finally:
            backend.close()
