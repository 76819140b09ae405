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
"""

from __future__ import annotations

import asyncio
import json
import os
import queue
import re
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlparse

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_serializer, field_validator, model_validator

from harness.errors import HarnessError, excerpt
from harness.generate.base import Backend, BackendInfo, Completion, GenerationSettings, Prompt, Rendered

RETRY_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
MAX_BACKOFF_S = 60.0
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


# --------------------------------------------------------------------------- pure helpers


def backoff_delay(attempt: int, base: float, retry_after: str | None = None) -> float:
    """Seconds to wait before retry `attempt` (0-based): Retry-After if the server sent one, else base·2^attempt."""
    if retry_after:
        try:
            return min(MAX_BACKOFF_S, max(0.0, float(retry_after)))
        except ValueError:
            pass  # an HTTP date: fall back to our own schedule
    return min(MAX_BACKOFF_S, base * (2**attempt))


def stop_reason(choice: dict) -> str:
    """finish_reason `length` → max_new_tokens; `stop` with a matched stop string → stop; else eos."""
    finish = choice.get("finish_reason")
    if finish == "length":
        return "max_new_tokens"
    if finish == "stop" and isinstance(choice.get("stop_reason"), str):
        return "stop"
    return "eos"


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


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True, frozen=True)


class _Message(_Answer):
    content: str | None = None  # null for an empty answer on some servers


class _Choice(_Answer):
    finish_reason: str | None = None
    stop_reason: str | int | None = None  # vLLM: the matched stop string (or a token id)


class _ChatChoice(_Choice):
    message: _Message


class _TextChoice(_Choice):
    text: str


class _Usage(_Answer):
    completion_tokens: int = Field(ge=0)


class ChatAnswer(_Answer):
    """The parts of a /chat/completions answer the harness reads."""

    model: str | None = None
    system_fingerprint: str | None = None
    choices: list[_ChatChoice] = Field(min_length=1)
    usage: _Usage | None = None


class TextAnswer(ChatAnswer):
    """The parts of a /completions answer the harness reads."""

    choices: list[_TextChoice] = Field(min_length=1)


class BadAnswer(HarnessError):
    """The server answered, but not with a completion."""


def parse_answer(settings: OpenAISettings, data: Any, *, need_usage: bool = True) -> ChatAnswer:
    """The answer checked against its schema; BadAnswer (one line) says what is wrong with it."""
    schema = ChatAnswer if settings.endpoint == "chat" else TextAnswer
    if not isinstance(data, dict):
        raise BadAnswer(f"the answer is a JSON {type(data).__name__}, not a completion object: {excerpt(data)}")
    try:
        answer = schema.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise BadAnswer(f"the answer is not a {settings.endpoint} completion: {where}: {err['msg']} "
                        f"(got {excerpt(err.get('input'))})") from None
    if need_usage and answer.usage is None:
        raise BadAnswer("the answer is not a completion: usage.completion_tokens: missing")
    text = answer_text(answer)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        raise BadAnswer(f"the answer's text holds a lone surrogate ({text[e.start]!r} at character {e.start}), "
                        "which is not Unicode text") from None
    return answer


def answer_text(answer: ChatAnswer) -> str:
    choice = answer.choices[0]
    return (choice.message.content if isinstance(choice, _ChatChoice) else choice.text) or ""


class RetryableError(Exception):
    def __init__(self, message: str, retry_after: str | None = None):
        super().__init__(message)
        self.retry_after = retry_after


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
        import aiohttp

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
        path = "/chat/completions" if s.endpoint == "chat" else "/completions"
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
                    data = await _post(session, s.base_url[server] + path, body)
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
                        answer = parse_answer(s, data)
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


_URL_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@]+@")


def redact_urls(text: str) -> str:
    """`http://user:KEY@host/...` → `http://***@host/...` anywhere in `text`."""
    return _URL_CREDENTIALS.sub(r"\1***@", text)


def shown(url: str) -> str:
    """A URL as messages show it: without credentials."""
    return redact_urls(url)


def redact(text: str, key: str | None) -> str:
    text = redact_urls(text)
    return text.replace(key, "***") if key else text


async def _post(session, url: str, body: dict) -> dict:
    import aiohttp

    where = shown(url)
    try:
        async with session.post(url, json=body) as response:
            text = await response.text(errors="replace")  # a proxy's error page need not be UTF-8
            if response.status in RETRY_STATUS:
                raise RetryableError(f"HTTP {response.status} from {where}", response.headers.get("Retry-After"))
            if response.status >= 400:
                raise HarnessError(f"HTTP {response.status} from {where}: {_server_message(text)}")
            try:
                return json.loads(text)
            except ValueError:
                raise RetryableError(f"an answer that is not JSON from {where}: {excerpt(text, 60)}") from None
    except (aiohttp.ClientError, asyncio.TimeoutError) as e:  # connection, payload, malformed response
        raise RetryableError(redact_urls(f"{type(e).__name__} on {where}: {e}".rstrip(": "))) from None


def _server_message(text: str) -> str:
    try:
        data = json.loads(text)
        error = data.get("error", data) if isinstance(data, dict) else data
        message = error.get("message", error) if isinstance(error, dict) else error
        return " ".join(str(message).split())[:300]
    except ValueError:
        return " ".join(text.split())[:300]


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
        answer = _probe_one(settings, key, url, body)
        seen.append({"model": answer.model or settings.model, "system_fingerprint": answer.system_fingerprint})
    if any(s != seen[0] for s in seen[1:]):
        raise HarnessError(f"base_url: the servers report different models or fingerprints: {seen}")
    return seen[0]


def _probe_one(settings: OpenAISettings, key: str | None, url: str, body: bytes) -> ChatAnswer:
    import urllib.error
    import urllib.request
    from base64 import b64encode

    path = "/chat/completions" if settings.endpoint == "chat" else "/completions"
    parsed = urlparse(url)
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {key}"} if key else {})}
    target = url + path
    if parsed.username is not None:  # urllib ignores credentials in a URL; aiohttp sends them as basic auth
        target = parsed._replace(netloc=parsed.netloc.rsplit("@", 1)[1]).geturl() + path
        if key is None:
            user = f"{parsed.username}:{parsed.password or ''}"
            headers["Authorization"] = "Basic " + b64encode(user.encode()).decode()
    where = shown(url)
    last = ""
    connect = False
    for attempt in range(settings.max_retries + 1):
        retry_after = None
        request = urllib.request.Request(target, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=min(settings.timeout_s, 60)) as response:
                raw = response.read()
        except urllib.error.HTTPError as e:
            message = redact(_server_message(e.read().decode(errors="replace")), key)
            if e.code not in RETRY_STATUS:
                raise HarnessError(f"base_url: {where} answered HTTP {e.code}: {message}") from None
            last, connect, retry_after = f"HTTP {e.code}: {message}", False, e.headers.get("Retry-After")
        except (urllib.error.URLError, OSError) as e:
            last, connect = redact(str(getattr(e, "reason", e)), key), True
        else:
            try:
                data = json.loads(raw)
            except ValueError:
                last, connect = f"an answer that is not JSON: {excerpt(raw.decode(errors='replace'), 60)}", False
            else:
                try:
                    return parse_answer(settings, data, need_usage=False)
                except BadAnswer as e:  # a server that answers, but not an OpenAI-compatible one
                    raise HarnessError(f"base_url: {where}{path}: {redact(str(e), key)}") from None
        if attempt < settings.max_retries:
            time.sleep(backoff_delay(attempt, settings.backoff_s, retry_after))
    tries = f" after {settings.max_retries + 1} attempts" if settings.max_retries else ""
    if connect:
        raise HarnessError(f"base_url: cannot reach {where}{tries} ({last}); is the server running?")
    raise HarnessError(f"base_url: {where}{path} gave no usable answer{tries} (last: {last})")


def load(settings: OpenAISettings) -> OpenAIBackend:
    key = api_key(settings)
    served = _probe(settings, key)
    tokenizer = None
    if settings.tokenizer is not None:
        from transformers import AutoTokenizer

        try:
            tokenizer = AutoTokenizer.from_pretrained(settings.tokenizer)
        except (OSError, ValueError) as e:
            raise HarnessError(f"tokenizer: cannot load '{settings.tokenizer}': {str(e).strip().splitlines()[0]}") from None
    return OpenAIBackend(settings, key, served, tokenizer)
