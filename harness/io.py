"""The one place that writes, reads and hashes files, for every stage (data, generate, score, report).

- Atomic writes: a temporary sibling, fsync, rename. A reader never sees half a file, and a
  killed process leaves the old file. Published files are 0644, folders 0755 (results and
  leaderboards are shared: Pages, CI artefacts).
- JSONL: split on "\\n" only. `str.splitlines()` also splits on U+2028/U+2029 (and \\x1c-\\x1e,
  \\x85), which JSON written with ensure_ascii=False leaves raw inside strings. A UTF-8 BOM is
  accepted, as everywhere else the harness reads text.
- sha256 of bytes, text, files (streamed) and canonical JSON (sorted keys, no spaces).
- One Markdown-table writer with one escaping rule (`md_text`), and one CSV writer that
  neutralises cells that a spreadsheet would run as a formula (OWASP "CSV injection").
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from harness.errors import HarnessError
from harness.interrupt import deferred
from harness.names import child_path

FILE_MODE = 0o644
FOLDER_MODE = 0o755
_BLOCK = 1 << 22  # 4 MiB: model files are hundreds of MB

# --- atomic writes ---------------------------------------------------------------------------------


@contextmanager
def atomic_writer(path: Path, mode: str = "w") -> Iterator[IO]:
    """An open temporary sibling of `path` ("w": UTF-8 text with "\\n" newlines, "wb": bytes);
    it replaces `path` when the block ends without an exception, else it is removed."""
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_writer: mode {mode!r}")
    path = Path(path)
    make_folders(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode, **({"encoding": "utf-8", "newline": "\n"} if mode == "w" else {})) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, FILE_MODE)  # mkstemp creates 0600
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def make_folders(folder: Path) -> None:
    """mkdir -p, with every folder it creates 0755 whatever the umask (like the 0644 files)."""
    folder = Path(folder)
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for created in reversed(missing):
        created.mkdir(exist_ok=True)
        os.chmod(created, FOLDER_MODE)


def write_bytes(path: Path, data: bytes) -> None:
    with atomic_writer(path, "wb") as f:
        f.write(data)


def write_text(path: Path, text: str) -> None:
    with atomic_writer(path, "w") as f:
        f.write(text)


def json_text(obj) -> str:
    """Readable JSON as the harness writes it: UTF-8 kept, indent 2, a final newline."""
    return json.dumps(obj, ensure_ascii=False, indent=2) + "\n"


def write_json(path: Path, obj) -> None:
    write_text(path, json_text(obj))


# --- reading ---------------------------------------------------------------------------------------


def read_text(path: Path) -> str:
    """A UTF-8 text file (a BOM is dropped); missing or undecodable files are one-line errors."""
    path = Path(path)
    if not path.is_file():
        raise HarnessError(f"{path}: not found")
    return decode(path.read_bytes(), path)


def decode(data: bytes, path: Path | str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise HarnessError(f"{path}: not UTF-8 (byte {e.start})") from None


def read_json(path: Path):
    path = Path(path)
    text = read_text(path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise HarnessError(f"{path}: invalid JSON at line {e.lineno}: {e.msg}") from None


# --- JSONL -----------------------------------------------------------------------------------------


def parse_jsonl(text: str | bytes, path: Path | str) -> list[tuple[str, object]]:
    """(`file:line`, value) per non-blank line. Lines are split on "\\n" only (see the module doc)."""
    if isinstance(text, bytes):
        text = decode(text, path)
    text = text.removeprefix("\ufeff")
    out = []
    for n, line in enumerate(text.split("\n"), 1):
        if line.strip():
            try:
                out.append((f"{path}:{n}", json.loads(line)))
            except json.JSONDecodeError as e:
                raise HarnessError(f"{path}:{n}: not valid JSON ({e.msg})") from None
    return out


def read_jsonl(path: Path) -> list[tuple[str, object]]:
    path = Path(path)
    if not path.is_file():
        raise HarnessError(f"{path}: not found")
    return parse_jsonl(path.read_bytes(), path)


def jsonl_text(rows: Iterable) -> str:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def write_jsonl(path: Path, rows: Iterable) -> None:
    write_text(path, jsonl_text(rows))


# --- hashes ----------------------------------------------------------------------------------------


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_text(text: str) -> str:
    return sha256_bytes(text.encode("utf-8"))


def sha256_file(path: Path) -> str:
    """Streamed in 4 MiB blocks: model files are hundreds of MB."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as f:
        for block in iter(lambda: f.read(_BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()


def canonical_json(obj) -> str:
    """One spelling per value: sorted keys, no spaces, UTF-8 kept (for hashes and keys)."""
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def sha256_json(obj) -> str:
    return sha256_text(canonical_json(obj))


# --- staged folders --------------------------------------------------------------------------------


@contextmanager
def staged_folder(target: Path) -> Iterator[Path]:
    """Yield an empty hidden sibling folder (0755); on success it replaces `target` in one rename,
    on failure it is removed. Staging folders left by killed runs (their process is gone) are cleared.
    Refuses a target that is not a direct child of its parent (".", "..", a symlink elsewhere):
    replacing it would replace the parent or a sibling."""
    target = Path(target)
    child_path(target.parent, target.name, "folder name")
    make_folders(target.parent)
    for stale in target.parent.glob(f".{target.name}.tmp-*-*"):
        pid = stale.name.removeprefix(f".{target.name}.tmp-").split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(stale, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-{os.getpid()}-", dir=target.parent))
    try:
        os.chmod(tmp, FOLDER_MODE)  # mkdtemp creates 0700, while the files inside are 0644
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    with deferred():  # Ctrl-C between the renames would leave no folder at `target`, or a stray old one
        old = None
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
            old.rmdir()
            target.rename(old)
        tmp.rename(target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


@contextmanager
def scratch_folder(near: Path, prefix: str) -> Iterator[Path]:
    """A hidden temporary folder beside `near` (same file system, so its files can be renamed into
    place), removed when the block ends, whatever happens."""
    tmp = Path(tempfile.mkdtemp(prefix=prefix, dir=Path(near).resolve().parent))
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


# --- Markdown tables -------------------------------------------------------------------------------


class Markdown(str):
    """A cell that is already Markdown (e.g. `**bold**` around escaped text): written as it is."""


def md_text(text) -> str:
    """Plain text for Markdown: backslash, pipe, backtick, emphasis and HTML-significant
    characters neutralised, whitespace (newlines too) folded to single spaces."""
    out = str(text)
    out = out.replace("\\", "\\\\").replace("|", "\\|").replace("`", "\\`").replace("*", "\\*").replace("_", "\\_")
    out = out.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return " ".join(out.split())


def md_code(text: str) -> str:
    """Inline code span that holds any text: a fence longer than any backtick run inside it,
    newlines folded. Inside a table cell a `|` must still be escaped: use it outside tables, or
    through `markdown_table`, which escapes the pipes of code cells."""
    text = " ".join(str(text).split())
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return Markdown(f"{fence}{pad}{text}{pad}{fence}")


def md_cell(value) -> str:
    """The one escaping rule of table cells: text through `md_text`; `Markdown` cells as they
    are, except that a `|` (which would end the cell even inside a code span) is escaped."""
    if isinstance(value, Markdown):
        return re.sub(r"(?<!\\)\|", r"\\|", str(value))
    return md_text(value)


_ALIGN = {"l": "---", "r": "---:", "c": ":---:"}


def markdown_table(header: Sequence, rows: Iterable[Sequence], align: str) -> list[str]:
    """Lines of a Markdown table; `align` holds one of l/r/c per column."""
    if len(align) != len(header):
        raise ValueError("markdown_table: one alignment per column")
    lines = ["| " + " | ".join(md_cell(h) for h in header) + " |",
             "|" + "|".join(_ALIGN[a] for a in align) + "|"]
    for row in rows:
        if len(row) != len(header):
            raise ValueError("markdown_table: one cell per column")
        lines.append("| " + " | ".join(md_cell(c) for c in row) + " |")
    return lines


# --- CSV -------------------------------------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def csv_cell(value) -> str | int | float:
    """A cell a spreadsheet will not run as a formula: text starting with = + - @ tab or CR gets
    a leading single quote (OWASP). Numbers, and text that is exactly a number, stay numbers."""
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    text = str(value)
    if text.startswith(_FORMULA_START) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def csv_text(header: Sequence, rows: Iterable[Sequence]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([csv_cell(h) for h in header])
    for row in rows:
        writer.writerow([csv_cell(c) for c in row])
    return buf.getvalue()
