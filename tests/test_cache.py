"""The generation cache: where it lives, SQLite mechanics, and a hit or a miss for each key part."""

import copy
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from harness.config import parse_config
from harness.errors import HarnessError
from harness.artifacts import cache_dir
from harness.generate.cache import FILENAME, CachedCompletion, GenerationCache, cache_key
from harness.pipeline.plan import plan_run
from harness.pipeline.run import evaluate, open_session
from helpers.fake_backend import register

PROMPT = {"version": "1", "instruction": "请把下面的英文翻译成中文。", "input": "英文：{source}", "output": "中文：{target}"}
BASE = {
    "run": "cache-test",
    "dataset": "data",
    "seed": 0,
    "tasks": [{"task": "translate_en_zh", "limit": 3, "max_new_tokens": 64, "prompt": PROMPT}],
    "models": [{"name": "echo", "backend": "echo", "weights": "w1"}],
    "generation": {"do_sample": False, "temperature": 0.0},
}


@pytest.fixture(autouse=True)
def _setup(root, monkeypatch, tmp_path):
    monkeypatch.chdir(root)
    monkeypatch.setenv("HARNESS_CACHE", str(tmp_path / "cache"))
    register(monkeypatch)


def keys_for(data: dict) -> list[str]:
    plan = plan_run(parse_config(copy.deepcopy(data)))
    model = plan.models[0]
    backend = model.spec.load(model.config.settings)
    task = plan.tasks[model.tasks[0]]
    session = open_session(plan, model, backend)
    fitted = [session.fit(task, item)[0] for item in task.items]
    return [session.key(r, task) for r in fitted]


def changed(path: str, value) -> dict:
    data = copy.deepcopy(BASE)
    node = data
    *parents, last = path.split(".")
    for p in parents:
        node = node[int(p)] if p.isdigit() else node[p]
    node[last] = value
    return data


@pytest.mark.parametrize(
    "part, path, value, misses",
    [
        ("model identity (weights hash)", "models.0.weights", "w2", True),
        ("backend setting that changes outputs", "models.0.prefix", ">", True),
        ("rendering (chat template on)", "models.0.chat", True, True),
        ("generation: stop strings", "generation.stop", ["\n"], True),
        ("generation: sampling", "generation", {"do_sample": True, "temperature": 0.7}, True),
        ("generation: seed", "seed", 1, True),
        ("max_new_tokens", "tasks.0.max_new_tokens", 65, True),
        ("exact rendered prompt", "tasks.0.prompt", {**PROMPT, "instruction": "请翻译成中文。"}, True),
        ("prompt template version", "tasks.0.prompt", {**PROMPT, "version": "2"}, True),
        ("a cache-neutral setting (batch size)", "models.0.batch_size", 8, False),
        ("metrics", "tasks.0.metrics", ["chrf"], False),
        ("post-processing rules", "postprocess", ["trim"], False),
        ("the display name of the model", "models.0.name", "echo-renamed", False),
        ("the run name", "run", "other-run", False),
    ],
)
def test_each_key_part(part, path, value, misses):
    before, after = keys_for(BASE), keys_for(changed(path, value))
    assert len(set(before)) == 3
    assert (set(before).isdisjoint(after) if misses else before == after), part


def test_a_smaller_limit_reuses_the_same_keys():
    assert keys_for(changed("tasks.0.limit", 2)) == keys_for(BASE)[:2]


@pytest.mark.parametrize("field, value", [("source", "another source"), ("references", ("另一个参考",))])
def test_fields_a_baseline_reads_are_in_its_key(field, value):
    data = {**BASE, "models": [{"name": "copy", "backend": "baseline", "kind": "copy"}]}
    plan = plan_run(parse_config(copy.deepcopy(data)))
    model, task = plan.models[0], plan.tasks["translate_en_zh"]
    backend = model.spec.load(model.config.settings)
    session = open_session(plan, model, backend)
    rendered = session.fit(task, task.items[0])[0]
    other = replace(rendered, request=replace(rendered.request, **{field: value}))
    parts = [session.key_parts(r, task) for r in (rendered, other)]
    assert cache_key(parts[0]) != cache_key(parts[1])
    assert parts[0]["reads"][field] == getattr(rendered.request, field)


def test_runs_hit_and_miss_end_to_end(tmp_path):
    results = tmp_path / "results"

    def run(data, **kw):
        folder = evaluate(parse_config(copy.deepcopy(data)), results_root=results, **kw)
        import json

        return json.loads((folder / "manifest.json").read_text())["cache"]

    assert run(BASE)[("hits")] == 0
    assert run(BASE) | {"path": None} == {"enabled": True, "path": None, "hits": 3, "misses": 0}
    assert run(changed("tasks.0.metrics", ["chrf", "bleu"]))["misses"] == 0  # metrics never regenerate
    assert run(changed("models.0.weights", "w2"))["misses"] == 3
    assert run(BASE, use_cache=False) | {"path": None} == {"enabled": False, "path": None, "hits": 0, "misses": 3}


def test_cache_dir_comes_from_the_environment(tmp_path, monkeypatch):
    assert cache_dir() == tmp_path / "cache"
    monkeypatch.delenv("HARNESS_CACHE")
    assert cache_dir().name == "zh-eval-harness" and "harness" not in cache_dir().parent.name


def test_the_cache_never_lives_in_the_package(monkeypatch, root):
    monkeypatch.setenv("HARNESS_CACHE", str(root / "harness" / "generate"))
    with pytest.raises(HarnessError, match="must not live inside the harness package"):
        cache_dir()


def test_sqlite_mechanics(tmp_path):
    cache = GenerationCache(tmp_path / "c")
    rows = [(f"k{i}", "m", CachedCompletion(f"out {i}", i, "eos", 0.5)) for i in range(1200)]
    cache.put_many(rows)
    cache.put_many([("k0", "m", CachedCompletion("new", 1, "stop", 0.1))])  # a refresh replaces
    cache.close()

    reopened = GenerationCache(tmp_path / "c")  # committed rows survive a new connection
    found = reopened.get_many([f"k{i}" for i in range(1200)] + ["absent"])
    assert len(found) == 1200 and len(reopened) == 1200
    assert found["k0"] == CachedCompletion("new", 1, "stop", 0.1)
    assert found["k1199"] == CachedCompletion("out 1199", 1199, "eos", 0.5)
    reopened.close()
    db = sqlite3.connect(tmp_path / "c" / FILENAME)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_key_is_sha256_of_canonical_json():
    import hashlib

    assert cache_key({"b": 1, "a": "中"}) == hashlib.sha256('{"a":"中","b":1}'.encode()).hexdigest()
    assert Path(FILENAME).suffix == ".sqlite"
