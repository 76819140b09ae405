"""A scripted judge backend: its answer to a prompt is the first `answers` entry whose key (a regular
expression) is found in the rendered prompt, else `default`. Tests build a model entry for the generation session
with `entry(...)`, or `register(monkeypatch)` it as `backend: scripted` for run configs."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

from harness.generate import registry
from harness.generate.base import Backend
from harness.request import Completion, GenerationSettings, Rendered


class ScriptedSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    answers: dict[str, str] = {}
    default: str = ""
    weights: str = "w1"  # stands for the weights hash (part of the identity)
    context_length: int | None = None


class Scripted(Backend):
    def __init__(self, settings: ScriptedSettings):
        self.settings = settings
        self.context_length = settings.context_length
        self.generated: list[str] = []  # request ids, in order

    def identity(self) -> dict:
        return {"engine": "scripted", "model": "scripted-judge", "weights": self.settings.weights}

    def count_tokens(self, text: str) -> int:
        return len(text)

    def generate(self, batch: Sequence[Rendered], settings: GenerationSettings) -> Iterator[Completion]:
        for r in batch:
            self.generated.append(r.request.id)
            raw = next((a for k, a in self.settings.answers.items() if re.search(k, r.text)), self.settings.default)
            yield Completion(id=r.request.id, raw=raw, output_tokens=len(raw), stop_reason="eos", latency_s=0.01)


def load(settings: ScriptedSettings) -> Scripted:
    return Scripted(settings)


SPEC = registry.BackendSpec(f"{__name__}:ScriptedSettings", f"{__name__}:load")


@dataclass(frozen=True)
class Entry:
    """A model entry as the generation session reads it (harness.generate.session.ModelEntry)."""

    name: str
    settings: ScriptedSettings
    backend: str = "scripted"

    @property
    def spec(self) -> registry.BackendSpec:
        return SPEC


def entry(name: str = "judge", **settings) -> Entry:
    return Entry(name, ScriptedSettings(**settings))




def register(monkeypatch) -> None:
    """Makes `backend: scripted` usable in a run config, for tests through the CLI."""
    monkeypatch.setitem(registry.BACKENDS, "scripted", SPEC)
