"""How big the leaderboard site's files get at a large item count (targets: index.html <= 2 MB,
every per-sample page <= 10 MB), and how long writing them takes.

Builds a synthetic one-table leaderboard (tests/helpers/synthetic_board.py: no scoring, no ranking)
of N items and M models, writes the site with the default page limits (harness.report.samples) and
prints the size of index.html, the number of page files, their largest and median size, each as a
ratio of its target, and the wall time of the write.

    python bench/page_size.py [--items 100000] [--models 3] [--chars 20] [--output-chars 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]  # this checkout's harness, and the test helpers

INDEX_TARGET = 2_000_000
PAGE_TARGET = 10_000_000


def main() -> None:
    from harness.report.samples import PageLimits
    from harness.report.site import write_site
    from helpers.synthetic_board import synthetic_board

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--models", type=int, default=3)
    parser.add_argument("--chars", type=int, default=20, help="characters of each source and reference")
    parser.add_argument("--output-chars", type=int, default=20, help="characters of each output")
    args = parser.parse_args()
    models = [f"model-{k}" for k in range(args.models)]
    board, runs, items_for = synthetic_board(args.items, models, text_chars=args.chars,
                                             output_chars={m: args.output_chars for m in models})
    limits = PageLimits()
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site"
        start = time.perf_counter()
        write_site(site, board, runs, items_for, {}, limits)
        wall = time.perf_counter() - start
        index = (site / "index.html").stat().st_size
        pages = [p.stat().st_size for p in (site / "samples").rglob("*.js")]
    print(f"{args.items:,} items × {args.models} models, texts of {args.chars} characters, outputs of {args.output_chars}; "
          f"pages of at most {limits.items} items and {limits.bytes:,} bytes")
    print(f"index.html      {index:>12,} bytes ({index / INDEX_TARGET:.4f}× the 2 MB target)")
    print(f"page files      {len(pages):>12,}")
    print(f"largest page    {max(pages):>12,} bytes ({max(pages) / PAGE_TARGET:.4f}× the 10 MB target)")
    print(f"median page     {int(statistics.median(pages)):>12,} bytes")
    print(f"all pages       {sum(pages):>12,} bytes")
    print(f"write           {wall:>12.1f} s (pages, index.html; every file fsynced)")


if __name__ == "__main__":
    main()
