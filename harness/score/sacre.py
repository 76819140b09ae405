"""BLEU, chrF, chrF++ and TER on sacrebleu, with Chinese-aware settings.

Per-segment statistics are sacrebleu's (the rows its ``_extract_corpus_statistics`` returns,
the input of ``sacrebleu.significance``): BLEU and chrF rows are counted for the whole corpus
at once with numpy (``harness.score.ngrams``) over sacrebleu's own tokenisation, because
sacrebleu's per-segment ``Counter`` loops take ~10 s for 10,000 segments; TER rows come from
sacrebleu itself. The corpus formulas are sacrebleu's ``_compute_score_from_stats`` written over
a (B, k) matrix so 1,000 resamples cost one call. Tests check rows and formulas against
sacrebleu's on real and adversarial text, and final scores against the ``sacrebleu`` CLI.

Chinese targets: BLEU uses ``tokenize="zh"`` (one token per CJK character); TER uses
``normalized=True, asian_support=True`` for the same reason; chrF++'s word n-grams are taken
over sacrebleu's ``zh`` tokens (otherwise a Chinese sentence without spaces is one "word");
character n-grams are unaffected since chrF drops whitespace. Both sides are normalised
(Traditional → Simplified, NFKC) first. Every one of these choices is in the signature.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from functools import cached_property, lru_cache

import numpy as np

from harness.score.base import Metric
from harness.score.ngrams import Corpus
from harness.score.text import guard_language, normalize_zh

ZH_NORM = "t2s+nfkc"
_LOG_ZERO = -9999999999  # sacrebleu.utils.my_log(0)


def _normalise(texts: Sequence[str], lang: str) -> list[str]:
    return [normalize_zh(t) for t in texts] if lang == "zh" else list(texts)


# sacrebleu TokenizerRegexp's first rule pads these characters with spaces (its class also has
# the space itself, which only adds spaces that the final whitespace join removes)
_PADDED = "{|}~[\\]^_`!\"#$%&()*+:;<=>?@/"


class _PaddingTable(dict):
    """``str.translate`` table doing sacrebleu's character padding in C: the first regex rule
    of ``TokenizerRegexp`` (ASCII punctuation → " c ") and, for ``zh``, the spacing of every
    character its ``_is_chinese_char`` accepts (its ranges and quirks included). Filled lazily,
    one entry per distinct character."""

    def __init__(self, is_chinese=None) -> None:
        super().__init__({ord(c): f" {c} " for c in _PADDED})
        self._is_chinese = is_chinese

    def __missing__(self, code: int) -> str:
        char = chr(code)
        out = self[code] = f" {char} " if self._is_chinese is not None and self._is_chinese(char) else char
        return out


class _FastPost:
    """sacrebleu's ``TokenizerRegexp`` after the padding step: its rules 2–4 (period, comma and
    dash next to digits) and the whitespace join, verbatim. The padding rule, which matches every
    space and costs one Python-level template expansion per match, is done by ``_PaddingTable``.
    Tests compare the output with sacrebleu's on real and adversarial text."""

    _EXPECTED_FIRST = r"([\{-\~\[-\` -\&\(-\+\:-\@\/])"

    def __init__(self) -> None:
        from sacrebleu.tokenizers.tokenizer_re import TokenizerRegexp  # heavy: sacrebleu only where BLEU/chrF/TER run

        rules = TokenizerRegexp()._re
        if rules[0][0].pattern != self._EXPECTED_FIRST or len(rules) != 4:  # a new sacrebleu: refuse to guess
            raise RuntimeError(f"sacrebleu's TokenizerRegexp changed ({rules[0][0].pattern!r}); update harness.score.sacre")
        self._rules = rules[1:]

    def __call__(self, line: str) -> str:
        for regex, repl in self._rules:
            line = regex.sub(repl, line)
        return " ".join(line.split())


LONG_TEXT = 1 << 20  # characters: a longer text is tokenised piece by piece (``pieces``), never whole
# one whitespace character other than a newline (13a joins "-\n") between two characters that
# are neither whitespace nor "." or "," (the zh tokenizer strips a piece's ends, and sacrebleu's
# rules split "x ." and ". x" but not ".5" or "5.")
_CUT = re.compile(r"(?<=[^\s.,])[^\S\n](?=[^\s.,])")
# for the zh tokenizer also between two CJK Unified Ideographs (it pads each with spaces), so
# Chinese without spaces is cut too
_CUT_ZH = re.compile(_CUT.pattern + "|(?<=[\u4e00-\u9fff])(?=[\u4e00-\u9fff])")


@lru_cache(maxsize=None)
def fast_tokenizer(name: str):
    """A drop-in, output-identical, faster sacrebleu tokenizer ("zh" or "13a"); its
    ``signature()`` is sacrebleu's. One shared instance per name, whose results are memoised
    like sacrebleu's own tokenizers, so BLEU and chrF++ tokenise each text once."""
    from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a  # heavy: sacrebleu only where BLEU/chrF/TER run
    from sacrebleu.tokenizers.tokenizer_zh import TokenizerZh  # heavy: as above

    post = _FastPost()

    class FastTokenizerZh(TokenizerZh):
        _table = _PaddingTable(TokenizerZh._is_chinese_char)
        cut = _CUT_ZH  # where a huge text may be cut into pieces (see ``pieces``)

        @lru_cache(maxsize=1 << 16)
        def __call__(self, line: str) -> str:
            return post(line.strip().translate(self._table))

    class FastTokenizer13a(Tokenizer13a):
        _table = _PaddingTable()
        cut = _CUT

        @lru_cache(maxsize=1 << 16)
        def __call__(self, line: str) -> str:
            line = line.replace("<skipped>", "").replace("-\n", "").replace("\n", " ")
            if "&" in line:
                line = line.replace("&quot;", '"').replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
            return post(f" {line} ".translate(self._table))

    return {"zh": FastTokenizerZh, "13a": FastTokenizer13a}[name]()


def pieces(text: str, size: int, cut: re.Pattern = _CUT) -> Iterator[str]:
    """``text`` in pieces of about ``size`` characters for a tokenizer that only inserts spaces
    (sacrebleu's ``13a`` and ``zh``, ``chrf_words``): each cut is at a whitespace character
    (``_CUT``), which ends one piece and also starts the next, or (``_CUT_ZH``) between two
    Chinese characters, so every rule sees the same neighbours as in the whole text and the
    tokens are the same (tested against whole-text tokenisation). A stretch of ``size``
    characters without a place to cut stays in one piece."""
    start = 0
    while start < len(text):
        found = cut.search(text, start + size) if start + size < len(text) else None
        if found is None:
            yield text[start:]
            return
        yield text[start : found.end()]
        start = found.start()


def tokens_of(tokenizer, text: str, size: int | None = None) -> Iterable[str]:
    """``tokenizer(text).split()`` (a memoised fast tokenizer); a text over ``size`` characters
    is tokenised in ``pieces`` by the unmemoised call, yielding tokens as it goes, so neither
    its token list nor a cache entry of its size is ever held."""
    size = LONG_TEXT if size is None else size
    if len(text) <= size:
        return tokenizer(text).split()
    uncached = type(tokenizer).__call__.__wrapped__
    return (token for piece in pieces(text, size, tokenizer.cut) for token in uncached(tokenizer, piece).split())


def tokenized(tokenizer, text: str, size: int | None = None) -> str:
    """``tokenizer(text)``; a text over ``size`` characters tokenised in ``pieces`` by the
    unmemoised call and joined with spaces (the same tokens, one string, no cache entry)."""
    size = LONG_TEXT if size is None else size
    if len(text) <= size:
        return tokenizer(text)
    uncached = type(tokenizer).__call__.__wrapped__
    return " ".join(uncached(tokenizer, piece) for piece in pieces(text, size, tokenizer.cut))


def bleu_rows(hyp_tokens: Sequence[Iterable[str]], ref_tokens: Sequence[Sequence[Iterable[str]]], max_order: int = 4) -> np.ndarray:
    """sacrebleu BLEU rows [hyp_len, closest ref_len, correct_1..N, total_1..N]; ``ref_tokens[j][i]``
    is reference j of item i (token lists, or generators for huge texts). Hypothesis n-grams are
    clipped by their highest count in any reference; the closest reference length breaks ties
    towards the shorter one."""
    corpus = Corpus.from_tokens([hyp_tokens, *ref_tokens])
    n_items = len(hyp_tokens)
    hyp_len, ref_lens = corpus.lengths[0], corpus.lengths[1:]
    diff = np.abs(ref_lens - hyp_len)
    closest = np.take_along_axis(ref_lens, np.argmin(diff * (ref_lens.max() + 1) + ref_lens, axis=0)[None], axis=0)[0]
    rows = np.zeros((n_items, 2 + 2 * max_order))
    rows[:, 0], rows[:, 1] = hyp_len, closest
    matches = corpus.matches(max_order)
    for n in range(1, max_order + 1):
        rows[:, 1 + n] = matches.best[n - 1]
        rows[:, 1 + max_order + n] = corpus.grams(n)[0]
    return rows


_CHRF_PUNCT = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")  # = sacrebleu CHRF._PUNCTS (tested)


@lru_cache(maxsize=1)
def _chrf_split():
    punct = "[" + re.escape("".join(sorted(_CHRF_PUNCT))) + "]"
    # a whole whitespace-delimited word: body + final mark, or else first mark + rest
    return re.compile(rf"(?<!\S)(?:(\S+)({punct})|({punct})(\S+))(?!\S)")


def chrf_words(text: str) -> list[str]:
    """sacrebleu ``CHRF._remove_punctuation``: whitespace words; a word longer than one
    character loses one punctuation mark at its end (or else at its start) as its own word.
    One regex pass instead of a Python loop over words (tests compare with sacrebleu's)."""
    return _chrf_split().sub(r"\1\3 \2\4", text).split()


def chrf_word_stream(text: str, size: int | None = None) -> Iterable[str]:
    """``chrf_words(text)``; a text over ``size`` characters word by word from its ``pieces``
    (the rule looks at one whitespace-delimited word at a time)."""
    size = LONG_TEXT if size is None else size
    if len(text) <= size:
        return chrf_words(text)
    return (word for piece in pieces(text, size) for word in chrf_words(piece))


_WHITESPACE = re.compile(r"\s+")  # \s is exactly str.isspace(), what str.split() splits on (tested)


def without_whitespace(text: str) -> str:
    """``"".join(text.split())`` (sacrebleu chrF's character input) without a list of words:
    ``re.sub`` per 2**20 characters (it also holds one string per match until it joins)."""
    return "".join(_WHITESPACE.sub("", text[start : start + LONG_TEXT]) for start in range(0, len(text), LONG_TEXT))


def chrf_rows(hyps: list[str], refs: list[list[str]], char_order: int, word_order: int, beta: int, eps_smoothing: bool) -> np.ndarray:
    """sacrebleu chrF rows: [hyp, ref, match] per character order 1..char_order, then per word
    order; with several references, the one with the best chrF for the item (first on ties)."""
    n_items, n_refs = len(hyps), len(refs)
    per_ref = np.zeros((n_refs, n_items, 3 * (char_order + word_order)))
    parts = [(Corpus.from_chars([[without_whitespace(t) for t in side] for side in (hyps, *refs)]), char_order, 0)]
    if word_order:
        words = [[chrf_word_stream(t) for t in side] for side in (hyps, *refs)]
        parts.append((Corpus.from_tokens(words), word_order, char_order))
    for corpus, max_order, offset in parts:
        matches = corpus.matches(max_order)
        for n in range(1, max_order + 1):
            hyp_grams, col = corpus.grams(n)[0], 3 * (offset + n - 1)
            for j in range(n_refs):
                ref_grams = corpus.grams(n)[1 + j]
                per_ref[j, :, col] = np.where(ref_grams > 0, hyp_grams, 0)  # sacrebleu: no ref n-grams, no hyp count
                per_ref[j, :, col + 1] = ref_grams
                per_ref[j, :, col + 2] = matches.each[n - 1, j]
    if n_refs == 1:
        return per_ref[0]
    scores = np.stack([chrf_from_stats(r, beta, eps_smoothing) for r in per_ref])
    return per_ref[np.argmax(scores, axis=0), np.arange(n_items)]


class SacreMetric(Metric):
    """Common plumbing: normalisation, the language guard, statistics extraction, signature."""

    def __init__(self, lang: str) -> None:
        self.lang = lang

    @cached_property
    def sacre(self):
        """The configured sacrebleu metric object (imported lazily: sacrebleu is not light)."""
        return self._make()

    def _make(self):
        raise NotImplementedError

    def _prepare(self, texts: Sequence[str]) -> list[str]:
        return _normalise(texts, self.lang)

    def item_stats(self, hypotheses, references) -> np.ndarray:
        for j, column in enumerate(zip(*references)):
            guard_language(column, self.lang, f"reference {j + 1} of item")
        # hypotheses are not guarded: an off-target output scores what it earns (see text.off_target)
        hyps = self._prepare(hypotheses)
        # sacrebleu takes reference *streams*: streams[j][i] is the j-th reference of item i
        streams = [self._prepare(stream) for stream in zip(*references)]
        return self._rows(hyps, streams)

    def _rows(self, hyps: list[str], streams: list[list[str]]) -> np.ndarray:
        """Per-item statistics from prepared texts; by default sacrebleu's own extraction."""
        stats = self.sacre._extract_corpus_statistics(hyps, streams)
        return np.asarray(stats, dtype=np.float64).reshape(len(hyps), -1)

    def item_values(self, stats: np.ndarray) -> np.ndarray:
        return self.values(stats, 1)

    def signature(self, n_refs: int) -> str:
        metric = self.sacre
        metric.num_refs = n_refs  # sacrebleu sets this while caching references
        # "prenorm", not "norm": sacrebleu's TER signature already has a norm field
        norm = ZH_NORM if self.lang == "zh" else "none"
        return f"{self.name}|{metric.get_signature().format()}|prenorm:{norm}{self._signature_extra()}"

    def _signature_extra(self) -> str:
        return ""


class Bleu(SacreMetric):
    """sacrebleu BLEU (4-grams, ``exp`` smoothing); ``zh`` tokenizer for Chinese, ``13a`` for English.

    Item-level values are sentence BLEU with effective order, as ``sacrebleu.sentence_bleu``.
    """

    name = "bleu"
    max_order = 4

    def _make(self):
        from sacrebleu.metrics import BLEU  # heavy: sacrebleu only where BLEU runs

        return BLEU(tokenize="zh" if self.lang == "zh" else "13a")

    @cached_property
    def _tokenizer(self):
        return fast_tokenizer("zh" if self.lang == "zh" else "13a")

    def _rows(self, hyps, streams):
        # sacrebleu's BLEU._preprocess_segment: tokenizer(text.rstrip()), then whitespace split
        tok = self._tokenizer

        def split(texts: list[str]) -> list[Iterable[str]]:
            return [tokens_of(tok, t.rstrip()) for t in texts]

        return bleu_rows(split(hyps), [split(s) for s in streams], self.max_order)

    def values(self, sums: np.ndarray, n: int) -> np.ndarray:
        return bleu_from_stats(sums, self.max_order)

    def item_values(self, stats: np.ndarray) -> np.ndarray:
        return bleu_from_stats(stats, self.max_order, effective_order=True)


def bleu_from_stats(stats: np.ndarray, max_order: int = 4, effective_order: bool = False) -> np.ndarray:
    """sacrebleu ``BLEU.compute_bleu`` with ``exp`` smoothing over rows [sys_len, ref_len,
    correct_1..N, total_1..N]."""
    stats = np.atleast_2d(stats)
    sys_len, ref_len = stats[:, 0], stats[:, 1]
    correct = stats[:, 2 : 2 + max_order]
    total = stats[:, 2 + max_order : 2 + 2 * max_order]
    with np.errstate(divide="ignore", invalid="ignore"):
        bp = np.where(sys_len < ref_len, np.where(sys_len > 0, np.exp(1 - ref_len / sys_len), 0.0), 1.0)
        # sacrebleu stops at the first order with no hypothesis n-grams; later precisions stay 0
        active = np.cumprod(total > 0, axis=1).astype(bool)
        zero = active & (correct == 0)
        # exp smoothing: the k-th order with no match gets precision 100 / (2^k · total)
        halvings = np.cumsum(zero, axis=1)
        precision = np.where(zero, 100.0 / (2.0**halvings * total), 100.0 * correct / total)
        precision = np.where(active, precision, 0.0)
        log_p = np.where(precision > 0, np.log(np.where(precision > 0, precision, 1.0)), _LOG_ZERO)
    if effective_order:
        eff = active.sum(axis=1)
        eff = np.where(eff == 0, max_order, eff)
        summed = np.where(np.arange(max_order) < eff[:, None], log_p, 0.0).sum(axis=1)
        score = bp * np.exp(summed / eff)
    else:
        score = bp * np.exp(log_p.sum(axis=1) / max_order)
    return np.where(correct.sum(axis=1) > 0, score, 0.0)


class Chrf(SacreMetric):
    """sacrebleu chrF (character 6-grams, β = 2); ``chrf++`` adds word 1–2-grams. ``beta`` and
    ``eps_smoothing`` are sacrebleu's options (kept at its defaults by ``get_metric``)."""

    def __init__(self, lang: str, word_order: int = 0, *, beta: int = 2, eps_smoothing: bool = False) -> None:
        super().__init__(lang)
        self.word_order = word_order
        self.beta = beta
        self.eps_smoothing = eps_smoothing
        self.name = "chrf++" if word_order == 2 else "chrf" if word_order == 0 else f"chrf-w{word_order}"

    def _make(self):
        from sacrebleu.metrics import CHRF  # heavy: sacrebleu only where chrF runs

        return CHRF(word_order=self.word_order, beta=self.beta, eps_smoothing=self.eps_smoothing)

    @cached_property
    def _zh_words(self):
        return fast_tokenizer("zh")

    def _rows(self, hyps, streams):
        return chrf_rows(hyps, streams, self.sacre.char_order, self.word_order, self.beta, self.eps_smoothing)

    def _prepare(self, texts):
        texts = _normalise(texts, self.lang)
        if self.lang == "zh" and self.word_order > 0:
            # words for chrF++ = sacrebleu's zh tokens (CJK characters, Latin words)
            texts = [tokenized(self._zh_words, t) for t in texts]
        return texts

    def _signature_extra(self) -> str:
        return "|words:zh" if self.lang == "zh" and self.word_order > 0 else ""

    def values(self, sums: np.ndarray, n: int) -> np.ndarray:
        return chrf_from_stats(sums, beta=self.beta, eps_smoothing=self.eps_smoothing)


def chrf_from_stats(stats: np.ndarray, beta: float = 2.0, eps_smoothing: bool = False) -> np.ndarray:
    """sacrebleu ``CHRF._compute_f_score`` over rows of [hyp, ref, match] × orders."""
    stats = np.atleast_2d(stats)
    hyp, ref, match = stats[:, 0::3], stats[:, 1::3], stats[:, 2::3]
    factor = beta**2
    if eps_smoothing:
        # chrF++.py / Moses / NLTK: the mean over orders of each order's F, unfilled orders → eps
        eps = 1e-16
        with np.errstate(divide="ignore", invalid="ignore"):
            prec = np.where(hyp > 0, match / np.where(hyp > 0, hyp, 1), eps)
            rec = np.where(ref > 0, match / np.where(ref > 0, ref, 1), eps)
            denom = factor * prec + rec
            f = np.where(denom > 0, (1 + factor) * prec * rec / np.where(denom > 0, denom, 1), eps)
        return 100 * f.sum(axis=1) / hyp.shape[1]
    with np.errstate(divide="ignore", invalid="ignore"):
        effective = (hyp > 0) & (ref > 0)
        n_eff = effective.sum(axis=1)
        prec = np.where(effective, match / np.where(hyp > 0, hyp, 1), 0.0).sum(axis=1)
        rec = np.where(effective, match / np.where(ref > 0, ref, 1), 0.0).sum(axis=1)
        avg_p = np.where(n_eff > 0, prec / np.maximum(n_eff, 1), 0.0)
        avg_r = np.where(n_eff > 0, rec / np.maximum(n_eff, 1), 0.0)
        denom = factor * avg_p + avg_r
        score = np.where(avg_p + avg_r > 0, (1 + factor) * avg_p * avg_r / np.where(denom > 0, denom, 1), 0.0)
    return 100 * score


class Ter(SacreMetric):
    """sacrebleu TER (lower is better); Chinese targets use its ``asian_support`` tokenisation."""

    name = "ter"

    def _make(self):
        from sacrebleu.metrics import TER  # heavy: sacrebleu only where TER runs

        if self.lang == "zh":
            return TER(normalized=True, asian_support=True)
        return TER()

    def values(self, sums: np.ndarray, n: int) -> np.ndarray:
        sums = np.atleast_2d(sums)
        edits, ref_len = sums[:, 0], sums[:, 1]
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(ref_len > 0, edits / np.where(ref_len > 0, ref_len, 1), np.where(edits > 0, 1.0, 0.0))
        return 100 * ratio
