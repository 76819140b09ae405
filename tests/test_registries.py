"""The task registry (YAML definitions) and the metric registry: what each entry declares, that
the built-in tasks are read like a user's, and that a new metric is one entry."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from harness.errors import HarnessError
from harness.score.base import Metric
from harness.metric_table import LANGUAGES, METRICS, MetricSpec, get_spec, higher_is_better
from harness.tasks import BUILTIN, TASKS, TaskDef, load_items

ROOT = Path(__file__).resolve().parents[1]

# The built-in tasks as harness/tasks.py defined them in code before they became YAML (and the two
# passage tasks added since).
BEFORE = {
    #  name: (config, id column, source column, reference column, n_refs, source, target, max_new_tokens)
    "summarize_zh": ("summarization", "doc_id", "text", "summaries_zh", 2, "zh", "zh", 320),
    "summarize_en": ("summarization", "doc_id", "text", "summaries_en", 2, "zh", "en", 256),
    # issue 19: passage summarisation (docs/data.md, "Passages")
    "summarize_passage_zh": ("passages", "passage_id", "text", "passage_summaries_zh", 2, "zh", "zh", 200),
    "summarize_passage_en": ("passages", "passage_id", "text", "passage_summaries_en", 2, "zh", "en", 160),
    "translate_zh_en": ("translation", "segment_id", "zh", "en", 1, "zh", "en", 320),
    "translate_zh_en_doc": ("translation_paragraphs", "paragraph_id", "zh", "en", 1, "zh", "en", 768),
    "translate_en_zh": ("translation", "segment_id", "en", "zh", 1, "en", "zh", 320),
}


def test_builtin_definitions_match_the_old_table():
    assert tuple(TASKS) == BUILTIN == tuple(BEFORE)
    for name, (config, id_col, source, ref, n_refs, src, tgt, max_new) in BEFORE.items():
        t = TASKS[name]
        assert (t.config, t.id, t.source, t.references, t.n_references, t.source_lang, t.target_lang,
                t.max_new_tokens, t.doc, t.dataset) == (config, id_col, source, [ref], n_refs, src, tgt, max_new,
                                                        "doc_id", None), name
        assert t.prompt == name and t.prompt_path == ROOT / "harness" / "prompts" / f"{name}.yaml"
        kind_metrics = ["rouge1", "rouge2", "rougeL", "rougeLsum"] if t.kind == "summarization" else ["bleu", "chrf++"]
        assert t.metrics == kind_metrics and t.main_metric == ("rougeL" if t.kind == "summarization" else "chrf++")


def test_a_builtin_task_read_as_a_user_definition_gives_the_same_items():
    builtin = TASKS["translate_zh_en"]
    user = TaskDef.model_validate({**builtin.to_dict(), "name": "mine", "config": None,
                                   "dataset": str(ROOT / "data" / "translation.parquet")})
    assert load_items(user) == load_items(builtin, ROOT / "data")


REFERENCE_FREE = {"terms", "numbers"}  # scored against the source (harness/score/terms.py, numbers.py)


@pytest.mark.parametrize("name", sorted(METRICS))
def test_every_metric_builds_for_every_language_it_declares(name):
    spec = METRICS[name]
    assert set(spec.languages) <= set(LANGUAGES) and spec.languages
    for lang in spec.languages:
        metric = spec.build(lang)
        assert (metric.name, metric.lang) == (name, lang)
        assert spec.signature(lang, 2) == metric.signature(2)
        if name in REFERENCE_FREE:  # it reads no reference, and its signature says so
            assert "|refs:none|" in metric.signature(2)
        else:
            assert "nrefs:2" in metric.signature(2) or "|refs:2|" in metric.signature(2)  # sacrebleu spells it nrefs


@pytest.mark.parametrize("name, lang, marks", [
    ("bleu", "zh", ("tok:zh", "prenorm:t2s+nfkc")),
    ("bleu", "en", ("tok:13a", "prenorm:none")),
    ("chrf++", "zh", ("nw:2", "words:zh")),
    ("rouge1", "zh", ("lang:zh", "tok:char", "norm:t2s+nfkc")),
    ("rougeL", "en", ("lang:en", "stem:porter")),
    ("ter", "zh", ("asian", "prenorm:t2s+nfkc")),
])
def test_language_handling_shows_in_the_signature(name, lang, marks):
    signature = get_spec(name).signature(lang)
    assert all(m in signature for m in marks), signature


def test_direction_and_options_are_declared_not_guessed():
    assert {n for n, s in METRICS.items() if not s.higher_is_better} == {"ter"}
    assert {n for n, s in METRICS.items() if "tokenizer" in s.options} == {"rouge1", "rouge2", "rougeL", "rougeLsum"}
    with pytest.raises(HarnessError, match="option 'tokenizer' is not taken"):
        get_spec("bleu").build("zh", tokenizer="jieba")
    with pytest.raises(HarnessError, match="unknown metric 'bleu4' \\(did you mean 'bleu'\\?\\)"):
        get_spec("bleu4")


class LengthRatio(Metric):
    """A toy metric for the registration test: 100 × output length / reference length (lower here)."""

    name = "length"

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def item_stats(self, hypotheses, references):
        return np.array([[len(h), len(r[0])] for h, r in zip(hypotheses, references)], dtype=np.float64)

    def values(self, sums, n):
        return 100 * sums[:, 0] / np.maximum(sums[:, 1], 1)

    def item_values(self, stats):
        return self.values(stats, 1)

    def signature(self, n_refs):
        return f"length|nrefs:{n_refs}|lang:{self.lang}"


def test_a_new_metric_is_one_registry_entry(monkeypatch, tmp_path):
    from harness.config import parse_config
    from harness.report.significance import gain
    from harness.score import score

    monkeypatch.setitem(METRICS, "length", MetricSpec(f"{__name__}:LengthRatio", higher_is_better=False,
                                                      languages={"zh": "characters", "en": "characters"}))
    [s] = score("translate_en_zh", ["一二三", "四五"], [["一二三四"], ["四五"]], ["length"], n_boot=10)
    assert (s.metric, s.value, s.signature) == ("length", pytest.approx(100 * 5 / 6), "length|nrefs:1|lang:zh")
    assert gain("length", 2.0) == -2.0 and not higher_is_better("length")
    config = parse_config({"run": "r", "tasks": [{"task": "translate_en_zh", "metrics": ["length", "bleu"]}],
                           "models": [{"name": "copy", "backend": "baseline", "kind": "copy"}]})
    assert config.tasks[0].metrics == ["length", "bleu"]
    monkeypatch.setitem(METRICS, "length", MetricSpec(f"{__name__}:LengthRatio", languages={"en": "characters"}))
    with pytest.raises(Exception, match="metrics: length does not score target language 'zh'"):
        TaskDef(name="t", dataset="x.jsonl", id="id", source="en", references="zh", source_lang="en",
                target_lang="zh", kind="translation", metrics=["length"], main_metric="length")


def test_a_metric_must_score_the_task_target_language(monkeypatch):
    from harness.config import ConfigError, parse_config

    monkeypatch.setitem(METRICS, "length", MetricSpec(f"{__name__}:LengthRatio", languages={"en": "characters"}))
    with pytest.raises(ConfigError, match="tasks.0.metrics: length does not score target language 'zh' \\(it scores en\\)"):
        parse_config({"run": "r", "tasks": [{"task": "translate_en_zh", "metrics": ["length"]}],
                      "models": [{"name": "copy", "backend": "baseline", "kind": "copy"}]})
