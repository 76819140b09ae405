"""Baselines that need no model: `lead`, `copy` and `reference`, the reference-agreement row.

- `lead`: the first `n` sentences (or `n` characters with `unit: chars`) of the source: the
  classic lower bound for news summarisation. A task may name another text for it
  (`lead_source`): summarize_passage_en's lead reads the passage's English reference translation,
  the translate-then-lead baseline of cross-lingual summarisation (it uses a reference).
- `copy`: the source itself, a lower bound for translation (and a sanity check of the metrics).
- `reference`: reference B of the item, scored against reference A alone (role `agreement`, shown
  as "reference agreement (B vs A)"): how far the two references' writers agree, labeled with who
  they are (harness.data.provenance); only as meaningful as A and B are independent.

They read the request's source/references, never the prompt (the registry puts those fields in
the cache key).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from harness.errors import HarnessError
from harness.generate.base import Backend, BackendInfo
from harness.request import Completion, GenerationSettings, Rendered
from harness.registry import did_you_mean
from harness.text import sentence_units

BASELINE_KINDS = ("lead", "copy", "reference")


class BaselineSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    kind: str
    n: int | None = Field(None, ge=1, le=1_000_000)  # lead: how many sentences/characters (default 3 sentences)
    unit: Literal["sentences", "chars"] = "sentences"
    #: Test-only: sleep this long per item, to simulate a slow model (kill-and-resume tests).
    #: Never changes outputs, so it is not part of the cache key.
    delay_s: float = Field(0.0, ge=0.0, le=10.0)

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, value: str) -> str:
        if value not in BASELINE_KINDS:
            raise PydanticCustomError("unknown_name", "unknown baseline kind '{kind}'{hint}",
                                      {"kind": value, "hint": did_you_mean(value, BASELINE_KINDS)})
        return value

    @model_validator(mode="after")
    def _lead_only(self):
        if self.kind != "lead" and (self.n is not None or self.unit != "sentences"):
            raise PydanticCustomError("lead_only", "n and unit apply only to kind: lead")
        return self

    @property
    def role(self) -> str:
        return "agreement" if self.kind == "reference" else "baseline"


class Baseline(Backend):
    context_length = None

    def __init__(self, settings: BaselineSettings):
        self.settings = settings

    def identity(self) -> dict:
        s = self.settings
        out = {"engine": "baseline", "kind": s.kind}
        if s.kind == "lead":
            out.update(n=s.n or 3, unit=s.unit)
        return out

    def output(self, rendered: Rendered) -> str:
        request = rendered.request
        kind = self.settings.kind
        if kind == "copy":
            return request.source
        if kind == "reference":
            if len(request.references) < 2:
                raise HarnessError(f"reference baseline: item {request.id} has no second reference to score")
            return request.references[1]
        n = self.settings.n or 3
        text = request.lead_source or request.source  # a task may name what its lead reads (TaskDef.lead_source)
        if self.settings.unit == "chars":
            return text[:n].strip()
        return "".join(sentence_units(text)[:n]).strip()

    def generate(self, batch: Sequence[Rendered], settings: GenerationSettings) -> Iterator[Completion]:
        for rendered in batch:
            start = time.perf_counter()
            if self.settings.delay_s:
                time.sleep(self.settings.delay_s)
            raw = self.output(rendered)
            yield Completion(id=rendered.request.id, raw=raw, output_tokens=0, stop_reason="none",
                             latency_s=time.perf_counter() - start)

    def info(self) -> BackendInfo:
        return BackendInfo(engine="baseline", details=self.identity())


def load(settings: BaselineSettings) -> Baseline:
    return Baseline(settings)
