"""The leaderboard's output folder, written whole: the tables (Markdown, CSV, JSON), index.html and
the per-sample pages in samples/ (harness.report.samples).

The folder is built in a hidden sibling and swapped in with one rename (harness.io.staged_folder):
a reader never sees new pages beside an old index.html, no page of an earlier leaderboard is left
behind, and on any error nothing is written. Because the swap replaces the folder, `--out` must be
new, empty, or a folder holding only what a leaderboard writes; anything else in it is refused
rather than deleted. Its name follows the one name rule (harness.names), as every staged folder's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from harness.errors import HarnessError
from harness.io import staged_folder, write_text
from harness.names import name_problem
from harness.report.html import page_html
from harness.report.leaderboard import Leaderboard
from harness.report.runs import Run
from harness.report.samples import SAMPLES, PageLimits, TablePages, pages_index, write_pages
from harness.report.significance import ItemsLookup

PAGE = "index.html"
TABLE_FILES = ("leaderboard.md", "leaderboard.csv", "leaderboard.json")
SITE_ENTRIES = frozenset({*TABLE_FILES, PAGE, SAMPLES})


def check_out_folder(out: Path) -> Path:
    """`out` as an absolute path, refused (before any work) when replacing it could lose anything
    that is not a leaderboard's own file."""
    out = Path(out).absolute()
    problem = name_problem(out.name)
    if problem is not None:  # staged_folder's rule: the folder is swapped in by name beside its parent
        raise HarnessError(f"--out: {out}: the folder's name must be {problem}")
    if out.exists() or out.is_symlink():
        if out.is_symlink() or not out.is_dir():
            raise HarnessError(f"--out: {out} exists and is not a folder")
        others = sorted(p.name for p in out.iterdir() if p.name not in SITE_ENTRIES)
        if others:
            raise HarnessError(
                f"--out: {out} holds {others[0]!r}" + (f" and {len(others) - 1} more" if len(others) > 1 else "")
                + ", which a leaderboard does not write; the folder is replaced whole, so choose a new or empty folder"
            )
    return out


def write_site(out: Path, board: Leaderboard, runs: Sequence[Run], items_for: Callable[[str], ItemsLookup],
               tables: Mapping[str, str], limits: PageLimits = PageLimits()) -> list[TablePages]:
    """Writes `tables` (file name → text, rendered), the per-sample pages and index.html into `out`
    as one folder; returns the pages written, per table."""
    unknown = set(tables) - set(TABLE_FILES)
    if unknown:
        raise ValueError(f"write_site: not a leaderboard file: {sorted(unknown)}")
    out = check_out_folder(out)
    with staged_folder(out) as folder:
        pages = write_pages(folder / SAMPLES, board, runs, items_for, limits)
        for name, text in tables.items():
            write_text(folder / name, text)
        write_text(folder / PAGE, page_html(board, pages_index(pages)))
    return pages
