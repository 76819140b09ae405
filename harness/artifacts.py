"""Files the harness derives once and keeps in the user's cache folder, never in the package.

- `cache_dir`: `$HARNESS_CACHE`, else the platform's user cache folder. It holds the generation
  cache, the assembled GGUF models and their transformers conversions, the bundled encoder, the
  embedding cache and the memoised token counts.
- `VerifiedMemo`: "hash once, re-verify when the file's stat changes", as git's index does. A JSON
  record keeps the stat the files had when they were last hashed (`stat_key`: size, mtime, ctime
  and inode); while it is unchanged the hash is trusted, so a cached rerun does not re-hash
  hundreds of MB, while a file written since (even with its mtime set back: no user can set ctime)
  is hashed again and a tampered or truncated file is refused.
- `open_store`: a SQLite store (stdlib, WAL) with its table, for the caches that are keyed tables.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Mapping
from pathlib import Path

import platformdirs

from harness.errors import HarnessError
from harness.io import read_json, write_json

CACHE_ENV = "HARNESS_CACHE"
#: The record field holding the stat the files were verified at.
VERIFIED_STAT = "verified_stat"


def cache_dir() -> Path:
    """`$HARNESS_CACHE`, else the platform's user cache dir; refused when inside the package."""
    env = os.environ.get(CACHE_ENV)
    folder = Path(env).expanduser() if env else Path(platformdirs.user_cache_dir("zh-eval-harness"))
    package = Path(__file__).resolve().parent
    resolved = folder.resolve()
    if resolved == package or package in resolved.parents:
        raise HarnessError(f"{CACHE_ENV}={folder}: the cache must not live inside the harness package")
    return folder


# --------------------------------------------------------------------------- verified files


def stat_key(path: Path) -> list[int] | None:
    """What changes whenever a file's bytes are written: size, mtime, ctime (which no user can set
    back) and inode; None when there is no file."""
    if not path.is_file():
        return None
    st = path.stat()
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]


class VerifiedMemo:
    """The JSON record of what was checked about some files, valid while their stat is `stat`.

    The record is the whole file, or its entry `key` when one file memoises many folders.
    `belongs(record)` says whether a stored record is about these files at all (another pin, a
    damaged memo: ignored, so it only costs a rehash)."""

    def __init__(self, path: Path, stat: object, *, key: str | None = None,
                 belongs: Callable[[dict], bool] | None = None):
        self.path = path
        self.stat = stat
        self.key = key
        self._stored = _read_object(path)
        record = self._stored if key is None else self._stored.get(key)
        self.record: dict = record if isinstance(record, dict) and (belongs is None or belongs(record)) else {}

    @property
    def current(self) -> bool:
        """True while the files keep the stat they were last verified at: no need to hash them."""
        return self.record.get(VERIFIED_STAT) == self.stat

    def save(self, record: Mapping, *, keep: Callable[[str], bool] | None = None) -> None:
        """Store `record` as verified at the files' stat now; with `key`, `keep` says which other
        entries of the memo stay (e.g. only those of folders that still exist)."""
        self.record = {**record, VERIFIED_STAT: self.stat}
        if self.key is None:
            write_json(self.path, self.record)
            return
        entries = {k: v for k, v in self._stored.items() if keep is None or keep(k)}
        entries[self.key] = self.record
        write_json(self.path, entries)


def _read_object(path: Path) -> dict:
    if not path.is_file():
        return {}
    try:
        data = read_json(path)
    except (OSError, ValueError, HarnessError):  # a damaged memo only costs a rehash
        return {}
    return data if isinstance(data, dict) else {}


# --------------------------------------------------------------------------- SQLite stores


def open_store(path: Path, table: str, *, what: str = "cache", autocommit: bool = False,
               timeout: float = 60) -> sqlite3.Connection:
    """The SQLite file at `path` with `table` (a CREATE TABLE IF NOT EXISTS statement) created;
    `what` names the store in the one-line error for a damaged file.

    WAL journal: committed rows survive a killed process, and two runs may share the store.
    `autocommit`: the caller opens its own transactions (BEGIN IMMEDIATE)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise HarnessError(f"{path.parent}: cannot create the cache folder ({e.strerror})") from None
    try:
        db = sqlite3.connect(path, timeout=timeout, isolation_level=None if autocommit else "")
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")  # with WAL: durable across process kills
        db.execute(table)
    except sqlite3.DatabaseError as e:
        raise HarnessError(f"{path}: not a usable {what} ({e}); delete it") from None
    return db
