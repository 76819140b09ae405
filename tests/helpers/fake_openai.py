"""A fake OpenAI-compatible server on 127.0.0.1 whose faults are chosen by the URL path.

`server.url("array")` is `http://127.0.0.1:PORT/array/v1`: requests under `/array/` get that
mode's answer. `server.url("ok-then-hang~t1")` is the same mode with its own request counters. The one-token start-up probe (max_tokens == 1) is answered normally unless the
mode starts with `probe-`. Every wait is bounded (a hung request gives up after HANG_S).
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOOPBACK = "127.0.0.1"
HANG_S = 30.0


def completion(body: dict, content="auto") -> dict:
    if content == "auto":
        last = body["messages"][-1]["content"] if "messages" in body else body["prompt"]
        content = "echo: " + last[:40]
    if "messages" in body:
        choice = {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
    else:
        choice = {"index": 0, "text": content, "finish_reason": "stop"}
    return {"id": "x", "model": "fake-model", "system_fingerprint": "fp_fake", "choices": [choice],
            "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}}


def mqm_answer(text: str) -> str:
    if "GARBLED" in text:
        return "garbled"
    major = 'accuracy/mistranslation - "BAD"' if "BAD" in text else "no-error"
    return f"Critical:\nno-error\nMajor:\n{major}\nMinor:\nno-error"


class FaultServer:
    """Modes (the first path component):

    ok             every request answered
    array          answers `[]`                     content-int   message.content is 12345
    content-list   message.content is a list        no-choices    choices: []
    no-usage       no usage field                   garbage       200 with an HTML page
    surrogate      content is a lone surrogate      http400       400 with a JSON error
    hang           never answers (until HANG_S)     ok-then-hang  the first 3 answered, then hang
    ok-then-array  the first 3 answered, then `[]`
    probe-503-2    the probe gets 503 twice, then everything is answered
    probe-garbage  the probe gets a 200 HTML page   probe-array   the probe gets `[]`
    probe-404      the probe gets 404               probe-401-echo  401 quoting the Authorization header
    mqm            a GEMBA-MQM answer (judge tests): one major error when the last message contains
                   BAD, "garbled" (unparseable) when it contains GARBLED, else no-error; `mqm-slow`
                   the same after 0.05 s
    """

    def __init__(self):
        self.counts: Counter = Counter()  # (mode, "probe"|"gen") → requests seen
        self.lock = threading.Lock()
        self.stop = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                body = json.loads(raw)
                route = self.path.strip("/").split("/", 1)[0]  # MODE or MODE~TAG (its own counters)
                mode = route.split("~", 1)[0]
                probe = body.get("max_tokens") == 1
                with server.lock:
                    server.counts[(route, "probe" if probe else "gen")] += 1
                    n = server.counts[(route, "probe" if probe else "gen")]
                status, payload = server.answer(mode, probe, n, body, dict(self.headers))
                if status is None:  # hang
                    server.stop.wait(HANG_S)
                    return
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the client went away (cancelled)
                    pass

        self.httpd = ThreadingHTTPServer((LOOPBACK, 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, mode: str = "ok") -> str:
        return f"http://{LOOPBACK}:{self.port}/{mode}/v1"

    def answer(self, mode: str, probe: bool, n: int, body: dict, headers: dict):
        html = b"<html><body>502 Bad Gateway</body></html>"
        if mode.startswith("probe-"):
            if not probe:
                return 200, completion(body)
            return {
                "probe-503-2": (503, {"error": {"message": "loading"}}) if n <= 2 else (200, completion(body)),
                "probe-garbage": (200, html),
                "probe-array": (200, []),
                "probe-404": (404, {"error": {"message": "no such route"}}),
                "probe-401-echo": (401, {"error": {"message": f"bad key {headers.get('Authorization')}"}}),
            }[mode]
        if mode in ("mqm", "mqm-slow") and not probe:
            if mode == "mqm-slow":
                time.sleep(0.05)
            return 200, completion(body, mqm_answer(body["messages"][-1]["content"]))
        if probe or mode == "ok":
            return 200, completion(body)
        if mode in ("ok-then-hang", "ok-then-array") and n <= 3:
            return 200, completion(body)
        return {
            "array": (200, []),
            "ok-then-array": (200, []),
            "content-int": (200, completion(body, 12345)),
            "content-list": (200, completion(body, [{"type": "text", "text": "hi"}])),
            "no-choices": (200, {**completion(body), "choices": []}),
            "no-usage": (200, {k: v for k, v in completion(body).items() if k != "usage"}),
            "garbage": (200, html),
            "surrogate": (200, json.dumps(completion(body, "x\ud800y")).encode()),
            "http400": (400, {"error": {"message": "prompt too long"}}),
            "hang": (None, None),
            "ok-then-hang": (None, None),
        }[mode]

    def close(self) -> None:
        self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def wait_for(predicate, timeout_s: float = 30.0, step_s: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step_s)
    return False
