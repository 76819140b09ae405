"""The `openai` backend: any OpenAI-compatible server (vLLM, llama.cpp server, TGI, SGLang, hosted APIs).

Config entry (`backend: openai`), validated by `OpenAISettings`:

    - name: qwen2.5-7b-instruct-vllm
      backend: openai
      model: Qwen/Qwen2.5-7B-Instruct      # the model name the server serves
      base_url: [http://10.0.0.5:8000/v1, http://10.0.0.6:8000/v1]   # one or several replicas
      endpoint: chat                       # chat (/chat/completions) | completions (/completions)
      api_key_env: null                    # NAME of the environment variable holding the key
      concurrency: 8                       # requests in flight per base_url
      timeout_s: 300                       # per request
      max_retries: 6                       # on 429, 5xx, timeouts and connection errors
      backoff_s: 1.0                       # first wait; doubles per retry, capped at 60 s
      extra_body: {}                       # extra request fields (e.g. vLLM's top_k), in the cache key

How it behaves, and why:

- Requests of a batch are sharded over the base URLs (request i on URL i mod n) with at most
  `concurrency` in flight per URL (asyncio + aiohttp, in a worker thread, so `generate` stays a
  plain iterator yielding completions as they finish). A retry goes to the next URL, so a dead
  replica costs retries, not the run.
- 429, 5xx, timeouts, connection errors and unreadable answers are retried with exponential
  backoff (a `Retry-After` header is honoured); the start-up probe follows the same policy, so a
  server that is still loading (503) is waited for. Other 4xx answers are the request's or the config's fault: one line, no
  retry. When a request exhausts its retries, no new request starts, those in flight finish and
  are yielded (the pipeline caches them), and the run stops with one line naming the item.
- Every answer is checked against a schema (`ChatAnswer` / `TextAnswer`): an answer that is not a
  completion (a JSON array, content that is not a string, a lone surrogate) stops the run with one
  line saying what is wrong with it; completions that finished before are kept and cached.
- While requests are in flight, `generate` yields `None` every TICK_S seconds when nothing
  finished, so the pipeline commits finished completions on time even when the server hangs.
  When the consumer stops early (Ctrl-C, an error), in-flight requests are cancelled, not waited out.
- Credentials in a URL (`http://user:KEY@host`) are redacted (`***`) in every message and in the
  manifest, like the API key.
- Identity (the cache key): the model name the server reports in its answers and its
  `system_fingerprint`, probed once at load with a one-token request, plus the endpoint and
  `extra_body`. The URLs and the API key are not part of it; the key is read from the named
  environment variable at load and never written to results, logs or the cache.
- `chat` sends the task's messages (the server applies the model's chat template); `render`
  returns them as canonical JSON, so the cache key covers exactly what is sent. `completions`
  sends the plain prompt.
- Token counts: the server's tokenizer is remote, so there is no context check unless
  `context_length` and a local `tokenizer` (folder or Hub id) are given; without them no input is
  truncated by the harness and an over-long prompt is the server's 400 error.
- `stop_reason`: `max_new_tokens` for finish_reason `length`; for `stop`, `stop` when the server
  names the matched stop string (vLLM's `stop_reason`), else `eos`.

The HTTP side (retries, answer schemas, redaction) is `harness.generate.openai_wire`.
"""

from __future__ import annotations

import asyncio
import json
import os
import queue
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlparse

from pydantic import BaseModel, ConfigDict, Field, field_serializer, field_validator, model_validator

from harness.errors import HarnessError, excerpt
from harness.generate.base import Backend, BackendInfo
from harness.generate.openai_wire import (
    MAX_BACKOFF_S,
    BadAnswer,
    RetryableError,
    answer_text,
    backoff_delay,
    endpoint_path,
    parse_answer,
    post,
    probe_one,
    redact,
    redact_urls,
    shown,
    stop_reason,
)
from harness.request import Completion, GenerationSettings, Prompt, Rendered

TICK_S = 0.25  # with nothing finished, `generate` yields None this often (the pipeline commits every 0.5 s)


class OpenAISettings(BaseModel):
    """One `backend: openai` model entry of a run config."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    model: str = Field(min_length=1, description="the model name the server serves")
    base_url: list[str] = Field(min_length=1, description="one URL or a list; ends in /v1")
    endpoint: Literal["chat", "completions"] = "chat"
    api_key_env: str | None = Field(None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    concurrency: int = Field(8, ge=1, le=1024)
    timeout_s: float = Field(300.0, gt=0, le=3600)
    max_retries: int = Field(6, ge=0, le=20)
    backoff_s: float = Field(1.0, ge=0, le=MAX_BACKOFF_S)
    context_length: int | None = Field(None, ge=16, le=10_000_000)
    tokenizer: str | None = None
    extra_body: dict[str, Any] = {}

    @field_validator("base_url", mode="before")
    @classmethod
    def _one_or_many(cls, value):
        return [value] if isinstance(value, str) else value

    @field_validator("base_url")
    @classmethod
    def _urls(cls, value: list[str]) -> list[str]:
        for url in value:
            parsed = urlparse(url)
            if parsed.scheme not in ("http", "https") or not parsed.netloc:
                raise ValueError(f"{excerpt(redact_urls(url))} is not an http(s) URL (e.g. http://127.0.0.1:8000/v1)")
        value = [u.rstrip("/") for u in value]
        if len(set(value)) != len(value):
            raise ValueError("lists a URL twice")
        return value

    @field_serializer("base_url")
    def _without_credentials(self, value: list[str]) -> list[str]:
        return [redact_urls(u) for u in value]  # the manifest records the config: never a password

    @field_validator("extra_body")
    @classmethod
    def _no_overrides(cls, value: dict) -> dict:
        owned = {"model", "messages", "prompt", "max_tokens", "temperature", "top_p", "seed", "stop", "stream", "n"}
        clash = sorted(owned & set(value))
        if clash:
            raise ValueError(f"sets {', '.join(clash)}, which the harness sets from the task and `generation`")
        return value

    @model_validator(mode="after")
    def _context_needs_tokenizer(self):
        if (self.context_length is None) != (self.tokenizer is None):
            raise ValueError("context_length and tokenizer go together (the harness counts tokens locally to fit the context)")
        return self

    @model_validator(mode="after")
    def _one_way_to_authenticate(self):
        # aiohttp refuses a request with both (at the first request, with its own message): say it here
        if self.api_key_env is not None and any(urlparse(u).username or urlparse(u).password for u in self.base_url):
            raise ValueError("a base_url with credentials (user:password@host) and api_key_env both authenticate; "
                             "use one of them")
        return self


def request_body(settings: OpenAISettings, text: str, max_new_tokens: int, gen: GenerationSettings) -> dict:
    body: dict[str, Any] = {"model": settings.model, "max_tokens": max_new_tokens, "seed": gen.seed}
    if settings.endpoint == "chat":
        body["messages"] = json.loads(text)["messages"]
    else:
        body["prompt"] = text
    if gen.do_sample:
        body.update(temperature=gen.temperature, top_p=gen.top_p)
    else:
        body.update(temperature=0.0, top_p=1.0)
    if gen.stop:
        body["stop"] = list(gen.stop)
    body.update(settings.extra_body)
    return body


@dataclass(frozen=True)
class _Failure:
    error: BaseException


_DONE = object()


# --------------------------------------------------------------------------- the backend


class OpenAIBackend(Backend):
    def __init__(self, settings: OpenAISettings, api_key: str | None, served: dict, tokenizer: Any = None):
        self.settings = settings
        self._api_key = api_key  # never part of identity() or info()
        self._served = served
        self._tokenizer = tokenizer
        self.context_length = settings.context_length
        self._requests = 0
        self._retries = 0

    def identity(self) -> dict:
        return {
            "backend": "openai",
            "model": self.settings.model,
            "served_model": self._served["model"],
            "system_fingerprint": self._served["system_fingerprint"],
            "endpoint": self.settings.endpoint,
            "extra_body": self.settings.extra_body,
            "context_length": self.settings.context_length,
        }

    def render(self, prompt: Prompt) -> str:
        if self.settings.endpoint == "completions":
            return prompt.plain
        messages = [{"role": role, "content": content} for role, content in prompt.messages]
        return json.dumps({"messages": messages}, ensure_ascii=False, sort_keys=True)

    def count_tokens(self, text: str) -> int:
        if self._tokenizer is None:
            return 0
        if self.settings.endpoint == "chat":
            messages = json.loads(text)["messages"]
            ids = self._tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True)
            return len(ids["input_ids"] if isinstance(ids, dict) else ids)
        return len(self._tokenizer(text)["input_ids"])

    def info(self) -> BackendInfo:
        s = self.settings
        return BackendInfo(
            engine="openai",
            details={
                "endpoint": s.endpoint,
                "servers": len(s.base_url),
                "concurrency_per_server": s.concurrency,
                "served_model": self._served["model"],
                "system_fingerprint": self._served["system_fingerprint"],
                "requests": self._requests,
                "retries": self._retries,
            },
        )

    # ----------------------------------------------------------------- generation

    def generate(self, batch: Sequence[Rendered], settings: GenerationSettings) -> Iterator[Completion | None]:
        """Completions as they finish; None every TICK_S seconds while nothing finishes (a chance for
        the caller to commit). Stopped early, it cancels the requests in flight."""
        if not batch:
            return
        results: queue.Queue = queue.Queue()
        cancel = threading.Event()
        running: dict = {}  # the worker's event loop and main task, to cancel them from here

        def work() -> None:
            try:
                asyncio.run(self._run(list(batch), settings, results, cancel, running))
            except asyncio.CancelledError:
                pass  # cancelled by the consumer: it is not reading any more
            except BaseException as e:  # never a traceback from the thread; the run stops with one line
                results.put(_Failure(HarnessError(f"openai: {type(e).__name__}: {self._redact(str(e))}")))
            finally:
                results.put(_DONE)

        worker = threading.Thread(target=work, daemon=True)
        worker.start()
        failure: BaseException | None = None
        finished = False
        try:
            while True:
                try:
                    item = results.get(timeout=TICK_S)
                except queue.Empty:
                    yield None
                    continue
                if item is _DONE:
                    finished = True
                    break
                if isinstance(item, _Failure):
                    failure = failure or item.error
                    continue
                yield item
        finally:
            cancel.set()  # start nothing new
            if not finished:  # the consumer stopped early (Ctrl-C, an error): do not wait out requests
                loop, task = running.get("loop"), running.get("task")
                if loop is not None and task is not None:
                    try:
                        loop.call_soon_threadsafe(task.cancel)
                    except RuntimeError:  # the loop already closed
                        pass
                worker.join(timeout=10)
            else:
                worker.join()
        if failure is not None:
            raise failure

    async def _run(self, batch: list[Rendered], gen: GenerationSettings, results: queue.Queue, cancel: threading.Event,
                   running: dict):
        import aiohttp  # heavy: only the openai backend needs it

        running["loop"], running["task"] = asyncio.get_running_loop(), asyncio.current_task()
        if cancel.is_set():
            return
        s = self.settings
        gates = [asyncio.Semaphore(s.concurrency) for _ in s.base_url]
        timeout = aiohttp.ClientTimeout(total=s.timeout_s)
        connector = aiohttp.TCPConnector(limit=s.concurrency * len(s.base_url))
        async with aiohttp.ClientSession(timeout=timeout, connector=connector, headers=self._headers()) as session:
            await asyncio.gather(*(self._one(session, gates, i, r, gen, results, cancel) for i, r in enumerate(batch)))

    async def _one(self, session, gates, index: int, rendered: Rendered, gen: GenerationSettings,
                   results: queue.Queue, cancel: threading.Event) -> None:
        s = self.settings
        body = request_body(s, rendered.text, rendered.request.max_new_tokens, gen)
        path = endpoint_path(s.endpoint)
        last = ""
        for attempt in range(s.max_retries + 1):
            if cancel.is_set():
                return
            server = (index + attempt) % len(s.base_url)
            async with gates[server]:
                if cancel.is_set():
                    return
                started = time.perf_counter()
                try:
                    self._requests += 1
                    data = await post(session, s.base_url[server] + path, body)
                except RetryableError as e:
                    last, wait = str(e), backoff_delay(attempt, s.backoff_s, e.retry_after)
                except HarnessError as e:
                    cancel.set()
                    results.put(_Failure(HarnessError(f"openai: item '{rendered.request.id}': {self._redact(str(e))}")))
                    return
                except Exception as e:  # anything unforeseen: one line, and the others still finish
                    cancel.set()
                    results.put(_Failure(HarnessError(
                        f"openai: item '{rendered.request.id}': {type(e).__name__}: {self._redact(str(e))}")))
                    return
                else:
                    try:
                        answer = parse_answer(s.endpoint, data)
                    except BadAnswer as e:
                        cancel.set()
                        results.put(_Failure(HarnessError(
                            f"openai: item '{rendered.request.id}': {shown(s.base_url[server])}{path}: "
                            f"{self._redact(str(e))}")))
                        return
                    results.put(Completion(id=rendered.request.id, raw=answer_text(answer),
                                           output_tokens=answer.usage.completion_tokens,
                                           stop_reason=stop_reason(answer.choices[0].model_dump()),
                                           latency_s=time.perf_counter() - started))
                    return
            if attempt < s.max_retries:
                self._retries += 1
                await asyncio.sleep(wait)
        cancel.set()
        results.put(_Failure(HarnessError(
            f"openai: item '{rendered.request.id}' failed after {s.max_retries + 1} attempts (last: {last}); "
            "completions finished so far are cached, run again to resume"
        )))

    def _headers(self) -> dict:
        return {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}

    def _redact(self, text: str) -> str:
        """A server may echo the key back (e.g. in a 401 message): never let it reach a message."""
        return redact(text, self._api_key)


# --------------------------------------------------------------------------- loading


def api_key(settings: OpenAISettings) -> str | None:
    if settings.api_key_env is None:
        return None
    value = (os.environ.get(settings.api_key_env) or "").strip()
    if not value:
        raise HarnessError(f"api_key_env: environment variable {settings.api_key_env} is not set")
    if not value.isprintable() or not value.isascii():
        # an HTTP library would quote the header (and with it the key) in its error
        raise HarnessError(f"api_key_env: environment variable {settings.api_key_env} holds non-printable characters")
    return value


def preflight(settings: OpenAISettings, items_by_task: Any = None) -> None:
    api_key(settings)


def _probe(settings: OpenAISettings, key: str | None) -> dict:
    """Ask every server once (a one-token request): it must be up and serve the same model.
    Retried like a request (503 while a server loads its model, connection refused, timeouts)."""
    seen = []
    for url in settings.base_url:
        gen = GenerationSettings()
        prompt = Prompt(messages=(("user", "Hi"),), plain="Hi")
        text = OpenAIBackend(settings, key, {"model": "", "system_fingerprint": None}).render(prompt)
        body = json.dumps(request_body(settings, text, 1, gen)).encode()
        answer = probe_one(url, settings.endpoint, body, key, timeout_s=settings.timeout_s,
                           max_retries=settings.max_retries, backoff_s=settings.backoff_s)
        seen.append({"model": answer.model or settings.model, "system_fingerprint": answer.system_fingerprint})
    if any(s != seen[0] for s in seen[1:]):
        raise HarnessError(f"base_url: the servers report different models or fingerprints: {seen}")
    return seen[0]


def load(settings: OpenAISettings) -> OpenAIBackend:
    key = api_key(settings)
    served = _probe(settings, key)
    tokenizer = None
    if settings.tokenizer is not None:
        from transformers import AutoTokenizer  # heavy: only a local tokenizer needs it

        try:
            tokenizer = AutoTokenizer.from_pretrained(settings.tokenizer)
        except (OSError, ValueError) as e:
            raise HarnessError(f"tokenizer: cannot load '{settings.tokenizer}': {str(e).strip().splitlines()[0]}") from None
    return OpenAIBackend(settings, key, served, tokenizer)
