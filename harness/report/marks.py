"""What the per-sample viewer marks under a system's output (issue 20): the numbers it dropped, changed
or added (harness.score.numbers) and the glossary terms of the source it did not render
(harness.score.terms). They are computed when the pages are written, from the item's source and
the system's output, by the metrics as the system's run set them up (its glossary from
`metric_settings.terms.glossary`), and only after checking that those metrics give the signatures
the run recorded: the marks say exactly what the scores counted.

An item's `marks` on a system's page holds only what went wrong (no key: nothing did):

    {"numbers": {"dropped": [Q, …], "changed": [{"source": Q, "output": Q}, …], "added": [Q, …]},
     "terms": [{"term": "算力", "source": ["算力"], "expected": ["computing power"]}, …],
     "left_out": 3}

Q is a quantity, `{"text": "1750亿", "value": "175000000000"}`: as written, and what it means (a
range such as `[30, 40)` for 三十多). `left_out` counts the entries that did not fit the item's
share of the page (`fit_marks`). A summary's numbers are scored by precision only (a number it
leaves out is no error), so its marks have no `dropped`.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.data.quantities import Quantity
from harness.errors import HarnessError
from harness.record import MANIFEST
from harness.report.html import embed_json
from harness.score import get_metric
from harness.score.neural import configure
from harness.score.numbers import Numbers, number_fates
from harness.score.terms import Terms

MARKED_METRICS = ("numbers", "terms")
# Room in the marks' byte share for what is not an entry: the keys, brackets and the left_out count.
MARKS_FRAME_BYTES = 128


def quantity(q: Quantity) -> dict:
    return {"text": q.text, "value": q.value_text()}


@dataclass(frozen=True)
class MarkReader:
    """The `numbers` and `terms` checks of one system on one task (None: the run did not score it)."""

    numbers: Numbers | None
    terms: Terms | None

    def marks(self, source: str, output: str) -> dict:
        """The marks of one item (module docstring); {} when nothing went wrong."""
        found: dict = {}
        if self.numbers is not None:
            fates = number_fates(source, output, self.numbers.source_lang, self.numbers.lang)
            numbers = {
                "dropped": [] if self.numbers.mode == "precision" else [quantity(q) for q in fates.dropped],
                "changed": [{"source": quantity(s), "output": quantity(o)} for s, o in fates.changed],
                "added": [quantity(q) for q in fates.added],
            }
            numbers = {kind: entries for kind, entries in numbers.items() if entries}
            if numbers:
                found["numbers"] = numbers
        if self.terms is not None:
            misses = self.terms.matcher.details(source, output)["misses"]
            if misses:
                found["terms"] = misses
        return found


def mark_reader(run, model: str, task: str) -> MarkReader | None:
    """The checks of the marked metrics `model` was scored with on `task` in `run` (a
    harness.report.runs.Run), set up from the run's definition and metric settings; None when it
    was scored with neither. A run whose recorded signature differs from what this harness computes
    (another glossary file at that path, another version of the metric) is refused: its marks
    would not be what its scores counted."""
    stored = run.scores_for(model, task)
    wanted = [m for m in MARKED_METRICS if m in stored]
    if not wanted:
        return None
    definition = run.definition(task)
    try:
        # sources=(): the metrics are set up as for scoring (numbers: source language and mode); the
        # source of each item is passed to `marks`
        checks = configure([get_metric(m, definition.target_lang) for m in wanted], run.config.get("metric_settings"),
                           sources=(), source_lang=definition.source_lang,
                           summary=definition.kind == "summarization")
    except HarnessError as e:
        raise HarnessError(f"{run.path / MANIFEST}: {e}") from None
    for check in checks:
        recorded, computed = stored[check.name].signature, check.signature(0)  # neither reads a reference
        if recorded != computed:
            raise HarnessError(
                f"{run.path}: {model} on {task}: {check.name} was scored as '{recorded}' but this harness computes "
                f"'{computed}'; rescore the run (`harness rescore`) before building a leaderboard"
            )
    by_name = {check.name: check for check in checks}
    return MarkReader(numbers=by_name.get("numbers"), terms=by_name.get("terms"))


def fit_marks(marks: dict, budget: int) -> dict:
    """``marks``, or when their JSON would take more than ``budget`` bytes the first of their entries
    that fit (numbers dropped, changed, added, then terms), with `left_out` counting the rest."""
    if len(embed_json(marks).encode("utf-8")) <= budget:
        return marks
    entries = [(kind, entry) for kind, group in marks.get("numbers", {}).items() for entry in group]
    entries += [("terms", entry) for entry in marks.get("terms", [])]
    room = budget - MARKS_FRAME_BYTES
    fitted: dict = {}
    for shown, (kind, entry) in enumerate(entries):
        size = len(embed_json(entry).encode("utf-8")) + 1  # + the comma
        if size > room:
            fitted["left_out"] = len(entries) - shown
            break
        room -= size
        group = fitted.setdefault("terms", []) if kind == "terms" else fitted.setdefault("numbers", {}).setdefault(kind, [])
        group.append(entry)
    return fitted
