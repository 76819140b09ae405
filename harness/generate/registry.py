"""Backend name → its settings model and loader: the one table a new backend is added to.

A config's model entry is `{name, backend, tasks?, ...settings}`. The settings (everything but
the common keys) are validated by the backend's pydantic settings model (`extra="forbid"`), and
`load(settings) -> Backend` builds the backend. Both are named as "module:attribute" strings and
imported only when a config uses that backend, so `harness config validate` stays light and one
backend's heavy imports never slow down another.

Adding a backend is one line here, e.g.::

    "gguf": BackendSpec("harness.generate.gguf:GGUFSettings", "harness.generate.gguf:load"),
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from harness.errors import HarnessError
from harness.registry import lookup


@dataclass(frozen=True)
class BackendSpec:
    settings: str  # "module:Class", a pydantic model with extra="forbid"
    loader: str  # "module:function", load(settings) -> harness.generate.base.Backend
    #: Default role in the results (one of harness.record.ROLES); a settings model may override it
    #: with a `role` property.
    role: str = "model"
    #: Settings that never change outputs (left out of the cache key), e.g. a batch size when
    #: outputs are batch-invariant, or the test-only delay of the baselines.
    cache_neutral: frozenset[str] = frozenset()
    #: Request fields the backend reads besides the rendered prompt; they join the cache key
    #: (baselines read the source and references, not the prompt).
    reads: tuple[str, ...] = ()
    #: Request fields that join the key only when set (added after keys were first written: left out
    #: when empty, every earlier key stays as it was).
    reads_if_set: tuple[str, ...] = ()
    #: False for backends that only look outputs up (the `file` backend): never cached.
    cached: bool = True
    #: Optional "module:function", preflight(settings, items_by_task) -> None, run before any model
    #: loads: raises HarnessError for bad input a backend can see without loading (missing files or ids).
    preflight: str | None = None

    def settings_model(self):
        return _resolve(self.settings)

    def load(self, settings):
        return _resolve(self.loader)(settings)

    def check(self, settings, items_by_task) -> None:
        if self.preflight:
            _resolve(self.preflight)(settings, items_by_task)

    def role_of(self, settings) -> str:
        return getattr(settings, "role", self.role)


def _resolve(target: str):
    module, _, attr = target.partition(":")
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as e:  # an optional dependency missing, or a wrong registry entry
        raise HarnessError(f"backend module {module} cannot be used: {e}") from None


BACKENDS: dict[str, BackendSpec] = {
    "baseline": BackendSpec(
        "harness.generate.baseline:BaselineSettings",
        "harness.generate.baseline:load",
        role="baseline",
        cache_neutral=frozenset({"delay_s"}),
        reads=("source", "references"),
        reads_if_set=("lead_source",),
    ),
    "file": BackendSpec(
        "harness.generate.file:FileSettings",
        "harness.generate.file:load",
        cached=False,
        preflight="harness.generate.file:preflight",
    ),
    "hf": BackendSpec(
        "harness.generate.hf:HFSettings",
        "harness.generate.hf:load",
        cache_neutral=frozenset({"batch_size", "max_batch_size"}),  # greedy outputs are batch-invariant (tested)
        preflight="harness.generate.hf:preflight",
    ),
    "gguf": BackendSpec(
        "harness.generate.gguf:GGUFSettings",
        "harness.generate.gguf:load",
        # parallel and prefix_reuse enter the key through the identity, only when batched (parallel > 1)
        cache_neutral=frozenset({"threads", "batch_size", "parallel", "prefix_reuse", "share_sources"}),
        preflight="harness.generate.gguf:preflight",
    ),
    "openai": BackendSpec(
        "harness.generate.openai:OpenAISettings",
        "harness.generate.openai:load",
        cache_neutral=frozenset({"base_url", "concurrency", "timeout_s", "max_retries", "backoff_s", "api_key_env"}),
        preflight="harness.generate.openai:preflight",
    ),
}


def get_backend(name: str) -> BackendSpec:
    return lookup("backend", name, BACKENDS)
