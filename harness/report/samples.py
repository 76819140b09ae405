"""The per-sample pages of the leaderboard site: one file per table, system and page of items.

index.html does not grow with the item count: it holds only an index of these pages (pages_index),
and the viewer loads one page of one system (or two, compared) at a time. A page is a script,
`samples/<table>/<system>/page-0001.js`, that calls `harnessSamples({...})`: a page opened from
file:// may not fetch() or XHR a file, but it may load a <script src>. Its data is JSON written by
embed_json (no `<`, `>`, `&`, U+2028/2029 or lone surrogate raw), so it is also safe JavaScript.

Pages are aligned across the systems of a table (page k covers the same items for every system),
so switching system keeps the items shown. A page closes when it holds `PageLimits.items` items or
when one more item would take any system's file over `PageLimits.bytes`. Each text of an item (id,
source, output, every reference) may take an equal share of a page's bytes (text_budget), so a single
item always fits; a longer text is cut for the viewer with a marker saying how much is shown. The
results folder keeps it whole. In a table scored with `numbers` or `terms`, an output's marks (the
numbers it dropped, changed or added, the terms it missed: harness.report.marks) take one more share.

Pages are written while the items are walked, one page of every system in memory at a time, never
the whole table as one structure.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.errors import HarnessError
from harness.io import write_text
from harness.names import child_path
from harness.options import check_range
from harness.report.html import embed_json
from harness.report.leaderboard import Leaderboard, LeaderboardTable
from harness.report.marks import MARKED_METRICS, MarkReader, fit_marks, mark_reader
from harness.report.runs import LOWER_IS_BETTER, Run
from harness.report.significance import ItemsLookup

SAMPLES = "samples"  # the folder beside index.html
CALLBACK = "harnessSamples"  # the function every page calls; defined by templates/leaderboard.js
MAX_PAGE_BYTES = 10_000_000  # the hard limit on one page file
DEFAULT_PAGE_ITEMS = 100
DEFAULT_PAGE_BYTES = 5_000_000  # half the limit: a page of long documents still loads quickly
MAX_PAGE_ITEMS = 10_000
# Room in a page for everything but the texts: the call, the page header, every item's keys,
# flags and scores. The texts of one item share the rest, so a single item always fits.
STRUCTURE_BYTES = 16_384
# The most bytes one character can take in embed_json's output (`\u2028`, a lone surrogate).
MAX_CHAR_BYTES = 6
CUT_MARK = "\n[… cut for the viewer: the first {shown:,} of {total:,} characters; the results folder has the whole text]"


@dataclass(frozen=True)
class PageLimits:
    """When a page closes: at `items` items, or before an item that would take a file over `bytes`."""

    items: int = DEFAULT_PAGE_ITEMS
    bytes: int = DEFAULT_PAGE_BYTES

    def __post_init__(self) -> None:
        check_range("--page-items", self.items, 1, MAX_PAGE_ITEMS)
        check_range("page bytes", self.bytes, 4 * STRUCTURE_BYTES, MAX_PAGE_BYTES)


@dataclass(frozen=True)
class SystemPages:
    label: str
    role: str
    dir: str  # the folder of its pages under samples/<table>/


@dataclass(frozen=True)
class TablePages:
    """What the viewer needs to find the pages of one table (its entry in index.html)."""

    dir: str  # samples/<dir>/: the table id (a task name, or task-k for split tables)
    title: str
    task: str
    metrics: tuple[str, ...]
    main: str
    lower_is_better: tuple[str, ...]
    n_items: int
    page_sizes: tuple[int, ...]  # items on each page, in order
    systems: tuple[SystemPages, ...]

    def index_entry(self) -> dict:
        """The table's entry in index.html. Page sizes are run-length encoded ([size, repeat] pairs):
        pages closed by the item limit are all alike, so the entry does not grow with the items."""
        runs: list[list[int]] = []
        for size in self.page_sizes:
            if runs and runs[-1][0] == size:
                runs[-1][1] += 1
            else:
                runs.append([size, 1])
        return {
            "dir": self.dir,
            "title": self.title,
            "task": self.task,
            "metrics": list(self.metrics),
            "main": self.main,
            "lower_is_better": list(self.lower_is_better),
            "n_items": self.n_items,
            "pages": runs,
            "systems": [{"label": s.label, "role": s.role, "dir": s.dir} for s in self.systems],
        }


def page_name(number: int) -> str:
    """page-0001.js (templates/leaderboard.js builds the same name)."""
    return f"page-{number:04d}.js"


def pages_index(tables: Sequence[TablePages]) -> dict:
    """The per-sample data index.html holds: where the pages are, never their items."""
    return {"folder": SAMPLES, "callback": CALLBACK, "tables": [t.index_entry() for t in tables]}


def fit_text(text: str, budget: int) -> tuple[str, bool]:
    """`text`, or its head with CUT_MARK when its JSON would take more than `budget` bytes."""
    if len(text) * MAX_CHAR_BYTES + 2 <= budget or len(embed_json(text).encode("utf-8")) <= budget:  # + the quotes
        return text, False
    shown = max(0, (budget - len(CUT_MARK) - 64) // MAX_CHAR_BYTES)
    return text[:shown] + CUT_MARK.format(shown=shown, total=len(text)), True


def text_budget(item, limits: PageLimits, marked: bool = False) -> int:
    """The bytes each text of an item may take: the id, the source, the output, every reference and,
    in a `marked` table, the output's marks share what a page holds besides its structure, so one
    item always fits on a page."""
    return (limits.bytes - STRUCTURE_BYTES) // (3 + len(item.references) + marked)


def reference_name(k: int) -> str:
    return f"reference {chr(65 + k)}" if k < 26 else f"reference {k + 1}"


# An item on one system's page is item_fields then output_fields, as one JSON object (join_objects).
# The viewer shows the fields it knows and skips the rest, so a field added here needs only a part
# in templates/leaderboard.js (ITEM_PARTS or SYSTEM_PARTS). `budget` is text_budget's.


def item_fields(item, budget: int) -> dict:
    """What every system's page holds of an item: its id, source and references, and `cut`, the
    names of those fit_text shortened."""
    cut: list[str] = []

    def fit(name: str, text: str) -> str:
        fitted, was_cut = fit_text(text, budget)
        if was_cut:
            cut.append(name)
        return fitted

    fields = {"id": fit("id", item.id), "source": fit("source", item.source),
              "references": [fit(reference_name(k), r) for k, r in enumerate(item.references)]}
    if cut:
        fields["cut"] = cut
    return fields


def output_fields(item, prediction, metrics: Sequence[str], budget: int, reader: MarkReader | None = None) -> dict:
    """What one system's page adds to an item: its output (`output_cut` when fit_text shortened
    it), flags, item scores and, with a `reader`, the output's marks (from the whole texts, as
    they were scored; fit_marks keeps them within `budget`)."""
    if prediction is None:  # an agreement row over other items than the table's (leaderboard._group)
        return {"output": None}
    output, was_cut = fit_text(prediction.output, budget)
    fields = {"output": output, "truncated": prediction.truncated, "stop": prediction.stop_reason,
              "scores": {m: prediction.scores.get(m) for m in metrics}}
    if was_cut:
        fields["output_cut"] = True
    marks = {} if reader is None else reader.marks(item.source, prediction.output)
    if marks:
        fields["marks"] = fit_marks(marks, budget)
    return fields


def join_objects(first: str, second: str) -> str:
    """Two JSON objects as one (`{"a":1}` + `{"b":2}` → `{"a":1,"b":2}`): an item's JSON from its two
    halves, the item's half encoded once for all systems."""
    return first[:-1] + "," + second[1:]


def system_dirs(models: Sequence[str]) -> list[str]:
    """A folder per row: the model name (the name rule makes it a safe file name), `name-2`, `name-3`
    … for a model that appears again in the table from another run."""
    seen: dict[str, int] = {}
    dirs = []
    for model in models:
        seen[model] = seen.get(model, 0) + 1
        dirs.append(model if seen[model] == 1 else f"{model}-{seen[model]}")
    if len(set(dirs)) != len(dirs):  # `m-2` may itself be a model name
        dirs = [f"{k:02d}-{model}" for k, model in enumerate(models)]
    return dirs


class _PageWriter:
    """Collects the items of the current page for every system of one table and writes them out."""

    def __init__(self, folder: Path, table_dir: str, systems: Sequence[SystemPages], limits: PageLimits) -> None:
        self.folders = [child_path(child_path(folder, table_dir, "table id"), s.dir, "model name") for s in systems]
        self.table_dir, self.systems, self.limits = table_dir, systems, limits
        self.first = 0
        self.page_sizes: list[int] = []
        self._start_page()

    def _start_page(self) -> None:
        self.parts: list[list[str]] = [[] for _ in self.systems]
        self.headers = [self._header(k) for k in range(len(self.systems))]
        # the header and the closing `]});\n`: what a page holds besides its items
        self.sizes = [len(h.encode("utf-8")) + 4 for h in self.headers]

    def _header(self, k: int) -> str:
        number = len(self.page_sizes) + 1
        meta = embed_json({"table": self.table_dir, "system": self.systems[k].dir, "page": number, "first": self.first})
        return f"{CALLBACK}({meta[:-1]},\"items\":["

    def add(self, fragments: Sequence[str]) -> None:
        sizes = [len(f.encode("utf-8")) + 1 for f in fragments]  # + the comma
        count = len(self.parts[0])
        full = count == self.limits.items or any(self.sizes[k] + sizes[k] > self.limits.bytes for k in range(len(sizes)))
        if count and full:
            self.flush()
        for k, fragment in enumerate(fragments):
            self.parts[k].append(fragment)
            self.sizes[k] += sizes[k]

    def flush(self) -> None:
        if not self.parts[0]:
            return
        for k, folder in enumerate(self.folders):
            text = self.headers[k] + ",".join(self.parts[k]) + "]});\n"
            if len(text.encode("utf-8")) > self.limits.bytes:  # text_budget rules this out
                raise HarnessError(f"{folder / page_name(len(self.page_sizes) + 1)}: page over {self.limits.bytes:,} bytes")
            write_text(folder / page_name(len(self.page_sizes) + 1), text)
        count = len(self.parts[0])
        self.page_sizes.append(count)
        self.first += count
        self._start_page()


def table_title(table: LeaderboardTable) -> str:
    return f"{table.task} ({table.n_items} items)" + (f" [{table.id}]" if table.id != table.task else "")


def write_table_pages(folder: Path, table: LeaderboardTable, runs: Sequence[Run], items: ItemsLookup,
                      limits: PageLimits) -> TablePages:
    """The pages of one table under folder/<table id>/, written as the items are walked."""
    by_folder = {r.path.name: r for r in runs}
    systems = tuple(SystemPages(r.label, r.role, d) for r, d in zip(table.rows, system_dirs([r.model for r in table.rows])))
    predictions = [{p.id: p for p in by_folder[r.run].predictions[(r.model, table.task)]} for r in table.rows]
    marked = any(m in MARKED_METRICS for m in table.metrics)
    readers = [mark_reader(by_folder[r.run], r.model, table.task) if marked else None for r in table.rows]
    writer = _PageWriter(folder, table.id, systems, limits)
    for item in items(table.task, table.item_ids):
        budget = text_budget(item, limits, marked)
        shared = embed_json(item_fields(item, budget))
        writer.add([join_objects(shared, embed_json(output_fields(item, preds.get(item.id), table.metrics, budget, reader)))
                    for preds, reader in zip(predictions, readers)])
    writer.flush()
    return TablePages(
        dir=table.id,
        title=table_title(table),
        task=table.task,
        metrics=table.metrics,
        main=table.main_metric,
        lower_is_better=tuple(sorted(m for m in table.metrics if m in LOWER_IS_BETTER)),
        n_items=table.n_items,
        page_sizes=tuple(writer.page_sizes),
        systems=systems,
    )


def write_pages(folder: Path, board: Leaderboard, runs: Sequence[Run], items_for: Callable[[str], ItemsLookup],
                limits: PageLimits = PageLimits()) -> list[TablePages]:
    """Every table's pages under `folder` (the site's samples/); returns their index entries."""
    return [write_table_pages(folder, t, runs, items_for(t.dataset_sha256), limits) for t in board.tables]
