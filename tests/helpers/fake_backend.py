"""A tiny deterministic model backend for pipeline tests: one token per character, an optional
context limit and chat rendering, and an identity whose `weights` the tests change.

Tests register it with `register(monkeypatch)` as backend `echo`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from pydantic import BaseModel, ConfigDict

from harness.generate import registry
from harness.generate.base import Backend
from harness.request import Completion, GenerationSettings, Prompt, Rendered


class EchoSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    weights: str = "w1"  # stands for the weights hash
    context_length: int | None = None
    chat: bool = False  # render Prompt.messages instead of Prompt.plain
    prefix: str = ""  # an output-changing setting
    batch_size: int = 1  # declared cache-neutral when registered


class Echo(Backend):
    def __init__(self, settings: EchoSettings):
        self.settings = settings
        self.context_length = settings.context_length
        self.generated: list[str] = []

    def identity(self) -> dict:
        return {"engine": "echo", "weights": self.settings.weights}

    def render(self, prompt: Prompt) -> str:
        if not self.settings.chat:
            return prompt.plain
        return "".join(f"<{role}>{content}</{role}>" for role, content in prompt.messages) + "<assistant>"

    def count_tokens(self, text: str) -> int:
        return len(text)

    def generate(self, batch: Sequence[Rendered], settings: GenerationSettings) -> Iterator[Completion]:
        for r in batch:
            self.generated.append(r.request.id)
            body = r.text[-min(40, r.request.max_new_tokens):]
            raw = self.settings.prefix + body
            reason = "max_new_tokens" if len(body) == r.request.max_new_tokens else "eos"
            yield Completion(id=r.request.id, raw=raw, output_tokens=len(raw), stop_reason=reason, latency_s=0.01)


def load(settings: EchoSettings) -> Echo:
    return Echo(settings)


def register(monkeypatch) -> None:
    spec = registry.BackendSpec(f"{__name__}:EchoSettings", f"{__name__}:load", cache_neutral=frozenset({"batch_size"}))
    monkeypatch.setitem(registry.BACKENDS, "echo", spec)
