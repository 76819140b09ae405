"""Text handling for scoring: normalisation, tokenizers for rouge-score, sentence splits, and
the guard that refuses to score a text with a tokenizer that would silently drop it."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from harness.errors import HarnessError

# CJK Unified Ideographs + Extension A + Compatibility Ideographs.
CJK_CHARS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK = re.compile(f"[{CJK_CHARS}]")
_CHAR_TOKENS = re.compile(f"[{CJK_CHARS}]|[a-z0-9]+")
_LATIN_TOKENS = re.compile(r"[a-z0-9]+")
_ZH_SENTENCE_END = re.compile(r"(?<=[。！？!?])")
_EN_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)]*\s+(?=[\"'“‘(]*[A-Z0-9])")


class ScoringError(HarnessError):
    """Scoring input that would give a meaningless number (e.g. Chinese scored as English)."""


@lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


def normalize_zh(text: str) -> str:
    """Traditional → Simplified (OpenCC t2s) and NFKC width folding (，→ , Ａ → A)."""
    return unicodedata.normalize("NFKC", _t2s().convert(text))


def cjk_share(text: str) -> float:
    """Share of CJK characters among the letters and digits of ``text`` (0 when it has none)."""
    alnum = sum(1 for c in text if c.isalnum())
    return len(_CJK.findall(text)) / alnum if alnum else 0.0


class CharTokenizer:
    """Chinese character level: every CJK character is a token, runs of Latin letters/digits are
    lower-cased word tokens, everything else (punctuation, spaces) separates tokens."""

    name = "char"

    def tokenize(self, text: str) -> list[str]:
        return _CHAR_TOKENS.findall(text.lower())

    def kept(self, text: str) -> int:
        return sum(len(t) for t in self.tokenize(text))


class JiebaTokenizer:
    """Chinese word level with jieba (precise mode); punctuation and spaces are dropped."""

    def __init__(self) -> None:
        import logging

        import jieba

        jieba.setLogLevel(logging.WARNING)
        self._jieba = jieba
        self.name = f"jieba-{jieba.__version__}"

    def tokenize(self, text: str) -> list[str]:
        return [w.lower() for w in self._jieba.lcut(text) if any(c.isalnum() for c in w)]

    def kept(self, text: str) -> int:
        return sum(len(t) for t in self.tokenize(text))


class EnglishTokenizer:
    """rouge-score's own DefaultTokenizer (lower-case, [a-z0-9] runs) with Porter stemming."""

    def __init__(self, stem: bool = True) -> None:
        from rouge_score import tokenizers

        self._tok = tokenizers.DefaultTokenizer(use_stemmer=stem)
        self.name = "rouge-default"

    def tokenize(self, text: str) -> list[str]:
        return self._tok.tokenize(text)

    def kept(self, text: str) -> int:  # characters that survive, before stemming shortens them
        return sum(len(t) for t in _LATIN_TOKENS.findall(text.lower()))


def guard_tokenizer(tokenizer, texts, role: str) -> None:
    """Raise when a tokenizer keeps less than half of the letters/digits of a text.

    This is the failure every big harness has with Chinese: rouge-score's default tokenizer
    deletes all CJK characters and returns a silent 0 (or a spurious 1.0).
    """
    for i, text in enumerate(texts):
        alnum = sum(1 for c in text if c.isalnum())
        if alnum < 4:
            continue
        kept = tokenizer.kept(text)
        if kept < 0.5 * alnum:
            raise ScoringError(
                f"{role} {i + 1}: tokenizer '{tokenizer.name}' would drop {100 - 100 * kept // alnum}% of the text "
                f"({text[:30]!r}…); is the target language right?"
            )


def guard_language(texts, lang: str, role: str) -> None:
    """Refuse mostly-Chinese text for an English target (13a would keep each sentence as one token)."""
    if lang != "en":
        return
    for i, text in enumerate(texts):
        if sum(1 for c in text if c.isalnum()) >= 4 and cjk_share(text) > 0.5:
            raise ScoringError(f"{role} {i + 1}: mostly Chinese text ({text[:30]!r}…) scored as English; use a zh task")


def split_sentences(text: str, lang: str) -> list[str]:
    """Sentences for ROUGE-Lsum: existing newlines, then 。！？!? (zh) or sentence ends (en)."""
    pattern = _ZH_SENTENCE_END if lang == "zh" else _EN_SENTENCE_END
    out = []
    for line in text.split("\n"):
        out.extend(s.strip() for s in pattern.split(line) if s.strip())
    return out
