"""ROUGE-1/2/L/Lsum with rouge-score's definitions and tokenizers that are right for Chinese.

The numbers are those of ``rouge_score.rouge_scorer.RougeScorer(types, tokenizer=...)
.score_multi`` on the prepared text: the same tokens, n-gram and LCS definitions, summary-level
union LCS for ROUGE-Lsum and the best-F reference. tests/test_score_rouge.py checks this against
direct rouge-score calls on random texts, and against rouge-score's published ROUGE-1.5.5 figures.
The computation is organised for speed, since 10,000 pairs cost ~10 s through rouge-score:
each text is tokenised once for all types, and ROUGE-1/2 overlaps come from one corpus-wide count
(``harness.score.ngrams``). LCS lengths use a bit-parallel algorithm. Multi-sentence Lsum
reads the same dynamic-programming table back, in the same way as rouge-score.

Per item the statistics are (F, P, R) × 100 of the best reference; the corpus value is their
mean (``agg:mean-f``), never an unseeded bootstrap median as in rouge-score's aggregator.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from functools import cached_property
from importlib.metadata import version

import numpy as np

from harness.errors import HarnessError
from harness.score.base import MeanFPR
from harness.score.ngrams import Corpus
from harness.score.text import (
    CharTokenizer,
    EnglishTokenizer,
    JiebaTokenizer,
    guard_tokenizer,
    normalize_zh,
    split_sentences,
)

ROUGE_TYPES = ("rouge1", "rouge2", "rougeL", "rougeLsum")
ZH_TOKENIZERS = ("char", "jieba")


def make_tokenizer(lang: str, tokenizer: str | None, stem: bool = True):
    if lang == "en":
        if tokenizer not in (None, "rouge-default"):
            raise HarnessError(f"--zh-tokenizer: '{tokenizer}' applies to Chinese targets only")
        return EnglishTokenizer(stem=stem)
    if tokenizer in (None, "char"):
        return CharTokenizer()
    if tokenizer == "jieba":
        return JiebaTokenizer()
    raise HarnessError(f"--zh-tokenizer: unknown tokenizer '{tokenizer}' (known: {', '.join(ZH_TOKENIZERS)})")


def lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common subsequence, bit-parallel (Allison & Dix 1986; Hyyrö 2004).

    One machine-word-wide (here: Python big-int) update per token of ``a`` instead of a
    len(a) × len(b) table; the length equals rouge-score's ``_lcs_table(a, b)[-1][-1]``. The
    length is symmetric, so the bit masks are built over the shorter sequence: a huge
    hypothesis against a short reference costs one small mask per distinct reference token,
    not one mask of the hypothesis's length per distinct token.
    """
    if not a or not b:
        return 0
    if len(b) > len(a):
        a, b = b, a
    masks: dict[str, int] = {}
    for i, token in enumerate(b):
        masks[token] = masks.get(token, 0) | (1 << i)
    full = (1 << len(b)) - 1
    v = full
    for token in a:
        m = masks.get(token)
        if m:
            u = v & m
            v = ((v + u) | (v - u)) & full
    return len(b) - v.bit_count()


def _prf_arrays(hits: np.ndarray, n_pred: np.ndarray, n_target: np.ndarray) -> np.ndarray:
    """(T, 3) F, P, R with rouge-score's arithmetic (``scoring.fmeasure``), elementwise."""
    precision = hits / n_pred
    recall = hits / n_target
    with np.errstate(invalid="ignore", divide="ignore"):
        f = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    return np.stack([f, precision, recall], axis=1)


def _lcs_indices(ref: list[str], can: list[str]) -> list[int]:
    """Indices into ``ref`` of the LCS that rouge-score's ``lcs_ind`` picks: the same dynamic
    programming table read back from the bottom-right corner, preferring to move left only
    when that cell is strictly larger than the one above."""
    width = len(can) + 1
    table = [[0] * width]
    for token in ref:
        prev, row = table[-1], [0]
        left = 0
        for j, other in enumerate(can):
            left = prev[j] + 1 if token == other else (prev[j + 1] if prev[j + 1] > left else left)
            row.append(left)
        table.append(row)
    i, j, out = len(ref), len(can), []
    while i > 0 and j > 0:
        if ref[i - 1] == can[j - 1]:
            out.append(i - 1)
            i -= 1
            j -= 1
        elif table[i][j - 1] > table[i - 1][j]:
            j -= 1
        else:
            i -= 1
    out.reverse()
    return out


def _summary_lcs(target: list[list[str]], pred: list[list[str]]) -> tuple[float, float, float]:
    """Summary-level LCS (Lin 2004 §3.2) as rouge-score computes it: for each reference sentence
    the union of its LCS indices with every candidate sentence; a hit uses up one occurrence of
    the token on each side (so no token is counted more often than it occurs). (F, P, R)."""
    m = sum(map(len, target))
    n = sum(map(len, pred))
    if not target or not pred or not m or not n:
        return 0.0, 0.0, 0.0
    left_ref = Counter(t for s in target for t in s)
    left_pred = Counter(t for s in pred for t in s)
    hits = 0
    for sentence in target:
        union = sorted(set().union(*(_lcs_indices(sentence, c) for c in pred)))
        for token in (sentence[k] for k in union):
            if left_pred[token] > 0 and left_ref[token] > 0:
                hits += 1
                left_pred[token] -= 1
                left_ref[token] -= 1
    f, p, r = _prf_arrays(np.array([float(hits)]), np.array([float(n)]), np.array([float(m)]))[0]
    return float(f), float(p), float(r)


class Rouge(MeanFPR):
    """One ROUGE type. Chinese: character tokens by default (jieba words optional), Traditional →
    Simplified + NFKC on both sides. English: rouge-score's tokenizer with Porter stemming
    (``stem=False`` only to reproduce published unstemmed ROUGE-1.5.5 figures)."""

    def __init__(self, rouge_type: str, lang: str, tokenizer: str | None = None, *, stem: bool = True) -> None:
        if rouge_type not in ROUGE_TYPES:
            raise HarnessError(f"unknown ROUGE type '{rouge_type}'")
        self.name = rouge_type
        self.lang = lang
        self.tokenizer_name = tokenizer
        self.stem = stem and lang == "en"

    @cached_property
    def tokenizer(self):
        return make_tokenizer(self.lang, self.tokenizer_name, self.stem)

    @property
    def group_key(self) -> tuple:
        return ("rouge", self.lang, self.tokenizer.name, self.stem)

    def prepare(self, text: str) -> str:
        """The exact text handed to rouge-score: normalised, one sentence per line (for Lsum;
        the tokenizers treat newlines as spaces, so the other types see the same tokens)."""
        if self.lang == "zh":
            text = normalize_zh(text)
        return "\n".join(split_sentences(text, self.lang))

    def _sentences(self, prepared: str, canonical: dict[str, str] | None = None) -> list[list[str]]:
        """rouge-score drops empty lines, then tokenises each remaining line. With ``canonical``,
        each token is replaced by the first equal str object seen (and recorded there)."""
        if canonical is None:
            return [self.tokenizer.tokenize(line) for line in prepared.split("\n") if line]
        return [[canonical.setdefault(t, t) for t in self.tokenizer.tokenize(line)] for line in prepared.split("\n") if line]

    def item_stats(self, hypotheses, references) -> np.ndarray:
        return self.stats_for([self], hypotheses, references)[0]

    @classmethod
    def stats_for(cls, metrics: Sequence[Rouge], hypotheses, references) -> list[np.ndarray]:
        """(n, 3) rows of 100·(F, P, R) per metric, tokenising every text once for all types.

        ROUGE-1/2 overlaps for all items come from one corpus-wide count (``ngrams.Corpus``);
        LCS lengths are per pair (bit-parallel); several references: the highest F per item and
        type, first on ties (rouge-score's ``score_multi``).
        """
        first = metrics[0]
        tok = first.tokenizer
        columns = [list(c) for c in zip(*references)]
        sides_text = [list(hypotheses), *columns]
        memo: dict[str, tuple[str, list[list[str]]]] = {}
        # one str object per distinct token: a huge text's tokens then cost a list slot each, not
        # a new object each (17 M Chinese characters would be ~1.3 GB of one-character strings)
        canonical: dict[str, str] = {}

        def prepare(text: str) -> tuple[str, list[list[str]]]:
            if text not in memo:
                normalised = normalize_zh(text) if first.lang == "zh" else text
                memo[text] = (normalised, first._sentences("\n".join(split_sentences(normalised, first.lang)), canonical))
            return memo[text]

        prepared = [[prepare(t) for t in side] for side in sides_text]
        for j, side in enumerate(prepared[1:]):
            guard_tokenizer(tok, [p[0] for p in side], f"reference {j + 1} of item")
        # hypotheses are not guarded: an off-target output scores what it earns (see text.off_target)
        sentences = [[p[1] for p in side] for side in prepared]
        tokens = [[[t for s in sents for t in s] for sents in side] for side in sentences]

        types = [m.name for m in metrics]
        n_items, n_refs = len(hypotheses), len(columns)
        per_ref = {t: np.zeros((n_refs, n_items, 3)) for t in types}  # (F, P, R) on 0–1
        orders = sorted({int(t[5:]) for t in types if t[5:].isdigit()})
        if orders:
            corpus = Corpus.from_tokens(tokens)
            matches = corpus.matches(max(orders))
            for n in orders:
                n_pred = np.maximum(corpus.grams(n)[0], 1)
                for j in range(n_refs):
                    per_ref[f"rouge{n}"][j] = _prf_arrays(matches.each[n - 1, j], n_pred, np.maximum(corpus.grams(n)[1 + j], 1))
        if "rougeL" in types or "rougeLsum" in types:
            for j in range(n_refs):
                lcs = np.array([lcs_length(t, p) for t, p in zip(tokens[1 + j], tokens[0])], dtype=float)
                n_pred = np.array([len(p) for p in tokens[0]], dtype=float)
                n_target = np.array([len(t) for t in tokens[1 + j]], dtype=float)
                empty = (n_pred == 0) | (n_target == 0)
                rouge_l = np.where(empty[:, None], 0.0, _prf_arrays(lcs, np.maximum(n_pred, 1), np.maximum(n_target, 1)))
                if "rougeL" in types:
                    per_ref["rougeL"][j] = rouge_l
                if "rougeLsum" in types:
                    per_ref["rougeLsum"][j] = rouge_l  # exact for one sentence on each side…
                    for i, (target, pred) in enumerate(zip(sentences[1 + j], sentences[0])):
                        if len(target) > 1 or len(pred) > 1:  # …rouge-score's summary-level LCS otherwise
                            per_ref["rougeLsum"][j, i] = _summary_lcs(target, pred)
        out = []
        for t in types:
            best = np.argmax(per_ref[t][:, :, 0], axis=0)  # first reference on ties
            out.append(100 * per_ref[t][best, np.arange(n_items)])
        return out

    def signature(self, n_refs: int) -> str:
        norm = "t2s+nfkc" if self.lang == "zh" else "none"
        stem = "porter" if self.stem else "no"
        parts = [self.name, f"lang:{self.lang}", f"tok:{self.tokenizer.name}", f"norm:{norm}", f"stem:{stem}"]
        if self.name == "rougeLsum":
            parts.append(f"split:{'nl+zh-punct' if self.lang == 'zh' else 'nl+en-punct'}")
        parts += [f"refs:{n_refs}", "agg:mean-f", f"rouge-score:{version('rouge_score')}"]
        return "|".join(parts)
