"""The `openai` backend against servers started here on 127.0.0.1 (never any other address).

- A stub server (stdlib, in a thread) injects errors: 500s and 429s that must be retried, a 400
  that must not be, a replica that is down; it also records what it was sent (sharding, the
  concurrency bound, the API key header).
- A real llama.cpp server (`python -m llama_cpp.server`, from llama-cpp-python[server]) serves the
  bundled Gemma 3 270M: a round trip through `harness run`, and a server killed mid-run whose run
  resumes from the cache after a restart, ending with the same predictions as an uninterrupted run.
Every loop here is bounded in count and time.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from harness.errors import HarnessError
from harness.generate import openai as backend_module
from harness.request import GenerationSettings, Prompt, Rendered, Request
from harness.generate import openai_wire as wire
from harness.generate.openai import OpenAISettings
from harness.generate.openai_wire import backoff_delay, stop_reason
from helpers.fake_openai import FaultServer, wait_for

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------- the stub server


class Stub:
    """An OpenAI-compatible server whose answers a test scripts: a list of statuses to return first."""

    def __init__(self, fail_first: list[int] | None = None, delay_s: float = 0.0, retry_after: str | None = None):
        self.fail_first = list(fail_first or [])
        self.always_fail = ""  # a request whose body contains this text always gets a 500
        self.echo_auth = False  # error messages quote the Authorization header (as some servers do)
        self.delay_s = delay_s
        self.retry_after = retry_after
        self.requests: list[dict] = []
        self.headers: list[dict] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with stub.lock:
                    stub.requests.append(body)
                    stub.headers.append(dict(self.headers))
                    stub.in_flight += 1
                    stub.max_in_flight = max(stub.max_in_flight, stub.in_flight)
                    status = stub.fail_first.pop(0) if stub.fail_first else 200
                    if stub.always_fail and stub.always_fail in json.dumps(body):
                        status = 500
                try:
                    time.sleep(stub.delay_s)
                    if status != 200:
                        echoed = f" ({self.headers.get('Authorization')})" if stub.echo_auth else ""
                        payload = json.dumps({"error": {"message": f"injected {status}{echoed}"}}).encode()
                        self.send_response(status)
                        if stub.retry_after is not None:
                            self.send_header("Retry-After", stub.retry_after)
                    else:
                        payload = json.dumps(stub.answer(self.path, body)).encode()
                        self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                finally:
                    with stub.lock:
                        stub.in_flight -= 1

        self.server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
        self.url = f"http://{LOOPBACK}:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @staticmethod
    def answer(path: str, body: dict) -> dict:
        if path.endswith("/chat/completions"):
            text = "echo: " + body["messages"][-1]["content"]
            choice = {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
        else:
            text = "echo: " + body["prompt"]
            choice = {"index": 0, "text": text, "finish_reason": "length" if body["max_tokens"] <= 2 else "stop"}
        return {"id": "x", "model": "stub-model-v1", "system_fingerprint": "fp_stub", "choices": [choice],
                "usage": {"prompt_tokens": 3, "completion_tokens": len(text.split()), "total_tokens": 9}}

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def stub():
    servers = []

    def make(**kwargs) -> Stub:
        servers.append(Stub(**kwargs))
        return servers[-1]

    yield make
    for s in servers:
        s.close()


def _rendered(backend, n: int, max_new_tokens: int = 8) -> list[Rendered]:
    out = []
    for i in range(n):
        prompt = Prompt(messages=(("system", "sys"), ("user", f"item {i}")), plain=f"item {i}")
        out.append(Rendered(Request(id=f"id{i}", prompt=prompt, source="", max_new_tokens=max_new_tokens),
                            backend.render(prompt), 0, False))
    return out


def finished(completions) -> list:
    """The completions of a generate() call, without its ticks (None while nothing finished)."""
    return [c for c in completions if c is not None]


def _settings(urls, **kwargs) -> OpenAISettings:
    return OpenAISettings(**{"model": "stub", "base_url": urls, "backoff_s": 0.01, "timeout_s": 10, **kwargs})


# --------------------------------------------------------------------------- pure helpers


@pytest.mark.parametrize(
    "attempt, base, retry_after, expected",
    [(0, 1.0, None, 1.0), (1, 1.0, None, 2.0), (3, 0.5, None, 4.0), (10, 1.0, None, 60.0),
     (0, 1.0, "7", 7.0), (0, 1.0, "Wed, 21 Oct 2015 07:28:00 GMT", 1.0), (2, 1.0, "500", 60.0)],
)
def test_backoff_delay(attempt, base, retry_after, expected):
    assert backoff_delay(attempt, base, retry_after) == expected


@pytest.mark.parametrize(
    "choice, expected",
    [({"finish_reason": "length"}, "max_new_tokens"), ({"finish_reason": "stop"}, "eos"),
     ({"finish_reason": "stop", "stop_reason": "\n\n"}, "stop"), ({"finish_reason": "stop", "stop_reason": 151645}, "eos")],
)
def test_stop_reason(choice, expected):
    assert stop_reason(choice) == expected


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"base_url": "localhost:8000"}, "is not an http(s) URL"),
        ({"base_url": []}, "at least 1 item"),
        ({"api_key_env": "my-key"}, "String should match pattern"),
        ({"extra_body": {"temperature": 1}}, "sets temperature, which the harness sets"),
        ({"context_length": 4096}, "context_length and tokenizer go together"),
        ({"endpoint": "embeddings"}, "Input should be 'chat' or 'completions'"),
        ({"base_url": ["http://127.0.0.1:1/v1", "http://127.0.0.1:1/v1/"]}, "lists a URL twice"),
        # issue 22: both would authenticate; aiohttp refused it only at the first request
        ({"base_url": "http://user:secret@127.0.0.1:1/v1", "api_key_env": "KEY"}, "base_url with credentials"),
        ({"base_url": ["http://127.0.0.1:2/v1", "http://:secret@127.0.0.1:1/v1"], "api_key_env": "KEY"},
         "use one of them"),
    ],
)
def test_settings_are_validated(kwargs, message):
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        OpenAISettings(**{"model": "m", "base_url": "http://127.0.0.1:1/v1", **kwargs})


# --------------------------------------------------------------------------- against the stub


def test_identity_is_the_served_model_and_fingerprint_never_the_key(stub, monkeypatch):
    server = stub()
    monkeypatch.setenv("TEST_OPENAI_KEY", "sk-secret-123")
    backend = backend_module.load(_settings(server.url, api_key_env="TEST_OPENAI_KEY"))
    identity = backend.identity()
    assert identity["served_model"] == "stub-model-v1" and identity["system_fingerprint"] == "fp_stub"
    completions = finished(backend.generate(_rendered(backend, 3), GenerationSettings()))
    assert sorted(c.id for c in completions) == ["id0", "id1", "id2"]
    assert {c.raw for c in completions} == {"echo: item 0", "echo: item 1", "echo: item 2"}
    assert all(h["Authorization"] == "Bearer sk-secret-123" for h in server.headers)
    everything = json.dumps([identity, backend.info().details, backend.settings.model_dump()])
    assert "sk-secret" not in everything
    body = server.requests[-1]
    assert body["temperature"] == 0.0 and body["messages"][0] == {"role": "system", "content": "sys"}


def test_missing_api_key_variable_is_one_line(monkeypatch):
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    with pytest.raises(HarnessError, match="^api_key_env: environment variable NOT_SET_ANYWHERE is not set$"):
        backend_module.preflight(_settings("http://127.0.0.1:9/v1", api_key_env="NOT_SET_ANYWHERE"))


@pytest.mark.parametrize(("value", "ok"), [("sk-secret-123\r\n", True), ("sk-sec\nret", False), ("sk-sécret", False)])
def test_api_key_is_stripped_and_never_quoted(monkeypatch, value, ok):
    monkeypatch.setenv("TEST_OPENAI_KEY", value)
    settings = _settings("http://127.0.0.1:9/v1", api_key_env="TEST_OPENAI_KEY")
    if ok:
        assert backend_module.api_key(settings) == value.strip()
        return
    with pytest.raises(HarnessError) as e:
        backend_module.preflight(settings)
    assert str(e.value) == "api_key_env: environment variable TEST_OPENAI_KEY holds non-printable characters"


def test_a_key_the_server_echoes_back_is_redacted(stub, monkeypatch):
    server = stub()
    monkeypatch.setenv("TEST_OPENAI_KEY", "sk-secret-123")
    backend = backend_module.load(_settings(server.url, api_key_env="TEST_OPENAI_KEY"))
    server.echo_auth, server.fail_first = True, [401]
    with pytest.raises(HarnessError) as e:
        list(backend.generate(_rendered(backend, 1), GenerationSettings()))
    assert "sk-secret" not in str(e.value) and "injected 401 (Bearer ***)" in str(e.value)
    server.fail_first = [401]
    with pytest.raises(HarnessError) as e:
        backend_module.load(_settings(server.url, api_key_env="TEST_OPENAI_KEY"))
    assert "sk-secret" not in str(e.value) and "Bearer ***" in str(e.value)


def test_an_unforeseen_error_is_one_line_and_the_others_finish(stub, monkeypatch):
    server = stub()
    backend = backend_module.load(_settings(server.url, concurrency=1))
    real_post = backend_module.post

    async def post(session, url, body):
        if "item 1" in json.dumps(body):
            raise RuntimeError("boom")
        return await real_post(session, url, body)

    monkeypatch.setattr(backend_module, "post", post)
    got = []
    with pytest.raises(HarnessError, match=r"^openai: item 'id1': RuntimeError: boom$"):
        for c in backend.generate(_rendered(backend, 3), GenerationSettings()):
            if c is not None:
                got.append(c.id)
    assert "id0" in got


def test_5xx_and_429_are_retried_with_backoff(stub):
    server = stub()
    backend = backend_module.load(_settings(server.url, max_retries=4))
    server.fail_first = [500, 503, 429]
    (completion,) = finished(backend.generate(_rendered(backend, 1), GenerationSettings()))
    assert completion.raw == "echo: item 0"
    assert len(server.requests) == 1 + 4  # probe, three failures, the success
    assert backend.info().details["retries"] == 3


def test_exhausted_retries_keep_what_finished_and_say_so(stub):
    server = stub()
    backend = backend_module.load(_settings(server.url, max_retries=2, concurrency=1))
    server.always_fail = "item 1"
    got = []
    with pytest.raises(HarnessError) as e:
        for c in backend.generate(_rendered(backend, 3), GenerationSettings()):
            if c is not None:
                got.append(c.id)
    assert "id0" in got and "id1" not in got  # id2 may or may not have finished before the stop
    assert sum("item 1" in json.dumps(r) for r in server.requests) == 3
    assert str(e.value) == (f"openai: item 'id1' failed after 3 attempts (last: HTTP 500 from {server.url}/chat/completions); "
                            "completions finished so far are cached, run again to resume")


def test_client_errors_are_not_retried(stub):
    server = stub()
    backend = backend_module.load(_settings(server.url))
    server.fail_first = [400]
    with pytest.raises(HarnessError, match=r"openai: item 'id0': HTTP 400 from .*: injected 400$"):
        list(backend.generate(_rendered(backend, 1), GenerationSettings()))
    assert len(server.requests) == 2  # the probe and one try


def test_requests_are_sharded_and_concurrency_is_bounded(stub):
    a, b = stub(delay_s=0.05), stub(delay_s=0.05)
    backend = backend_module.load(_settings([a.url, b.url], concurrency=2))
    completions = finished(backend.generate(_rendered(backend, 12), GenerationSettings()))
    assert len(completions) == 12
    assert len(a.requests) == len(b.requests) == 1 + 6  # the probe + half of the batch each
    assert a.max_in_flight <= 2 and b.max_in_flight <= 2


def test_a_dead_replica_fails_over_to_the_other(stub):
    a = stub()
    dead = f"http://{LOOPBACK}:{free_port()}/v1"
    backend = backend_module.load(_settings(a.url))
    backend.settings = _settings([a.url, dead], max_retries=2)  # the replica died after load
    completions = finished(backend.generate(_rendered(backend, 4), GenerationSettings()))
    assert sorted(c.id for c in completions) == ["id0", "id1", "id2", "id3"]


def test_completions_endpoint_sends_the_plain_prompt(stub):
    server = stub()
    backend = backend_module.load(_settings(server.url, endpoint="completions"))
    (c,) = finished(backend.generate(_rendered(backend, 1, max_new_tokens=2), GenerationSettings(stop=("\n",))))
    assert server.requests[-1]["prompt"] == "item 0" and server.requests[-1]["stop"] == ["\n"]
    assert c.stop_reason == "max_new_tokens"


# --------------------------------------------------------------------------- faults (tests/helpers/fake_openai.py)


@pytest.fixture(scope="module")
def faults():
    server = FaultServer()
    yield server
    server.close()


def _answer(content="hi", **top):
    choice = {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
    return {"model": "m", "choices": [choice], "usage": {"completion_tokens": 1}, **top}


@pytest.mark.parametrize(
    "data, message",
    [
        ([], "the answer is a JSON list, not a completion object: []"),
        ("text", "the answer is a JSON str, not a completion object: 'text'"),
        (_answer(12345), "the answer is not a chat completion: choices.0.message.content: Input should be a valid "
                         "string (got 12345)"),
        (_answer([{"type": "text"}]), "the answer is not a chat completion: choices.0.message.content: Input should "
                                      "be a valid string (got [{'type': 'text'}])"),
        (_answer(choices=[]), "the answer is not a chat completion: choices: List should have at least 1 item after "
                              "validation, not 0 (got [])"),
        ({"choices": [{"message": {"content": "x"}}]}, "usage.completion_tokens: missing"),
        (_answer(usage={"completion_tokens": "3"}), "usage.completion_tokens: Input should be a valid integer (got '3')"),
        (_answer("a\ud800b"), "the answer's text holds a lone surrogate ('\\ud800' at character 1)"),
    ],
)
def test_answers_are_checked_against_the_schema(data, message):
    with pytest.raises(wire.BadAnswer) as e:
        wire.parse_answer("chat", data)
    assert message in str(e.value) and "\n" not in str(e.value)


def test_a_valid_answer_and_null_content():
    assert wire.answer_text(wire.parse_answer("chat", _answer("你好"))) == "你好"
    assert wire.answer_text(wire.parse_answer("chat", _answer(None))) == ""


def test_the_probe_is_retried_like_a_request(faults):
    """A server still loading its model answers 503: the probe waits for it with the request policy."""
    backend = backend_module.load(_settings(faults.url("probe-503-2~a"), max_retries=2))
    assert backend.identity()["served_model"] == "fake-model"
    assert faults.counts[("probe-503-2~a", "probe")] == 3
    with pytest.raises(HarnessError) as e:  # too few retries: one line saying what the server answered
        backend_module.load(_settings(faults.url("probe-503-2~b"), max_retries=1))
    assert str(e.value) == (f"base_url: {faults.url('probe-503-2~b')}/chat/completions gave no usable answer after "
                            "2 attempts (last: HTTP 503: loading)")


@pytest.mark.parametrize(
    "mode, message",
    [
        ("probe-garbage", "gave no usable answer after 2 attempts (last: an answer that is not JSON: "
                          "'<html><body>502 Bad Gateway</body></html>')"),
        ("probe-array", "/chat/completions: the answer is a JSON list, not a completion object"),
        ("probe-404", "answered HTTP 404: no such route"),
    ],
)
def test_a_garbage_probe_answer_is_reported_as_what_it_is(faults, mode, message):
    with pytest.raises(HarnessError) as e:
        backend_module.load(_settings(faults.url(mode), max_retries=1))
    assert message in str(e.value) and faults.url(mode) in str(e.value)
    assert "cannot reach" not in str(e.value)


def test_credentials_in_a_url_are_redacted_everywhere(faults):
    secret_url = faults.url("array").replace("http://", "http://user:sk-in-url@")
    assert wire.redact_urls(f"HTTP 500 from {secret_url}/x") == \
        f"HTTP 500 from {faults.url('array').replace('http://', 'http://***@')}/x"
    settings = _settings(secret_url)
    assert "sk-in-url" not in json.dumps(settings.model_dump(mode="json"))  # the manifest records this
    backend = backend_module.load(settings)  # the probe sends them as basic auth and succeeds
    with pytest.raises(HarnessError) as e:
        finished(backend.generate(_rendered(backend, 1), GenerationSettings()))
    assert "sk-in-url" not in str(e.value) and "http://***@" in str(e.value)


def test_stopping_early_cancels_requests_in_flight(faults):
    """Ctrl-C (or any error in the consumer) closes the generator: hung requests are cancelled,
    not waited out for their timeout."""
    backend = backend_module.load(_settings(faults.url("hang"), timeout_s=60, concurrency=4))
    stream = backend.generate(_rendered(backend, 4), GenerationSettings())
    ticks = 0
    for c in stream:
        assert c is None  # nothing finishes: only ticks
        ticks += 1
        if ticks == 3:
            break
    started = time.monotonic()
    stream.close()
    assert time.monotonic() - started < 5


def _cached(cache: Path) -> int:
    path = cache / "generations-v1.sqlite"
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(path, timeout=5) as db:
            return db.execute("SELECT COUNT(*) FROM completions").fetchone()[0]
    except sqlite3.Error:
        return 0


def _start(config: Path, results: Path, cache: Path, root: Path) -> subprocess.Popen:
    env = {**os.environ, "HARNESS_CACHE": str(cache), "PYTHONPATH": str(root)}
    return subprocess.Popen([sys.executable, "-m", "harness.cli", "run", str(config), "--results", str(results), "--quiet"],
                            cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_finished_completions_are_committed_while_the_server_hangs(faults, tmp_path, root):
    """Three answers, then the server hangs: the three are in the cache within a second (the
    0.5 s commit timer), so a SIGKILL then loses none of them."""
    config = _config(tmp_path, faults.url("ok-then-hang~commit"), limit=6)
    run = _start(config, tmp_path / "results", tmp_path / "cache", root)
    try:
        assert wait_for(lambda: _cached(tmp_path / "cache") >= 3, timeout_s=30), "the finished completions were not committed"
        time.sleep(0.6)
        assert run.poll() is None  # still waiting on the hung request
    finally:
        run.send_signal(signal.SIGKILL)
        run.wait(timeout=30)
    assert _cached(tmp_path / "cache") == 3


def test_a_bad_answer_never_rolls_back_finished_completions(faults, tmp_path, root):
    config = _config(tmp_path, faults.url("ok-then-array"), limit=6)
    run = _start(config, tmp_path / "results", tmp_path / "cache", root)
    _, err = run.communicate(timeout=120)
    assert run.returncode == 2 and err.count("\n") == 1, err
    assert "the answer is a JSON list, not a completion object" in err and faults.url("ok-then-array") in err
    assert _cached(tmp_path / "cache") == 3
    assert not (tmp_path / "results").exists()


def test_sigint_during_a_hung_request_exits_130_at_once(faults, tmp_path, root):
    config = _config(tmp_path, faults.url("ok-then-hang~sigint"), limit=6)
    run = _start(config, tmp_path / "results", tmp_path / "cache", root)
    assert wait_for(lambda: _cached(tmp_path / "cache") >= 3, timeout_s=30)
    sent = time.monotonic()
    run.send_signal(signal.SIGINT)
    _, err = run.communicate(timeout=30)
    assert time.monotonic() - sent < 5  # the request (timeout 120 s) was cancelled, not waited out
    assert run.returncode == 130 and err.startswith("interrupted by SIGINT") and err.count("\n") == 1, err
    assert _cached(tmp_path / "cache") == 3


def test_server_down_at_start_is_one_line(run_cli, tmp_path, monkeypatch, root):
    monkeypatch.chdir(root)
    url = f"http://{LOOPBACK}:{free_port()}/v1"
    config = _config(tmp_path, url, limit=2)
    code, out, err = run_cli("run", str(config), "--results", str(tmp_path / "results"), "--quiet")
    assert code == 2
    assert err.count("\n") == 1 and f"cannot reach {url}" in err and "is the server running?" in err
    assert not (tmp_path / "results").exists()


def _config(tmp_path: Path, url: str, *, limit: int, endpoint: str = "chat", max_new_tokens: int = 16) -> Path:
    config = {
        "run": "openai-test",
        "dataset": "data",
        "tasks": [{"task": "translate_zh_en", "limit": limit, "max_new_tokens": max_new_tokens}],
        "models": [{"name": "served", "backend": "openai", "model": "gemma", "base_url": url, "endpoint": endpoint,
                    "concurrency": 1, "max_retries": 1, "backoff_s": 0.05, "timeout_s": 120}],
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- a real llama.cpp server


@pytest.fixture(scope="module")
def gemma_file(request) -> Path:
    from harness.generate import gguf
    from harness.generate.catalogue import get_model

    folder = Path(request.config.cache.mkdir("harness-models"))
    old = os.environ.get("HARNESS_CACHE")
    os.environ["HARNESS_CACHE"] = str(folder)
    try:
        path, _ = gguf.ensure_model_file(get_model("gemma3-270m"))
    finally:
        if old is None:
            os.environ.pop("HARNESS_CACHE")
        else:
            os.environ["HARNESS_CACHE"] = old
    return path


class LlamaServer:
    def __init__(self, model: Path, port: int):
        self.model, self.port = model, port
        self.url = f"http://{LOOPBACK}:{port}/v1"
        self.process = None

    def start(self) -> LlamaServer:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(self.model), "--model_alias", "gemma",
             "--host", LOOPBACK, "--port", str(self.port), "--n_ctx", "1024", "--n_threads", "2", "--seed", "0"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:  # bounded wait for the port to answer
            if self.process.poll() is not None:
                raise RuntimeError(f"llama.cpp server exited with {self.process.returncode}")
            try:
                with urllib.request.urlopen(f"{self.url}/models", timeout=2):
                    return self
            except OSError:
                time.sleep(0.5)
        raise RuntimeError("llama.cpp server did not come up in 90 s")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)


@pytest.fixture
def llama_server(gemma_file):
    server = LlamaServer(gemma_file, free_port())
    yield server
    server.kill()


def _run(config: Path, results: Path, cache: Path, root: Path, *extra: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "HARNESS_CACHE": str(cache)}
    return subprocess.run([sys.executable, "-m", "harness.cli", "run", str(config), "--results", str(results), "--quiet", *extra],
                          cwd=root, env=env, capture_output=True, text=True, timeout=600)


def _predictions(results: Path) -> list[dict]:
    path = results / "openai-test" / "predictions" / "served" / "translate_zh_en.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_real_server_round_trip_and_resume_after_it_is_killed(llama_server, tmp_path, root):
    """Uninterrupted run → reference; then a run whose server is SIGKILLed after two completions
    fails with one line, keeps them in the cache, and finishes after a restart with the same
    predictions, generating only what was missing."""
    n = 5
    config = _config(tmp_path, llama_server.url, limit=n, endpoint="completions", max_new_tokens=12)
    llama_server.start()

    reference = _run(config, tmp_path / "ref", tmp_path / "cache-ref", root)
    assert reference.returncode == 0, reference.stderr
    expected = _predictions(tmp_path / "ref")
    assert len(expected) == n and all(p["output_tokens"] > 0 for p in expected)
    manifest = json.loads((tmp_path / "ref" / "openai-test" / "manifest.json").read_text())
    assert manifest["models"]["served"]["identity"]["served_model"] == "gemma"

    cache = tmp_path / "cache-kill"
    env = {**os.environ, "HARNESS_CACHE": str(cache)}
    run = subprocess.Popen([sys.executable, "-m", "harness.cli", "run", str(config), "--results", str(tmp_path / "res"), "--quiet"],
                           cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    db = cache / "generations-v1.sqlite"
    deadline = time.monotonic() + 180
    done = 0
    while time.monotonic() < deadline and run.poll() is None:
        if db.exists():
            try:
                with sqlite3.connect(db, timeout=5) as con:
                    done = con.execute("SELECT COUNT(*) FROM completions").fetchone()[0]
            except sqlite3.Error:
                done = 0
        if done >= 2:
            llama_server.kill()
            break
        time.sleep(0.05)
    _, err = run.communicate(timeout=300)
    assert done >= 2 and run.returncode == 2, err
    assert err.strip().count("\n") == 0 and "run again to resume" in err
    assert not (tmp_path / "res" / "openai-test").exists()

    llama_server.start()
    resumed = _run(config, tmp_path / "res", cache, root)
    assert resumed.returncode == 0, resumed.stderr
    manifest = json.loads((tmp_path / "res" / "openai-test" / "manifest.json").read_text())
    assert manifest["cache"]["hits"] >= 2 and manifest["cache"]["hits"] + manifest["cache"]["misses"] == n
    got = _predictions(tmp_path / "res")
    strip = lambda ps: [{k: v for k, v in p.items() if k != "latency_s"} for p in ps]  # noqa: E731
    assert strip(got) == strip(expected)
