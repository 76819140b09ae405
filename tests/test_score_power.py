"""The power of a paired comparison (harness.score.power) and the published table of estimated accuracies
(harness.score.delta_accuracy): t quantiles, MDEs pinned on a fixed example, a simulation that
differences of exactly the MDE are found 80 % of the time, and the Kocmi et al. (2024) look-up."""

from __future__ import annotations

import numpy as np
import pytest

from harness.score import compare, item_scores
from harness.score.base import MeanFPR
from harness.score.delta_accuracy import agreement
from harness.score.power import mde, t_cdf, t_quantile


@pytest.mark.parametrize(
    ("p", "df", "expected"),
    [  # R: qt(p, df)
        (0.975, 1, 12.706205),
        (0.975, 2, 4.302653),
        (0.975, 4, 2.776445),
        (0.8, 4, 0.940965),
        (0.975, 29, 2.045230),
        (0.8, 29, 0.854192),
        (0.975, 119, 1.980100),
        (0.025, 10, -2.228139),
        (0.5, 3, 0.0),
        (0.975, 100000, 1.959988),  # past the exact range: the Cornish–Fisher expansion
    ],
)
def test_t_quantiles_are_students(p, df, expected):
    assert t_quantile(p, df) == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize(
    ("t", "df", "expected"),
    [(2.0, 5, 0.949030), (-1.0, 2, 0.5 - 1 / (2 * 3**0.5)), (1.5, 1, 0.5 + np.arctan(1.5) / np.pi), (0.0, 7, 0.5)],
)
def test_t_cdf(t, df, expected):
    assert t_cdf(t, df) == pytest.approx(expected, abs=1e-6)


def test_exact_and_expanded_quantiles_meet():
    assert t_quantile(0.99, 20000) == pytest.approx(t_quantile(0.99, 20001), abs=1e-7)


@pytest.mark.parametrize(
    ("se", "n", "expected"),
    [
        (1.0, 5, 2.776445 + 0.940965),  # the five summaries
        (2.0, 30, 2 * (2.045230 + 0.854192)),
        (1.0, 1, None),  # one item: no degrees of freedom
        (0.0, 40, None),  # no spread (identical outputs): nothing to size the test from
        (float("nan"), 40, None),
    ],
)
def test_mde_formula(se, n, expected):
    got = mde(se, n)
    assert got == expected if expected is None else got == pytest.approx(expected, abs=1e-5)


REFS = ["今天天气很好，我们去公园散步。", "他昨天买了一本新书。", "会议将在下午三点开始。", "这家餐厅的菜很好吃。",
        "我们需要更多的时间来完成这个项目。", "孩子们在操场上踢足球。", "她每天早上六点起床跑步。", "公司今年的利润增长了百分之十。"]
SYS_A = ["今天天气不错，我们去公园走走。", "他昨天买了一本书。", "会议下午开始。", "这家餐厅的菜不错。",
         "我们需要时间完成项目。", "孩子们在踢球。", "她每天早上跑步。", "公司利润增长了。"]
SYS_B = ["今天天气很好，我们去公园散步。", "他买了新书。", "会议将在三点开始。", "餐厅很好。",
         "我们需要更多的时间来完成这个项目。", "孩子们在操场上踢足球。", "她六点起床。", "今年利润增长百分之十。"]


@pytest.mark.parametrize(
    ("metric", "delta", "se", "mde_value"),
    [  # 8 items, seed 0, 1000 resamples; MDE = (t[.975, 7] + t[.8, 7]) · SE = 3.2607 · SE
        ("rougeL", 7.7981, 7.4845, 24.4044),
        ("bleu", 25.1578, 17.9272, 58.4545),  # corpus BLEU: the SE of the corpus-level delta
        ("chrf", 28.0306, 17.2316, 56.1864),
    ],
)
def test_mde_pinned_on_a_fixed_example(metric, delta, se, mde_value):
    (c,) = compare("summarize_zh", SYS_A, SYS_B, [[r] for r in REFS], [metric], seed=0, n_boot=1000, n_ar=1000)
    assert (round(c.delta, 4), round(c.se, 4), round(c.mde, 4)) == (delta, se, mde_value)
    assert c.mde == pytest.approx(3.260654 * c.se, rel=1e-6)
    (again,) = compare("summarize_zh", SYS_A, SYS_B, [[r] for r in REFS], [metric], seed=0, n_boot=1000, n_ar=1000)
    assert again.mde == c.mde  # same seed, same number


def test_rouge_mde_is_the_paired_t_tests():
    """For a mean metric the bootstrap SE (scaled by √(n/(n−1))) is the t-test's sd(d)/√n, up to
    resampling noise (~2 % at 1000 resamples)."""
    refs = [[r] for r in REFS]
    d = np.subtract(item_scores("summarize_zh", SYS_B, refs, ["rougeL"])["rougeL"],
                    item_scores("summarize_zh", SYS_A, refs, ["rougeL"])["rougeL"])
    analytic = (t_quantile(0.975, 7) + t_quantile(0.8, 7)) * d.std(ddof=1) / np.sqrt(len(d))
    (c,) = compare("summarize_zh", SYS_A, SYS_B, refs, ["rougeL"], seed=0, n_boot=4000, n_ar=100)
    assert analytic == pytest.approx(23.5395, abs=1e-4)
    assert c.mde == pytest.approx(analytic, rel=0.05)


def test_identical_outputs_have_no_mde():
    (c,) = compare("summarize_zh", SYS_A, SYS_A, [[r] for r in REFS], ["rougeL"], n_boot=100, n_ar=100)
    assert (c.se, c.mde) == (0.0, None)


class _Number(MeanFPR):
    """A metric whose item score is the hypothesis read as a number: the paired test on known data."""

    name = "number"

    def __init__(self, lang: str = "zh"):
        self.lang = lang

    def item_stats(self, hypotheses, references):
        v = np.array([float(h) for h in hypotheses])
        return np.stack([v, v, v], axis=1)

    def signature(self, n_refs: int) -> str:
        return "number"


@pytest.mark.parametrize("noise", ["normal", "skewed"])
def test_a_difference_of_the_mde_is_found_80_percent_of_the_time(noise):
    """400 seeded simulations of 30 paired items: A's scores, B = A + noise + the MDE that the
    harness computes from the noise's own spread (the MDE does not depend on the mean difference).
    The approximate-randomisation test (the leaderboard's) finds B better in about 80 % of them."""
    rng = np.random.default_rng(2024)
    n, sims, found = 30, 400, 0
    number = _Number()
    for seed in range(sims):
        a = rng.uniform(10, 60, n)
        e = rng.normal(0, 8, n) if noise == "normal" else rng.gamma(2.0, 4.0, n) - 8.0

        def run(b):
            (c,) = compare("summarize_zh", [repr(float(x)) for x in a], [repr(float(x)) for x in b], [["-"]] * n,
                           [number], seed=seed, n_boot=500, n_ar=500)
            return c

        shift = run(a + e).mde
        c = run(a + e + shift)
        assert c.mde == pytest.approx(shift)
        found += c.p_ar < 0.05 and c.delta > 0
    assert 0.72 <= found / sims <= 0.88, found / sims


@pytest.mark.parametrize(
    ("metric", "delta", "signature", "label", "row"),
    [  # Kocmi et al. (2024), main_thresholds
        ("bleu", 2.5, "", "80 %", "BLEU"),  # ≥ 2.34
        ("bleu", -2.5, "", "80 %", "BLEU"),  # the size counts, not the sign
        ("bleu", 4.0, "", "85 %", "BLEU"),  # 90 % is never reached: 85 % (3.35) is the highest
        ("bleu", 0.2, "", "below 50 %", "BLEU"),  # under the coin-toss threshold 0.27
        ("bleu", 0.3, "", "50 % (coin toss)", "BLEU"),
        ("chrf", 3.1, "", "90 %", "chrF"),  # ≥ 3.05
        ("chrf", 3.0, "", "85 %", "chrF"),
        ("chrf++", 1.7, "", "80 %", "chrF"),  # read on chrF's row
        ("comet", 0.94, "comet|model:Unbabel/wmt22-comet-da|comet:2.2.2|refs:1", "90 %", "COMET-22"),
        ("comet", 0.94, "comet|model:Unbabel/wmt22-cometkiwi-da|comet:2.2.2|refs:none", "not published", None),
        ("rougeL", 9.0, "", "not published", None),
        ("ter", 5.0, "", "not published", None),
        ("bertscore", 2.0, "", "not published", None),
    ],
)
def test_estimated_accuracy_lookup(metric, delta, signature, label, row):
    a = agreement(metric, delta, signature)
    assert (a.label, a.row) == (label, row)
    if metric == "chrf++":
        assert "chrF++ was not measured" in a.note
    if row is None:
        assert "no published figure" in a.note
