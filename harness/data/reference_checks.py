"""Validation of the references against the documents and the guidelines (the rules of
docs/data.md, "Validation"): `validate()` raises one HarnessError listing every offending id, so
`harness data build` and `harness refs check` fail alike."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from harness.data.clean import Document, to_simplified
from harness.data.glossary_checks import glossary_problems
from harness.data.numbers import SCALES_EN as SCALES
from harness.data.numbers import missing_numbers, source_numbers, target_numbers
from harness.data.passages import document_passages
from harness.data.references import References, load_references
from harness.errors import HarnessError

# Guideline §1: every character counts for Chinese, whitespace-separated tokens for English.
SUMMARY_LENGTH = {"zh": (120, 220), "en": (70, 130)}
# Guideline §1.1: passage summaries, set from the passage lengths (300–920 characters).
PASSAGE_SUMMARY_LENGTH = {"zh": (50, 110), "en": (30, 65)}
# A number written in digits (an English one with its scale or range): what a summary may not invent.
DIGITS_ZH = re.compile(r"\d[\d,]*(?:\.\d+)?(?:万亿|万|亿|萬億|萬|億)?")
DIGITS_EN = re.compile(r"\d[\d,]*(?:\.\d+)?(?:\s*[–-]\s*\d[\d,]*(?:\.\d+)?)?"
                       r"(?:[\s-]*(?:thousand|million|billion|trillion))?")
SUMMARY_UNIT = {"zh": "characters", "en": "words"}

# English/Chinese length ratio of a segment: len(en) / len(zh) in characters (both counted the same
# way, punctuation included). Bounds chosen from the distribution of the 511 reference segments;
# the justification is in docs/data.md ("Length ratio") and in the dataset card.
RATIO_BOUNDS = (1.5, 7.0)

CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")


def length_ratio(zh: str, en: str) -> float:
    """English characters per Chinese character of one segment (both stripped)."""
    return len(en.strip()) / len(zh.strip())


def summary_length(text: str, language: str) -> int:
    return len(text) if language == "zh" else len(text.split())


@dataclass(frozen=True)
class Problem:
    rule: str  # short description shared by every offence of one kind
    id: str  # segment id, `<doc>/<lang>/<ref>` or a file name


def _coverage(refs: References, docs: list[Document]) -> Iterable[Problem]:
    for doc in docs:
        entries = refs.translations[doc.id].entries
        seen: dict[str, int] = {}
        for e in entries:
            seen[e.segment_id] = seen.get(e.segment_id, 0) + 1
        segment_ids = {s.id for s in doc.segments}
        for seg in doc.segments:
            if seg.id not in seen:
                yield Problem("segment without a translation", seg.id)
            elif seen[seg.id] > 1:
                yield Problem("segment translated more than once", seg.id)
        for e in entries:
            if e.segment_id not in segment_ids:
                yield Problem("translation of an unknown segment", e.segment_id)
        # Guideline §3: lines in source order, so that the file reads like the article.
        in_file = [i for i in dict.fromkeys(e.segment_id for e in entries) if i in segment_ids]
        if in_file != [s.id for s in doc.segments if s.id in seen]:
            yield Problem("translations out of segment order", doc.id)
        zh_by_id = {s.id: s.zh for s in doc.segments}
        for e in entries:
            if e.segment_id in zh_by_id and e.zh != zh_by_id[e.segment_id]:
                yield Problem("zh differs from the cleaned segment", e.segment_id)


def _english_text(refs: References) -> Iterable[Problem]:
    for t in refs.translations.values():
        for e in t.entries:
            if not e.en.strip():
                yield Problem("empty English translation", e.segment_id)
            elif CJK.search(e.en):
                yield Problem("CJK characters in English", e.segment_id)
    for (doc_id, language), f in refs.summaries.items():
        if language == "en":
            for s in f.summaries:
                if CJK.search(s.text):
                    yield Problem("CJK characters in English", f"{doc_id}/en/{s.reference}")


def _length_ratios(refs: References) -> Iterable[Problem]:
    low, high = RATIO_BOUNDS
    for t in refs.translations.values():
        for e in t.entries:
            if e.en.strip() and e.zh.strip() and not low <= length_ratio(e.zh, e.en) <= high:
                yield Problem(f"en/zh length ratio outside [{low}, {high}]", e.segment_id)


def _numbers(refs: References) -> Iterable[Problem]:
    excepted = {(x.segment_id, x.number) for x in refs.number_exceptions}
    used = set()
    for t in refs.translations.values():
        for e in t.entries:
            for number in missing_numbers(e.zh, e.en):
                if (e.segment_id, number) in excepted:
                    used.add((e.segment_id, number))
                else:
                    yield Problem("number of the source missing in the translation", f"{e.segment_id} ({number})")
    for x in refs.number_exceptions:
        if (x.segment_id, x.number) not in used:
            yield Problem("number exception that matches nothing (stale)", f"{x.segment_id} ({x.number})")


def _length_and_script(text: str, language: str, where: str, kind: str, bounds: tuple[int, int]) -> Iterable[Problem]:
    """The length rule of a summary (`kind`: "summary" or "passage summary") and, for Chinese, the
    script rule (Guideline §1 "Script": Simplified, also for the Traditional article 004)."""
    low, high = bounds
    n = summary_length(text, language)
    if not low <= n <= high:
        yield Problem(f"{language} {kind} length outside {low}–{high} {SUMMARY_UNIT[language]}", f"{where} ({n})")
    if language == "zh" and to_simplified(text) != text:
        yield Problem("Chinese summary not in Simplified script", where)


def _identical(texts: list[str]) -> bool:
    a, b = (" ".join(x.split()) for x in texts)
    return a == b


def _summaries(refs: References) -> Iterable[Problem]:
    for (doc_id, language), f in refs.summaries.items():
        for s in f.summaries:
            yield from _length_and_script(s.text, language, f"{doc_id}/{language}/{s.reference}", "summary",
                                          SUMMARY_LENGTH[language])
        if _identical(f.texts()):
            yield Problem("summaries A and B identical", f"{doc_id}/{language}")


def written_numbers(text: str, language: str) -> set[str]:
    """The numbers a summary writes in digits, canonical (harness.data.numbers)."""
    if language == "zh":
        return {n for m in DIGITS_ZH.finditer(text) for n in source_numbers(m.group())}
    out = set()
    for m in DIGITS_EN.finditer(text):
        values = target_numbers(m.group())
        scale = next((s for word, s in SCALES.items() if word in m.group()), 1)
        out |= {v for v in values if float(v) >= scale}  # "600–700 million": not the bare 600
    return out


def _passages(refs: References, docs: list[Document]) -> Iterable[Problem]:
    """Every passage has summaries A and B per language, in passage order, of the passage length,
    in the right script, inventing no number (a number written in digits must be in the article)."""
    for doc in docs:
        passages = [p.id for p in document_passages(doc)]
        article = set(source_numbers(doc.text))
        for language in ("zh", "en"):
            f = refs.passages[doc.id, language]
            if list(f.passages) != passages:
                missing = [p for p in passages if p not in f.passages]
                unknown = [p for p in f.passages if p not in passages]
                for p in missing:
                    yield Problem("passage without summaries", f"{p}/{language}")
                for p in unknown:
                    yield Problem("summary of an unknown passage", f"{p}/{language}")
                if not missing and not unknown:
                    yield Problem("passage summaries out of passage order", f"{doc.id}/{language}")
            for passage_id, summaries in f.passages.items():
                for s in summaries:
                    where = f"{passage_id}/{language}/{s.reference}"
                    yield from _length_and_script(s.text, language, where, "passage summary",
                                                  PASSAGE_SUMMARY_LENGTH[language])
                    if language == "en" and CJK.search(s.text):
                        yield Problem("CJK characters in English", where)
                    for number in sorted(written_numbers(s.text, language) - article):
                        yield Problem("number in a summary that is not in its article", f"{where} ({number})")
                if _identical(f.texts(passage_id)):
                    yield Problem("summaries A and B identical", f"{passage_id}/{language}")


def _versions(refs: References) -> Iterable[Problem]:
    files = [(f.path, f.provenance) for f in (*refs.summaries.values(), *refs.passages.values())]
    files += [(t.meta_path, t.provenance) for t in refs.translations.values()]
    for path, provenance in files:
        if provenance.guideline_version != refs.guideline_version:
            yield Problem(f"guideline_version differs from GUIDELINES.md ({refs.guideline_version})",
                          f"{path.relative_to(refs.folder).as_posix()} ({provenance.guideline_version})")


RULES: tuple[Callable[[References], Iterable[Problem]], ...] = (
    _english_text, _length_ratios, _numbers, _summaries, _versions,
)


def problems(refs: References, docs: list[Document]) -> list[Problem]:
    found = [*_coverage(refs, docs), *_passages(refs, docs)]
    found += [Problem(p.rule, p.id) for p in glossary_problems(refs, docs)]
    for rule in RULES:
        found.extend(rule(refs))
    return found


def format_problems(folder: Path, found: list[Problem]) -> str:
    """One line: `<folder>: N problem(s): rule: id, id; rule: id`."""
    grouped: dict[str, list[str]] = {}
    for p in found:
        grouped.setdefault(p.rule, []).append(p.id)
    parts = "; ".join(f"{rule}: {', '.join(ids)}" for rule, ids in grouped.items())
    return f"{folder}: {len(found)} problem{'s' if len(found) != 1 else ''}: {parts}"


def validate(refs: References, docs: list[Document]) -> None:
    found = problems(refs, docs)
    if found:
        raise HarnessError(format_problems(refs.folder, found))


def load_and_validate(folder: Path, docs: list[Document]) -> References:
    refs = load_references(folder, [d.id for d in docs])
    validate(refs, docs)
    return refs
