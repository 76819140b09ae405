"""The COMET protocol against a fake COMET-compatible environment: a wrapper "python" that runs
this interpreter with a fake `comet` package (tests/data/fake_comet) on its PYTHONPATH, as a user's
own venv with unbabel-comet would be. What this cannot show offline: that real unbabel-comet
checkpoints load and predict through the driver (see docs/scoring.md)."""

from __future__ import annotations

import json
import sys

import pytest

from harness.errors import HarnessError

FAKE = __import__("pathlib").Path(__file__).parent / "data" / "fake_comet"


@pytest.fixture
def fake_python(tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_COMET_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("FAKE_COMET_LOG", str(tmp_path / "log.jsonl"))
    wrapper = tmp_path / "venv" / "bin" / "python"
    wrapper.parent.mkdir(parents=True)
    wrapper.write_text(f'#!/bin/sh\nPYTHONPATH="{FAKE}" exec "{sys.executable}" "$@"\n')
    wrapper.chmod(0o755)
    return wrapper


def _log(tmp_path):
    return [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]


SRC = ["他签了协议。", "价格上涨。"]
HYP = ["abc", "abcd"]
REF = ["abd", "xyz"]


@pytest.mark.parametrize("model, expected, uses_ref", [
    ("Unbabel/wmt22-comet-da", [50.0, 0.0], True),        # Jaccard(mt, ref): {a,b}/{a,b,c,d}; nothing shared
    ("Unbabel/wmt22-cometkiwi-da", [0.0, 0.0], False),    # reference-free: Jaccard(mt, src)
])
def test_driver_protocol_scores_and_signature(fake_python, tmp_path, model, expected, uses_ref):
    from harness.score.comet import Comet

    metric = Comet("en", python=str(fake_python), model=model, sources=SRC, batch_size=8, gpus=0)
    stats = metric.item_stats(HYP, [[r] for r in REF])
    assert stats[:, 0].tolist() == pytest.approx(expected)
    [call] = _log(tmp_path)
    assert call["batch_size"] == 8 and call["gpus"] == 0
    if uses_ref:
        assert call["samples"] == [{"src": s, "mt": h, "ref": r} for s, h, r in zip(SRC, HYP, REF)]
    else:
        assert call["samples"] == [{"src": s, "mt": h} for s, h in zip(SRC, HYP)]
    sig = metric.signature(1).split("|")
    assert sig[:3] == ["comet", f"model:{model}", "comet:9.9.9-fake"]
    assert ("refs:1" in sig) == uses_ref and ("refs:none" in sig) != uses_ref


def test_checkpoint_path_and_several_references(fake_python, tmp_path):
    from harness.score.comet import Comet

    ckpt = tmp_path / "my.ckpt"
    ckpt.write_text('{"reference_free": false}')
    metric = Comet("en", python=str(fake_python), model=str(ckpt), sources=SRC)
    stats = metric.item_stats(HYP, [["abd", "abcd"], ["xyz", "ab"]])
    assert stats[:, 0].tolist() == pytest.approx([75.0, 50.0])  # the better reference: 3/4 (abc~abcd), 2/4 (abcd~ab)
    assert len(_log(tmp_path)) == 2


def test_score_cli_json_items_with_comet(fake_python, tmp_path, run_cli):
    files = {}
    for name, lines in (("src", SRC), ("hyp", HYP), ("ref", REF)):
        files[name] = tmp_path / f"{name}.txt"
        files[name].write_text("\n".join(lines) + "\n")
    code, out, err = run_cli("score", "--task", "translate_zh_en", "--metric", "comet", "--metric", "chrf",
                             "--src", str(files["src"]), "--hyp", str(files["hyp"]), "--ref", str(files["ref"]),
                             "--comet-python", str(fake_python), "--comet-model", "Unbabel/wmt22-comet-da",
                             "--json", "--items")
    assert code == 0, err
    doc = json.loads(out)
    comet, chrf = doc["scores"]
    assert comet["items"] == pytest.approx([50.0, 0.0]) and comet["value"] == pytest.approx(25.0)
    assert len(chrf["items"]) == 2 and chrf["metric"] == "chrf"


@pytest.mark.parametrize("setup, message", [
    ("missing_python", "comet.python: .*nowhere/python not found or not executable"),
    ("no_comet", "cannot import comet"),
    ("missing_checkpoint", "COMET checkpoint .* not found"),
    ("unknown_model", "cannot get COMET model 'Unbabel/nope'"),
    ("crash", "the driver failed under .*RuntimeError: CUDA out of memory"),
    ("no_settings", "needs python:"),
])
def test_failures_are_one_line_exit_2(fake_python, tmp_path, run_cli, monkeypatch, setup, message):
    python, model = str(fake_python), "Unbabel/wmt22-comet-da"
    if setup == "missing_python":
        python = str(tmp_path / "nowhere" / "python")
    elif setup == "no_comet":
        python = sys.executable
        monkeypatch.delenv("PYTHONPATH", raising=False)
    elif setup == "missing_checkpoint":
        model = str(tmp_path / "missing.ckpt")
    elif setup == "unknown_model":
        model = "Unbabel/nope"
    elif setup == "crash":
        monkeypatch.setenv("FAKE_COMET_CRASH", "1")
    for name, lines in (("src", SRC), ("hyp", HYP), ("ref", REF)):
        (tmp_path / f"{name}.txt").write_text("\n".join(lines) + "\n")
    args = ["score", "--task", "translate_zh_en", "--metric", "comet", "--src", str(tmp_path / "src.txt"),
            "--hyp", str(tmp_path / "hyp.txt"), "--ref", str(tmp_path / "ref.txt")]
    if setup != "no_settings":
        args += ["--comet-python", python, "--comet-model", model]
    code, out, err = run_cli(*args)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1
    import re

    assert re.search(message, err), err


def test_comet_without_sources_says_so(fake_python):
    from harness.score.comet import Comet

    with pytest.raises(HarnessError, match="needs the source texts"):
        Comet("en", python=str(fake_python), model="Unbabel/wmt22-comet-da").item_stats(HYP, [[r] for r in REF])


def test_run_config_metric_settings_reach_rescore(tmp_path):
    from harness.config import RunConfig
    from harness.score.neural import MetricSettings

    settings = MetricSettings.model_validate({"comet": {"python": sys.executable, "model": "Unbabel/wmt22-comet-da"},
                                              "bertscore": {"layer": 8}})
    assert settings.bertscore.layer == 8 and settings.comet.batch_size == 16
    with pytest.raises(Exception, match="modle"):
        MetricSettings.model_validate({"comet": {"modle": "x"}})
    assert "metric_settings" in RunConfig.model_fields


def test_bad_metric_settings_are_one_line_errors():
    from harness.score.bertscore import BertScore
    from harness.score.neural import configure

    with pytest.raises(HarnessError, match="bertscore.layer: Input should be greater than or equal to 1"):
        configure([BertScore("en")], {"bertscore": {"layer": 0}})
    [m] = configure([BertScore("en")], {"bertscore": {"layer": 7, "model": None}})
    assert (m.layer, m.model) == (7, None)


def test_a_missing_comet_interpreter_does_not_stop_other_metrics():
    from harness.score.bertscore import BertScore
    from harness.score.comet import Comet
    from harness.score.neural import configure
    from harness.score.sacre import Bleu

    settings = {"comet": {"python": "/gone/python", "model": "m"}}
    assert len(configure([Bleu("en"), BertScore("en")], settings)) == 2
    with pytest.raises(HarnessError, match="comet.python: /gone/python not found"):
        configure([Comet("en")], settings)
