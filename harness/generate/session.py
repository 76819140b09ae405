"""One model generating for one run: prompt fitting, cache keys and commit batching in one object.

`GenerationSession(backend, ...)` is built once per loaded model. For each task it

    fit       renders every item's prompt for the model; truncates the source when prompt +
              max_new_tokens exceed the context (the rule below)
    key       the cache key of a fitted request: sha256 of everything that can change a completion
    complete  cache first; the backend generates the rest, committed in batches as they finish
              (`complete_tasks`: several tasks in one backend call, for a backend that combines them)

Truncation rule: the item's source keeps its head, cut at a sentence boundary (the most whole
sentences that fit; only when not even the first sentence fits is it cut inside that sentence, by
characters). Shots and the instruction are never cut.

The session knows nothing of tasks, configs or results: a task is anything with `name`,
`template` (version + sha256) and `prompt(item, source)` / `request(item)` (see `PromptSource`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, replace
from typing import Protocol

from harness.errors import HarnessError
from harness.generate.base import Backend
from harness.request import STOP_REASONS, GenerationSettings, Prompt, Rendered, Request
from harness.generate.cache import CachedCompletion, cache_key
from harness.generate.registry import BackendSpec
from harness.text import sentence_units

COMMIT_EVERY_S = 0.5  # commit generated completions at least this often…
COMMIT_EVERY_N = 64  # …or whenever this many are pending
CACHE_KEY_VERSION = 1


class PromptSource(Protocol):
    """What the session needs from a task (harness.pipeline.TaskPlan is one)."""

    name: str

    @property
    def template(self): ...  # .version and .sha256 of the prompt template

    def request(self, item) -> Request: ...

    def prompt(self, item, source: str | None = None) -> Prompt: ...


class Progress(Protocol):
    def advance(self, items: int, tokens: int) -> None: ...


class ModelEntry(Protocol):
    """What the session needs from a config's model entry (harness.config.ModelConfig is one)."""

    name: str  # the model's name in the config (messages, cache rows)
    backend: str  # the backend's registry name
    settings: object  # the backend's pydantic settings

    @property
    def spec(self) -> BackendSpec: ...


class GenerationSession:
    """A loaded `backend` for the config's `model` entry, generating with `generation` through `cache`
    (a GenerationCache or NoCache; None to only fit prompts, as `harness render` does)."""

    def __init__(self, backend: Backend, model: ModelEntry, generation: GenerationSettings, cache=None):
        self.backend = backend
        self.model = model.name
        self.backend_name = model.backend
        self.spec = model.spec
        self.settings = model.settings
        self.generation = generation
        self.cache = cache
        self.identity = backend.identity()  # asked once, after loading: part of every cache key

    # --- fit ---------------------------------------------------------------------------------------

    def fit(self, task: PromptSource, item) -> tuple[Rendered, str | None]:
        """Render the item's prompt for the backend, truncating the source to fit the context.
        Returns the Rendered request and, when truncated, a note saying how much was kept."""
        request = task.request(item)
        backend = self.backend

        def attempt(source: str | None) -> tuple[str, int, Prompt]:
            prompt = request.prompt if source is None else task.prompt(item, source)
            text = backend.render(prompt)
            return text, backend.count_tokens(text), prompt

        text, tokens, _ = attempt(None)
        limit = backend.context_length
        if limit is None:
            return Rendered(request, text, tokens, False), None
        budget = limit - request.max_new_tokens
        if tokens <= budget:
            return Rendered(request, text, tokens, False), None
        empty_tokens = attempt("")[1]
        if empty_tokens > budget:
            raise HarnessError(
                f"model {self.model}, task {task.name}: the prompt without any source takes {empty_tokens} tokens but "
                f"the context of {limit} minus max_new_tokens {request.max_new_tokens} leaves {budget}; lower "
                "max_new_tokens or shots, or use a model with a longer context"
            )
        units = sentence_units(item.source)
        fits = lambda s: attempt(s)[1] <= budget  # noqa: E731
        kept = largest(len(units) - 1, lambda k: fits("".join(units[:k]).rstrip()))
        if kept > 0:
            source = "".join(units[:kept]).rstrip()
            note = f"kept {kept} of {len(units)} sentences"
        else:  # not even the first sentence fits: cut inside it
            chars = largest(len(units[0]) - 1, lambda c: fits(units[0][:c].rstrip()))
            source = units[0][:chars].rstrip()
            note = f"kept {chars} characters of the first of {len(units)} sentences"
        text, tokens, prompt = attempt(source)
        return Rendered(replace(request, prompt=prompt), text, tokens, True), note

    # --- cache keys --------------------------------------------------------------------------------

    def key_parts(self, rendered: Rendered, task: PromptSource) -> dict:
        """Everything that can change a completion (see harness.generate.cache). Changing any
        field or its serialisation invalidates every cached completion: keep it byte-stable."""
        settings = self.settings.model_dump(mode="json", exclude=set(self.spec.cache_neutral))
        return {
            "v": CACHE_KEY_VERSION,
            "backend": self.backend_name,
            "identity": self.identity,
            "settings": settings,
            "generation": asdict(self.generation),
            "max_new_tokens": rendered.request.max_new_tokens,
            "prompt": rendered.text,
            "plain_stop": list(rendered.request.prompt.plain_stop),  # ends answers of plain-form prompts
            "template": {"version": task.template.version, "sha256": task.template.sha256},
            "reads": {f: getattr(rendered.request, f) for f in self.spec.reads}
            | {f: getattr(rendered.request, f) for f in self.spec.reads_if_set if getattr(rendered.request, f)},
        }

    def key(self, rendered: Rendered, task: PromptSource) -> str:
        return cache_key(self.key_parts(rendered, task))

    # --- generate ----------------------------------------------------------------------------------

    def complete(self, task: PromptSource, fitted: Sequence[Rendered], progress: Progress
                 ) -> tuple[dict[str, CachedCompletion], int]:
        """Completions by item id (cached ones first) and how many were generated now."""
        out, generated = self.complete_tasks([(task, fitted, progress)])[0]
        return out, len(generated)

    def complete_tasks(self, parts: Sequence[tuple[PromptSource, Sequence[Rendered], Progress]]
                       ) -> list[tuple[dict[str, CachedCompletion], set[str]]]:
        """`complete` for several tasks in ONE backend call (for a backend that `combines_tasks`):
        per task, completions by item id and the ids generated now. Item ids repeat across tasks
        (two tasks on the same passages), so the backend sees them as ``task/id``."""
        cached = self.spec.cached
        results: list[tuple[dict[str, CachedCompletion], set[str]]] = []
        todo: list[Rendered] = []
        origin: dict[str, tuple[int, str, str]] = {}  # id the backend sees → (part, item id, cache key)
        for n, (task, fitted, progress) in enumerate(parts):
            keys = [self.key(r, task) for r in fitted]
            hits = self.cache.get_many(keys) if cached else {}
            out = {r.request.id: hits[k] for r, k in zip(fitted, keys) if k in hits}
            progress.advance(len(out), 0)
            results.append((out, set()))
            for r, k in zip(fitted, keys):
                if k in hits:
                    continue
                sent = r if len(parts) == 1 else replace(r, request=replace(r.request, id=f"{task.name}/{r.request.id}"))
                todo.append(sent)
                origin[sent.request.id] = (n, r.request.id, k)
        if not todo:
            return results
        pending: list[tuple[str, str, CachedCompletion]] = []
        last_commit = time.monotonic()
        try:
            for c in self.backend.generate(todo, self.generation):
                if c is None:  # a backend's tick (nothing finished): commit on time even when a server hangs
                    if pending and time.monotonic() - last_commit >= COMMIT_EVERY_S:
                        self.cache.put_many(pending)
                        pending, last_commit = [], time.monotonic()
                    continue
                n, item, key = origin.get(c.id, (-1, "", ""))
                if n < 0 or item in results[n][0]:
                    raise RuntimeError(f"backend of {self.model} returned an unexpected or repeated id {c.id!r}")
                if c.stop_reason not in STOP_REASONS:
                    raise RuntimeError(f"backend of {self.model} returned stop_reason {c.stop_reason!r}")
                out, generated = results[n]
                out[item] = CachedCompletion(c.raw, c.output_tokens, c.stop_reason, c.latency_s)
                generated.add(item)
                if cached:
                    pending.append((key, self.model, out[item]))
                    if len(pending) >= COMMIT_EVERY_N or time.monotonic() - last_commit >= COMMIT_EVERY_S:
                        self.cache.put_many(pending)
                        pending, last_commit = [], time.monotonic()
                parts[n][2].advance(1, c.output_tokens)
        finally:
            self.cache.put_many(pending)  # also on an exception: what finished is kept
        lost = [i for i, (n, item, _) in origin.items() if item not in results[n][0]]
        if lost:
            raise RuntimeError(f"backend of {self.model} returned no completion for {len(lost)} item(s): "
                               f"{', '.join(lost[:5])}")
        return results


def largest(upper: int, ok: Callable[[int], bool]) -> int:
    """The largest k in [0, upper] with ok(k), given ok(0) (binary search; ok is monotone)."""
    lo, hi = 0, upper
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if ok(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo

