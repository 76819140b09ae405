"""Hostile and damaged inputs, one table: every case ends with exit 2 (130/143 when interrupted),
exactly one line on stderr naming the file (or the key, option or URL), and every file that
existed in the working folder byte-for-byte unchanged, with nothing added.

Each case runs `harness` as a subprocess in a fresh copy of a small working folder (the built
dataset, the seeds and references, a results folder with two finished baseline runs, a `file`
backend outputs file and a valid config). Server faults use tests/helpers/fake_openai.py on 127.0.0.1.
Baselines and tiny inputs only: the whole table runs in well under a minute of CPU.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from helpers.fake_openai import FaultServer, wait_for

ROOT = Path(__file__).resolve().parents[1]
SECRET = "s3cr3t-KEY-42"


# --------------------------------------------------------------------------- the working folder


BASE_RUN = {
    "run": "base",
    "dataset": "data",
    "seed": 0,
    "tasks": [{"task": "summarize_zh", "limit": 3}, {"task": "translate_en_zh", "limit": 4}],
    "models": [{"name": "lead", "backend": "baseline", "kind": "lead", "tasks": ["summarize_zh"]},
               {"name": "copy", "backend": "baseline", "kind": "copy", "tasks": ["translate_en_zh"]}],
}


def config(**top) -> dict:
    """A small valid config (one baseline on two items), with top-level keys replaced."""
    out = {"run": "hostile", "dataset": "data", "seed": 0,
           "tasks": [{"task": "summarize_zh", "limit": 2}],
           "models": [{"name": "lead", "backend": "baseline", "kind": "lead"}]}
    out.update(top)
    return out


def with_task(**task) -> dict:
    return config(tasks=[{"task": "summarize_zh", "limit": 2, **task}])


def with_model(**model) -> dict:
    return config(models=[{"name": "lead", "backend": "baseline", "kind": "lead", **model}])


def openai_model(url: str, **extra) -> dict:
    return config(models=[{"name": "served", "backend": "openai", "model": "fake", "base_url": url,
                           "concurrency": 1, "max_retries": 1, "backoff_s": 0.01, "timeout_s": 30, **extra}])


def harness(work: Path, *args: str, cache: Path, env: dict | None = None) -> subprocess.Popen:
    environment = {**os.environ, "HARNESS_CACHE": str(cache), "PYTHONPATH": str(ROOT),
                   "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", **(env or {})}
    return subprocess.Popen([sys.executable, "-m", "harness.cli", *args], cwd=work, env=environment,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("template") / "work"
    work.mkdir()
    for name in ("data", "seeds", "references"):
        shutil.copytree(ROOT / name, work / name)
    (work / "results").mkdir()
    (work / "results" / "README.md").write_text("results of the team\n", encoding="utf-8")
    for run in ("base", "base2"):
        (work / f"{run}.yaml").write_text(yaml.safe_dump({**BASE_RUN, "run": run}), encoding="utf-8")
        proc = harness(work, "run", f"{run}.yaml", "--quiet", cache=work.parent / "cache")
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    (work / "outputs.jsonl").write_text("".join(json.dumps({"id": i, "output": f"输出{i}"}) + "\n"
                                                for i in ("000", "001")), encoding="utf-8")
    (work / "ok.yaml").write_text(yaml.safe_dump(config()), encoding="utf-8")
    return work


@pytest.fixture(scope="module")
def server():
    s = FaultServer()
    yield s
    s.close()


def snapshot(folder: Path) -> dict[str, str]:
    """Every file's sha256 and every folder, by relative path."""
    out = {}
    for path in sorted(folder.rglob("*")):
        rel = str(path.relative_to(folder))
        if path.is_symlink():
            out[rel] = "link:" + os.readlink(path)
        elif path.is_dir():
            out[rel] = "dir"
        else:
            out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


# --------------------------------------------------------------------------- the cases


@dataclass
class Ctx:
    work: Path
    server: FaultServer

    def write(self, name: str, content: str | bytes | dict) -> str:
        path = self.work / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, dict):
            content = yaml.safe_dump(content, allow_unicode=True, sort_keys=False)
        if isinstance(content, str):
            content = content.encode("utf-8")
        path.write_bytes(content)
        return name

    def jsonl_edit(self, path: str, edit: Callable[[list[dict]], list]) -> None:
        file = self.work / path
        rows = [json.loads(line) for line in file.read_text(encoding="utf-8").splitlines()]
        file.write_text("".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n"
                                for r in edit(rows)), encoding="utf-8")

    def json_edit(self, path: str, edit: Callable[[dict], object]) -> None:
        file = self.work / path
        file.write_text(json.dumps(edit(json.loads(file.read_text(encoding="utf-8"))), ensure_ascii=False),
                        encoding="utf-8")


@dataclass
class Case:
    id: str
    setup: Callable[[Ctx], list[str]]  # writes what it needs, returns the command's arguments
    names: str | Callable[[Ctx], str]  # what the one error line must mention
    code: int = 2
    forbid: tuple[str, ...] = ()  # never in the output (secrets, file contents)
    interrupt: signal.Signals | None = None  # sent once the run has committed a completion
    env: dict = field(default_factory=dict)


def validate(cfg: dict | str | bytes) -> Callable[[Ctx], list[str]]:
    return lambda ctx: ["config", "validate", ctx.write("c.yaml", cfg)]


def run(cfg: dict | str | bytes | Callable[[Ctx], dict], *extra: str) -> Callable[[Ctx], list[str]]:
    return lambda ctx: ["run", ctx.write("c.yaml", cfg(ctx) if callable(cfg) else cfg), "--quiet", *extra]


def billion_laughs() -> str:
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, 10)]
    return "\n".join(lines) + "\n" + yaml.safe_dump(config())


def many_aliases(n: int) -> str:
    return yaml.safe_dump(config()) + "x: &x 1\ny: [" + ", ".join(["*x"] * n) + "]\n"


def score(*args: str, hyp: str | bytes = "一\n二\n", ref: str | bytes = "一\n二\n") -> Callable[[Ctx], list[str]]:
    def setup(ctx: Ctx) -> list[str]:
        ctx.write("hyp.txt", hyp)
        ctx.write("ref.txt", ref)
        return ["score", "--task", "summarize_zh", "--hyp", "hyp.txt", "--ref", "ref.txt", *args]
    return setup


def damaged(edit: Callable[[Ctx], None], command: str = "rescore") -> Callable[[Ctx], list[str]]:
    """Damage results/base, then rescore it, put it on a leaderboard or compare base2 with it."""
    def setup(ctx: Ctx) -> list[str]:
        edit(ctx)
        if command == "rescore":
            return ["rescore", "results/base"]
        if command == "leaderboard":
            return ["leaderboard", "results/base", "results/base2", "--out", "site"]
        return ["compare", "results/base2", "results/base"]
    return setup


def build(*args: str, edit: Callable[[Ctx], None] | None = None) -> Callable[[Ctx], list[str]]:
    def setup(ctx: Ctx) -> list[str]:
        if edit:
            edit(ctx)
        return ["data", "build", "--seeds", "seeds", "--references", "references", *args]
    return setup


def file_backend(content: bytes) -> Callable[[Ctx], list[str]]:
    def setup(ctx: Ctx) -> list[str]:
        ctx.write("sys.jsonl", content)
        return ["run", ctx.write("c.yaml", with_model_file("sys.jsonl")), "--quiet"]
    return setup


def with_model_file(path: str) -> dict:
    return config(models=[{"name": "sys", "backend": "file", "path": path}])


def served(mode: str, **extra) -> Callable[[Ctx], list[str]]:
    return lambda ctx: ["run", ctx.write("c.yaml", openai_model(ctx.server.url(mode), **extra)), "--quiet"]


def url_of(mode: str) -> Callable[[Ctx], str]:
    return lambda ctx: ctx.server.url(mode)


PRED = "results/base/predictions/lead/summarize_zh.jsonl"
MANIFEST = "results/base/manifest.json"
SEED = "seeds/001_14a89fbed0affdd6.txt"

CASES = [
    # --- names that become paths
    Case("run-dot", validate(config(run=".")), "run name '.'"),
    Case("run-dotdot", run(config(run="..")), "run name '..'"),
    Case("run-empty", run(config(run="")), "run name ''"),
    Case("run-hidden", run(config(run=".hidden")), "run name '.hidden'"),
    Case("run-option-like", run(config(run="-rf")), "run name '-rf'"),
    Case("run-slash", run(config(run="a/b")), "run name 'a/b'"),
    Case("run-backslash", run(config(run="a\\b")), "run name"),
    Case("run-control-char", run(config(run="a\nb")), "run name 'a\\nb'"),
    Case("run-too-long", run(config(run="r" * 300)), "run name"),
    Case("run-not-a-string", run(config(run=12)), "c.yaml:1: run"),
    Case("model-dotdot", run(with_model(name="..")), "model name '..'"),
    Case("model-slash", run(with_model(name="../../escape")), "model name"),
    Case("model-hidden", validate(with_model(name=".m")), "model name '.m'"),
    Case("results-is-a-file", run(config(), "--results", "ok.yaml"), "--results ok.yaml"),
    Case("results-under-a-file", run(config(), "--results", "ok.yaml/sub"), "--results ok.yaml/sub"),
    # --- numbers
    Case("seed-negative", run(config(seed=-1)), "c.yaml:3: seed"),
    Case("seed-too-big", validate(config(seed=2**32)), "c.yaml:3: seed"),
    Case("seed-float", validate(config(seed=1.5)), "c.yaml:3: seed"),
    Case("seed-set-negative", lambda ctx: ["run", "ok.yaml", "--set", "seed=-1", "--quiet"], "--set seed=-1"),
    Case("limit-negative", validate(with_task(limit=-1)), "tasks.0.limit"),
    Case("limit-cli-zero", run(config(), "--limit", "0"), "--limit"),
    Case("max-new-tokens-zero", validate(with_task(max_new_tokens=0)), "tasks.0.max_new_tokens"),
    Case("max-new-tokens-huge", validate(with_task(max_new_tokens=10**12)), "tasks.0.max_new_tokens"),
    Case("shots-huge", validate(with_task(shots=10**6)), "tasks.0.shots"),
    Case("temperature-inf", validate(config(generation={"do_sample": True, "temperature": float("inf")})),
         "generation.temperature"),
    Case("top-p-nan", validate(config(generation={"do_sample": True, "temperature": 0.7, "top_p": float("nan")})),
         "generation.top_p"),
    Case("delay-negative", validate(with_model(delay_s=-1)), "models.0.delay_s"),
    Case("lead-n-huge", validate(with_model(n=10**9)), "models.0.n"),
    Case("hf-batch-size-huge", validate(config(models=[{"name": "m", "backend": "hf", "model": "org/model",
                                                        "batch_size": 10**6}])), "models.0.batch_size"),
    Case("openai-timeout-zero", validate(openai_model("http://127.0.0.1:9/v1", timeout_s=0)), "models.0.timeout_s"),
    Case("openai-concurrency-zero", validate(openai_model("http://127.0.0.1:9/v1", concurrency=0)),
         "models.0.concurrency"),
    Case("openai-retries-huge", validate(openai_model("http://127.0.0.1:9/v1", max_retries=1000)),
         "models.0.max_retries"),
    Case("openai-timeout-inf", validate(openai_model("http://127.0.0.1:9/v1", timeout_s=float("inf"))),
         "models.0.timeout_s"),
    # --- hostile YAML
    Case("billion-laughs", run(billion_laughs()), "c.yaml"),
    Case("too-many-aliases", validate(many_aliases(150)), "c.yaml"),
    Case("recursive-alias", validate("run: &a [*a]\n"), "c.yaml:1"),
    Case("yaml-deeply-nested", validate("run: " + "[" * 5000 + "]" * 5000 + "\n"), "c.yaml"),
    Case("config-over-1mb", validate(yaml.safe_dump(config()) + "# padding\n" * 120_000), "c.yaml"),
    Case("yaml-syntax", validate("run: x\n  tasks: [\n"), "c.yaml:2"),
    Case("yaml-python-tag", validate("run: !!python/object/apply:os.system ['true']\n"), "c.yaml:1"),
    Case("config-not-utf8", validate(b"run: \xff\xfe\n"), "c.yaml"),
    Case("config-empty", validate(""), "c.yaml"),
    Case("config-is-a-folder", lambda ctx: ["config", "validate", "results"], "results"),
    Case("prompt-outside-project", run(with_task(prompt="/etc/passwd")), "/etc/passwd", forbid=("root:",)),
    Case("prompt-file-bomb", lambda ctx: ["run", ctx.write("c.yaml", with_task(prompt=ctx.write("p.yaml", billion_laughs()))),
                                          "--quiet"], "p.yaml"),
    Case("prompt-file-long-string", lambda ctx: ["run", ctx.write("c.yaml", with_task(prompt=ctx.write("p.yaml", "x" * 5000))),
                                                 "--quiet"], "p.yaml", forbid=("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",)),
    # --- `file` backend
    Case("file-lone-surrogate", file_backend(b'{"id": "000", "output": "a"}\n{"id": "001", "output": "\\ud800"}\n'),
         "sys.jsonl:2"),
    Case("file-not-utf8", file_backend(b'{"id": "000", "output": "\xff"}\n'), "sys.jsonl"),
    Case("file-array-line", file_backend(b'["000", "x"]\n'), "sys.jsonl:1"),
    Case("file-output-int", file_backend(b'{"id": "000", "output": 12345}\n'), "sys.jsonl:1"),
    Case("file-duplicate-id", file_backend(b'{"id": "000", "output": "a"}\n{"id": "000", "output": "b"}\n'),
         "sys.jsonl:2"),
    Case("file-missing-item", file_backend(b'{"id": "000", "output": "a"}\n'), "sys.jsonl"),
    Case("file-broken-json", file_backend(b'{"id": "000", "output": "a"\n'), "sys.jsonl:1"),
    # --- harness score
    Case("score-seed-negative", score("--seed", "-1"), "--seed"),
    Case("score-seed-too-big", score("--seed", str(2**32)), "--seed"),
    Case("score-n-boot-zero", score("--n-boot", "0"), "--n-boot"),
    Case("score-n-boot-huge", score("--n-boot", str(10**9)), "--n-boot"),
    Case("score-hyp-not-utf8", score(hyp=b"\xff\n\xfe\n"), "--hyp hyp.txt"),
    Case("score-line-mismatch", score(ref="一\n"), "--ref ref.txt"),
    Case("score-hyp-missing", lambda ctx: ["score", "--task", "summarize_zh", "--hyp", "nope.txt", "--ref", "ok.yaml"],
         "--hyp nope.txt"),
    Case("score-hyp-folder", lambda ctx: ["score", "--task", "summarize_zh", "--hyp", "data", "--ref", "ok.yaml"],
         "--hyp data"),
    Case("score-lone-surrogate-escape", score(hyp=b"\xed\xa0\x80\n\n"), "--hyp hyp.txt"),
    # --- data build
    Case("build-out-is-a-file", build("--out", "ok.yaml"), "--out ok.yaml"),
    Case("build-out-dot", build("--out", "."), "--out"),
    Case("build-out-dotdot", build("--out", ".."), "--out"),
    Case("build-seed-not-utf8", build("--out", "data", edit=lambda ctx: ctx.write(SEED, b"\xff\xfe\x00")), SEED),
    Case("build-seeds-missing", lambda ctx: ["data", "build", "--seeds", "nope", "--out", "data"], "nope"),
    Case("build-reference-bomb", build("--out", "data", edit=lambda ctx: ctx.write(
        "references/number_exceptions.yaml", billion_laughs())), "references/number_exceptions.yaml"),
    Case("build-reference-syntax", build("--out", "data", edit=lambda ctx: ctx.write(
        "references/number_exceptions.yaml", "a: [\n")), "references/number_exceptions.yaml"),
    # --- damaged results folders
    Case("rescore-manifest-empty-object", damaged(lambda ctx: ctx.write(MANIFEST, "{}")), MANIFEST),
    Case("rescore-manifest-array", damaged(lambda ctx: ctx.write(MANIFEST, "[]")), MANIFEST),
    Case("rescore-manifest-missing-key", damaged(lambda ctx: ctx.json_edit(
        MANIFEST, lambda m: {k: v for k, v in m.items() if k != "tasks"})), MANIFEST),
    Case("rescore-output-int", damaged(lambda ctx: ctx.jsonl_edit(
        PRED, lambda rows: [{**rows[0], "output": 12345}, *rows[1:]])), PRED),
    Case("rescore-truncated-yes", damaged(lambda ctx: ctx.jsonl_edit(
        PRED, lambda rows: [{**rows[0], "truncated": "yes"}, *rows[1:]])), PRED),
    Case("rescore-duplicated-line", damaged(lambda ctx: ctx.jsonl_edit(PRED, lambda rows: [*rows, rows[-1]])), PRED),
    Case("rescore-cut-file", damaged(lambda ctx: ctx.jsonl_edit(PRED, lambda rows: rows[:1])), PRED),
    Case("rescore-not-json", damaged(lambda ctx: ctx.write(PRED, "not json\n")), PRED),
    Case("rescore-model-dotdot", damaged(lambda ctx: ctx.json_edit(
        MANIFEST, lambda m: {**m, "throughput": {"..": m["throughput"]["lead"]}})), MANIFEST),
    Case("leaderboard-manifest-array", damaged(lambda ctx: ctx.write(MANIFEST, "[]"), "leaderboard"), MANIFEST),
    Case("leaderboard-output-int", damaged(lambda ctx: ctx.jsonl_edit(
        PRED, lambda rows: [{**rows[0], "output": 12345}, *rows[1:]]), "leaderboard"), PRED),
    Case("leaderboard-out-is-a-file", lambda ctx: ["leaderboard", "results/base", "--out", "ok.yaml"], "ok.yaml"),
    Case("leaderboard-seed-negative", lambda ctx: ["leaderboard", "results/base", "--out", "site", "--seed", "-1"],
         "--seed"),
    Case("leaderboard-missing-folder", lambda ctx: ["leaderboard", "results/nope", "--out", "site"], "results/nope"),
    Case("compare-manifest-empty-object", damaged(lambda ctx: ctx.write(MANIFEST, "{}"), "compare"), MANIFEST),
    Case("compare-cut-file", damaged(lambda ctx: ctx.jsonl_edit(PRED, lambda rows: rows[:1]), "compare"), PRED),
    Case("compare-not-a-folder", lambda ctx: ["compare", "results/base", "ok.yaml"], "ok.yaml"),
    Case("compare-seed-negative", lambda ctx: ["compare", "results/base", "results/base2", "--seed", "-1"], "--seed"),
    # --- openai backend against the fake server
    Case("openai-array-answer", served("array"), url_of("array")),
    Case("openai-content-int", served("content-int"), url_of("content-int")),
    Case("openai-content-list", served("content-list"), url_of("content-list")),
    Case("openai-no-choices", served("no-choices"), url_of("no-choices")),
    Case("openai-no-usage", served("no-usage"), url_of("no-usage")),
    Case("openai-garbage-answer", served("garbage"), url_of("garbage"), forbid=("is the server running",)),
    Case("openai-lone-surrogate", served("surrogate"), url_of("surrogate")),
    Case("openai-http-400", served("http400"), url_of("http400")),
    Case("openai-probe-garbage", served("probe-garbage"), url_of("probe-garbage"), forbid=("is the server running",)),
    Case("openai-probe-array", served("probe-array"), url_of("probe-array")),
    Case("openai-probe-404", served("probe-404"), url_of("probe-404")),
    Case("openai-key-echoed", served("probe-401-echo", api_key_env="FAKE_KEY"), "base_url", forbid=(SECRET,),
         env={"FAKE_KEY": SECRET}),
    Case("openai-key-in-url", lambda ctx: ["run", ctx.write("c.yaml", openai_model(
        ctx.server.url("array").replace("http://", f"http://user:{SECRET}@"))), "--quiet"], "http://***@",
         forbid=(SECRET,)),
    Case("openai-key-in-bad-url", validate(openai_model(f"ftp://user:{SECRET}@127.0.0.1/v1")), "models.0.base_url",
         forbid=(SECRET,)),
    Case("openai-server-down", lambda ctx: ["run", ctx.write("c.yaml", openai_model("http://127.0.0.1:9/v1")), "--quiet"],
         "http://127.0.0.1:9/v1"),
    Case("openai-key-variable-unset", served("ok", api_key_env="HARNESS_UNSET_KEY_VARIABLE"), "HARNESS_UNSET_KEY_VARIABLE"),
    # --- interrupted runs: one line, 130/143, nothing written
    Case("sigint-slow-baseline", run(config(tasks=[{"task": "translate_en_zh", "limit": 60}],
                                            models=[{"name": "slow", "backend": "baseline", "kind": "copy",
                                                     "delay_s": 0.05}])),
         "interrupted by SIGINT", code=130, interrupt=signal.SIGINT),
    Case("sigterm-slow-baseline", run(config(tasks=[{"task": "translate_en_zh", "limit": 60}],
                                             models=[{"name": "slow", "backend": "baseline", "kind": "copy",
                                                      "delay_s": 0.05}])),
         "interrupted by SIGTERM", code=143, interrupt=signal.SIGTERM),
    Case("sigint-hung-server", lambda ctx: ["run", ctx.write("c.yaml", openai_model(
        ctx.server.url("ok-then-hang"), timeout_s=600)), "--quiet"], "interrupted by SIGINT", code=130,
         interrupt=signal.SIGINT),
]


def test_the_table_is_large_and_unique():
    assert len(CASES) >= 60
    assert len({c.id for c in CASES}) == len(CASES)


def cached_rows(cache: Path) -> int:
    files = list(cache.glob("*.sqlite"))
    if not files:
        return 0
    try:
        with sqlite3.connect(files[0], timeout=5) as db:
            return db.execute("SELECT COUNT(*) FROM completions").fetchone()[0]
    except sqlite3.Error:
        return 0


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_input(case: Case, template: Path, server: FaultServer, tmp_path: Path):
    work = tmp_path / "work"
    shutil.copytree(template, work, symlinks=True)
    ctx = Ctx(work, server)
    args = case.setup(ctx)
    before = snapshot(work)
    cache = tmp_path / "cache"
    proc = harness(work, *args, cache=cache, env=case.env)
    if case.interrupt is not None:
        assert wait_for(lambda: cached_rows(cache) >= 1 or proc.poll() is not None, 60), "nothing was committed"
        assert proc.poll() is None, "the run ended before it could be interrupted"
        sent = time.monotonic()
        proc.send_signal(case.interrupt)
        out, err = proc.communicate(timeout=30)
        assert time.monotonic() - sent < 10, "the interrupted run waited something out"
        assert cached_rows(cache) >= 1  # what finished stays committed
    else:
        out, err = proc.communicate(timeout=120)
    names = case.names(ctx) if callable(case.names) else case.names
    assert proc.returncode == case.code, err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert names in lines[0], lines[0]
    assert "Traceback" not in err
    for secret in case.forbid:
        assert secret not in out + err
    assert snapshot(work) == before  # nothing changed, nothing added (no stray staging folder)


def test_a_bom_in_a_file_backend_output_is_accepted(template: Path, server: FaultServer, tmp_path: Path):
    work = tmp_path / "work"
    shutil.copytree(template, work)
    (work / "sys.jsonl").write_bytes(b"\xef\xbb\xbf" + (template / "outputs.jsonl").read_bytes())
    (work / "c.yaml").write_text(yaml.safe_dump(with_model_file("sys.jsonl")), encoding="utf-8")
    proc = harness(work, "run", "c.yaml", "--quiet", cache=tmp_path / "cache")
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    rows = [json.loads(line) for line in
            (work / "results/hostile/predictions/sys/summarize_zh.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["raw"] for r in rows] == ["输出000", "输出001"]


def test_a_run_replaces_only_its_own_folder(template: Path, server: FaultServer, tmp_path: Path):
    """Rerunning `base` replaces results/base and nothing else in results/."""
    work = tmp_path / "work"
    shutil.copytree(template, work)
    others = {k: v for k, v in snapshot(work / "results").items() if not k.startswith("base/") and k != "base"}
    proc = harness(work, "run", "base.yaml", "--quiet", cache=tmp_path / "cache")
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    after = snapshot(work / "results")
    assert {k: v for k, v in after.items() if not k.startswith("base/") and k != "base"} == others
