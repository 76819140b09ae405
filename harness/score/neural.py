"""Settings of the neural metrics (issue 14), shared by `harness score`, run configs and rescore.

Run config, top level (every key optional; see docs/scoring.md):

    metric_settings:
      bertscore: {model: null, layer: null, batch_size: 32}   # null model = bundled multilingual-e5-small
      comet: {python: /path/to/venv/bin/python, model: Unbabel/wmt22-comet-da, batch_size: 16, gpus: null}
      terms: {glossary: my-glossary.yaml}   # null = the project glossary (harness/data/glossary.yaml)

The settings are recorded in the run's manifest (`metric_settings`), so `harness rescore` scores
with the same encoder. COMET and `terms` also need each item's source, which the caller passes here.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from harness.data.glossary import load_glossary
from harness.errors import HarnessError
from harness.score.base import Metric
from harness.score.bertscore import BertScore
from harness.score.comet import Comet
from harness.score.numbers import Numbers
from harness.score.terms import Terms


class BertScoreSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str | None = Field(None, description="a local transformers folder or a Hub id; null: the bundled encoder")
    layer: int | None = Field(None, ge=1, description="hidden layer; null: the encoder's standard layer")
    batch_size: int = Field(32, ge=1)


class CometSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    python: str | None = Field(None, description="an interpreter with unbabel-comet installed")
    model: str | None = Field(None, description="Unbabel/wmt22-comet-da, Unbabel/wmt22-cometkiwi-da, or a .ckpt path")
    batch_size: int = Field(16, ge=1)
    gpus: int | None = Field(None, ge=0, description="null: 1 when the interpreter's torch sees a GPU, else 0")

    @field_validator("python")
    @classmethod
    def _executable(cls, value: str | None) -> str | None:
        # checked when the config is read, not after an hour of generation
        if value is not None and not os.access(os.path.expanduser(value), os.X_OK):
            raise ValueError(f"{value} not found or not executable (an interpreter with unbabel-comet)")
        return value


class TermsSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    glossary: str | None = Field(None, description="a glossary YAML file (docs/scoring.md, \"terms\"); null: the project's")

    @field_validator("glossary")
    @classmethod
    def _readable(cls, value: str | None) -> str | None:
        if value is not None:  # read when the config is read, not after the generation
            try:
                load_glossary(value)
            except HarnessError as e:
                raise ValueError(str(e)) from None
        return value


class MetricSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    bertscore: BertScoreSettings = BertScoreSettings()
    comet: CometSettings = CometSettings()
    terms: TermsSettings = TermsSettings()


def configure(metrics: Sequence[Metric], settings: Mapping | MetricSettings | None, *,
              sources: Sequence[str] | None = None, source_lang: str | Sequence[str] | None = None,
              summary: bool = False) -> list[Metric]:
    """``metrics`` with bertscore/comet/terms replaced by instances built from ``settings``; comet
    and terms get ``sources`` (None leaves them without, and they then say they need them), and so
    does numbers, with the sources' language (one, or one per item) and ``summary`` (a
    summarization task: numbers scores precision only). Only the sections of
    metrics that are present are validated: a run's comet interpreter missing on this machine
    does not stop a rescore without comet."""
    def section(name: str, model: type[BaseModel]):
        if isinstance(settings, MetricSettings):
            return getattr(settings, name)
        raw = (settings or {}).get(name) or {}
        try:
            return model.model_validate({k: v for k, v in raw.items() if v is not None})
        except ValidationError as e:
            first = e.errors()[0]
            where = ".".join(str(p) for p in (name, *first["loc"]))
            raise HarnessError(f"metric settings: {where}: {first['msg'].removeprefix('Value error, ')}") from None

    out: list[Metric] = []
    for m in metrics:
        if isinstance(m, BertScore):
            b = section("bertscore", BertScoreSettings)
            m = BertScore(m.lang, model=b.model, layer=b.layer, batch_size=b.batch_size)
        elif isinstance(m, Comet):
            c = section("comet", CometSettings)
            m = Comet(m.lang, python=c.python, model=c.model, sources=sources, batch_size=c.batch_size, gpus=c.gpus)
        elif isinstance(m, Numbers) and sources is not None and source_lang is not None:
            m = m.with_sources(sources, source_lang, summary=summary)
        elif isinstance(m, Terms):
            m = Terms(m.lang, glossary=section("terms", TermsSettings).glossary, sources=sources)
        out.append(m)
    return out
