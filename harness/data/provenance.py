"""Who wrote and who reviewed a reference, and the labels every output prints from it.

Pure functions and frozen records, no I/O. Every place that names the references' provenance
(the dataset card, `harness refs` output, results tables, the leaderboard) calls these helpers, so
a reviewer's sign-off in the reference files changes every label with no hand edit, and nothing
is called "human" unless a human wrote or reviewed it (references/GUIDELINES.md §4).

The provenance of a run's references travels as plain JSON: `harness data build` writes
`reference_provenance` (``provenance_record``) into data/MANIFEST.json, `harness run` copies it
into the run's manifest.json, and reports render it with ``task_references_label`` /
``agreement_label``. Runs written before that field existed render ``NOT_RECORDED``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from harness.errors import HarnessError

AGENT_KINDS = ("human", "ai-model")
NOT_RECORDED = "reference provenance not recorded"
USER_DATASET = "references from the task's own dataset (who wrote them is not recorded by the harness)"
# The `agreement` role (reference B scored against A): what it is called wherever it is shown.
AGREEMENT_NAME = "reference agreement (B vs A)"


@dataclass(frozen=True)
class Agent:
    """A writer or reviewer: a person (``human``) or an AI model (``ai-model``)."""

    name: str
    kind: str
    note: str = ""  # free text: the model's maker, the role it played, a person's affiliation

    def __post_init__(self) -> None:
        if self.kind not in AGENT_KINDS:
            raise ValueError(f"kind must be one of {', '.join(AGENT_KINDS)}, got '{self.kind}'")
        if not self.name.strip():
            raise ValueError("name is empty")

    @property
    def is_human(self) -> bool:
        return self.kind == "human"

    def to_dict(self) -> dict:
        out = {"name": self.name, "kind": self.kind}
        if self.note:
            out["note"] = self.note
        return out

    @classmethod
    def from_dict(cls, data: Mapping) -> Agent:
        return cls(str(data["name"]), str(data["kind"]), str(data.get("note") or ""))


def describe_agent(agent: Agent) -> str:
    """'Wang Fang (human)' / 'Claude (AI model)'."""
    return f"{agent.name} ({'human' if agent.is_human else 'AI model'})"


def label(written_by: Agent, reviewed_by: Agent | None = None, reviewed_on: str = "") -> str:
    """One reference text's label, e.g. 'AI-written (Claude), not reviewed',
    'AI-written (Claude), reviewed by Wang Fang (human), 2026-12-10', 'human-written (Li Lei), not reviewed'."""
    written = f"{'human' if written_by.is_human else 'AI'}-written ({written_by.name})"
    if reviewed_by is None:
        return f"{written}, not reviewed"
    date = f", {reviewed_on}" if reviewed_on else ""
    return f"{written}, reviewed by {describe_agent(reviewed_by)}{date}"


def is_human(written_by: Agent, reviewed_by: Agent | None = None) -> bool:
    """May this reference be called human? Only if a human wrote or reviewed it."""
    return written_by.is_human or (reviewed_by is not None and reviewed_by.is_human)


@dataclass(frozen=True)
class TextProvenance:
    """The provenance of one reference text as it travels in manifests (JSON-ready)."""

    doc_id: str
    reference: str  # A / B for summaries, "" for the single translation
    file: str  # path inside references/
    version: int
    written_by: Agent
    reviewed_by: Agent | None
    reviewed_on: str

    @property
    def label(self) -> str:
        return label(self.written_by, self.reviewed_by, self.reviewed_on)

    def to_dict(self) -> dict:
        return {
            "doc_id": self.doc_id,
            "reference": self.reference,
            "file": self.file,
            "version": self.version,
            "written_by": self.written_by.to_dict(),
            "reviewed_by": None if self.reviewed_by is None else self.reviewed_by.to_dict(),
            "reviewed_on": self.reviewed_on,
            "label": self.label,
        }

    @classmethod
    def from_dict(cls, data: Mapping) -> TextProvenance:
        reviewer = data.get("reviewed_by")
        return cls(str(data["doc_id"]), str(data.get("reference") or ""), str(data["file"]), int(data["version"]),
                   Agent.from_dict(data["written_by"]), None if not reviewer else Agent.from_dict(reviewer),
                   str(data.get("reviewed_on") or ""))


def collapse(labels: Sequence[str]) -> str:
    """One label when every text shares it, else each label with its share: 'X (3 of 5); Y (2 of 5)'."""
    counts: dict[str, int] = {}
    for text in labels:
        counts[text] = counts.get(text, 0) + 1
    if len(counts) == 1:
        return labels[0]
    return "; ".join(f"{text} ({n} of {len(labels)})" for text, n in counts.items())


def set_label(texts: Iterable[TextProvenance]) -> str:
    """The label of a set of reference texts (one per document), grouped by reference name:
    'A: AI-written (Claude), not reviewed; B: ...' or, for one reference, the label alone."""
    by_reference: dict[str, list[str]] = {}
    for t in texts:
        by_reference.setdefault(t.reference, []).append(t.label)
    if not by_reference:
        return NOT_RECORDED
    if list(by_reference) == [""]:
        return collapse(by_reference[""])
    return "; ".join(f"{name}: {collapse(labels)}" for name, labels in sorted(by_reference.items()))


# Dataset columns that hold references, and the manifest key of their provenance. The Chinese
# column `zh` is the published article itself (the reference of en→zh translation).
SOURCE_ARTICLE = "the published Chinese article (source text, no reference writer)"


def column_texts(record: Mapping | None, column: str) -> list[TextProvenance] | None:
    """The texts of one reference column in a `reference_provenance` record; None when absent."""
    if not record or column not in record.get("columns", {}):
        return None
    return [TextProvenance.from_dict(d) for d in record["columns"][column]]


def column_label(record: Mapping | None, column: str) -> str:
    """Label of the references in dataset column ``column`` (e.g. `summaries_zh`, `en`, `zh`)."""
    if column == "zh":
        return SOURCE_ARTICLE
    texts = column_texts(record, column)
    return NOT_RECORDED if texts is None else set_label(texts)


def task_references_label(record: Mapping | None, column: str | None) -> str:
    """Label of the references a task is scored against, given the dataset column a built-in task
    reads them from (`summaries_zh`, `en`, `zh`); NOT_RECORDED for old runs. ``column`` None: a
    user-defined task, whose references come from its own dataset, whose provenance the harness
    does not know: the label says so rather than guess."""
    if column is None:
        return USER_DATASET
    return column_label(record, column)


def agreement_label(record: Mapping | None, column: str | None) -> str:
    """'reference agreement (B vs A): A: AI-written (Claude), not reviewed; B: ...' for the agreement row."""
    return f"{AGREEMENT_NAME}: {task_references_label(record, column)}"


def any_human(record: Mapping | None) -> bool:
    """Whether any reference text of a record was written or reviewed by a human."""
    if not record:
        return False
    texts = [TextProvenance.from_dict(d) for column in record.get("columns", {}).values() for d in column]
    return any(is_human(t.written_by, t.reviewed_by) for t in texts)


def provenance_record(texts_by_column: Mapping[str, Sequence[TextProvenance]]) -> dict:
    """The JSON record written to data/MANIFEST.json (and copied into each run's manifest.json)."""
    return {
        "columns": {column: [t.to_dict() for t in texts] for column, texts in texts_by_column.items()},
        "labels": {column: set_label(texts) for column, texts in texts_by_column.items()},
    }


def check_record(record: object, where: str) -> Mapping | None:
    """A `reference_provenance` value read from a manifest: None (not recorded) or a record whose
    every text parses; anything else is a HarnessError naming ``where``."""
    if record is None:
        return None
    try:
        columns = record["columns"]
        for column, texts in columns.items():
            for t in texts:
                TextProvenance.from_dict(t)
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise HarnessError(f"{where}: reference_provenance is malformed ({type(err).__name__}: {err})") from None
    return record
