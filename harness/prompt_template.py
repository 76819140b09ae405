"""A task's prompt template: instruction, input and output patterns, and how they become a
`Prompt` in both forms (plain text for base models, chat turns for instruction models)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, field_validator

from harness.io import sha256_json
from harness.request import Prompt


class PromptTemplate(BaseModel):
    """A task prompt. `input` shows an item's source (`{source}`), `output` an answer (`{target}`,
    at its end). The plain form is: instruction, the shots, the item's input and the output label;
    the chat form puts the instruction and input in a user turn and shots as earlier turns.

    `order: source_first` puts the instruction after the item's input (in the plain form and in the
    user turn): two tasks whose prompts then start with the same text up to the end of the source
    share its evaluation on an engine that reuses prompt prefixes (`share_sources`,
    harness.generate.llama_batch). Shots keep instruction-first turns."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    version: str
    system: str | None = None
    instruction: str
    input: str
    output: str
    order: Literal["instruction_first", "source_first"] = "instruction_first"

    @field_validator("version", "instruction")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value

    @field_validator("input")
    @classmethod
    def _has_source(cls, value: str) -> str:
        if value.count("{source}") != 1:
            raise ValueError("must contain {source} exactly once")
        return value

    @field_validator("output")
    @classmethod
    def _ends_with_target(cls, value: str) -> str:
        if value.count("{target}") != 1 or not value.endswith("{target}"):
            raise ValueError("must end with {target} (and contain it once)")
        return value

    @property
    def sha256(self) -> str:
        # the default order is left out, so templates written before it existed keep their hash
        # (and every cached completion its key)
        dump = self.model_dump()
        if dump["order"] == "instruction_first":
            del dump["order"]
        return sha256_json(dump)

    def _input(self, source: str) -> str:
        return self.input.replace("{source}", source)

    def _answer(self, target: str) -> str:
        return self.output.replace("{target}", target)

    def build(self, source: str, shots: Sequence[tuple[str, str]] = ()) -> Prompt:
        """The item's prompt in both forms; `shots` are (source, answer) pairs from other documents."""
        cue = self.output[: -len("{target}")].rstrip()
        instruction = self.instruction.strip()
        source_first = self.order == "source_first"
        blocks = [] if source_first else [instruction]
        blocks += [f"{self._input(s)}\n{self._answer(a)}" for s, a in shots]
        blocks += [self._input(source), f"{instruction}\n{cue}"] if source_first else [f"{self._input(source)}\n{cue}"]
        plain = "\n\n".join(blocks)

        messages: list[tuple[str, str]] = []
        if self.system:
            messages.append(("system", self.system))
        turns = [*shots, (source, None)]
        for n, (s, answer) in enumerate(turns):
            user = self._input(s)
            if source_first and answer is None:
                user = f"{user}\n\n{instruction}"
            elif n == 0:
                user = f"{instruction}\n\n{user}"
            messages.append(("user", user))
            if answer is not None:
                messages.append(("assistant", answer))
        label = self.input[: self.input.index("{source}")].strip()  # "Chinese:", "文章："
        return Prompt(messages=tuple(messages), plain=plain, plain_stop=(f"\n{label}",) if label else (), source=source)
