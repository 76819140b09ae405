"""What both engines of the `gguf` backend share about a catalogue model: identity, prompt, stops.

Both engines get the same string: chat models get their own chat template (read from the GGUF
file, rendered by `harness.generate.chat_template`), base models the plain prompt; both end answers
at the catalogue's stop strings, and plain prompts at their own too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from harness.generate.catalogue import CatalogueModel
from harness.generate.chat_template import render_chat
from harness.generate.gguf_files import GGUFMetadata
from harness.io import sha256_text
from harness.request import GenerationSettings, Prompt, Rendered, with_plain_stops, with_stops


@dataclass
class GGUFModel:
    """A verified catalogue model as one engine runs it (`load_s` is set once it has loaded)."""

    entry: CatalogueModel
    meta: GGUFMetadata
    engine: str  # "llama.cpp" or "transformers"
    n_ctx: int
    load_s: float = 0.0

    @property
    def chat_template(self) -> str | None:
        return self.meta.chat_template if self.entry.prompt_style == "chat" else None

    def identity(self) -> dict:
        """The engine-independent part of the identity; each engine adds its versions."""
        return {
            "backend": "gguf",
            "model": self.entry.name,
            "gguf_sha256": self.entry.sha256,
            "engine": self.engine,
            "n_ctx": self.n_ctx,
            "prompt_style": self.entry.prompt_style,
            "model_stop": list(self.entry.stop),
            "chat_template_sha256": sha256_text(self.chat_template) if self.chat_template else None,
        }

    def details(self) -> dict:
        """The engine-independent part of `info()`."""
        return {
            "model": self.entry.name,
            "gguf_sha256": self.entry.sha256,
            "gguf_name": self.meta.name,
            "trained_context_length": self.meta.context_length,
            "n_ctx": self.n_ctx,
            "prompt_style": self.entry.prompt_style,
            "load_s": round(self.load_s, 2),
        }

    def render(self, prompt: Prompt) -> str:
        if self.chat_template is None:
            return prompt.plain
        return render_chat(self.chat_template, prompt.messages)

    def stops(self, settings: GenerationSettings, batch: Sequence[Rendered]) -> GenerationSettings:
        """`settings` with the model's stop strings, and a plain prompt's own."""
        settings = with_stops(settings, self.entry.stop)
        return settings if self.chat_template is not None else with_plain_stops(settings, batch)
