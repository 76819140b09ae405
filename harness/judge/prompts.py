"""Judge prompts: versioned YAML files (`harness/judge/prompts/<name>.yaml`, or a user's file).

A prompt file says what it asks (`kind`: `mqm`, `rating` or `pairwise`), the form's field for
ratings and preferences (`Faithfulness`, `Preferred`), the answer budget, and the text: `system`
and `user` with placeholders `{source}`, `{hypothesis}` (`{hypothesis_a}`, `{hypothesis_b}` for
pairwise), and optionally `{reference}`, `{source_lang}`, `{target_lang}`. `sha256` (of the
parsed prompt, so comments may change) and `version` join the judge's signature and the cache key.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from harness.errors import ConfigError
from harness.io import sha256_json
from harness.metric_table import LANGUAGES
from harness.registry import did_you_mean
from harness.request import Prompt
from harness.yaml_source import first_error, read_yaml

PROMPT_DIR = Path(__file__).parent / "prompts"
BUILTIN = tuple(sorted(p.stem for p in PROMPT_DIR.glob("*.yaml")))
PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
OPTIONAL = frozenset({"reference", "source_lang", "target_lang"})
REQUIRED = {
    "mqm": frozenset({"source", "hypothesis"}),
    "rating": frozenset({"source", "hypothesis"}),
    "pairwise": frozenset({"source", "hypothesis_a", "hypothesis_b"}),
}
#: The cue that ends the plain form (base models and `chat_template: none`).
PLAIN_CUE = "Answer:"


class JudgePrompt(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    name: str = Field(pattern=r"^[A-Za-z0-9._-]+$")
    version: str = Field(min_length=1)
    kind: Literal["mqm", "rating", "pairwise"]
    field: str | None = Field(None, description="rating/pairwise: the form's field name, e.g. Faithfulness")
    max_new_tokens: int = Field(ge=1, le=4096)
    system: str | None = None
    user: str = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self):
        if (self.kind == "mqm") != (self.field is None):
            raise ValueError("`field` is required for rating and pairwise prompts and not taken by mqm")
        used = set(PLACEHOLDER.findall(self.user)) | set(PLACEHOLDER.findall(self.system or ""))
        missing = REQUIRED[self.kind] - used
        if missing:
            raise ValueError(f"user: a {self.kind} prompt needs {{{', '.join(sorted(missing))}}}")
        unknown = used - REQUIRED[self.kind] - OPTIONAL
        if unknown:
            raise ValueError(f"unknown placeholder {{{sorted(unknown)[0]}}} (known: "
                             f"{', '.join(sorted(REQUIRED[self.kind] | OPTIONAL))})")
        return self

    @property
    def sha256(self) -> str:
        return sha256_json(self.model_dump())

    @property
    def label(self) -> str:
        """`mqm-v1@sha256=0123456789ab`: how the signature names the prompt."""
        return f"{self.name}-v{self.version}@sha256={self.sha256[:12]}"

    def build(self, fields: dict[str, str]) -> Prompt:
        """The prompt with `fields` filled in, in one pass (a field's text is never re-read as a
        placeholder); chat form: system + user turn; plain form: the same text and the cue."""
        def fill(text: str) -> str:
            return PLACEHOLDER.sub(lambda m: fields[m.group(1)], text)

        user = fill(self.user)
        messages = ((("system", fill(self.system)),) if self.system else ()) + (("user", user),)
        plain = "\n\n".join([*(c for r, c in messages if r == "system"), user, PLAIN_CUE])
        return Prompt(messages=messages, plain=plain, source=fields["source"])


def language_fields(source_lang: str, target_lang: str) -> dict[str, str]:
    return {"source_lang": LANGUAGES[source_lang], "target_lang": LANGUAGES[target_lang]}


def load_prompt(spec: str) -> JudgePrompt:
    """A built-in prompt by name (`mqm`, `faithfulness`, `coverage`, `pairwise`) or a YAML file."""
    if spec in BUILTIN:
        path = PROMPT_DIR / f"{spec}.yaml"
    elif spec.endswith((".yaml", ".yml")):
        path = Path(spec)
        if not path.is_file():
            raise ConfigError(f"judge prompt {spec}: no such file")
    else:
        raise ConfigError(f"judge prompt '{spec}': not a built-in prompt ({', '.join(BUILTIN)}) nor a .yaml "
                          f"file{did_you_mean(spec, BUILTIN)}")
    data, source = read_yaml(path, "judge prompt")
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a judge prompt is a mapping (name, version, kind, max_new_tokens, user, ...)")
    try:
        return JudgePrompt.model_validate(data)
    except ValidationError as e:
        raise first_error(e, source, JudgePrompt) from None
