"""The glossary rule of the reference validation (`harness refs check`, `harness data build`;
docs/data.md, "Validation"), with the project glossary (harness/data/glossary.yaml) and the
matching rule of harness.data.glossary:

- a translation renders every glossary term of its Chinese segment with an allowed rendering
  (a term once per segment, as the `terms` metric counts it);
- no English text (translation, article summary, passage summary) uses a known wrong rendering
  (`en_wrong`) of a term its source (segment, article, passage) names. Summaries are not required
  to name a term at all: a summary may leave a term out, it may not render it wrongly;
- `references/glossary_exceptions.yaml` lists (id, term) pairs where either rule is broken on
  purpose, each with a reason; an exception that matches no offence is stale and fails too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness.data.clean import Document
from harness.data.glossary import Glossary, Matcher, load_glossary
from harness.data.passages import document_passages
from harness.data.references import References
from harness.errors import ConfigError
from harness.yaml_source import first_error, read_yaml

EXCEPTIONS_FILE = "glossary_exceptions.yaml"


@dataclass(frozen=True)
class GlossaryProblem:
    rule: str
    id: str


class GlossaryException(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    id: str = Field(min_length=1, description="a segment id, or <doc>/en/<A|B>, or <passage>/en/<A|B>")
    term: str = Field(min_length=1, description="the glossary entry's `zh`")
    why: str = Field(pattern=r"\S", description="why the translation is right anyway")


class GlossaryExceptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    exceptions: list[GlossaryException]


def load_exceptions(folder: Path) -> tuple[GlossaryException, ...]:
    path = folder / EXCEPTIONS_FILE
    if not path.is_file():
        raise ConfigError(f"{path}: missing (the glossary-check exceptions; may be an empty list)")
    data, source = read_yaml(path, "reference")
    try:
        return tuple(GlossaryExceptions.model_validate(data).exceptions)
    except ValidationError as e:
        raise first_error(e, source, GlossaryExceptions) from None


class GlossaryCheck:
    def __init__(self, glossary: Glossary) -> None:
        self.glossary = glossary
        self.source = Matcher(glossary.forms("zh"), "zh")
        self.rendered = Matcher(glossary.forms("en"), "en")
        self.wrong = Matcher(glossary.wrong_forms("en"), "en")

    def missing(self, zh: str, en: str) -> list[str]:
        """The terms (their `zh`) that ``zh`` names and ``en`` does not render, in source order."""
        named = list(dict.fromkeys(m.entry for m in self.source.find(zh)))
        rendered = self.rendered.counts(en)
        return [self.glossary.terms[e].zh for e in named if not rendered[e]]

    def wrong_renderings(self, zh: str, en: str) -> list[tuple[str, str]]:
        """(term, wrong rendering) for each known wrong rendering in ``en`` of a term ``zh`` names."""
        named = {m.entry for m in self.source.find(zh)}
        return [(self.glossary.terms[m.entry].zh, m.text) for m in self.wrong.find(en) if m.entry in named]


def glossary_problems(refs: References, docs: list[Document], glossary: Glossary | None = None) -> list[GlossaryProblem]:
    check = GlossaryCheck(glossary or load_glossary())
    exceptions = load_exceptions(refs.folder)
    offences: list[tuple[str, str, GlossaryProblem]] = []  # (id, term, problem)
    for t in refs.translations.values():
        for e in t.entries:
            for term in check.missing(e.zh, e.en):
                offences.append((e.segment_id, term, GlossaryProblem(
                    "glossary term of the source not rendered as the glossary says", f"{e.segment_id} ({term})")))
            offences += _wrong(check, e.zh, e.en, e.segment_id)
    for doc in docs:
        for s in refs.summaries[doc.id, "en"].summaries:
            offences += _wrong(check, doc.text, s.text, f"{doc.id}/en/{s.reference}")
        passages = refs.passages[doc.id, "en"].passages
        for p in document_passages(doc):
            for s in passages.get(p.id, ()):
                offences += _wrong(check, p.text, s.text, f"{p.id}/en/{s.reference}")
    excepted = {(x.id, x.term) for x in exceptions}
    found = [problem for where, term, problem in offences if (where, term) not in excepted]
    offended = {(where, term) for where, term, _ in offences}
    found += [GlossaryProblem("glossary exception that matches nothing (stale)", f"{x.id} ({x.term})")
              for x in exceptions if (x.id, x.term) not in offended]
    return found


def _wrong(check: GlossaryCheck, zh: str, en: str, where: str) -> list[tuple[str, str, GlossaryProblem]]:
    return [(where, term, GlossaryProblem("known wrong rendering of a glossary term", f"{where} ({text})"))
            for term, text in check.wrong_renderings(zh, en)]
