"""The glossary: Chinese terms and their allowed English renderings (and the reverse), read from a
strict YAML file, and the one matching rule the `terms` metric (harness.score.terms) and the
glossary rule of `harness refs check` (harness.data.reference_checks) share.

The project's glossary is `glossary.yaml` beside this module (GUIDELINES.md, "Shared glossary",
as data; the file says what each key means). Matching, exactly (docs/scoring.md, "terms"):

- Chinese text is folded first: Traditional → Simplified (OpenCC t2s), NFKC, and every middle dot
  (・ • ‧ ･) becomes ·. A Chinese form matches as a substring; a form that starts or ends with a
  Latin letter or digit (360, 生成式AI) must not touch another Latin letter or digit there.
- English text is NFKC-folded. A rendering matches as whole words (not preceded or followed by a
  letter, digit or underscore), case-insensitively unless the entry says `case: exact`; a space in
  it matches any run of whitespace and hyphens ("large-model users"), and its last word may carry
  a plural -s or -es when it ends in a letter. A last word in capitals (an acronym: CAS, LLM,
  generative AI) matches only in capitals, with an optional plural -s (CAS is not "cases").
- Overlaps: the scan runs left to right and, at each position, the longest form wins
  (生成式人工智能 is not also 人工智能, 百度百科 is not also 百度); matches do not overlap.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from harness.data.clean import to_simplified
from harness.errors import ConfigError
from harness.io import sha256_file
from harness.yaml_source import first_error, read_yaml

PROJECT_GLOSSARY = Path(__file__).with_name("glossary.yaml")
LANGS = ("zh", "en")

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_MIDDLE_DOTS = str.maketrans({"・": "·", "•": "·", "‧": "·", "･": "·"})
_ASCII_ALNUM = re.compile(r"[A-Za-z0-9]")
_ACRONYM = re.compile(r"[A-Z0-9]*[A-Z][A-Z0-9]+")  # two or more capitals (digits allowed): CAS, BAAI, 360 is not


def fold(text: str, lang: str) -> str:
    """The text as the matcher sees it (see the module docstring)."""
    text = unicodedata.normalize("NFKC", text)
    return to_simplified(text).translate(_MIDDLE_DOTS) if lang == "zh" else text


def _nonempty(values: str | list[str]) -> str | list[str]:
    for v in [values] if isinstance(values, str) else values:
        if not v.strip():
            raise ValueError("empty text")
        if v != v.strip():
            raise ValueError(f"'{v}' has leading or trailing spaces")
    return values


class TermEntry(BaseModel):
    """One glossary entry as written in the file."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    zh: str = Field(min_length=1)
    zh_variants: list[str] = []
    en: list[str] = Field(min_length=1)
    case: Literal["insensitive", "exact"] = "insensitive"
    en_wrong: list[str] = []
    zh_wrong: list[str] = []

    _texts = field_validator("zh", "zh_variants", "en", "en_wrong", "zh_wrong")(_nonempty)

    @field_validator("zh", "zh_variants", "zh_wrong")
    @classmethod
    def _chinese(cls, value):
        for v in [value] if isinstance(value, str) else value:
            if fold(v, "zh") != v:
                raise ValueError(f"'{v}' is not folded Simplified Chinese (write it as {fold(v, 'zh')!r})")
        return value

    @field_validator("en", "en_wrong")
    @classmethod
    def _english(cls, value: list[str]):
        for v in value:
            if _CJK.search(v):
                raise ValueError(f"'{v}' has Chinese characters (English renderings only)")
        return value

    @property
    def zh_forms(self) -> tuple[str, ...]:
        return (self.zh, *self.zh_variants)


class GlossaryFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    name: str = Field(pattern=r"^[A-Za-z0-9._-]{1,64}$", description="shown in the metric's signature")
    terms: list[TermEntry] = Field(min_length=1)

    @field_validator("terms")
    @classmethod
    def _unambiguous(cls, terms: list[TermEntry]) -> list[TermEntry]:
        # a form names one entry, or a match could not say which term it renders
        for lang in LANGS:
            seen: dict[str, int] = {}
            for i, entry in enumerate(terms):
                for form in entry.zh_forms if lang == "zh" else entry.en:
                    key = form if lang == "zh" else form.casefold()
                    if key in seen and seen[key] != i:
                        raise ValueError(f"terms.{i}: '{form}' is also a form of terms.{seen[key]} ({terms[seen[key]].zh})")
                    seen[key] = i
            for i, entry in enumerate(terms):  # a wrong rendering that is some term's allowed one would flag right text
                for form in entry.zh_wrong if lang == "zh" else entry.en_wrong:
                    owner = seen.get(form if lang == "zh" else form.casefold())
                    if owner is not None:
                        raise ValueError(f"terms.{i}: wrong rendering '{form}' is an allowed form of terms.{owner} "
                                         f"({terms[owner].zh})")
        return terms


@dataclass(frozen=True)
class Glossary:
    """A loaded glossary: its name, file, sha256 and entries."""

    name: str
    path: str
    sha256: str
    terms: tuple[TermEntry, ...]

    def forms(self, lang: str) -> list[tuple[str, int, bool]]:
        """(form, entry index, case-sensitive) of every form in ``lang``: what a text in that language names."""
        if lang == "zh":
            return [(f, i, True) for i, t in enumerate(self.terms) for f in t.zh_forms]
        return [(f, i, t.case == "exact") for i, t in enumerate(self.terms) for f in t.en]

    def wrong_forms(self, lang: str) -> list[tuple[str, int, bool]]:
        """(form, entry index, case-sensitive) of every known wrong rendering in ``lang``."""
        if lang == "zh":
            return [(f, i, True) for i, t in enumerate(self.terms) for f in t.zh_wrong]
        return [(f, i, t.case == "exact") for i, t in enumerate(self.terms) for f in t.en_wrong]

    @property
    def short_id(self) -> str:
        return f"{self.name}@sha256:{self.sha256[:12]}"


def load_glossary(path: Path | str | None = None) -> Glossary:
    """The glossary at ``path`` (None: the project's). A missing or malformed file is one
    ConfigError naming the file, the line and the key."""
    path = PROJECT_GLOSSARY if path is None else Path(path).expanduser()
    if not path.is_file():
        raise ConfigError(f"{path}: glossary file not found")
    data, source = read_yaml(path, "glossary")
    try:
        parsed = GlossaryFile.model_validate(data)
    except ValidationError as e:
        raise first_error(e, source, GlossaryFile) from None
    return Glossary(parsed.name, str(path), sha256_file(path), tuple(parsed.terms))


@dataclass(frozen=True)
class Match:
    start: int  # offsets in the folded text
    end: int
    entry: int  # index into Glossary.terms
    text: str  # what matched (folded)


class Matcher:
    """Finds the forms of one language in folded text: left to right, longest first, no overlaps."""

    def __init__(self, forms: list[tuple[str, int, bool]], lang: str) -> None:
        self.lang = lang
        ordered = sorted(forms, key=lambda f: (-len(f[0]), f[0]))
        self.entries = [entry for _, entry, _ in ordered]
        parts = [f"({self._pattern(form, exact)})" for form, _, exact in ordered]
        self.regex = re.compile("|".join(parts)) if parts else None

    def _pattern(self, form: str, exact: bool) -> str:
        if self.lang == "zh":
            head = r"(?<![A-Za-z0-9])" if _ASCII_ALNUM.match(form[0]) else ""
            tail = r"(?![A-Za-z0-9])" if _ASCII_ALNUM.match(form[-1]) else ""
            return f"{head}{re.escape(form)}{tail}"
        words = [re.escape(word) for word in form.split()]
        sep = r"[\s-]+"  # large model = large-model
        if _ACRONYM.fullmatch(form.split()[-1]):  # CAS is not "cases"; LLMs, generative AI, Generative AI
            head = "".join(f"{w}{sep}" for w in words[:-1])
            body = (head if exact or not head else f"(?i:{head})") + f"{words[-1]}s?"
        else:
            body = sep.join(words) + ("(?:e?s)?" if form[-1].isalpha() else "")
            body = body if exact else f"(?i:{body})"
        return rf"(?<!\w){body}(?!\w)"

    def find(self, text: str) -> list[Match]:
        """Matches in ``text`` (folded here first)."""
        if self.regex is None:
            return []
        folded = fold(text, self.lang)
        return [Match(m.start(), m.end(), self.entries[m.lastindex - 1], m.group())
                for m in self.regex.finditer(folded)]

    def counts(self, text: str) -> Counter:
        """Entry index → occurrences in ``text``."""
        return Counter(m.entry for m in self.find(text))


def other(lang: str) -> str:
    return "en" if lang == "zh" else "zh"
