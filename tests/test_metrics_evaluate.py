"""The local `evaluate` modules load offline and give exactly what `harness score` gives."""

from __future__ import annotations

import json
import socket

import pytest

from harness.evaluate_metrics import module_path

HYPS = ["今天天气很好，我们去公园散步。", "GPT4发布了", "臺灣的AI研究很活躍。"]
REFS_A = ["今天天气不错，我们去公园走走。", "GPT4模型发布", "台湾的人工智能研究很活跃。"]
REFS_B = ["天气很好，去公园散步吧。", "OpenAI发布GPT4", "台湾AI研究活跃。"]


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a connection fails the test (the Hub must not be contacted)."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture
def files(tmp_path):
    paths = {}
    for name, lines in (("hyp", HYPS), ("a", REFS_A), ("b", REFS_B)):
        paths[name] = tmp_path / f"{name}.txt"
        paths[name].write_text("\n".join(lines) + "\n", encoding="utf-8")
    return paths


@pytest.mark.parametrize(
    "module, task, kwargs, cli_metrics",
    [
        ("zh_rouge", "summarize_zh", {}, []),
        ("zh_rouge", "summarize_zh", {"rouge_types": ["rouge2", "rougeLsum"]}, ["rouge2", "rougeLsum"]),
        ("zh_sacrebleu", "translate_en_zh", {}, []),
        ("zh_sacrebleu", "translate_en_zh", {"metrics": ["bleu", "chrf", "ter"]}, ["bleu", "chrf", "ter"]),
    ],
)
def test_evaluate_module_equals_harness_score(no_network, files, run_cli, module, task, kwargs, cli_metrics):
    import evaluate

    metric = evaluate.load(module_path(module), keep_in_memory=True)
    result = metric.compute(predictions=HYPS, references=[[a, b] for a, b in zip(REFS_A, REFS_B)], task=task, **kwargs)

    args = ["score", "--task", task, "--hyp", str(files["hyp"]), "--ref", str(files["a"]), "--ref", str(files["b"]), "--json"]
    for name in cli_metrics:
        args += ["--metric", name]
    code, out, err = run_cli(*args)
    assert code == 0, err
    cli = json.loads(out)["scores"]
    assert [s["metric"] for s in result["scores"]] == [s["metric"] for s in cli]
    for ours, theirs in zip(result["scores"], cli):
        assert result[ours["metric"]] == theirs["value"]
        assert {k: ours[k] for k in theirs} == theirs  # value, CI, signature (and P/R) identical


def test_single_reference_strings_are_accepted(no_network):
    import evaluate

    bleu = evaluate.load(module_path("zh_sacrebleu"), keep_in_memory=True)
    # hand-computed in test_score_sacrebleu.py: BP = exp(1 − 9/7) with all n-grams matched
    result = bleu.compute(predictions=["我爱北京天安门"], references=["我爱北京天安门广场"], metrics=["bleu"])
    assert result["bleu"] == pytest.approx(75.1477, abs=1e-4)
    assert result["scores"][0]["signature"].startswith("bleu|nrefs:1|case:mixed|eff:no|tok:zh|")


def test_jieba_option_reaches_the_metric(no_network):
    import evaluate

    rouge = evaluate.load(module_path("zh_rouge"), keep_in_memory=True)
    result = rouge.compute(predictions=["我爱北京"], references=[["我爱北京"]], rouge_types=["rouge1"], tokenizer="jieba")
    assert result["rouge1"] == 100.0
    assert "|tok:jieba-" in result["scores"][0]["signature"]


def test_unknown_module_name():
    from harness.errors import HarnessError

    with pytest.raises(HarnessError, match="did you mean 'zh_rouge'"):
        module_path("zh_rogue")
