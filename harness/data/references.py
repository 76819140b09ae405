"""Load the references (`references/`) and validate them against the cleaned source.

Layout (fixed by `references/GUIDELINES.md` §3):

- `summaries/{zh,en}/<doc>.yaml`: doc_id, language, guideline_version, version, reviewed_by,
  reviewed_on, summaries: [{reference: A|B, written_by, written_on, text}], review_history
- `translations/en/<doc>.jsonl`: one `{"segment_id", "zh", "en"}` line (+ an optional "note") per
  source segment, in order, with `<doc>.meta.yaml` beside it (doc_id, language, guideline_version, version, written_by,
  written_on, reviewed_by, reviewed_on, review_history)
- writers and reviewers are `{name, kind: human|ai-model, note}` (harness.data.provenance.Agent)
- every file may hold `corrections`: texts replaced by hand without a review sheet, each
  `{version, date, by, id, previous, reason}` (GUIDELINES §3)
- `passages/{zh,en}/<doc>.yaml`: doc_id, language, guideline_version, version, reviewed_by,
  reviewed_on, passages: [{passage_id, summaries: [{reference: A|B, written_by, written_on, text}]}],
  review_history (the passage summaries, GUIDELINES §1.1)
- `number_exceptions.yaml`: source numbers that legitimately have no literal counterpart.

Loading only checks the files' shape; harness.data.reference_checks checks them against the
documents and the guidelines.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from harness.data.provenance import AGENT_KINDS, Agent
from harness.errors import HarnessError
from harness.io import read_jsonl
from harness.safe_yaml import safe_load

SUMMARY_LANGUAGES = ("zh", "en")
TRANSLATION_KEYS = frozenset({"segment_id", "zh", "en", "note"})  # note: optional
REFERENCE_NAMES = ("A", "B")

GUIDELINE_VERSION = re.compile(r"^\*\*Version (\d+\.\d+)\*\*", re.MULTILINE)


VERDICTS = ("ok", "fix")  # a reviewer's verdict on one item (GUIDELINES.md §4)


@dataclass(frozen=True)
class ReviewItem:
    id: str  # segment id, `<doc>/<lang>/<A|B>` or `<passage>/<lang>/<A|B>`
    verdict: str  # one of VERDICTS
    comment: str = ""
    previous: str | None = None  # the text before the correction (verdict `fix`)


@dataclass(frozen=True)
class Review:
    """One applied review sheet: it produced file version ``version``."""

    version: int
    reviewed_by: Agent
    reviewed_on: str
    sheet_sha256: str
    items: tuple[ReviewItem, ...]


@dataclass(frozen=True)
class Correction:
    """One text replaced by hand without a review sheet (GUIDELINES §3 `corrections`): who changed
    which item when, why, and the text before; ``version`` is the file version it produced."""

    version: int
    date: str
    by: Agent
    id: str  # segment id, `<doc>/<lang>/<A|B>` or `<passage>/<lang>/<A|B>`, as in a review sheet
    previous: str
    reason: str


@dataclass(frozen=True)
class Provenance:
    """Who wrote a reference file, following which guideline version, and who reviewed it."""

    guideline_version: str
    version: int  # bumped by every applied review
    written_by: tuple[Agent, ...]  # one entry per writer (summaries A and B have one each)
    written_on: str
    reviewed_by: Agent | None  # None: not yet reviewed
    reviewed_on: str
    history: tuple[Review, ...] = ()
    corrections: tuple[Correction, ...] = ()


@dataclass(frozen=True)
class Summary:
    reference: str  # A or B
    text: str
    written_by: Agent
    written_on: str = ""


@dataclass(frozen=True)
class SummaryFile:
    path: Path
    doc_id: str
    language: str
    provenance: Provenance
    summaries: tuple[Summary, ...]

    def texts(self) -> list[str]:
        """Summary texts in reference order A, B."""
        by_name = {s.reference: s.text for s in self.summaries}
        return [by_name[name] for name in REFERENCE_NAMES]


@dataclass(frozen=True)
class PassageFile:
    """The passage summaries of one document in one language (GUIDELINES §1.1)."""

    path: Path
    doc_id: str
    language: str
    provenance: Provenance
    passages: dict[str, tuple[Summary, ...]]  # passage id -> its summaries, in file order

    def texts(self, passage_id: str) -> list[str]:
        """The passage's summary texts in reference order A, B."""
        by_name = {s.reference: s.text for s in self.passages[passage_id]}
        return [by_name[name] for name in REFERENCE_NAMES]


@dataclass(frozen=True)
class TranslationEntry:
    segment_id: str
    zh: str
    en: str
    line: int  # 1-based line in the JSONL file, for messages
    note: str = ""  # translator's note (e.g. a likely typo in the source), shown to reviewers


@dataclass(frozen=True)
class TranslationFile:
    path: Path
    meta_path: Path  # <doc>.meta.yaml: where the provenance is recorded
    doc_id: str
    provenance: Provenance
    entries: tuple[TranslationEntry, ...]

    def by_segment(self) -> dict[str, str]:
        return {e.segment_id: e.en for e in self.entries}


@dataclass(frozen=True)
class NumberException:
    segment_id: str
    number: str  # the number as normalised by harness.data.numbers (e.g. "10000000000")
    why: str


@dataclass(frozen=True)
class References:
    folder: Path
    guideline_version: str
    summaries: dict[tuple[str, str], SummaryFile]  # (doc_id, language) -> file
    translations: dict[str, TranslationFile]  # doc_id -> file
    number_exceptions: tuple[NumberException, ...]
    passages: dict[tuple[str, str], PassageFile]  # (doc_id, language) -> file

    def english(self) -> dict[str, str]:
        """segment id -> English reference, over every document."""
        return {e.segment_id: e.en for t in self.translations.values() for e in t.entries}


# ---------------------------------------------------------------------------------------------
# Loading: file shape only.


def _read_yaml(path: Path) -> object:
    return safe_load(path, "reference")


def _field(mapping: object, key: str, path: Path, where: str = "", kind: type = str):
    if not isinstance(mapping, dict):
        raise HarnessError(f"{path}{where}: expected a mapping")
    if key not in mapping:
        raise HarnessError(f"{path}{where}: missing key '{key}'")
    value = mapping[key]
    if value is None and kind is str:
        value = ""
    if not isinstance(value, kind):
        raise HarnessError(f"{path}{where}: '{key}' must be a {kind.__name__}, got {type(value).__name__}")
    return value


def _agent(mapping: object, key: str, path: Path, where: str = "", optional: bool = False) -> Agent | None:
    """`{name, kind: human|ai-model, note}`; a bare string is refused so that no file leaves out
    whether a person or a model wrote it."""
    value = mapping.get(key) if isinstance(mapping, dict) else None
    if optional and value is None:
        return None
    if not isinstance(value, dict):
        raise HarnessError(f"{path}{where}: '{key}' must be a mapping {{name, kind: {'|'.join(AGENT_KINDS)}}}")
    name, kind = _field(value, "name", path, f"{where} {key}"), _field(value, "kind", path, f"{where} {key}")
    if not name.strip():
        raise HarnessError(f"{path}{where}: '{key}.name' is empty")
    if kind not in AGENT_KINDS:
        raise HarnessError(f"{path}{where}: '{key}.kind' must be one of {', '.join(AGENT_KINDS)}, got '{kind}'")
    note = value.get("note") or ""
    return Agent(name, kind, str(note))


def _history(meta: dict, path: Path) -> tuple[Review, ...]:
    items = meta.get("review_history") or []
    if not isinstance(items, list):
        raise HarnessError(f"{path}: 'review_history' must be a list")
    out = []
    for i, review in enumerate(items):
        where = f" review_history[{i}]"
        entries = []
        for j, item in enumerate(_field(review, "items", path, where, kind=list)):
            at = f"{where}.items[{j}]"
            verdict = _field(item, "verdict", path, at)
            if verdict not in VERDICTS:
                raise HarnessError(f"{path}{at}: 'verdict' must be one of {', '.join(VERDICTS)}, got '{verdict}'")
            entries.append(ReviewItem(_field(item, "id", path, at), verdict, item.get("comment") or "",
                                      item.get("previous")))
        out.append(Review(_field(review, "version", path, where, kind=int), _agent(review, "reviewed_by", path, where),
                          _field(review, "reviewed_on", path, where), _field(review, "sheet_sha256", path, where),
                          tuple(entries)))
    return tuple(out)


DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _corrections(meta: dict, path: Path, version: int) -> tuple[Correction, ...]:
    items = meta.get("corrections") or []
    if not isinstance(items, list):
        raise HarnessError(f"{path}: 'corrections' must be a list")
    out = []
    for i, item in enumerate(items):
        where = f" corrections[{i}]"
        c = Correction(_field(item, "version", path, where, kind=int), _field(item, "date", path, where),
                       _agent(item, "by", path, where), _field(item, "id", path, where),
                       _field(item, "previous", path, where), _field(item, "reason", path, where))
        if not 1 < c.version <= version:  # a correction makes a version after the first, at most the file's
            raise HarnessError(f"{path}{where}: 'version' must be between 2 and the file's version {version}, "
                               f"got {c.version}")
        if not DATE.match(c.date):
            raise HarnessError(f"{path}{where}: 'date' must be YYYY-MM-DD, got '{c.date}'")
        if not (c.previous.strip() and c.reason.strip()):
            raise HarnessError(f"{path}{where}: 'previous' and 'reason' must not be empty")
        out.append(c)
    return tuple(out)


def _check_corrected_ids(provenance: Provenance, ids: Iterable[str], path: Path) -> None:
    known = set(ids)
    for i, c in enumerate(provenance.corrections):
        if c.id not in known:
            raise HarnessError(f"{path} corrections[{i}]: id '{c.id}' is not an item of this file")


def _provenance(meta: dict, path: Path, written_by: tuple[Agent, ...], written_on: str) -> Provenance:
    guideline = _field(meta, "guideline_version", path)
    if not guideline:
        raise HarnessError(f"{path}: 'guideline_version' is empty")
    version = _field(meta, "version", path, kind=int)
    if version < 1:
        raise HarnessError(f"{path}: 'version' must be 1 or more, got {version}")
    reviewed_by = _agent(meta, "reviewed_by", path, optional=True)
    reviewed_on = _field(meta, "reviewed_on", path) if reviewed_by is not None else ""
    if reviewed_by is not None and not reviewed_on:
        raise HarnessError(f"{path}: 'reviewed_on' is empty although 'reviewed_by' is set")
    return Provenance(guideline, version, written_by, written_on, reviewed_by, reviewed_on, _history(meta, path),
                      _corrections(meta, path, version))


def _check_identity(meta: dict, path: Path, doc_id: str, language: str) -> None:
    for key, expected in (("doc_id", doc_id), ("language", language)):
        if _field(meta, key, path) != expected:
            raise HarnessError(f"{path}: {key} '{meta[key]}' does not match the file name (expected '{expected}')")


def _summaries(items: list, path: Path, where: str) -> tuple[Summary, ...]:
    """One summary per reference name A, B (each with its own writer)."""
    summaries = []
    for i, item in enumerate(items):
        at = f"{where} summaries[{i}]"
        summaries.append(
            Summary(_field(item, "reference", path, at), _field(item, "text", path, at).strip(),
                    _agent(item, "written_by", path, at), _field(item, "written_on", path, at))
        )
    names = [s.reference for s in summaries]
    if sorted(names) != sorted(REFERENCE_NAMES):
        raise HarnessError(f"{path}{where}: expected one summary per reference {'/'.join(REFERENCE_NAMES)}, got {names}")
    return tuple(summaries)


def load_summary_file(path: Path, doc_id: str, language: str) -> SummaryFile:
    meta = _read_yaml(path)
    _check_identity(meta, path, doc_id, language)
    summaries = _summaries(_field(meta, "summaries", path, kind=list), path, "")
    written_on = ", ".join(sorted({s.written_on for s in summaries}))
    provenance = _provenance(meta, path, tuple(s.written_by for s in summaries), written_on)
    _check_corrected_ids(provenance, (f"{doc_id}/{language}/{s.reference}" for s in summaries), path)
    return SummaryFile(path, doc_id, language, provenance, summaries)


def load_passage_file(path: Path, doc_id: str, language: str) -> PassageFile:
    meta = _read_yaml(path)
    _check_identity(meta, path, doc_id, language)
    passages: dict[str, tuple[Summary, ...]] = {}
    for i, item in enumerate(_field(meta, "passages", path, kind=list)):
        where = f" passages[{i}]"
        passage_id = _field(item, "passage_id", path, where)
        if passage_id in passages:
            raise HarnessError(f"{path}{where}: passage '{passage_id}' appears twice")
        passages[passage_id] = _summaries(_field(item, "summaries", path, where, kind=list), path, where)
    writers = tuple(dict.fromkeys(s.written_by for summaries in passages.values() for s in summaries))
    written_on = ", ".join(sorted({s.written_on for summaries in passages.values() for s in summaries}))
    provenance = _provenance(meta, path, writers, written_on)
    _check_corrected_ids(provenance, (f"{p}/{language}/{s.reference}" for p, summaries in passages.items()
                                      for s in summaries), path)
    return PassageFile(path, doc_id, language, provenance, passages)


def load_translation_file(path: Path, doc_id: str) -> TranslationFile:
    meta_path = path.with_suffix(".meta.yaml")
    if not meta_path.is_file():
        raise HarnessError(f"{meta_path}: missing (provenance of {path.name})")
    meta = _read_yaml(meta_path)
    _check_identity(meta, meta_path, doc_id, "en")
    entries = []
    for location, row in read_jsonl(path):  # split on "\n" only: U+2028 inside a string is text
        n = int(location.rpartition(":")[2])
        where = f":{n}"
        if not isinstance(row, dict):
            raise HarnessError(f"{path}{where}: expected a JSON object per line")
        unknown = sorted(set(row) - TRANSLATION_KEYS)
        if unknown:
            raise HarnessError(f"{path}{where}: unknown key {unknown[0]!r} (known: {', '.join(sorted(TRANSLATION_KEYS))})")
        note = row.get("note", "")
        if not isinstance(note, str):
            raise HarnessError(f"{path}{where}: key 'note' must be a string")
        entries.append(TranslationEntry(_field(row, "segment_id", path, where), _field(row, "zh", path, where),
                                        _field(row, "en", path, where), n, note))
    provenance = _provenance(meta, meta_path, (_agent(meta, "written_by", meta_path),),
                             _field(meta, "written_on", meta_path))
    _check_corrected_ids(provenance, (e.segment_id for e in entries), meta_path)
    return TranslationFile(path, meta_path, doc_id, provenance, tuple(entries))


def load_number_exceptions(path: Path) -> tuple[NumberException, ...]:
    if not path.is_file():
        raise HarnessError(f"{path}: missing (the number-check exceptions; may be an empty list)")
    data = _read_yaml(path)
    items = _field(data, "exceptions", path, kind=list)
    out = []
    for i, item in enumerate(items):
        where = f" exceptions[{i}]"
        number = _field(item, "number", path, where, kind=(str, int, float))
        why = _field(item, "why", path, where)
        if not why.strip():
            raise HarnessError(f"{path}{where}: 'why' is empty: every exception says why")
        out.append(NumberException(_field(item, "segment_id", path, where), str(number), why))
    return tuple(out)


def guideline_version(folder: Path) -> str:
    path = folder / "GUIDELINES.md"
    if not path.is_file():
        raise HarnessError(f"{path}: missing")
    match = GUIDELINE_VERSION.search(path.read_text(encoding="utf-8"))
    if not match:
        raise HarnessError(f"{path}: no '**Version X.Y**' line")
    return match.group(1)


def _per_language(folder: Path, doc_ids: list[str], load, what: str) -> dict:
    """`<folder>/<language>/<doc>.yaml` of every document and summary language, each read by ``load``."""
    out = {}
    for language in SUMMARY_LANGUAGES:
        for doc_id in doc_ids:
            path = folder / language / f"{doc_id}.yaml"
            if not path.is_file():
                raise HarnessError(f"{path}: missing {what}")
            out[doc_id, language] = load(path, doc_id, language)
    return out


def load_references(folder: Path, doc_ids: Iterable[str]) -> References:
    """Read every reference file of ``doc_ids``; a missing or malformed file is a HarnessError."""
    if not folder.is_dir():
        raise HarnessError(f"{folder}: references folder does not exist")
    doc_ids = list(doc_ids)
    summaries = _per_language(folder / "summaries", doc_ids, load_summary_file, "summary file")
    translations = {}
    for doc_id in doc_ids:
        path = folder / "translations" / "en" / f"{doc_id}.jsonl"
        if not path.is_file():
            raise HarnessError(f"{path}: missing translation file")
        translations[doc_id] = load_translation_file(path, doc_id)
    passages = _per_language(folder / "passages", doc_ids, load_passage_file, "passage summary file")
    _reject_unknown_files(folder, doc_ids)
    return References(folder, guideline_version(folder), summaries, translations,
                      load_number_exceptions(folder / "number_exceptions.yaml"), passages)


def _reject_unknown_files(folder: Path, doc_ids: list[str]) -> None:
    """A reference for a document that does not exist is a mistake, not something to skip."""
    known = {f"{d}.yaml" for d in doc_ids}
    for kind in ("summaries", "passages"):
        for language in SUMMARY_LANGUAGES:
            for path in sorted((folder / kind / language).glob("*.yaml")):
                if path.name not in known:
                    raise HarnessError(f"{path}: no document with this id")
    known = {f"{d}{suffix}" for d in doc_ids for suffix in (".jsonl", ".meta.yaml")}
    for path in sorted((folder / "translations" / "en").iterdir()):
        if path.name not in known:
            raise HarnessError(f"{path}: no document with this id")
