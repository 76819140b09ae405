"""One rule for the names that become folder or file names (run names, model names), and the one
place that turns such a name into a path under a root folder.

A name is one path component of letters, digits, '.', '_' and '-', starting with a letter or a
digit, at most 128 characters. That rules out "", ".", "..", hidden names, names that look like
options ("-x"), path separators and control characters. Every path derived from a name goes
through `child_path`, which also checks the resolved path is a direct child of its root: a run
may replace only results/<run>/, never the results folder itself or a sibling.
"""

from __future__ import annotations

import re
from pathlib import Path

from harness.errors import HarnessError, excerpt

NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
RULE = "1-128 letters, digits, '.', '_' or '-', starting with a letter or digit (it names a folder or file)"


def name_problem(value: object) -> str | None:
    """Why `value` is not a valid name, or None when it is."""
    if not isinstance(value, str):
        return f"must be a string (got {type(value).__name__})"
    if NAME_RE.fullmatch(value) is None:
        return RULE
    return None


def check_name(value: object, what: str) -> str:
    """`value` when it is a valid name, else HarnessError naming `what` (e.g. "run name")."""
    problem = name_problem(value)
    if problem is not None:
        raise HarnessError(f"{what} {excerpt(value)}: {problem}")
    return value  # type: ignore[return-value]


def child_path(root: Path, name: str, what: str = "name") -> Path:
    """root/name, refused unless `name` is a valid name and the result is a direct child of root
    (after resolving symlinks of the root)."""
    check_name(name, what)
    root = Path(root)
    path = root / name
    resolved_root = root.resolve()
    if path.resolve().parent != resolved_root:
        raise HarnessError(f"{path}: not a direct child of {root} (a {what} may only name its own folder)")
    return path


def check_results_root(root: Path, option: str = "--results") -> Path:
    """A folder that receives results/<run>/: it may not exist yet, but must not be a file."""
    root = Path(root)
    for p in (root, *root.parents):
        if p.exists() or p.is_symlink():
            if not p.is_dir():
                raise HarnessError(f"{option} {root}: {p} is not a folder")
            break
    return root


def run_folder(root: Path, run: str) -> Path:
    """results/<run>: the only folder a run may replace."""
    return child_path(check_results_root(root), run, "run name")
