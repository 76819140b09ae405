"""The five built-in tasks: which dataset config each reads, what the model is given, what it is
scored against, and its prompt (a versioned YAML template, `harness/prompts/<task>.yaml` by default).

`load_items(task, dataset_dir)` is the contract the pipeline and the leaderboard share
(docs/architecture.md, "Tasks"): items in dataset order, references as stored, nothing invented.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, field_validator

from harness.errors import HarnessError
from harness.io import sha256_json
from harness.generate.base import Prompt
from harness.registry import lookup

PROMPTS_DIR = Path(__file__).parent / "prompts"


@dataclass(frozen=True)
class Item:
    id: str
    doc_id: str
    source: str
    references: tuple[str, ...]  # non-empty references only; fewer than expected = missing


@dataclass(frozen=True)
class TaskDef:
    name: str
    description: str
    config: str  # dataset config (data/<config>.parquet)
    id_column: str
    source_column: str
    reference_column: str  # a list column ([A, B]) or a single string column
    n_references: int  # how many every item should have
    source_lang: str
    target_lang: str
    max_new_tokens: int  # default, overridable per task in the config


TASKS: dict[str, TaskDef] = {
    t.name: t
    for t in (
        TaskDef("summarize_zh", "Chinese article → Chinese summary", "summarization", "doc_id", "text",
                "summaries_zh", 2, "zh", "zh", 320),
        TaskDef("summarize_en", "Chinese article → English summary (cross-lingual)", "summarization", "doc_id",
                "text", "summaries_en", 2, "zh", "en", 256),
        TaskDef("translate_zh_en", "Chinese segment → English", "translation", "segment_id", "zh", "en", 1,
                "zh", "en", 320),
        TaskDef("translate_zh_en_doc", "Chinese paragraph → English", "translation_paragraphs", "paragraph_id",
                "zh", "en", 1, "zh", "en", 768),
        TaskDef("translate_en_zh", "English reference → Chinese, scored against the Chinese source",
                "translation", "segment_id", "en", "zh", 1, "en", "zh", 320),
    )
}


def get_task(name: str) -> TaskDef:
    return lookup("task", name, TASKS)


# --- items -------------------------------------------------------------------------------------


def _references(value) -> tuple[str, ...]:
    values = value if isinstance(value, (list, tuple)) else [value]
    return tuple(v for v in values if isinstance(v, str) and v.strip())


def load_items(task: str, dataset_dir: Path) -> list[Item]:
    """Every item of `task` in dataset order. References that are null or empty are left out of
    `Item.references` (see `missing_references`); nothing is filled in."""
    t = get_task(task)
    path = Path(dataset_dir) / f"{t.config}.parquet"
    if not path.is_file():
        raise HarnessError(
            f"{dataset_dir}: no '{t.config}' config ({path.name}) for task {task}; "
            "rebuild the dataset with `harness data build`"
        )
    import pyarrow.parquet as pq

    columns = list(dict.fromkeys([t.id_column, "doc_id", t.source_column, t.reference_column]))
    parquet = pq.ParquetFile(path)  # not pq.read_table: that imports pandas through pyarrow.dataset (0.5 s)
    absent = [c for c in columns if c not in parquet.schema_arrow.names]
    if absent:
        raise HarnessError(f"{path}: missing column(s) {', '.join(absent)} needed by task {task}")
    table = parquet.read(columns=columns).to_pydict()
    return [
        Item(id=i, doc_id=d, source=s, references=_references(r))
        for i, d, s, r in zip(table[t.id_column], table["doc_id"], table[t.source_column], table[t.reference_column])
    ]


def missing_references(task: str, items: Sequence[Item]) -> list[str]:
    """Ids of items with fewer references than the task expects."""
    need = get_task(task).n_references
    return [i.id for i in items if len(i.references) < need]


def select_items(items: Sequence[Item], *, ids=None, per_doc=None, limit=None) -> list[Item]:
    """The documented subset rule: explicit `ids` (in dataset order), then the first `per_doc`
    items of every document, then the first `limit` items. Unknown ids are an error."""
    chosen = list(items)
    if ids is not None:
        known = {i.id for i in chosen}
        unknown = [i for i in ids if i not in known]
        if unknown:
            raise HarnessError(f"unknown item id(s) {', '.join(unknown[:5])}")
        wanted = set(ids)
        chosen = [i for i in chosen if i.id in wanted]
    if per_doc is not None:
        seen: dict[str, int] = {}
        kept = []
        for item in chosen:
            seen[item.doc_id] = seen.get(item.doc_id, 0) + 1
            if seen[item.doc_id] <= per_doc:
                kept.append(item)
        chosen = kept
    if limit is not None:
        chosen = chosen[:limit]
    return chosen


# --- sentence units (used by truncation and the lead baseline) --------------------------------

_EN_SENTENCE_END = re.compile(r"[.!?][\"'”’)\]]*\s+(?=[\"'“‘(\[]*[A-Z0-9])")


def sentence_units(text: str) -> list[str]:
    """Split `text` into sentences that partition it exactly (`"".join(units) == text`).

    Line breaks end a unit; inside a line Chinese sentences end after 。！？!?… and the closing
    quotes that follow (quote-aware, as in the dataset's segmentation), English ones after . ! ?
    followed by space and a capital or digit.
    """
    from harness.data.segment import split_sentences

    units: list[str] = []
    for line in text.splitlines(keepends=True):
        for zh in split_sentences(line):
            start = 0
            for m in _EN_SENTENCE_END.finditer(zh):
                units.append(zh[start : m.end()])
                start = m.end()
            if start < len(zh):
                units.append(zh[start:])
    merged: list[str] = []
    for unit in units:  # whitespace (a line break after a sentence) belongs to the sentence before it
        if merged and not unit.strip():
            merged[-1] += unit
        else:
            merged.append(unit)
    return merged


# --- prompts -----------------------------------------------------------------------------------


class PromptTemplate(BaseModel):
    """A task prompt. `input` shows an item's source (`{source}`), `output` an answer (`{target}`,
    at its end). The plain form is: instruction, the shots, the item's input and the output label;
    the chat form puts the instruction and input in a user turn and shots as earlier turns."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    version: str
    system: str | None = None
    instruction: str
    input: str
    output: str

    @field_validator("version", "instruction")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value

    @field_validator("input")
    @classmethod
    def _has_source(cls, value: str) -> str:
        if value.count("{source}") != 1:
            raise ValueError("must contain {source} exactly once")
        return value

    @field_validator("output")
    @classmethod
    def _ends_with_target(cls, value: str) -> str:
        if value.count("{target}") != 1 or not value.endswith("{target}"):
            raise ValueError("must end with {target} (and contain it once)")
        return value

    @property
    def sha256(self) -> str:
        return sha256_json(self.model_dump())

    def _input(self, source: str) -> str:
        return self.input.replace("{source}", source)

    def _answer(self, target: str) -> str:
        return self.output.replace("{target}", target)

    def build(self, source: str, shots: Sequence[tuple[str, str]] = ()) -> Prompt:
        """The item's prompt in both forms; `shots` are (source, answer) pairs from other documents."""
        cue = self.output[: -len("{target}")].rstrip()
        blocks = [self.instruction.strip()]
        blocks += [f"{self._input(s)}\n{self._answer(a)}" for s, a in shots]
        blocks.append(f"{self._input(source)}\n{cue}")
        plain = "\n\n".join(blocks)

        messages: list[tuple[str, str]] = []
        if self.system:
            messages.append(("system", self.system))
        turns = [*shots, (source, None)]
        for n, (s, answer) in enumerate(turns):
            user = self._input(s)
            messages.append(("user", f"{self.instruction.strip()}\n\n{user}" if n == 0 else user))
            if answer is not None:
                messages.append(("assistant", answer))
        label = self.input[: self.input.index("{source}")].strip()  # "Chinese:", "文章："
        return Prompt(messages=tuple(messages), plain=plain, plain_stop=(f"\n{label}",) if label else (), source=source)


def default_prompt_path(task: str) -> Path:
    return PROMPTS_DIR / f"{get_task(task).name}.yaml"


def select_shots(item: Item, pool: Sequence[Item], k: int, seed: int) -> list[tuple[str, str]]:
    """k (source, reference A) pairs from documents other than the item's own, chosen by a
    generator seeded from (seed, item id): the same item gets the same shots whatever the subset."""
    if k == 0:
        return []
    import numpy as np

    others = [p for p in pool if p.doc_id != item.doc_id and p.references]
    if len(others) < k:
        raise HarnessError(f"{k} shots need {k} items from other documents; only {len(others)} exist")
    rng = np.random.default_rng([seed, zlib.crc32(item.id.encode("utf-8"))])
    picked = rng.choice(len(others), size=k, replace=False)
    return [(others[i].source, others[i].references[0]) for i in picked]
