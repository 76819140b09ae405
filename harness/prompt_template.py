"""A task's prompt template: instruction, input and output patterns, and how they become a
`Prompt` in both forms (plain text for base models, chat turns for instruction models)."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, field_validator

from harness.io import sha256_json
from harness.request import Prompt


class PromptTemplate(BaseModel):
    """A task prompt. `input` shows an item's source (`{source}`), `output` an answer (`{target}`,
    at its end). The plain form is: instruction, the shots, the item's input and the output label;
    the chat form puts the instruction and input in a user turn and shots as earlier turns."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    version: str
    system: str | None = None
    instruction: str
    input: str
    output: str

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
        return sha256_json(self.model_dump())

    def _input(self, source: str) -> str:
        return self.input.replace("{source}", source)

    def _answer(self, target: str) -> str:
        return self.output.replace("{target}", target)

    def build(self, source: str, shots: Sequence[tuple[str, str]] = ()) -> Prompt:
        """The item's prompt in both forms; `shots` are (source, answer) pairs from other documents."""
        cue = self.output[: -len("{target}")].rstrip()
        blocks = [self.instruction.strip()]
        blocks += [f"{self._input(s)}\n{self._answer(a)}" for s, a in shots]
        blocks.append(f"{self._input(source)}\n{cue}")
        plain = "\n\n".join(blocks)

        messages: list[tuple[str, str]] = []
        if self.system:
            messages.append(("system", self.system))
        turns = [*shots, (source, None)]
        for n, (s, answer) in enumerate(turns):
            user = self._input(s)
            messages.append(("user", f"{self.instruction.strip()}\n\n{user}" if n == 0 else user))
            if answer is not None:
                messages.append(("assistant", answer))
        label = self.input[: self.input.index("{source}")].strip()  # "Chinese:", "文章："
        return Prompt(messages=tuple(messages), plain=plain, plain_stop=(f"\n{label}",) if label else (), source=source)
