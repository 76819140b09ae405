"""The generation cache: SQLite (stdlib, WAL) in the user's cache directory, never in the package.

A completion is stored under the sha256 of everything that can change it (`cache_key`): the
model's identity (name, revision, weights hash or resolved commit, engine), the backend settings
that affect outputs, the generation settings and max_new_tokens, the exact rendered prompt, the
prompt template version and hash, and any request field the backend reads besides the prompt.
Metrics and post-processing are not in the key: changing them never regenerates.

Completions are committed in small transactions as they arrive, so a run killed at any moment
(SIGKILL included) loses at most the last uncommitted few; WAL keeps committed rows safe and lets
two runs share the database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from harness.artifacts import cache_dir, open_store
from harness.io import sha256_json

SCHEMA_VERSION = 1
FILENAME = f"generations-v{SCHEMA_VERSION}.sqlite"


def cache_key(parts: Mapping) -> str:
    """sha256 of the canonical JSON of the key parts (sorted keys, no whitespace)."""
    return sha256_json(parts)


@dataclass(frozen=True)
class CachedCompletion:
    raw: str
    output_tokens: int
    stop_reason: str
    latency_s: float


class GenerationCache:
    """Key → completion, in one SQLite file."""

    def __init__(self, folder: Path | None = None):
        self.folder = Path(folder) if folder is not None else cache_dir()
        self.path = self.folder / FILENAME
        self._db = open_store(self.path, (
            "CREATE TABLE IF NOT EXISTS completions (key TEXT PRIMARY KEY, raw TEXT NOT NULL, "
            "output_tokens INTEGER NOT NULL, stop_reason TEXT NOT NULL, latency_s REAL NOT NULL, "
            "model TEXT NOT NULL, created TEXT NOT NULL)"), what="generation cache", autocommit=True)

    def get_many(self, keys: Iterable[str]) -> dict[str, CachedCompletion]:
        keys = list(dict.fromkeys(keys))
        found: dict[str, CachedCompletion] = {}
        for start in range(0, len(keys), 500):  # SQLite's bound-parameter limit
            chunk = keys[start : start + 500]
            rows = self._db.execute(
                "SELECT key, raw, output_tokens, stop_reason, latency_s FROM completions "
                f"WHERE key IN ({','.join('?' * len(chunk))})",
                chunk,
            )
            for key, raw, tokens, reason, latency in rows:
                found[key] = CachedCompletion(raw, tokens, reason, latency)
        return found

    def put_many(self, rows: Iterable[tuple[str, str, CachedCompletion]]) -> None:
        """Commit (key, model name, completion) rows in one transaction."""
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        values = [(k, c.raw, c.output_tokens, c.stop_reason, c.latency_s, m, now) for k, m, c in rows]
        if not values:
            return
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.executemany("INSERT OR REPLACE INTO completions VALUES (?, ?, ?, ?, ?, ?, ?)", values)
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def __len__(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM completions").fetchone()[0]

    def close(self) -> None:
        self._db.close()


class NoCache:
    """`--no-cache`: nothing is read, so everything is regenerated; new completions still refresh the cache."""

    def __init__(self, cache: GenerationCache):
        self._cache = cache
        self.path = cache.path

    def get_many(self, keys: Iterable[str]) -> dict[str, CachedCompletion]:
        return {}

    def put_many(self, rows) -> None:
        self._cache.put_many(rows)

    def __len__(self) -> int:
        return len(self._cache)

    def close(self) -> None:
        self._cache.close()
