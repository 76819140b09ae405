"""The fast code paths produce exactly what sacrebleu and rouge-score produce: tokenizers,
per-segment statistics rows, chrF++ words, English ROUGE tokens, union LCS."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
import sacrebleu
from nltk.stem import porter
from rouge_score import rouge_scorer, tokenize
from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a
from sacrebleu.tokenizers.tokenizer_zh import TokenizerZh

from harness.score.rouge import _lcs_indices, _summary_lcs
from harness.score.sacre import _CHRF_PUNCT, Bleu, Chrf, chrf_words, fast_tokenizer
from harness.score.text import EnglishTokenizer

# characters that exercise every tokenizer rule: ASCII punctuation, digits next to . , -,
# the &-entities and <skipped> of 13a, full-width forms, CJK, sacrebleu's quirky zh ranges
# (U+2001–U+2A6D and U+2F80–U+2FA1 count as Chinese there), plane-2 ideographs, tabs/newlines
POOL = list("ab1 2.,-!?()[]{}\"'&;:/\\`~^_<>@#$%*+=|\t\n") + [
    "中", "文", "。", "，", "“", "”", "—", "…", "&quot;", "&amp;", "&lt;", "<skipped>", "-\n",
    "ＡＢ", "\u2001", "\u2a6d", "\u2f80", "𠀀", "٣", "é", "GPT4", " the ", "3.14", "1,000",
]


def _random_texts(seed: int, count: int, max_len: int = 25) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(POOL) for _ in range(rng.randint(0, max_len))) for _ in range(count)]


def _real_texts(root) -> tuple[list[str], list[str]]:
    import pandas as pd

    zh = pd.read_parquet(root / "data" / "segments.parquet").zh.tolist()
    en = []
    for path in sorted((root / "references" / "translations" / "en").glob("*.jsonl")):
        en += [json.loads(line)["en"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return zh, en


@pytest.mark.parametrize("name, original", [("zh", TokenizerZh), ("13a", Tokenizer13a)])
def test_fast_tokenizers_equal_sacrebleu(root, name, original):
    fast, slow = fast_tokenizer(name), original()
    zh, en = _real_texts(root)
    for text in _random_texts(0, 20000) + zh + en:
        assert fast(text) == slow(text), text
    assert fast.signature() == slow.signature() == name


def _perturbed(texts, seed):
    rng = random.Random(seed)
    out = []
    for t in texts:
        chars = list(t)
        for _ in range(len(chars) // 4):
            op = rng.random()
            if op < 0.5 and chars:
                chars[rng.randrange(len(chars))] = rng.choice(chars)
            elif chars:
                chars.pop(rng.randrange(len(chars)))
        out.append("".join(chars))
    return out


@pytest.mark.parametrize(
    "metric",
    [
        Bleu("zh"),
        Bleu("en"),
        Chrf("zh"),
        Chrf("en"),
        Chrf("zh", word_order=2),
        Chrf("en", word_order=2),
        Chrf("en", beta=3, eps_smoothing=True),
    ],
    ids=["bleu-zh", "bleu-en", "chrf-zh", "chrf-en", "chrf++-zh", "chrf++-en", "chrf-b3-eps"],
)
@pytest.mark.parametrize("n_refs", [1, 3])
def test_rows_equal_sacrebleu_extraction(root, metric, n_refs):
    """Our corpus-wide n-gram rows = sacrebleu's ``_extract_corpus_statistics`` on the same
    prepared text, for real segments, perturbed copies, adversarial strings and empty texts."""
    zh, en = _real_texts(root)
    base = (zh if metric.lang == "zh" else en)[:150]
    refs = [base] + [_perturbed(base, seed) for seed in range(1, n_refs)]
    hyps = _perturbed(base, 99)[:-20] + [""] * 5 + _random_texts(1, 15, max_len=12)
    refs = [col[:-20] + _random_texts(2 + j, 20, max_len=12) for j, col in enumerate(refs)]
    hyps_p = metric._prepare(hyps)
    streams = [metric._prepare(col) for col in refs]
    ours = metric._rows(hyps_p, streams)
    expected = np.asarray(metric.sacre._extract_corpus_statistics(hyps_p, streams), dtype=float)
    assert np.array_equal(ours, expected)


def test_chrf_words_equal_sacrebleu():
    assert _CHRF_PUNCT == sacrebleu.CHRF._PUNCTS
    chrf = sacrebleu.CHRF(word_order=2)
    for text in _random_texts(3, 20000, max_len=15) + ["(hi)", "'quoted'", "a , b", ". .", "x."]:
        assert chrf_words(text) == chrf._remove_punctuation(text), text


def test_english_tokens_equal_rouge_score(root):
    _, en = _real_texts(root)
    stemmer = porter.PorterStemmer()
    ours = EnglishTokenizer(stem=True)
    unstemmed = EnglishTokenizer(stem=False)
    for text in en + _random_texts(4, 3000) + ["Ünïcode café naïve it's x-ray ABC123 generalizations"]:
        assert ours.tokenize(text) == tokenize.tokenize(text, stemmer)
        assert unstemmed.tokenize(text) == tokenize.tokenize(text, None)


def test_union_lcs_equals_rouge_score():
    rng = random.Random(1)
    for _ in range(3000):
        ref = [[rng.choice("abcdef") for _ in range(rng.randint(0, 12))] for _ in range(rng.randint(0, 4))]
        can = [[rng.choice("abcdefg") for _ in range(rng.randint(0, 12))] for _ in range(rng.randint(0, 4))]
        expected = rouge_scorer._summary_level_lcs(ref, can)
        assert _summary_lcs(ref, can) == (expected.fmeasure, expected.precision, expected.recall)
        for r in ref:
            for c in can:
                assert _lcs_indices(r, c) == rouge_scorer.lcs_ind(r, c)
