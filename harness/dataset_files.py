"""Reading a user task's dataset into rows, and the dataset's sha256 (what the manifest records).

A dataset is one of:

- a `.jsonl` file (one JSON object per line; U+2028/U+2029 inside strings are kept),
- a `.csv` file (UTF-8, a header row; a BOM is ignored),
- a `.parquet` file,
- a folder written by `datasets`' `save_to_disk` (give `split` when it holds several),
- a folder of data files the `datasets` library loads without a loading script (`config`, `split`),
- a Hugging Face Hub dataset id (`owner/name`), downloaded once into the Hub cache (needs a network).

Every row carries where it came from (`file:line` for JSONL and CSV, `file row N` otherwise), so a
bad row is named in the error. Nothing here runs code from the dataset (`trust_remote_code` is off).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from harness import io as hio
from harness.errors import DatasetError, HarnessError
from harness.io import sha256_file, sha256_text

SUFFIXES = (".jsonl", ".csv", ".parquet")
HUB_ID = re.compile(r"[\w.-]+/[\w.-]+")


@dataclass(frozen=True)
class DatasetTable:
    name: str  # how errors name the dataset (its path or Hub id)
    columns: tuple[str, ...]
    rows: list[tuple[str, dict]]  # (where, row)


def _error(message: str) -> DatasetError:
    return DatasetError(message, "dataset")


def read_table(spec: str, *, config: str | None = None, split: str | None = None) -> DatasetTable:
    path = Path(spec).expanduser()
    if path.is_file():
        if config is not None or split is not None:
            raise _error(f"{spec}: config and split apply to `datasets` folders and Hub ids, not to a single file")
        return read_file(path)
    if path.is_dir():
        return _read_datasets_folder(path, config, split)
    if HUB_ID.fullmatch(spec) and not spec.endswith(SUFFIXES):
        return _read_datasets_folder(_hub_snapshot(spec), config, split, name=spec)
    raise _error(f"{spec}: dataset not found (a .jsonl, .csv or .parquet file, a `datasets` folder or a Hub id)")


def read_file(path: Path) -> DatasetTable:
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise _error(f"{path}: unsupported dataset file type '{suffix or path.name}' (use {', '.join(SUFFIXES)} or a folder)")
    if suffix == ".parquet":
        try:
            import pyarrow.parquet as pq  # pyarrow: heavy (0.2 s), only for Parquet files

            data = pq.ParquetFile(path).read().to_pylist()
            columns = pq.ParquetFile(path).schema_arrow.names
        except Exception as e:  # pyarrow raises several types for a damaged file
            raise _error(f"{path}: cannot read as Parquet ({type(e).__name__}: {e})") from None
        return DatasetTable(str(path), tuple(columns), [(f"{path} row {n}", row) for n, row in enumerate(data, 1)])
    try:
        data = path.read_bytes()
    except OSError as e:
        raise _error(f"{path}: cannot read ({e.strerror})") from None
    try:
        if suffix == ".jsonl":  # U+2028/U+2029 inside strings are kept (harness.io splits on "\n" only)
            return _jsonl(path, hio.parse_jsonl(data, path))
        return _csv(path, hio.decode(data, path).removeprefix("\ufeff"))
    except HarnessError as e:
        if isinstance(e, DatasetError):
            raise
        raise _error(str(e)) from None


def _jsonl(path: Path, lines: list[tuple[str, object]]) -> DatasetTable:
    rows, columns = [], {}
    for where, row in lines:
        if not isinstance(row, dict):
            raise _error(f"{where}: expected a JSON object, got {type(row).__name__}")
        columns.update(dict.fromkeys(row))
        rows.append((where, row))
    return DatasetTable(str(path), tuple(columns), rows)


def _csv(path: Path, text: str) -> DatasetTable:
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    start = 1  # the line the record being read starts on
    try:
        header = reader.fieldnames or []
        if len(set(header)) != len(header):
            raise _error(f"{path}:1: a column name appears twice in the header")
        rows = []
        start = 2
        for row in reader:
            if None in row:
                raise _error(f"{path}:{start}: more cells than header columns")
            rows.append((f"{path}:{start}", dict(row)))
            start = reader.line_num + 1
    except csv.Error as e:
        raise _error(f"{path}:{start}: not valid CSV ({e})") from None
    return DatasetTable(str(path), tuple(header), rows)


def _read_datasets_folder(folder: Path, config: str | None, split: str | None, name: str | None = None) -> DatasetTable:
    name = name or str(folder)
    try:
        import datasets  # heavy (1 s): only for `datasets` folders and Hub ids
    except ImportError as e:  # a declared dependency; only a broken install lacks it
        raise _error(f"{name}: reading a dataset folder needs the `datasets` library ({e})") from None
    saved = (folder / "dataset_info.json").is_file() or (folder / "dataset_dict.json").is_file()
    try:
        if saved:
            if config is not None:
                raise _error(f"{name}: a save_to_disk folder has no configs; leave `config` out")
            data = datasets.load_from_disk(str(folder))
        else:
            data = datasets.load_dataset(str(folder), name=config, split=split)
    except HarnessError:
        raise
    except Exception as e:  # datasets raises many types (no data files, unknown config or split, …)
        raise _error(f"{name}: cannot load with `datasets` ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})") from None
    if isinstance(data, datasets.DatasetDict):
        splits = sorted(data)
        if split is None:
            if len(splits) != 1:
                raise _error(f"{name}: holds splits {', '.join(splits)}; give `split`")
            split = splits[0]
        if split not in data:
            raise _error(f"{name}: no split '{split}' (splits: {', '.join(splits)})")
        data = data[split]
    where = f"{name}{f' [{split}]' if split else ''}"
    return DatasetTable(where, tuple(data.column_names), [(f"{where} row {n}", row) for n, row in enumerate(data, 1)])


def _hub_snapshot(repo: str) -> Path:
    """The Hub dataset's files in the local Hub cache (downloaded when missing)."""
    try:
        from huggingface_hub import snapshot_download  # heavy: only for a Hub id

        return Path(snapshot_download(repo, repo_type="dataset"))
    except Exception as e:  # offline, unknown repo, gated: all mean "not available"
        raise _error(f"{repo}: not a local file or folder, and it could not be fetched from the Hugging Face Hub "
                     f"({type(e).__name__})") from None


def dataset_sha256(spec: str) -> str:
    """sha256 of a dataset file's bytes, or of a folder: the canonical list of its files
    (`relative/path<TAB>sha256<LF>`, sorted, hidden files and folders left out)."""
    path = Path(spec).expanduser()
    if path.is_file():
        return sha256_file(path)
    if not path.is_dir() and HUB_ID.fullmatch(spec):
        path = _hub_snapshot(spec)
    if not path.is_dir():
        raise _error(f"{spec}: dataset not found")
    return folder_sha256(path)


def folder_sha256(folder: Path) -> str:
    lines = []
    for file in sorted(folder.rglob("*")):
        rel = file.relative_to(folder)
        if file.is_file() and not any(part.startswith(".") for part in rel.parts):
            lines.append(f"{rel.as_posix()}\t{sha256_file(file)}\n")
    return sha256_text("".join(lines))
