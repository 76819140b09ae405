"""`harness judge` end to end: the openai backend against the fake server of the tests (cached rerun,
unparsed answers shown, bad input as one line), resuming after SIGKILL, and a tiny real run with
the bundled GGUF model through the gguf backend."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from harness.generate.cache import FILENAME
from helpers.fake_openai import FaultServer, wait_for
from helpers.gguf_models import GEMMA

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ["我们去银行。", "他来了。", "天气很好。", "谢谢你。"]
OUTPUTS = ["We go to the bank.", "He BAD came.", "GARBLED", "Thank you."]  # fake server: 100, 80, unparsed, 100


@pytest.fixture(scope="module")
def server():
    s = FaultServer()
    yield s
    s.close()


def write_inputs(tmp_path: Path, url: str, sources=SOURCES, outputs=OUTPUTS, extra: str = "") -> dict:
    config = tmp_path / "judge.yaml"
    config.write_text(f"run: j\ntasks: [{{task: translate_zh_en}}]\nmodels:\n  - {{name: judge, backend: openai, "
                      f"model: fake-model, base_url: '{url}', backoff_s: 0.01, timeout_s: 10{extra}}}\n", encoding="utf-8")
    (tmp_path / "src.txt").write_text("\n".join(sources) + "\n", encoding="utf-8")
    (tmp_path / "hyp.txt").write_text("\n".join(outputs) + "\n", encoding="utf-8")
    return {"config": str(config), "src": str(tmp_path / "src.txt"), "hyp": str(tmp_path / "hyp.txt")}


def args(files: dict, *more: str) -> list[str]:
    return ["judge", files["config"], "--model", "judge", "--prompt", "mqm", "--task", "translate_zh_en",
            "--src", files["src"], "--hyp", files["hyp"], *more]


def test_openai_judge_scores_caches_and_shows_unparsed_answers(run_cli, server, tmp_path, monkeypatch):
    monkeypatch.setenv("HARNESS_CACHE", str(tmp_path / "cache"))
    files = write_inputs(tmp_path, server.url("mqm~cli"))
    code, out, err = run_cli(*args(files, "--json", "--out", str(tmp_path / "items.jsonl")))
    assert code == 0, err
    first = json.loads(out)
    assert first["value"] == pytest.approx(280 / 3) and (first["n"], first["n_unparsed"]) == (4, 1)
    assert (first["generated"], first["cached"], first["unparsed_ids"]) == (4, 0, ["3"])
    assert first["signature"].startswith("judge:mqm|model:judge@")
    assert "|prompt:mqm-v1@sha256=" in first["signature"] and first["signature"].endswith("|unparsed:1/4")
    rows = [json.loads(line) for line in (tmp_path / "items.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(r["id"], r["value"]) for r in rows] == [("1", 100.0), ("2", 80.0), ("3", None), ("4", 100.0)]
    assert rows[1]["detail"]["errors"] == [{"severity": "major", "category": "accuracy",
                                            "subcategory": "mistranslation", "span": "BAD"}]

    code, out, err = run_cli(*args(files))  # again: every answer from the cache, the same numbers
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith(f"judge:mqm: {first['value']:.2f} [") and lines[0].endswith(
        "over 3 of 4 items (1 unparsed, left out of the mean; 0 judge calls made, 4 cached)")
    assert lines[1] == f"signature: {first['signature']}"
    assert lines[2] == (f"unparsed: --hyp {files['hyp']} line 3: text before the first severity: 'garbled'; "
                        "answer: garbled")
    assert server.counts[("mqm~cli", "gen")] == 4


@pytest.mark.parametrize("change, message", [
    (["--model", "judgee"], "--model: no model 'judgee' in {config} (did you mean 'judge'?)"),
    (["--hyp-b", "{hyp}"], "--hyp-b: only with a pairwise prompt (--prompt mqm is mqm)"),
    (["--prompt", "pairwise"], "--hyp-b: required with a pairwise prompt (--prompt pairwise is pairwise)"),
    (["--task", "translate"], "--task: unknown task 'translate' (did you mean 'translate_zh_en'?)"),
    (["--src", "{short}"], "--src {short}: 1 lines but --hyp {hyp} has 4"),
])
def test_bad_input_is_one_line_and_exit_2(run_cli, server, tmp_path, monkeypatch, change, message):
    monkeypatch.setenv("HARNESS_CACHE", str(tmp_path / "cache"))
    files = write_inputs(tmp_path, server.url("mqm~bad"))
    (tmp_path / "short.txt").write_text("一\n", encoding="utf-8")
    base = args(files)
    for option, value in zip(change[::2], change[1::2]):
        value = value.format(hyp=files["hyp"], short=tmp_path / "short.txt")
        if option in base:
            base[base.index(option) + 1] = value
        else:
            base += [option, value]
    code, out, err = run_cli(*base)
    assert code == 2 and out == ""
    assert err == "error: " + message.format(config=files["config"], hyp=files["hyp"],
                                             short=tmp_path / "short.txt") + "\n"
    assert server.counts[("mqm~bad", "gen")] == 0


def test_judge_a_results_folder(run_cli, server, tmp_path, monkeypatch):
    monkeypatch.setenv("HARNESS_CACHE", str(tmp_path / "cache"))
    run_config = tmp_path / "run.yaml"
    run_config.write_text(f"run: r\ndataset: {ROOT / 'data'}\ntasks: [{{task: translate_zh_en, limit: 3}}]\n"
                          "models: [{name: copy, backend: baseline, kind: copy}]\n", encoding="utf-8")
    code, _, err = run_cli("run", str(run_config), "--results", str(tmp_path / "results"), "--quiet")
    assert code == 0, err
    files = write_inputs(tmp_path, server.url("mqm~run"))
    folder = tmp_path / "results" / "r"
    common = ["judge", files["config"], "--model", "judge", "--prompt", "mqm", "--task", "translate_zh_en",
              "--run", str(folder)]
    code, out, err = run_cli(*common, "--system", "copy", "--json", "--out", str(tmp_path / "judged.jsonl"))
    assert code == 0, err
    predictions = [json.loads(line) for line in (folder / "predictions" / "copy" / "translate_zh_en.jsonl")
                   .read_text(encoding="utf-8").splitlines()]
    judged = [json.loads(line) for line in (tmp_path / "judged.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [j["id"] for j in judged] == [p["id"] for p in predictions] and len(judged) == 3
    assert (json.loads(out)["value"], json.loads(out)["n_unparsed"]) == (100.0, 0)  # the fake judge finds no error
    # the judgements land in the run: every item, a row of judgements.json, results.md's judge section
    assert (folder / "judgements" / "copy" / "translate_zh_en.judge.mqm.jsonl").read_text(encoding="utf-8") == \
        (tmp_path / "judged.jsonl").read_text(encoding="utf-8")
    doc = json.loads((folder / "judgements.json").read_text(encoding="utf-8"))
    (row,) = doc["judgements"]
    assert (doc["run"], row["model"], row["task"], row["metric"], row["n"], row["n_unparsed"], row["value"]) == \
        ("r", "copy", "translate_zh_en", "judge:mqm", 3, 0, 100.0)
    assert row["judge"] == json.loads(out)["signature"].split("|model:")[1].split("|")[0]
    assert row["file"] == "judgements/copy/translate_zh_en.judge.mqm.jsonl" and row["system_b"] is None
    section = "| translate\\_zh\\_en | copy | " + row["judge"] + ", judge:mqm | 3 | 0 | 100.00 [100.00, 100.00] | " \
        "`judgements/copy/translate_zh_en.judge.mqm.jsonl` |"
    results = (folder / "results.md").read_text(encoding="utf-8")
    assert results.count(section) == 1 and f"- `{row['signature']}`" in results
    code, _, err = run_cli(*common, "--system", "copy")  # judged again: the row is replaced, not added
    assert code == 0, err
    assert len(json.loads((folder / "judgements.json").read_text(encoding="utf-8"))["judgements"]) == 1
    assert (folder / "results.md").read_text(encoding="utf-8") == results
    code, _, err = run_cli("rescore", str(folder))  # rescoring keeps the judge's section
    assert code == 0, err
    assert (folder / "results.md").read_text(encoding="utf-8").count(section) == 1
    code, out, err = run_cli(*common, "--system", "cop")
    assert code == 2 and err == (f"error: --system: run {folder} has no outputs of model 'cop' on translate_zh_en "
                                 "(did you mean 'copy'?)\n")
    code, out, err = run_cli(*common, "--system", "copy", "--hyp", files["hyp"])
    assert code == 2 and err == ("error: --run: judges a results folder; --src, --hyp, --hyp-b and --ref are for "
                                 "files\n")


def test_check_reports_the_judges_accuracy_on_controlled_errors(run_cli, server, tmp_path, monkeypatch):
    monkeypatch.setenv("HARNESS_CACHE", str(tmp_path / "cache"))
    files = write_inputs(tmp_path, server.url("mqm~check"))
    common = ["judge", files["config"], "--model", "judge", "--prompt", "mqm", "--check", "--dataset", str(ROOT / "data"),
              "--per-type", "1"]
    code, out, err = run_cli(*common, "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["prompt"].startswith("mqm-v1@sha256=") and doc["judge"].startswith("judge@")
    # the fake judge finds no error in any reference text: every pair is a tie, so nothing is caught
    assert {(c["n"], c["n_unparsed"], c["accuracy"]) for c in doc["cells"]} == {(1, 0, 0.0)} and len(doc["cells"]) == 12
    code, out, err = run_cli(*common, "--task", "translate_zh_en")
    assert code == 2 and err == "error: --task: not with --check (it judges the dataset's own references)\n"


def committed(cache: Path) -> int:
    path = cache / FILENAME
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(path, timeout=30) as db:
            return db.execute("SELECT COUNT(*) FROM completions").fetchone()[0]
    except sqlite3.OperationalError:  # the table is being created
        return 0


def test_a_judge_killed_with_sigkill_resumes_to_the_uninterrupted_result(server, tmp_path):
    n = 40
    sources = [f"第{i}句。" for i in range(n)]
    outputs = [("BAD " if i % 3 == 0 else "") + ("GARBLED" if i % 7 == 0 else f"sentence {i}") for i in range(n)]
    files = write_inputs(tmp_path, server.url("mqm-slow~kill"), sources, outputs, extra=", concurrency: 1")

    def start(cache: Path) -> subprocess.Popen:
        env = {**os.environ, "HARNESS_CACHE": str(cache), "PYTHONPATH": str(ROOT)}
        return subprocess.Popen([sys.executable, "-m", "harness.cli", *args(files, "--json")], cwd=ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    reference = start(tmp_path / "cache-ref")
    out, err = reference.communicate(timeout=120)
    assert reference.returncode == 0, err
    expected = json.loads(out)

    cache = tmp_path / "cache"
    proc = start(cache)
    assert wait_for(lambda: committed(cache) >= 5 or proc.poll() is not None, timeout_s=60)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    kept = committed(cache)
    assert 5 <= kept < n

    final = start(cache)
    out, err = final.communicate(timeout=120)
    assert final.returncode == 0, err
    resumed = json.loads(out)
    assert (resumed["cached"], resumed["generated"]) == (kept, n - kept)
    assert {k: v for k, v in resumed.items() if k not in ("cached", "generated")} == \
        {k: v for k, v in expected.items() if k not in ("cached", "generated")}
    # i % 7 == 0 is unparsed (0, 7, …, 35: 6); of the other 34, i % 3 == 0 has a major error (12 × 80, 22 × 100)
    assert (resumed["n_unparsed"], resumed["value"]) == (6, pytest.approx((22 * 100 + 12 * 80) / 34))


def test_bundled_gguf_model_judges_two_items(run_cli, model_cache, tmp_path):
    config = tmp_path / "judge.yaml"
    config.write_text(f"run: j\ntasks: [{{task: summarize_zh}}]\nmodels:\n  - {{name: small, backend: gguf, "
                      f"model: {GEMMA}, engine: llama.cpp, n_ctx: 1024}}\n", encoding="utf-8")
    (tmp_path / "src.txt").write_text("今天北京下了大雨，很多航班被取消。\n上海的新地铁线路今天开通。\n", encoding="utf-8")
    (tmp_path / "hyp.txt").write_text("北京大雨，航班取消。\n上海新地铁开通。\n", encoding="utf-8")
    common = ["judge", str(config), "--model", "small", "--prompt", "faithfulness", "--task", "summarize_zh",
              "--src", str(tmp_path / "src.txt"), "--hyp", str(tmp_path / "hyp.txt"), "--json"]
    # the model cache is shared between test sessions: --no-cache asks the model now (and refreshes the cache)
    code, out, err = run_cli(*common, "--no-cache")
    assert code == 0, err
    first = json.loads(out)
    assert (first["n"], first["generated"], first["cached"]) == (2, 2, 0)
    assert first["signature"].startswith("judge:rating|model:small@") and "|prompt:faithfulness-v1@" in first["signature"]
    assert first["n_unparsed"] == len(first["unparsed_ids"]) <= 2  # whatever the model answers is counted, not zeroed
    code, out, err = run_cli(*common)
    again = json.loads(out)
    assert (again["generated"], again["cached"]) == (0, 2)
    assert {k: again[k] for k in ("value", "signature", "unparsed_ids")} == {k: first[k] for k in ("value", "signature", "unparsed_ids")}
