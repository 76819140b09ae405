"""The data every layer exchanges about one generation: a task's `Prompt`, the `Request` for one
item, the `Rendered` text a model receives, the `Completion` it returns and the
`GenerationSettings` it decodes with, plus the stop-string helpers.

A neutral module (HELM keeps `Prompt` and `Request` the same way): tasks build prompts, the
generation session renders and fits them, backends complete them, the run records them; none of
those layers needs another to name these types.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

STOP_REASONS = ("eos", "max_new_tokens", "stop", "none")


@dataclass(frozen=True)
class Prompt:
    """A task's prompt in both forms; the backend picks the one its model takes."""

    messages: tuple[tuple[str, str], ...]  # (role, content) pairs for chat models
    plain: str  # the same request as plain text, for base models and `chat_template: none`
    #: Strings that end an answer in the plain form: the start of a next block ("\nChinese:"),
    #: which a base model reading k-shot blocks goes on to write after its answer.
    plain_stop: tuple[str, ...] = ()
    source: str = ""  # the (possibly truncated) source alone, for translation-only models (Marian, NLLB)


@dataclass(frozen=True)
class Request:
    """One item to generate for."""

    id: str  # the item id (document, segment or paragraph id)
    prompt: Prompt
    source: str  # the item's source text; baselines read it, models get it only through the prompt
    references: tuple[str, ...] = ()  # read only by the `reference` baseline (reference agreement)
    max_new_tokens: int = 256
    task: str = ""  # the task name, for backends whose output depends on it (the `file` backend)
    lead_source: str = ""  # what the `lead` baseline reads instead of the source, when the task names it


@dataclass(frozen=True)
class Rendered:
    """A request after rendering and fitting into the context: what the model really receives."""

    request: Request
    text: str  # the exact string given to the model (chat template applied, or plain)
    input_tokens: int  # tokens of `text` under the model's tokenizer (0 for baselines)
    truncated: bool  # True when the source was cut to fit the context


@dataclass(frozen=True)
class Completion:
    id: str
    raw: str  # the model's text before any post-processing
    output_tokens: int  # 0 for baselines
    stop_reason: str  # one of STOP_REASONS
    latency_s: float  # wall time of the batch this completion came from, divided by its size


@dataclass(frozen=True)
class GenerationSettings:
    do_sample: bool = False
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int = 0
    stop: tuple[str, ...] = ()


def with_stops(settings: GenerationSettings, stops: Sequence[str]) -> GenerationSettings:
    """`settings` with `stops` added after its own (each string once, order kept)."""
    merged = tuple(dict.fromkeys((*settings.stop, *stops)))
    return settings if merged == settings.stop else replace(settings, stop=merged)


def with_plain_stops(settings: GenerationSettings, batch: Sequence[Rendered]) -> GenerationSettings:
    """`settings` plus the plain prompts' own stop strings, for a batch rendered in plain form."""
    return with_stops(settings, [s for rendered in batch for s in rendered.request.prompt.plain_stop])
