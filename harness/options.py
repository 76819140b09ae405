"""Bounds of the numeric command-line options, checked before any work (one line, exit 2)."""

from __future__ import annotations

import math

from harness.errors import HarnessError

SEED_MAX = 2**32  # numpy's and torch's seeds: 0 <= seed < 2**32
N_BOOT_MAX = 100_000
MAX_ITEM_CHARS = 1 << 26  # `harness score --max-item-chars` default: 64 Mi characters per line
# the n-gram counter indexes one text's positions with int32 (harness/score/ngrams.py)
MAX_ITEM_CHARS_MAX = (1 << 31) - 1


def check_range(option: str, value: float | int | None, low: float, high: float, *,
                low_open: bool = False, high_open: bool = False) -> None:
    """HarnessError unless low <= value <= high (or < with the *_open flags); None passes."""
    if value is None:
        return
    ok = isinstance(value, (int, float)) and math.isfinite(value)
    ok = ok and (value > low if low_open else value >= low) and (value < high if high_open else value <= high)
    if not ok:
        lo, hi = ("(" if low_open else "[") + f"{low:g}", f"{high:g}" + (")" if high_open else "]")
        raise HarnessError(f"{option}: must be in {lo}, {hi} (got {value})")


def check_seed(value: int | None, option: str = "--seed") -> None:
    if value is not None and not 0 <= value < SEED_MAX:
        raise HarnessError(f"{option}: must be between 0 and 2**32 - 1 (got {value})")
