"""The one interface every generation backend implements.

The pipeline asks a task for a `Prompt` per item, lets the backend `render` it into the exact
string the model receives (chat template or plain text), fits it into the model's context
(`count_tokens`, truncating the source by a documented rule), then hands batches of `Rendered`
requests to `generate`, which yields one `Completion` per request as it finishes (in any order).
Backends never see the config file, the cache or the results folder.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from harness.request import Completion, GenerationSettings, Prompt, Rendered


@dataclass
class BackendInfo:
    """What a backend reports about itself after loading (goes into the manifest)."""

    engine: str  # e.g. "transformers", "llama.cpp", "openai", "baseline"
    details: dict = field(default_factory=dict)  # e.g. resolved batch size, dtype, device


class Backend(ABC):
    """A loaded model (or baseline) that turns rendered prompts into completions."""

    #: Maximum tokens of prompt + output, or None when the backend has no limit (baselines).
    context_length: int | None = None
    #: True when the backend wants all of a model's tasks in one `generate` call (request ids are
    #: then made unique across tasks by the caller): the llama.cpp engine with `share_sources`.
    combines_tasks: bool = False

    @abstractmethod
    def identity(self) -> dict:
        """JSON-serialisable identity hashed into the cache key: name, revision, weights hash or
        resolved commit, engine and every setting that changes outputs. Never a secret."""

    def render(self, prompt: Prompt) -> str:
        """The exact string the model receives. Default: the plain prompt."""
        return prompt.plain

    def count_tokens(self, text: str) -> int:
        """Tokens of `text` under the model's tokenizer (0 for backends without one)."""
        return 0

    @abstractmethod
    def generate(self, batch: Sequence[Rendered], settings: GenerationSettings) -> Iterator[Completion]:
        """Yield one Completion per rendered request, as they finish. A backend that waits on
        others (a server) may also yield None while nothing finishes: the caller commits then."""

    def info(self) -> BackendInfo:
        return BackendInfo(engine=type(self).__name__)

    def close(self) -> None:
        """Release memory, subprocesses or connections."""
