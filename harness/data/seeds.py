"""Read the seed folder strictly: the five known files, byte-exact, or a one-line error."""

from __future__ import annotations

from pathlib import Path

from harness.data.clean import Document, clean_document
from harness.data.rules import SEEDS, SEEDS_BY_FILENAME, SEEDS_BY_ID
from harness.errors import HarnessError
from harness.io import sha256_bytes
from harness.registry import did_you_mean


def read_seed_text(path: Path, expected_sha256: str) -> str:
    if not path.is_file():
        raise HarnessError(f"{path}: missing seed file")
    raw = path.read_bytes()
    if not raw.strip():
        raise HarnessError(f"{path}: empty seed file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise HarnessError(f"{path}: not UTF-8 (byte 0x{raw[e.start]:02x} at offset {e.start})") from None
    digest = sha256_bytes(raw)
    if digest != expected_sha256:
        raise HarnessError(
            f"{path}: unrecognised content (sha256 {digest[:12]}…, expected {expected_sha256[:12]}…); "
            "the cleaning rules are written for the pinned seeds"
        )
    return text


def load_documents(seeds_dir: Path) -> list[Document]:
    """Clean every seed in ``seeds_dir``; raises HarnessError before anything is written."""
    if not seeds_dir.is_dir():
        raise HarnessError(f"{seeds_dir}: seed folder does not exist")
    for path in sorted(seeds_dir.iterdir()):
        if path.suffix == ".txt" and path.name not in SEEDS_BY_FILENAME:
            raise HarnessError(f"{path}: unrecognised seed file (known: {', '.join(s.filename for s in SEEDS)})")
    return [clean_document(spec, read_seed_text(seeds_dir / spec.filename, spec.sha256)) for spec in SEEDS]


def load_document(seeds_dir: Path, doc_id: str) -> Document:
    spec = SEEDS_BY_ID.get(doc_id)
    if spec is None:
        raise HarnessError(f"unknown document id '{doc_id}'{did_you_mean(doc_id, SEEDS_BY_ID)}")
    return clean_document(spec, read_seed_text(seeds_dir / spec.filename, spec.sha256))
