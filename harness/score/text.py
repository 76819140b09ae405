"""Text handling for scoring: normalisation, tokenizers for rouge-score, sentence splits, and
the guard that refuses to score a text with a tokenizer that would silently drop it."""

from __future__ import annotations

import logging
import re
import unicodedata
from functools import lru_cache

from harness.errors import HarnessError

# CJK Unified Ideographs + Extension A + Compatibility Ideographs + Extensions B–F (plane 2).
CJK_CHARS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ebef"
_CJK = re.compile(f"[{CJK_CHARS}]")
_CHAR_TOKENS = re.compile(f"[{CJK_CHARS}]|[a-z0-9]+")
_LATIN_WORDS = re.compile(r"[a-z0-9]+")
_ZH_SENTENCE_END = re.compile(r"(?<=[。！？!?])")
_EN_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)]*\s+(?=[\"'“‘(]*[A-Z0-9])")


class ScoringError(HarnessError):
    """Scoring input that would give a meaningless number (e.g. Chinese scored as English).

    ``role`` ("hypothesis of item" / "reference J of item") and ``item`` (1-based) say where,
    ``detail`` what; `harness score` turns them into the file name and line.
    """

    def __init__(self, role: str, item: int, detail: str) -> None:
        super().__init__(f"{role} {item}: {detail}")
        self.role, self.item, self.detail = role, item, detail


@lru_cache(maxsize=1)
def _t2s():
    import opencc  # heavy: loads its conversion tables; only Chinese scoring needs it

    return opencc.OpenCC("t2s")


def normalize_zh(text: str) -> str:
    """Traditional → Simplified (OpenCC t2s) and NFKC width folding (，→ , Ａ → A)."""
    return unicodedata.normalize("NFKC", _t2s().convert(text))


class CharTokenizer:
    """Chinese character level: every CJK character is a token, runs of Latin letters/digits are
    lower-cased word tokens, everything else (punctuation, spaces) separates tokens."""

    name = "char"
    keeps_cjk = True

    def tokenize(self, text: str) -> list[str]:
        return _CHAR_TOKENS.findall(text.lower())


class JiebaTokenizer:
    """Chinese word level with jieba (precise mode); punctuation and spaces are dropped."""

    def __init__(self) -> None:
        import jieba  # heavy: loads its dictionary; only the jieba ROUGE tokenizer needs it

        jieba.setLogLevel(logging.WARNING)
        self._jieba = jieba
        self.name = f"jieba-{jieba.__version__}"

    keeps_cjk = True

    def tokenize(self, text: str) -> list[str]:
        return [w.lower() for w in self._jieba.lcut(text) if any(c.isalnum() for c in w)]


class EnglishTokenizer:
    """rouge-score's tokenizer (``rouge_score.tokenize.tokenize``): lower-case, maximal
    [a-z0-9] runs, nltk's Porter stemmer on words longer than 3 letters — the tokens of
    ``DefaultTokenizer(use_stemmer=True)``. Written as one ``findall`` plus a per-word memo
    (stemming is deterministic and news text repeats words); tests check the tokens are
    rouge-score's."""

    name = "rouge-default"
    keeps_cjk = False
    _VALID = re.compile(r"^[a-z0-9]+$")

    def __init__(self, stem: bool = True) -> None:
        self._stem = None
        if stem:
            from nltk.stem import porter  # heavy: nltk's import is slow; only English ROUGE needs it

            self._stem = porter.PorterStemmer().stem
        self._memo: dict[str, str | None] = {}

    def _word(self, word: str) -> str | None:
        out = self._memo.get(word, "")
        if out == "":
            stemmed = self._stem(word) if self._stem is not None and len(word) > 3 else word
            out = self._memo[word] = stemmed if self._VALID.match(stemmed) else None
        return out

    def tokenize(self, text: str) -> list[str]:
        words = [self._word(w) for w in _LATIN_WORDS.findall(text.lower())]
        return [w for w in words if w is not None]


_NON_CJK_RUN = re.compile(f"[^\\W_{CJK_CHARS}]+")
# a maximal run of non-CJK letters/digits that contains an ASCII letter or digit (greedy on
# both sides, so one match per such run)
_ASCII_RUN = re.compile(f"[^\\W_{CJK_CHARS}]*[A-Za-z0-9][^\\W_{CJK_CHARS}]*")


@lru_cache(maxsize=1 << 17)
def word_units(text: str) -> tuple[int, int, int]:
    """(CJK characters, runs of other letters/digits, those runs with an ASCII letter/digit).

    A CJK character and a Latin word are both one unit of meaning; counting units instead of
    characters is what makes "GPT4发布了" (4 units, 1 of them Latin) count as mostly Chinese.
    """
    # counted match by match: findall on a huge text would hold a list of all its words
    return tuple(sum(1 for _ in regex.finditer(text)) for regex in (_CJK, _NON_CJK_RUN, _ASCII_RUN))


def guard_tokenizer(tokenizer, texts, role: str) -> None:
    """Raise when a tokenizer would keep less than half of a text's units (see ``word_units``).

    This is the failure every big harness has with Chinese: rouge-score's default tokenizer
    deletes all CJK characters and returns a silent 0 (or a spurious 1.0 on "GPT4发布了" vs
    "GPT4模型发布"). Both our tokenizers keep ASCII letters/digits; only the Chinese ones keep CJK.
    """
    for i, text in enumerate(texts):
        cjk, runs, ascii_runs = word_units(text)
        units = cjk + runs
        if units < 2:
            continue
        kept = ascii_runs + (cjk if tokenizer.keeps_cjk else 0)
        if 2 * kept < units:
            raise ScoringError(
                role,
                i + 1,
                f"tokenizer '{tokenizer.name}' would drop {units - kept} of its {units} words/characters "
                f"({text[:30]!r}); is the target language right?",
            )


def guard_language(texts, lang: str, role: str) -> None:
    """Refuse mostly-Chinese text for an English target: ``13a`` would keep each Chinese
    sentence as one token, so BLEU would be a silent 0 (or match on the Latin words only)."""
    if lang != "en":
        return
    for i, text in enumerate(texts):
        cjk, runs, _ = word_units(text)
        if cjk + runs >= 2 and 2 * cjk > cjk + runs:
            raise ScoringError(role, i + 1, f"mostly Chinese text ({text[:30]!r}) scored as English; use a zh task")


def off_target(text: str, lang: str) -> bool:
    """A hypothesis mostly in the other language: mostly Chinese for an English target (the
    same test as ``guard_language``), mostly Latin words for a Chinese target.

    Model outputs are scored as they are — a Chinese "translation" into English is a bad
    translation and scores near 0, which is the truth — but counted, so the number never hides
    why it is low (``Score.off_target``). References get the raising guards instead: a
    reference in the wrong language means the task or the file is wrong. Units as in
    ``word_units``, so a Chinese sentence naming "OpenAI" and "ChatGPT" stays on target.
    """
    cjk, runs, _ = word_units(text)
    if cjk + runs < 2:
        return False
    return 2 * cjk > cjk + runs if lang == "en" else 2 * runs > cjk + runs


def split_sentences(text: str, lang: str) -> list[str]:
    """Sentences for ROUGE-Lsum: existing newlines, then 。！？!? (zh) or sentence ends (en)."""
    pattern = _ZH_SENTENCE_END if lang == "zh" else _EN_SENTENCE_END
    out = []
    for line in text.split("\n"):
        out.extend(s.strip() for s in pattern.split(line) if s.strip())
    return out
