#!/usr/bin/env python3
"""Put results/default/results.md into the README between its results:default markers.

    python scripts/readme_results.py [--check]

Headings are moved two levels down (the run's "# Results" becomes a "###" under the README's
"## The default leaderboard"); nothing else changes. `--check` exits 1 when the README differs
(tests/test_gguf.py runs the same comparison after `harness rescore`).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
START, END = "<!-- results:default -->", "<!-- /results:default -->"


def readme_block(results_md: str) -> str:
    """The README's block for a results.md text: headings two levels down."""
    return re.sub(r"^(#+) ", lambda m: "#" * (len(m.group(1)) + 2) + " ", results_md.strip(), flags=re.MULTILINE)


def with_block(readme: str, results_md: str) -> str:
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{readme_block(results_md)}\n{END}{tail}"


def main() -> int:
    readme_path = ROOT / "README.md"
    readme = readme_path.read_text(encoding="utf-8")
    updated = with_block(readme, (ROOT / "results" / "default" / "results.md").read_text(encoding="utf-8"))
    if "--check" in sys.argv[1:]:
        if updated != readme:
            print("README.md: the results:default block differs from results/default/results.md; "
                  "run python scripts/readme_results.py", file=sys.stderr)
            return 1
        return 0
    readme_path.write_text(updated, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
