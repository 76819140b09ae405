"""Name lookups with "did you mean" suggestions, shared by every registry in the project."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import TypeVar

from harness.errors import HarnessError

T = TypeVar("T")


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """' (did you mean 'x'?)' or ' (known: a, b, c)' — a suffix for an error message."""
    known = sorted(known)
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    if close:
        return f" (did you mean '{close[0]}'?)"
    return f" (known: {', '.join(known)})"


def lookup(kind: str, name: str, table: Mapping[str, T]) -> T:
    try:
        return table[name]
    except KeyError:
        raise HarnessError(f"unknown {kind} '{name}'{did_you_mean(name, table)}") from None
