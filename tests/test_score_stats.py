"""Bootstrap CIs and paired significance: agreement with sacrebleu.significance.PairedTest,
resampling statistics = re-scoring resampled text, and the properties every score must have."""

from __future__ import annotations

import random

import numpy as np
import pytest
import sacrebleu
from sacrebleu.significance import PairedTest

from harness.errors import HarnessError
from harness.score import METRIC_NAMES, Comparison, Score, compare, item_scores, score
from harness.score.resample import ar_sums, bootstrap_indices, resampled_sums
from harness.tasks import TASKS

ALL_ZH = ["rouge1", "rouge2", "rougeL", "rougeLsum", "bleu", "chrf", "chrf++", "ter"]


def _two_systems(root, n=120):
    """Chinese references and two systems that differ on a fifth of the items."""
    import pandas as pd

    refs = pd.read_parquet(root / "data" / "segments.parquet").zh_simplified[:n].tolist()
    rng = random.Random(4)

    def perturb(text, share):
        chars = list(text)
        for _ in range(int(len(chars) * share)):
            chars[rng.randrange(len(chars))] = rng.choice("的一是在不了有和人这中大为上个国")
        return "".join(chars)

    a = [perturb(r, 0.3) for r in refs]
    b = [perturb(r, 0.3) if i % 5 == 0 else h for i, (r, h) in enumerate(zip(refs, a))]
    return a, b, refs


@pytest.fixture(scope="module")
def systems(root):
    return _two_systems(root)


@pytest.mark.parametrize("test_type", ["bs", "ar"])
def test_p_values_agree_with_sacrebleu(systems, test_type, monkeypatch):
    """Same data, same seed → p-values within 0.01 of sacrebleu's PairedTest (here: identical
    draws, so equal up to float rounding). sacrebleu reads its seed from SACREBLEU_SEED."""
    a, b, refs = systems
    seed = 12345
    monkeypatch.setenv("SACREBLEU_SEED", str(seed))
    metrics = {"bleu": sacrebleu.BLEU(tokenize="zh"), "chrf": sacrebleu.CHRF()}
    _, results = PairedTest([("a", a), ("b", b)], metrics, [refs], test_type=test_type)()
    expected = {"bleu": results["BLEU"][1].p_value, "chrf": results["chrF2"][1].p_value}
    ours = {c.metric: c for c in compare("translate_en_zh", a, b, [[r] for r in refs], ["bleu", "chrf"], seed=seed)}
    for name, p in expected.items():
        got = ours[name].p_bootstrap if test_type == "bs" else ours[name].p_ar
        assert abs(got - p) < 0.01, (name, got, p)
    # a test that can fail: the systems are close enough for p-values away from the floor
    assert 0.01 < max(expected.values()) < 0.99


def test_comparison_fields(systems):
    a, b, refs = systems
    by_metric = {c.metric: c for c in compare("translate_en_zh", a, b, [[r] for r in refs], ALL_ZH, n_boot=200, n_ar=500)}
    scores_a = {s.metric: s.value for s in score("translate_en_zh", a, [[r] for r in refs], ALL_ZH, n_boot=10)}
    for name, c in by_metric.items():
        assert isinstance(c, Comparison) and c.n == len(a)
        assert c.value_a == pytest.approx(scores_a[name])
        assert c.delta == pytest.approx(c.value_b - c.value_a)
        assert c.ci_low <= c.delta <= c.ci_high
        assert 0 < c.p_bootstrap <= 1 and 0 < c.p_ar <= 1
        assert c.signature.endswith("|seed:0|bs:200|ar:500")
        assert set(c.to_dict()) == {"metric", "value_a", "value_b", "delta", "ci_low", "ci_high", "p_bootstrap", "p_ar", "signature",
                                    "n", "se", "mde"}
        # n = 120: MDE = (t[.975, 119] + t[.8, 119]) · SE = (1.9801 + 0.8446) · SE
        assert c.mde == pytest.approx(2.8247 * c.se, rel=1e-4) and c.se > 0


def test_system_against_itself_is_not_significant(systems):
    a, _, refs = systems
    for c in compare("translate_en_zh", a, a, [[r] for r in refs], ["bleu", "rouge1"], n_boot=100, n_ar=100):
        assert c.delta == 0 and c.p_ar == 1.0 and c.ci_low == c.ci_high == 0


def test_bootstrap_resamples_equal_rescored_text(systems):
    """Summing item statistics over a resample gives exactly what sacrebleu computes on the
    resampled text itself (the naive bootstrap), for corpus-level BLEU and chrF++."""
    a, _, refs = systems
    idx = bootstrap_indices(np.random.default_rng(3), len(a), 15)
    for name, sacre in [("bleu", sacrebleu.BLEU(tokenize="zh")), ("chrf++", None)]:
        from harness.score import get_metric

        metric = get_metric(name, "zh")
        sums = resampled_sums(metric.item_stats(a, [[r] for r in refs]), idx)
        ours = metric.values(sums, len(a))
        for row, value in zip(idx, ours):
            hyps, rs = [a[i] for i in row], [refs[i] for i in row]
            if sacre is not None:
                expected = sacre.corpus_score(hyps, [rs]).score
            else:
                expected = score("translate_en_zh", hyps, [[r] for r in rs], ["chrf++"], n_boot=1)[0].value
            assert value == pytest.approx(expected, abs=1e-9)


def test_rouge_bootstrap_is_mean_of_resampled_item_f(systems):
    a, _, refs = systems
    per_item = np.array(item_scores("summarize_zh", a, [[r] for r in refs], ["rougeL"])["rougeL"])
    [s] = score("summarize_zh", a, [[r] for r in refs], ["rougeL"], seed=9, n_boot=300)
    idx = bootstrap_indices(np.random.default_rng(9), len(a), 300)
    naive = per_item[idx].mean(axis=1)
    assert (s.ci_low, s.ci_high) == pytest.approx(tuple(np.percentile(naive, [2.5, 97.5])))
    assert s.value == pytest.approx(per_item.mean())


def test_resampled_sums_equal_gathered_sums():
    rng = np.random.default_rng(0)
    stats = rng.integers(0, 9, size=(37, 5)).astype(float)
    idx = bootstrap_indices(rng, 37, 1000)
    assert np.array_equal(resampled_sums(stats, idx), stats[idx].sum(axis=1))


def test_ar_chunked_draws_equal_sacrebleu_single_draw():
    """The swap masks are drawn in chunks; the bits must equal one rng.integers(2, (T, n)) call."""
    rng = np.random.default_rng(0)
    a = rng.integers(0, 9, size=(1001, 3)).astype(float)
    b = rng.integers(0, 9, size=(1001, 3)).astype(float)
    n_trials = 5000  # several chunks for 1001 items
    out_a, out_b = ar_sums(a, b, np.random.default_rng(42), n_trials)
    pos = np.random.default_rng(42).integers(2, size=(n_trials, 1001), dtype=bool)
    assert np.array_equal(out_a, pos @ a + ~pos @ b)
    assert np.array_equal(out_b, ~pos @ a + pos @ b)


@pytest.mark.parametrize("task", sorted(TASKS))
def test_identical_texts_score_perfectly(task):
    texts = ["今天天气很好，我们去公园散步。", "GPT4模型发布了。"] if TASKS[task].target_lang == "zh" else ["The dog bit the man.", "It was not unexpected at all."]
    for s in score(task, texts, [[t] for t in texts], ALL_ZH, n_boot=50):
        assert s.value == pytest.approx(0.0 if s.metric == "ter" else 100.0), s.metric
        assert s.ci_low <= s.value <= s.ci_high + 1e-9


@pytest.mark.parametrize("task", ["summarize_zh", "translate_zh_en"])
def test_empty_hypothesis_scores_zero(task):
    refs = [["今天天气很好。"], ["我们去公园。"]] if TASKS[task].target_lang == "zh" else [["A fine day."], ["We went out."]]
    for s in score(task, ["", ""], refs, ALL_ZH, n_boot=20):
        assert s.value == (100.0 if s.metric == "ter" else 0.0), s.metric
    per_item = item_scores(task, ["", ""], refs, ALL_ZH)
    assert per_item["bleu"] == [0.0, 0.0] and per_item["rouge1"] == [0.0, 0.0]


def test_ci_contains_point_estimate_and_is_seeded(systems):
    a, _, refs = systems
    first = score("translate_en_zh", a, [[r] for r in refs], ALL_ZH, seed=1)
    again = score("translate_en_zh", a, [[r] for r in refs], ALL_ZH, seed=1)
    other = score("translate_en_zh", a, [[r] for r in refs], ALL_ZH, seed=2)
    assert first == again
    for s, o in zip(first, other):
        assert isinstance(s, Score) and s.n == len(a)
        assert s.ci_low < s.value < s.ci_high, s.metric
        assert s.value == o.value and (s.ci_low, s.ci_high) != (o.ci_low, o.ci_high)


def test_defaults_and_names():
    assert list(TASKS) == ["summarize_zh", "summarize_en", "summarize_passage_zh", "summarize_passage_en",
                           "translate_zh_en", "translate_zh_en_doc", "translate_en_zh"]
    assert TASKS["summarize_zh"].metrics == ["rouge1", "rouge2", "rougeL", "rougeLsum"]
    assert TASKS["translate_en_zh"].metrics == ["bleu", "chrf++"]
    # the neural metrics: tests/test_bertscore.py, test_comet.py; numbers: tests/test_numbers_metric.py;
    # terms: tests/test_terms.py
    assert set(METRIC_NAMES) == set(ALL_ZH) | {"bertscore", "comet", "numbers", "terms"}
    assert [s.metric for s in score("translate_zh_en", ["a b"], [["a b"]], n_boot=5)] == ["bleu", "chrf++"]


def test_score_to_dict():
    [r, b] = score("summarize_zh", ["今天"], [["今天"]], ["rouge1", "bleu"], n_boot=5)
    assert set(r.to_dict()) == {"metric", "value", "ci_low", "ci_high", "signature", "n", "precision", "recall", "off_target"}
    assert set(b.to_dict()) == {"metric", "value", "ci_low", "ci_high", "signature", "n", "off_target"}


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: score("summarize_zh", ["a"], [["a"], ["b"]]), "references: 2 items but 1 hypotheses"),
        (lambda: score("summarize_zh", [], []), "hypotheses: no items"),
        (lambda: score("summarize_zh", ["a", "b"], [["a"], ["b", "c"]]), "different numbers of references"),
        (lambda: score("summarize_zh", ["a"], ["a"]), "item 1 is a string"),
        (lambda: score("summarise_zh", ["a"], [["a"]]), "unknown task 'summarise_zh' \\(did you mean 'summarize_zh'\\?\\)"),
        (lambda: score("summarize_zh", ["a"], [["a"]], ["blue"]), "unknown metric 'blue' \\(did you mean 'bleu'\\?\\)"),
        (lambda: score("summarize_zh", ["a"], [["a"]], ["bleu", "bleu"]), "given twice"),
        (lambda: compare("summarize_zh", ["a"], ["a", "b"], [["a"]]), "hypotheses B: 2 items"),
    ],
)
def test_bad_input_names_the_problem(call, message):
    with pytest.raises(HarnessError, match=message):
        call()


@pytest.mark.parametrize("n", [1, 7, 1000, 10007])
def test_bootstrap_draw_is_sacrebleus_choice(n):
    ours = bootstrap_indices(np.random.default_rng(12345), n, 50)
    assert np.array_equal(ours, np.random.default_rng(12345).choice(n, size=(50, n), replace=True))
