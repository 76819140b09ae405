"""GenerationSession: cache keys byte-identical to the ones written before it existed (the import
direction between layers is checked by tests/test_imports.py)."""

from pathlib import Path

import pytest

from harness.config import parse_config
from harness.pipeline.plan import plan_run
from harness.pipeline.run import open_session
from harness.io import sha256_text
from helpers.fake_backend import register

ROOT = Path(__file__).resolve().parents[1]

# Computed with main's pipeline.key_parts/fit (commit 98c44a0) before the move into
# harness/generate/session.py: a changed key would silently invalidate every user's cache.
BASELINE_KEYS = {
    ("lead", "000-p01-s01"): "552aafe583319825892c7a631b22b457ad93fd7435e1d7a648e8e2de5a1e6565",
    ("lead", "000-p01-s02"): "8ac70f72bc29752a073f670c1ab02b2b14d0abd173ccf2df3849298e87d2c78f",
    ("copy", "000-p01-s01"): "cb96dfede4c86017f09c51b9f73b8566b2ca440547a34bfcb64fa785e4811c59",
    ("copy", "000-p01-s02"): "dcedc45919f118e7ffc1709dcb85cc786adc607e3c42a84feb2c99d311c0ae78",
}
TRUNCATED = {  # echo backend, chat rendering, context 300, summarize_zh item 000
    "note": "kept 4 of 117 sentences",
    "input_tokens": 249,
    "prompt_sha256": "321aeb0a5fbf63d615274ca6066ca3f6fc26ae0a45b56bf28a3c5650c903abc4",
    "key": "f7a609127336ced96948b842ac614c1b5173b4271a64d030d718319df7d9954d",
}


@pytest.fixture(autouse=True)
def _setup(monkeypatch, tmp_path):
    monkeypatch.chdir(ROOT)
    register(monkeypatch)


def _sessions(data):
    plan = plan_run(parse_config(data))
    for model in plan.models:
        yield plan, model, open_session(plan, model, model.spec.load(model.config.settings))


def test_baseline_keys_are_unchanged():
    data = {"run": "k", "dataset": "data", "tasks": [{"task": "translate_zh_en", "limit": 2, "shots": 1}],
            "models": [{"name": "lead", "backend": "baseline", "kind": "lead", "n": 2},
                       {"name": "copy", "backend": "baseline", "kind": "copy"}]}
    got = {}
    for plan, model, session in _sessions(data):
        task = plan.tasks["translate_zh_en"]
        for item in task.items:
            got[(model.name, item.id)] = session.key(session.fit(task, item)[0], task)
    assert got == BASELINE_KEYS


def test_a_truncated_model_prompt_and_its_key_are_unchanged():
    data = {"run": "k", "dataset": "data", "tasks": [{"task": "summarize_zh", "limit": 1, "max_new_tokens": 50}],
            "models": [{"name": "echo", "backend": "echo", "context_length": 300, "chat": True, "batch_size": 4}]}
    (plan, model, session), = _sessions(data)
    task = plan.tasks["summarize_zh"]
    rendered, note = session.fit(task, task.items[0])
    assert {"note": note, "input_tokens": rendered.input_tokens, "prompt_sha256": sha256_text(rendered.text),
            "key": session.key(rendered, task)} == TRUNCATED


def test_a_models_tasks_share_one_backend_call_when_it_combines_them(monkeypatch, tmp_path):
    """`combines_tasks` (the llama.cpp engine with share_sources): run_model fits every task, gives
    the backend ONE call with ids made unique across tasks (two tasks on the same passages share
    item ids), and maps the answers back per task; a rerun is answered from the cache."""
    from helpers.fake_backend import Echo, EchoSettings
    from harness.generate.cache import GenerationCache
    from harness.pipeline.run import RunReporter, run_model

    calls: list[list[str]] = []
    original = Echo.generate

    def recording(self, batch, settings):
        calls.append([r.request.id for r in batch])
        return original(self, batch, settings)

    monkeypatch.setattr(Echo, "combines_tasks", True, raising=False)
    monkeypatch.setattr(Echo, "generate", recording)
    data = {"run": "k", "dataset": "data",
            "tasks": [{"task": "summarize_passage_zh", "limit": 2}, {"task": "summarize_passage_en", "limit": 2}],
            "models": [{"name": "echo", "backend": "echo", "chat": True}]}
    plan = plan_run(parse_config(data))
    cache = GenerationCache(tmp_path / "cache")
    try:
        first = run_model(plan, plan.models[0], cache, RunReporter())
        again = run_model(plan, plan.models[0], cache, RunReporter())
    finally:
        cache.close()
    ids = [item.id for item in plan.tasks["summarize_passage_zh"].items]
    assert calls == [[f"{t}/{i}" for t in ("summarize_passage_zh", "summarize_passage_en") for i in ids]]
    for run in first.tasks:  # each task's answers are its own prompts' (echo returns the prompt's tail)
        task = plan.tasks[run.task]
        assert [p.id for p in run.predictions] == ids and run.generated == 2 and run.cached == 0
        for p, item in zip(run.predictions, task.items):
            assert p.raw == Echo(EchoSettings(chat=True)).render(task.prompt(item))[-40:]
    assert first.tasks[0].predictions[0].raw != first.tasks[1].predictions[0].raw  # the two instructions
    assert [(r.generated, r.cached) for r in again.tasks] == [(0, 2), (0, 2)]
    assert [[p.raw for p in r.predictions] for r in again.tasks] == [[p.raw for p in r.predictions] for r in first.tasks]
