"""Raw seed → cleaned, segmented document. Pure functions; no I/O here."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from harness.data.rules import GENERIC_RULES, CleaningRule, SeedSpec
from harness.text import split_sentences, unbalanced_quotes
from harness.errors import HarnessError


@dataclass(frozen=True)
class RuleResult:
    rule: CleaningRule
    removed: tuple[str, ...]  # the matched text of every match, in order

    @property
    def count(self) -> int:
        return len(self.removed)


@dataclass(frozen=True)
class Segment:
    id: str  # e.g. 004-p03-s02
    doc_id: str
    paragraph: int  # 1-based
    sentence: int  # 1-based within the paragraph
    zh: str
    zh_simplified: str


@dataclass(frozen=True)
class Document:
    id: str
    source_file: str
    source_sha256: str
    script: str
    text: str
    text_simplified: str
    paragraphs: tuple[tuple[Segment, ...], ...]
    metadata: dict[str, object] = field(default_factory=dict)
    applied: tuple[RuleResult, ...] = ()

    @property
    def segments(self) -> list[Segment]:
        return [s for p in self.paragraphs for s in p]

    def paragraph_id(self, index: int) -> str:
        return f"{self.id}-p{index:02d}"


@lru_cache(maxsize=1)
def _t2s():
    import opencc  # heavy: loads its conversion tables; only Traditional-script text needs it

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional → Simplified with OpenCC's t2s (phrase-aware) conversion."""
    return _t2s().convert(text)


def apply_rule(rule: CleaningRule, text: str, where: str) -> tuple[str, RuleResult, object | None]:
    regex = rule.regex()
    matches = list(regex.finditer(text))
    if rule.count is not None and len(matches) != rule.count:
        raise HarnessError(
            f"{where}: cleaning rule '{rule.name}' expected {rule.count} match(es), found {len(matches)}"
        )
    value: object | None = None
    if rule.field:
        parts = [m.group(1).strip() for m in matches]
        if rule.split:
            value = [v for p in parts for v in p.split(rule.split) if v]
        else:
            value = "\n".join(parts)
    return regex.sub(rule.repl, text), RuleResult(rule, tuple(m.group(0) for m in matches)), value


def clean_document(spec: SeedSpec, raw: str) -> Document:
    text = raw
    metadata: dict[str, object] = dict(spec.metadata)
    applied: list[RuleResult] = []
    for rule in (*spec.rules, *GENERIC_RULES):
        text, result, value = apply_rule(rule, text, spec.filename)
        applied.append(result)
        if rule.field:
            metadata[rule.field] = value

    paragraphs: list[tuple[Segment, ...]] = []
    convert = to_simplified if spec.script == "Hant" else (lambda s: s)
    for p_index, paragraph in enumerate(text.split("\n"), start=1):
        if unbalanced_quotes(paragraph):
            raise HarnessError(f"{spec.filename}: paragraph {p_index} has unbalanced quotation marks: {paragraph[:40]}…")
        paragraphs.append(
            tuple(
                Segment(
                    id=f"{spec.doc_id}-p{p_index:02d}-s{s_index:02d}",
                    doc_id=spec.doc_id,
                    paragraph=p_index,
                    sentence=s_index,
                    zh=sentence,
                    zh_simplified=convert(sentence),
                )
                for s_index, sentence in enumerate(split_sentences(paragraph), start=1)
            )
        )
    # Built from the per-segment conversions so that text_simplified and the segments agree.
    text_simplified = "\n".join("".join(s.zh_simplified for s in p) for p in paragraphs)
    return Document(
        id=spec.doc_id,
        source_file=spec.filename,
        source_sha256=spec.sha256,
        script=spec.script,
        text=text,
        text_simplified=text_simplified,
        paragraphs=tuple(paragraphs),
        metadata=metadata,
        applied=tuple(applied),
    )
