"""BLEU, chrF, chrF++ and TER: sacrebleu's own test vectors, hand-computed Chinese cases, the
vectorised formulas against sacrebleu's, and equality with the `sacrebleu` command line."""

from __future__ import annotations

import random
import subprocess
import sys

import numpy as np
import pytest
import sacrebleu

from harness.score import get_metric, item_scores, score
from harness.score.sacre import Bleu, Chrf, Ter, bleu_from_stats
from harness.score.text import ScoringError, normalize_zh

V = sacrebleu.__version__


def corpus(metric, hyps, ref_streams):
    """Our corpus value; sacrebleu's tests give references as streams (one list per reference)."""
    refs = [list(r) for r in zip(*ref_streams)]
    return metric.corpus_score(hyps, refs, n_boot=10).value


# sacrebleu test/test_bleu.py (commit 2ae1366): README example, two reference streams
_REFS = [
    ["The dog bit the man.", "It was not unexpected.", "The man bit him first."],
    ["The dog had bit the man.", "No one was surprised.", "The man had bitten the dog."],
]
_HYPS = ["The dog bit the man.", "It wasn't surprising.", "The man had just bitten him."]


@pytest.mark.parametrize("hyps, expected", [(_HYPS, 48.530827), (["", "", ""], 0.0)])
def test_bleu_sacrebleu_vectors(hyps, expected):
    assert corpus(Bleu("en"), hyps, _REFS) == pytest.approx(expected, abs=1e-6)


def test_bleu_formula_vector():
    # test_bleu.py test_case_scoring: correct [9, 7, 5, 3], total [10, 8, 6, 4], lengths 11/11
    stats = np.array([[11, 11, 9, 7, 5, 3, 10, 8, 6, 4]], dtype=float)
    assert bleu_from_stats(stats)[0] == pytest.approx(83.75922397, abs=1e-6)
    assert bleu_from_stats(np.zeros((1, 10)))[0] == 0.0  # degenerate statistics


# sacrebleu test/test_chrf.py (commit 0dca9d4): (hyps, refs, expected) with beta 3
CHRF_EPS = [
    (["abcdefg"], ["hijklmnop"], 0.0),
    (["a"], ["b"], 0.0),
    ([""], ["b"], 0.0),
    ([""], ["reference"], 0.0),
    (["aa"], ["ab"], 8.3333),
    (["a", "b"], ["a", "c"], 8.3333),
    (["a"], ["a"], 16.6667),
    (["a b c"], ["a b c"], 50.0),
    (["a b c"], ["abc"], 50.0),
    (
        [" risk assessment must be made of those who are qualified and expertise in the sector - these are the scientists ."],
        ["risk assessment has to be undertaken by those who are qualified and expert in that area - that is the scientists ."],
        63.361730,
    ),
    (
        [" Die    Beziehung zwischen  Obama und Netanjahu ist nicht gerade  freundlich. "],
        ["Das Verhältnis zwischen Obama und Netanyahu ist nicht gerade freundschaftlich."],
        64.1302698,
    ),
    (["Niemand hat die Absicht, eine Mauer zu errichten"], ["Niemand hat die Absicht, eine Mauer zu errichten"], 100.0),
]
CHRF_EFFECTIVE = [
    (["a"], ["a"], 100.0),
    ([""], ["reference"], 0.0),
    (["a b c"], ["a b c"], 100.0),
    (["a b c"], ["abc"], 100.0),
    ([""], ["c"], 0.0),
    (["a", "b"], ["a", "c"], 50.0),
    (["aa"], ["ab"], 25.0),
]
# sentence-level, sacrebleu defaults (beta 2) with eps smoothing
CHRF_SENTENCE = [
    (
        "Co nás nejvíc trápí, protože lékaři si vybírají, kdo bude žít a kdo zemře.",
        "Nejvíce smutní jsme z toho, že musíme rozhodovat o tom, kdo bude žít a kdo zemře.",
        39.14078509,
    ),
    (
        "Nebo prostě nemají vybavení, které by jim pomohlo, uvedli lékaři.",
        "A někdy nemáme ani potřebný materiál, abychom jim pomohli, popsali lékaři.",
        31.22557079,
    ),
    (
        "Lapali po dechu, jejich životy skončily dřív, než skutečně začaly.",
        "Lapali po dechu a pak jejich život skončil - dřív, než skutečně mohl začít, připomněli.",
        57.15704367,
    ),
]


@pytest.mark.parametrize("hyps, refs, expected", CHRF_EPS)
def test_chrf_sacrebleu_vectors_eps(hyps, refs, expected):
    assert corpus(Chrf("en", beta=3, eps_smoothing=True), hyps, [refs]) == pytest.approx(expected, abs=1e-4)


@pytest.mark.parametrize("hyps, refs, expected", CHRF_EFFECTIVE)
def test_chrf_sacrebleu_vectors_effective_order(hyps, refs, expected):
    assert corpus(Chrf("en", beta=3), hyps, [refs]) == pytest.approx(expected, abs=1e-4)


@pytest.mark.parametrize("hyp, ref, expected", CHRF_SENTENCE)
def test_chrf_sacrebleu_sentence_vectors(hyp, ref, expected):
    metric = Chrf("en", eps_smoothing=True)
    assert metric.item_values(metric.item_stats([hyp], [[ref]]))[0] == pytest.approx(expected, abs=1e-4)


# sacrebleu test/test_ter.py (commit 27bec34)
TER = [
    (["aaaa bbbb cccc dddd"], ["aaaa bbbb cccc dddd"], 0),  # perfect match
    (["dddd eeee ffff"], ["aaaa bbbb cccc"], 1),  # no overlap
    ([""], ["a"], 1),  # empty hypothesis
    (["d e f g h a b c"], ["a b c d e f g h"], 1 / 8),  # a single shift fixes it
]


@pytest.mark.parametrize("hyps, refs, expected", TER)
def test_ter_sacrebleu_vectors(hyps, refs, expected):
    assert corpus(Ter("en"), hyps, [refs]) == pytest.approx(100 * expected, abs=1e-3)


# Chinese, hand-computed. hyp 我爱北京天安门 (7 characters) is a prefix of ref 我爱北京天安门广场 (9).
def test_chinese_bleu_hand_computed():
    # every hypothesis n-gram matches: p1..p4 = 1; BP = exp(1 − 9/7) = 0.751477 → BLEU 75.1477
    for hyp in ("我爱北京天安门", "我愛北京天安門"):  # the Traditional spelling normalises to the same
        [s] = score("translate_en_zh", [hyp], [["我爱北京天安门广场"]], ["bleu"])
        assert s.value == pytest.approx(100 * np.exp(1 - 9 / 7)) == pytest.approx(75.1477, abs=1e-4)


def test_chinese_chrf_hand_computed():
    # character n-grams, orders 1..6: hyp 7,6,5,4,3,2 all matched; ref 9,8,7,6,5,4.
    # avg P = 1; avg R = (7/9 + 6/8 + 5/7 + 4/6 + 3/5 + 2/4) / 6 = 5051/7560;
    # F2 = 5·P·R / (4·P + R) = 25255/35291 = 0.7156215 → 71.56215
    [s] = score("translate_en_zh", ["我爱北京天安门"], [["我爱北京天安门广场"]], ["chrf"])
    assert s.value == pytest.approx(100 * 25255 / 35291)


def test_english_bleu_on_chinese_reference_raises_and_chinese_output_is_counted():
    with pytest.raises(ScoringError, match="reference 1 of item 1: mostly Chinese"):
        score("translate_zh_en", ["GPT4 was released"], [["GPT4发布了"]], ["bleu"])
    # a Chinese "translation" is scored as it is and counted as off target
    [bleu] = score("translate_zh_en", ["GPT4发布了", "the model was released"], [["GPT4 was released"], ["the model was released"]], ["bleu"])
    assert bleu.off_target == 1 and 0 < bleu.value < 100


def test_signatures():
    s = {x.metric: x.signature for x in score("translate_en_zh", ["我爱北京"], [["我爱北京", "我爱上海"]], ["bleu", "chrf", "chrf++", "ter"])}
    assert s["bleu"] == f"bleu|nrefs:2|case:mixed|eff:no|tok:zh|smooth:exp|version:{V}|prenorm:t2s+nfkc"
    assert s["chrf"] == f"chrf|nrefs:2|case:mixed|eff:yes|nc:6|nw:0|space:no|version:{V}|prenorm:t2s+nfkc"
    assert s["chrf++"] == f"chrf++|nrefs:2|case:mixed|eff:yes|nc:6|nw:2|space:no|version:{V}|prenorm:t2s+nfkc|words:zh"
    assert s["ter"] == f"ter|nrefs:2|case:lc|tok:tercom|norm:yes|punct:yes|asian:yes|version:{V}|prenorm:t2s+nfkc"
    [en] = score("translate_zh_en", ["a dog"], [["the dog"]], ["bleu"])
    assert en.signature == f"bleu|nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:{V}|prenorm:none"


def test_chinese_chrf_plus_plus_uses_character_words():
    # a Chinese sentence has no spaces: sacrebleu's chrF++ would take it as one "word"; we give
    # chrF++ the zh tokenizer's words (one per CJK character), character n-grams are unchanged
    hyp, ref = "我爱北京天安门", "我爱北京天安门广场"
    tok = sacrebleu.tokenizers.tokenizer_zh.TokenizerZh()
    [s] = score("translate_en_zh", [hyp], [[ref]], ["chrf++"])
    assert s.value == pytest.approx(sacrebleu.CHRF(word_order=2).corpus_score([tok(hyp)], [[tok(ref)]]).score)
    assert s.value > sacrebleu.CHRF(word_order=2).corpus_score([hyp], [[ref]]).score + 10


def _random_stats(metric, rng, n=60):
    words = "the a dog cat bit man sat on mat was not it".split()
    refs = [" ".join(rng.choice(words) for _ in range(rng.randint(1, 12))) for _ in range(n)]
    hyps = [" ".join(rng.choice(words) for _ in range(rng.randint(0, 12))) for _ in range(n)]
    return metric.item_stats(hyps, [[r, r[::-1]] for r in refs])


@pytest.mark.parametrize(
    "metric",
    [Bleu("en"), Chrf("en"), Chrf("en", word_order=2), Chrf("en", beta=3, eps_smoothing=True), Ter("en")],
    ids=["bleu", "chrf", "chrf++", "chrf-eps", "ter"],
)
def test_vectorised_formula_equals_sacrebleu(metric):
    """Our (B, k) formula = sacrebleu's ``_compute_score_from_stats`` on every resample's sums,
    including single items (zero counts, empty hypotheses)."""
    rng = random.Random(11)
    stats = _random_stats(metric, rng)
    idx = np.random.default_rng(0).choice(len(stats), size=(200, len(stats)))
    sums = np.vstack([stats[idx].sum(axis=1), stats])
    ours = metric.values(sums, len(stats))
    expected = [metric.sacre._compute_score_from_stats(list(row)).score for row in sums]
    assert ours == pytest.approx(expected, abs=1e-9)


def test_item_bleu_is_sentence_bleu():
    rng = random.Random(5)
    words = "the a dog cat bit man sat on mat".split()
    hyps = [" ".join(rng.choice(words) for _ in range(rng.randint(0, 9))) for _ in range(80)]
    refs = [" ".join(rng.choice(words) for _ in range(rng.randint(1, 9))) for _ in range(80)]
    ours = item_scores("translate_zh_en", hyps, [[r] for r in refs], ["bleu"])["bleu"]
    assert ours == pytest.approx([sacrebleu.sentence_bleu(h, [r]).score for h, r in zip(hyps, refs)], abs=1e-9)


def _sacrebleu_cli(tmp_path, hyps, ref_columns, args):
    hyp_file = tmp_path / "hyp.txt"
    hyp_file.write_text("\n".join(hyps) + "\n", encoding="utf-8")
    ref_files = []
    for j, column in enumerate(ref_columns):
        ref_files.append(tmp_path / f"ref{j}.txt")
        ref_files[-1].write_text("\n".join(column) + "\n", encoding="utf-8")
    cmd = [sys.executable, "-m", "sacrebleu", *map(str, ref_files), "-i", str(hyp_file), "-b", "-w", "6", *args]
    return float(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip())


def _zh_corpus(root, n=60):
    import pandas as pd

    refs = pd.read_parquet(root / "data" / "segments.parquet").zh[:n].tolist()
    rng = random.Random(2)
    hyps = []
    for r in refs:
        chars = list(r)
        for _ in range(len(chars) // 4):
            chars[rng.randrange(len(chars))] = rng.choice(chars)
        hyps.append("".join(chars))
    return hyps, refs


@pytest.mark.parametrize(
    "name, cli_args",
    [("bleu", ["-m", "bleu", "-tok", "zh"]), ("chrf", ["-m", "chrf"]), ("ter", ["-m", "ter", "--ter-normalized", "--ter-asian-support"])],
)
def test_chinese_equals_sacrebleu_cli(root, tmp_path, name, cli_args):
    """Same numbers as the `sacrebleu` command line on the same (normalised) Chinese files."""
    hyps, refs = _zh_corpus(root, n=60 if name != "ter" else 15)
    hyps, refs = [normalize_zh(h) for h in hyps], [normalize_zh(r) for r in refs]
    [s] = score("translate_en_zh", hyps, [[r] for r in refs], [name], n_boot=10)
    assert s.value == pytest.approx(_sacrebleu_cli(tmp_path, hyps, [refs], cli_args), abs=1e-5)


@pytest.mark.parametrize(
    "name, cli_args",
    [("bleu", ["-m", "bleu"]), ("chrf", ["-m", "chrf"]), ("chrf++", ["-m", "chrf", "--chrf-word-order", "2"]), ("ter", ["-m", "ter"])],
)
def test_english_equals_sacrebleu_cli(tmp_path, name, cli_args):
    refs = [list(r) for r in zip(*_REFS)]
    [s] = score("translate_zh_en", _HYPS, refs, [name], n_boot=10)
    assert s.value == pytest.approx(_sacrebleu_cli(tmp_path, _HYPS, _REFS, cli_args), abs=1e-5)


def test_get_metric_accepts_language_or_task():
    assert get_metric("bleu", "translate_en_zh").lang == "zh"
    assert get_metric("chrf++", "en").name == "chrf++"
