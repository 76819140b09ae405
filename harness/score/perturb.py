"""The perturbations of `harness metrics check` (harness.score.sensitivity): one meaning-changing
edit of a reference per type, and a meaning-preserving paraphrase of it.

Perturbations (each deterministic from the seed and the item; an item where a type does not apply,
e.g. no number in it, is left out of that type's sample):

- number:   one number changed, either its digits (an integer n → n + k, k drawn from 1–9; a
            decimal's last digit) or its unit (UNIT_SWAPS: 万 ↔ 千, 亿 ↔ 百万; thousand → million,
            million ↔ billion: the 1750亿 → "175 million" error), drawn among every such spot.
- name:     one person, place or organisation name replaced by another of the same kind from the
            other references (English: capitalised words not starting a sentence, outside a
            small stop list; Chinese: jieba's nr/ns/nt tags).
- negation: an existing negation removed (not / n't / never → –; 不 / 没 / 没有 / 未 → –, 没有 → 有),
            else one added (not after the first auxiliary; 不 before the first verb).
- drop:     one clause or sentence dropped (split at , ; . and ，；。), never the only one.
- shuffle:  word order shuffled (English words; jieba words), end punctuation kept last.
- term:     a glossary term the source names (harness/data/glossary.yaml) rendered wrongly: every
            allowed rendering of one such term in the reference replaced by one of the term's known
            wrong renderings (`en_wrong` / `zh_wrong`; English keeps a capital and a plural -s).
- paraphrase: the faithful text itself; reported as points lost only (a paraphrase is not an error).
"""

from __future__ import annotations

import functools
import logging
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from harness.data.glossary import Glossary, Matcher, fold, load_glossary, other

ERROR_TYPES = ("number", "name", "negation", "drop", "shuffle", "term")
TYPES = (*ERROR_TYPES, "paraphrase")
LANGS = ("en", "zh")

# Meaning-preserving substitutions (documented in docs/scoring.md). English: contractions and
# common synonyms; Chinese: synonyms of function and common words. No glossary term is swapped
# ("large" ↔ "big" was: "big model" is a terminology error under the project glossary). Matched as whole words
# (English, case-sensitive on the first letter kept) or literal strings (Chinese).
PARAPHRASE = {
    "en": {
        "do not": "don't", "does not": "doesn't", "did not": "didn't", "is not": "isn't", "are not": "aren't",
        "was not": "wasn't", "will not": "won't", "cannot": "can't", "it is": "it's", "that is": "that's",
        "has not": "hasn't", "have not": "haven't", "begin": "start",
        "began": "started", "start": "begin", "help": "assist", "helped": "assisted", "said": "stated",
        "show": "demonstrate", "shows": "demonstrates", "important": "significant", "rapidly": "quickly",
        "quickly": "rapidly", "buy": "purchase", "bought": "purchased", "however": "nevertheless",
        "also": "as well", "many": "numerous", "about": "around", "whole": "entire", "almost": "nearly",
        "nearly": "almost", "because": "since", "main": "principal", "major": "leading", "fast": "rapid",
        "develop": "build", "developed": "built", "people": "individuals", "companies": "firms",
        "company": "firm", "use": "employ", "used": "employed", "using": "employing", "need": "require",
        "needs": "requires", "get": "obtain", "shown": "demonstrated", "ability": "capacity",
        "more than": "over", "such as": "like", "for example": "for instance", "believe": "think",
        "think": "believe", "countries": "nations", "country": "nation", "experts": "specialists",
        "enterprises": "businesses", "global": "worldwide", "very": "extremely", "largest": "biggest",
        "increase": "rise", "rise": "increase", "says": "states", "according to": "as reported by",
    },
    "zh": {
        "但是": "不过", "因此": "所以", "所以": "因此", "目前": "当前", "非常": "十分", "已经": "已",
        "比如": "例如", "例如": "比如", "表示": "称", "重要": "关键", "帮助": "协助", "如果": "假如",
        "开始": "着手", "发布": "推出", "推出": "发布", "迅速": "快速", "快速": "迅速", "能够": "可以",
        "可以": "能够", "许多": "很多", "很多": "许多", "认为": "觉得", "以及": "和", "问题": "难题",
        "进行": "开展", "提高": "提升", "提升": "提高", "企业": "公司", "公司": "企业", "巨大": "极大",
        "同时": "与此同时", "全球": "世界", "获得": "取得", "取得": "获得", "使用": "运用", "目标": "目的",
        "和": "与", "与": "和", "将": "会", "但": "但是", "更": "更加", "更加": "更",
        "就": "便", "应用": "运用", "专家": "学者", "国家": "国度", "技术": "科技", "领域": "方面",
        "主要": "首要", "发展": "进展", "带来": "带去", "一些": "有些", "有些": "一些", "成为": "变成",
    },
}

_EN_AUX = ("is", "are", "was", "were", "will", "can", "could", "would", "should", "has", "have", "had", "may",
           "must", "does", "do", "did")
_EN_NEGATION = re.compile(r"\b(not|never) |n't\b")
_EN_STOP_CAPS = {"The", "A", "An", "In", "On", "At", "As", "It", "This", "That", "These", "Those", "He", "She",
                 "They", "We", "I", "But", "And", "Or", "For", "With", "By", "From", "To", "Of", "If", "When",
                 "While", "After", "Before", "Since", "Its", "Their", "His", "Her", "Our", "Such", "Some",
                 "AI", "Chinese", "China", "English", "According"}
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
# A unit right after a number (digits, or a Chinese numeral for 两千 / 三万) and what replaces it.
UNIT_SWAPS = {
    "en": {"thousand": "million", "million": "billion", "billion": "million", "trillion": "billion", "bn": "million"},
    "zh": {"万亿": "亿", "百万": "亿", "亿": "百万", "万": "千", "千": "万"},
}
_UNIT = {
    "en": re.compile(r"(?<=\d)(?:-| )?(thousand|million|billion|trillion|bn)\b"),
    "zh": re.compile(r"(?<=[\d零一二两三四五六七八九十百])(万亿|百万|亿|万|千)"),
}
# A number with its unit, as drop_number removes it.
_NUMBER_WITH_UNIT = {
    "en": re.compile(r"\$?\d[\d,]*(?:\.\d+)?(?:(?:-| )?(?:thousand|million|billion|trillion|bn)\b)*(?: ?%| percent\b)?"),
    "zh": re.compile(r"\d[\d,]*(?:\.\d+)?(?:万亿|亿|万|千)*%?"),
}
_ZH_NEG_WORDS = ("没有", "没", "不", "未")


@dataclass(frozen=True)
class Sample:
    lang: str
    kind: str  # segment | summary
    id: str
    reference: str
    source: str  # what a system translated or summarised (COMET and numbers read it)

    @property
    def source_lang(self) -> str:
        """Summaries summarise the Chinese article; a segment translates the other language."""
        return "zh" if self.kind == "summary" or self.lang == "en" else "en"


def _rng(seed: int, sample: Sample, kind: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(f"{sample.lang}|{sample.id}|{kind}".encode())])


@functools.lru_cache(maxsize=8192)
def _zh_words(text: str) -> tuple[tuple[str, str], ...]:
    """jieba words with part-of-speech tags (memoised: every perturbation reads them)."""
    import jieba  # heavy: loads its dictionary; only the Chinese perturbations need it
    import jieba.posseg as pseg  # heavy: as jieba

    jieba.setLogLevel(logging.WARNING)
    # nrfg / nrt are person names too
    return tuple((p.word, "nr" if p.flag.startswith("nr") else p.flag) for p in pseg.lcut(text))


def paraphrase(text: str, lang: str, rng: np.random.Generator, max_changes: int = 2) -> str | None:
    table = PARAPHRASE[lang]
    if lang == "en":
        spots = [(m.start(), m.end(), key) for key in table
                 for m in re.finditer(rf"(?<![\w'])({re.escape(key)}|{re.escape(key.capitalize())})(?![\w'])", text)]
    else:  # whole jieba words only: 和 inside 和平 is not the conjunction
        spots, at = [], 0
        for word, _ in _zh_words(text):
            if word in table:
                spots.append((at, at + len(word), word))
            at += len(word)
    spots.sort()
    chosen: list[tuple[int, int, str]] = []
    for i in rng.permutation(len(spots)):
        s = spots[i]
        if all(s[1] <= c[0] or s[0] >= c[1] for c in chosen):
            chosen.append(s)
        if len(chosen) == max_changes:
            break
    if not chosen:
        return None
    out = text
    for start, end, key in sorted(chosen, reverse=True):
        new = table[key]
        if out[start].isupper():
            new = new[0].upper() + new[1:]
        out = out[:start] + new + out[end:]
    return out


def change_number(text: str, lang: str, rng: np.random.Generator) -> str | None:
    """One number's digits or one unit changed (see the module docstring), drawn among all spots."""
    spots = [("digits", m) for m in _NUMBER.finditer(text)] + [("unit", m) for m in _UNIT[lang].finditer(text)]
    if not spots:
        return None
    kind, m = spots[int(rng.integers(len(spots)))]
    return swap_unit(text, m, lang) if kind == "unit" else _change_digits_at(text, m, rng)


def change_digits(text: str, lang: str, rng: np.random.Generator) -> str | None:
    """One number's digits changed (never its unit); None when no number is written in digits."""
    numbers = list(_NUMBER.finditer(text))
    if not numbers:
        return None
    return _change_digits_at(text, numbers[int(rng.integers(len(numbers)))], rng)


def _change_digits_at(text: str, m: re.Match, rng: np.random.Generator) -> str:
    value = m.group()
    if "." in value:
        new = value[:-1] + str((int(value[-1]) + int(rng.integers(1, 10))) % 10)
    else:
        new = str(int(value) + int(rng.integers(1, 10)))
    return text[: m.start()] + new + text[m.end() :]


def change_unit(text: str, lang: str, rng: np.random.Generator) -> str | None:
    """One unit after a number swapped (万 → 千, billion → million …); None when there is none."""
    spots = list(_UNIT[lang].finditer(text))
    if not spots:
        return None
    return swap_unit(text, spots[int(rng.integers(len(spots)))], lang)


def swap_unit(text: str, m: re.Match, lang: str) -> str:
    return text[: m.start(1)] + UNIT_SWAPS[lang][m.group(1)] + text[m.end(1) :]


def drop_number(text: str, lang: str, rng: np.random.Generator) -> str | None:
    """One number written in digits removed with its unit (and a space before it); only numbers
    whose spelling occurs once, so that the value really leaves the text."""
    spots = [m for m in _NUMBER_WITH_UNIT[lang].finditer(text) if text.count(m.group()) == 1]
    if not spots:
        return None
    m = spots[int(rng.integers(len(spots)))]
    start = m.start() - 1 if lang == "en" and m.start() > 0 and text[m.start() - 1] == " " else m.start()
    return text[:start] + text[m.end() :]


def add_number(text: str, lang: str, rng: np.random.Generator, source: str) -> str:
    """A percentage neither the text nor its source has, added as a clause before the end punctuation."""
    while True:
        value = f"{int(rng.integers(2, 10))}.{int(rng.integers(1, 10))}"
        if value not in text and value not in source:
            break
    body = text.rstrip()
    end = body[-1] if body and body[-1] in ".!?。！？" else ""
    body = body[: len(body) - len(end)]
    return f"{body}, up {value}%{end}" if lang == "en" else f"{body}，增长{value}%{end}"


_EN_NOT_NAMES = {
    "January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November",
    "December", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday", "University",
    "Institute", "Academy", "Intelligence", "Artificial", "International", "Governance", "Research", "Committee",
    "Federation", "Association", "Technology", "Science", "Sciences", "Company", "Group", "Bank", "Council",
    "Ministry", "National", "Congress", "People", "Republic", "Province", "City", "Day", "Model", "Models",
    "Office", "State", "Lab", "Laboratory", "School", "College", "Center", "Centre", "Forum", "Conference",
    "Festival", "Party", "Times", "Daily", "News", "Street", "Vice", "Deputy", "President", "Professor",
    "Chief", "Director", "General", "Secretary", "Economic", "Digital", "Information", "Computer", "Global",
}


def _en_names(text: str) -> list[re.Match]:
    """Person-like names: exactly two capitalised words (Liang Zheng, Sam Altman), neither a month,
    weekday, title or institution word, the first not a function word."""
    out = []
    for m in re.finditer(r"\b[A-Z][a-z]+(?: [A-Z][a-z]+)+\b", text):
        words, start = m.group().split(), m.start()
        before = text[:start].rstrip()
        if len(words) == 3 and (not before or before[-1] in ".!?\"“:"):  # "Yesterday Sam Altman …"
            start += len(words[0]) + 1
            words = words[1:]
        if len(words) != 2 or words[0] in _EN_STOP_CAPS or any(w in _EN_NOT_NAMES for w in words):
            continue
        out.append(re.compile(re.escape(" ".join(words))).search(text, start))
    return out


def name_pool(samples: Sequence[Sample]) -> dict[str, dict[str, list[str]]]:
    """Names found in all the references, by language and kind (English: one kind)."""
    pool: dict[str, dict[str, set]] = {"en": {"name": set()}, "zh": {"nr": set(), "ns": set(), "nt": set()}}
    for s in samples:
        if s.lang == "en":
            pool["en"]["name"].update(m.group() for m in _en_names(s.reference))
        else:
            for word, flag in _zh_words(s.reference):
                if flag in pool["zh"] and len(word) >= 2:
                    pool["zh"][flag].add(word)
    return {lang: {k: sorted(v) for k, v in kinds.items()} for lang, kinds in pool.items()}


def swap_name(text: str, lang: str, rng: np.random.Generator, pool: dict[str, list[str]]) -> str | None:
    if lang == "en":
        spots = [(m.start(), m.end(), m.group(), "name") for m in _en_names(text)]
    else:
        spots, at = [], 0
        for word, flag in _zh_words(text):
            if flag in pool and len(word) >= 2:
                spots.append((at, at + len(word), word, flag))
            at += len(word)
    rng_order = rng.permutation(len(spots)) if spots else []
    for i in rng_order:
        start, end, word, kind = spots[i]
        others = [w for w in pool[kind] if w != word and w not in text]
        if others:
            new = others[int(rng.integers(len(others)))]
            return text[:start] + new + text[end:]
    return None


def flip_negation(text: str, lang: str, rng: np.random.Generator) -> str | None:
    if lang == "en":
        m = _EN_NEGATION.search(text)
        if m:
            return text[: m.start()] + text[m.end() :]
        for m in re.finditer(r"\b(" + "|".join(_EN_AUX) + r")\b", text):
            return text[: m.end()] + " not" + text[m.end() :]
        return None
    words = _zh_words(text)
    for i, (word, _) in enumerate(words):
        if word in _ZH_NEG_WORDS:
            parts = [w for w, _ in words]
            parts[i] = "有" if word == "没有" else ""
            return "".join(parts)
    for i, (word, flag) in enumerate(words):
        if flag == "v" and word not in ("是", "有"):
            parts = [w for w, _ in words]
            parts[i] = "不" + word
            return "".join(parts)
    return None


def drop_clause(text: str, lang: str, rng: np.random.Generator) -> str | None:
    pattern = r"(?<=[,;.!?])\s+" if lang == "en" else r"(?<=[，；。！？,;])"
    pieces = [p for p in re.split(pattern, text) if p.strip()]
    if len(pieces) < 2:
        return None
    drop = int(rng.integers(len(pieces)))
    kept = [p for i, p in enumerate(pieces) if i != drop]
    return (" " if lang == "en" else "").join(kept)


def shuffle_words(text: str, lang: str, rng: np.random.Generator) -> str | None:
    if lang == "en":
        words = text.split()
        end = ""
        if words and words[-1][-1:] in ".!?":
            end, words[-1] = words[-1][-1], words[-1][:-1]
        if len(set(words)) < 2:
            return None
        for _ in range(10):
            order = rng.permutation(len(words))
            shuffled = [words[i] for i in order]
            if shuffled != words:
                return " ".join(shuffled) + end
        return None
    words = [w for w, _ in _zh_words(text)]
    end = words.pop() if words and words[-1] in "。！？" else ""
    if len(set(words)) < 2:
        return None
    for _ in range(10):
        shuffled = [words[i] for i in rng.permutation(len(words))]
        if shuffled != words:
            return "".join(shuffled) + end
    return None


@functools.lru_cache(maxsize=2)
def _term_matchers(lang: str) -> tuple[Glossary, Matcher, Matcher]:
    """The project glossary and its matchers for a reference in ``lang`` and its source (built once)."""
    glossary = load_glossary()
    return glossary, Matcher(glossary.forms(lang), lang), Matcher(glossary.forms(other(lang)), other(lang))


def swap_term(text: str, lang: str, source: str, rng: np.random.Generator) -> str | None:
    glossary, rendered, named = _term_matchers(lang)
    if fold(text, lang) != text:  # match offsets are those of the folded text
        return None
    in_source = {m.entry for m in named.find(source)}
    wrong = {i: (t.en_wrong if lang == "en" else t.zh_wrong) for i, t in enumerate(glossary.terms)}
    spans = [m for m in rendered.find(text) if m.entry in in_source and wrong[m.entry]]
    if not spans:
        return None
    entries = sorted({m.entry for m in spans})
    entry = entries[int(rng.integers(len(entries)))]
    choices = wrong[entry]
    new = choices[int(rng.integers(len(choices)))]
    out = text
    for m in sorted((m for m in spans if m.entry == entry), key=lambda m: -m.start):
        replacement = new
        if lang == "en":
            if m.text[0].isupper():
                replacement = replacement[0].upper() + replacement[1:]
            if m.text[-1] in "sS" and replacement[-1] not in "sS":
                replacement += "s"
        out = out[: m.start] + replacement + out[m.end :]
    return out


def perturb(sample: Sample, kind: str, seed: int, pool: dict) -> str | None:
    """The text of perturbation ``kind`` for ``sample`` (None where it does not apply)."""
    rng = _rng(seed, sample, kind)
    text, lang = sample.reference, sample.lang
    if kind == "paraphrase":
        return paraphrase(text, lang, rng)
    if kind == "number":
        return change_number(text, lang, rng)
    if kind == "name":
        return swap_name(text, lang, rng, pool[lang])
    if kind == "negation":
        return flip_negation(text, lang, rng)
    if kind == "drop":
        return drop_clause(text, lang, rng)
    if kind == "shuffle":
        return shuffle_words(text, lang, rng)
    if kind == "term":
        return swap_term(text, lang, sample.source, rng)
    raise ValueError(kind)


