"""The wire side of the `openai` backend: HTTP, retries, answers and redaction.

What a request to an OpenAI-compatible server needs besides the backend itself (in the spirit of
lm-evaluation-harness's `models/utils.py`): which answers are retried and how long to wait, the
schema an answer is checked against, what a finish reason means, and how URLs with credentials
and API keys are kept out of every message. `harness.generate.openai` is the backend on top.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import urllib.error
import urllib.request
from base64 import b64encode
from typing import Any
from urllib.parse import urlparse

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness.errors import HarnessError, excerpt

RETRY_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
MAX_BACKOFF_S = 60.0


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


def endpoint_path(endpoint: str) -> str:
    return "/chat/completions" if endpoint == "chat" else "/completions"


def parse_answer(endpoint: str, data: Any, *, need_usage: bool = True) -> ChatAnswer:
    """The answer checked against the `endpoint`'s schema; BadAnswer (one line) says what is wrong with it."""
    schema = ChatAnswer if endpoint == "chat" else TextAnswer
    if not isinstance(data, dict):
        raise BadAnswer(f"the answer is a JSON {type(data).__name__}, not a completion object: {excerpt(data)}")
    try:
        answer = schema.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise BadAnswer(f"the answer is not a {endpoint} completion: {where}: {err['msg']} "
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


async def post(session, url: str, body: dict) -> dict:
    import aiohttp  # heavy: only the openai backend needs it

    where = shown(url)
    try:
        async with session.post(url, json=body) as response:
            text = await response.text(errors="replace")  # a proxy's error page need not be UTF-8
            if response.status in RETRY_STATUS:
                raise RetryableError(f"HTTP {response.status} from {where}", response.headers.get("Retry-After"))
            if response.status >= 400:
                raise HarnessError(f"HTTP {response.status} from {where}: {server_message(text)}")
            try:
                return json.loads(text)
            except ValueError:
                raise RetryableError(f"an answer that is not JSON from {where}: {excerpt(text, 60)}") from None
    except (aiohttp.ClientError, asyncio.TimeoutError) as e:  # connection, payload, malformed response
        raise RetryableError(redact_urls(f"{type(e).__name__} on {where}: {e}".rstrip(": "))) from None


def server_message(text: str) -> str:
    try:
        data = json.loads(text)
        error = data.get("error", data) if isinstance(data, dict) else data
        message = error.get("message", error) if isinstance(error, dict) else error
        return " ".join(str(message).split())[:300]
    except ValueError:
        return " ".join(text.split())[:300]


def probe_one(url: str, endpoint: str, body: bytes, key: str | None, *, timeout_s: float, max_retries: int,
              backoff_s: float) -> ChatAnswer:
    """One server's answer to `body`, retried like a request (503 while a server loads its model,
    connection refused, timeouts); HarnessError (one line) when it gives no usable answer."""
    path = endpoint_path(endpoint)
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
    for attempt in range(max_retries + 1):
        retry_after = None
        request = urllib.request.Request(target, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=min(timeout_s, 60)) as response:
                raw = response.read()
        except urllib.error.HTTPError as e:
            message = redact(server_message(e.read().decode(errors="replace")), key)
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
                    return parse_answer(endpoint, data, need_usage=False)
                except BadAnswer as e:  # a server that answers, but not an OpenAI-compatible one
                    raise HarnessError(f"base_url: {where}{path}: {redact(str(e), key)}") from None
        if attempt < max_retries:
            time.sleep(backoff_delay(attempt, backoff_s, retry_after))
    tries = f" after {max_retries + 1} attempts" if max_retries else ""
    if connect:
        raise HarnessError(f"base_url: cannot reach {where}{tries} ({last}); is the server running?")
    raise HarnessError(f"base_url: {where}{path} gave no usable answer{tries} (last: {last})")
