"""Write the dataset folder: parquet configs, the dataset card and MANIFEST.json.

The build is deterministic (same seeds and references → same bytes) and atomic: everything is
written into a temporary sibling folder which replaces the target only when complete.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from importlib.metadata import version
from pathlib import Path

from harness import __version__
from harness.data.card import AgreementRow, render_card
from harness.data.card_references import reference_provenance
from harness.data.clean import Document
from harness.data.passages import document_passages
from harness.data.reference_checks import load_and_validate
from harness.data.references import References
from harness.data.seeds import load_documents
from harness.errors import HarnessError
from harness.io import sha256_file, staged_folder, write_text
from harness.names import check_results_root, child_path

DATASET_NAME = "zh-llm-news-eval"

# Known metadata fields get their own column; anything else goes into `extra` (JSON).
METADATA_COLUMNS = ("title", "subtitle", "author", "source", "url", "publisher_summary", "sidebar")


def documents_rows(docs: Iterable[Document]) -> list[dict]:
    rows = []
    for d in docs:
        extra = {k: v for k, v in sorted(d.metadata.items()) if k not in METADATA_COLUMNS and k != "keywords"}
        rows.append(
            {
                "id": d.id,
                **{c: d.metadata.get(c) for c in METADATA_COLUMNS},
                "keywords": list(d.metadata.get("keywords", [])),
                "script": d.script,
                "text": d.text,
                "text_simplified": d.text_simplified,
                "paragraph_ids": [d.paragraph_id(i) for i in range(1, len(d.paragraphs) + 1)],
                "segment_ids": [s.id for s in d.segments],
                "source_file": d.source_file,
                "source_sha256": d.source_sha256,
                "extra": json.dumps(extra, ensure_ascii=False, sort_keys=True),
            }
        )
    return rows


def segments_rows(docs: Iterable[Document]) -> list[dict]:
    return [
        {
            "id": s.id,
            "doc_id": s.doc_id,
            "paragraph": s.paragraph,
            "sentence": s.sentence,
            "zh": s.zh,
            "zh_simplified": s.zh_simplified,
        }
        for d in docs
        for s in d.segments
    ]


def summarization_rows(docs: Iterable[Document], refs: References) -> list[dict]:
    return [
        {
            "doc_id": d.id,
            "title": d.metadata.get("title"),
            "script": d.script,
            "text": d.text,
            "text_simplified": d.text_simplified,
            "summaries_zh": refs.summaries[d.id, "zh"].texts(),
            "summaries_en": refs.summaries[d.id, "en"].texts(),
            "publisher_summary": d.metadata.get("publisher_summary"),
        }
        for d in docs
    ]


def translation_rows(docs: Iterable[Document], refs: References) -> list[dict]:
    english = refs.english()
    return [
        {"segment_id": s.id, "doc_id": s.doc_id, "zh": s.zh, "zh_simplified": s.zh_simplified, "en": english[s.id]}
        for d in docs
        for s in d.segments
    ]


def translation_paragraph_rows(docs: Iterable[Document], refs: References) -> list[dict]:
    english = refs.english()
    return [
        {
            "paragraph_id": d.paragraph_id(i),
            "doc_id": d.id,
            "segment_ids": [s.id for s in paragraph],
            "zh": "".join(s.zh for s in paragraph),  # the paragraph line of `text`, exactly
            "zh_simplified": "".join(s.zh_simplified for s in paragraph),
            "en": " ".join(english[s.id] for s in paragraph),
        }
        for d in docs
        for i, paragraph in enumerate(d.paragraphs, start=1)
    ]


def passage_rows(docs: Iterable[Document], refs: References) -> list[dict]:
    """The passage summarisation config: each passage with its two summaries per language, and the
    English reference translation of its segments (`translation_en`: what the cross-lingual task's
    lead baseline takes its first sentences from)."""
    english = refs.english()
    return [
        {
            "passage_id": p.id,
            "doc_id": d.id,
            "paragraph_ids": list(p.paragraph_ids),
            "segment_ids": list(p.segment_ids),
            "script": d.script,
            "text": p.text,
            "text_simplified": p.text_simplified,
            # segments joined by spaces, paragraphs by "\n" (as `text`): a heading stays its own line
            "translation_en": "\n".join(" ".join(english[s] for s in p.segment_ids if s.startswith(f"{para}-"))
                                        for para in p.paragraph_ids),
            "passage_summaries_zh": refs.passages[d.id, "zh"].texts(p.id),
            "passage_summaries_en": refs.passages[d.id, "en"].texts(p.id),
        }
        for d in docs
        for p in document_passages(d)
    ]


def write_parquet(rows: list[dict], path: Path, schema) -> None:
    import pyarrow as pa  # heavy: only a build writes parquet
    import pyarrow.parquet as pq  # heavy: as pyarrow

    table = pa.Table.from_pylist(rows, schema=schema)
    # Fixed writer options so that bytes depend only on the rows (and the pyarrow version).
    pq.write_table(table, path, compression="zstd", use_dictionary=False, write_statistics=False)


def schemas():
    import pyarrow as pa  # heavy: only a build writes parquet

    string, strings = pa.string(), pa.list_(pa.string())
    return {
        "documents": pa.schema(
            [("id", string), *[(c, string) for c in METADATA_COLUMNS], ("keywords", strings), ("script", string),
             ("text", string), ("text_simplified", string), ("paragraph_ids", strings), ("segment_ids", strings),
             ("source_file", string), ("source_sha256", string), ("extra", string)]
        ),
        "segments": pa.schema(
            [("id", string), ("doc_id", string), ("paragraph", pa.int32()), ("sentence", pa.int32()),
             ("zh", string), ("zh_simplified", string)]
        ),
        "summarization": pa.schema(
            [("doc_id", string), ("title", string), ("script", string), ("text", string),
             ("text_simplified", string), ("summaries_zh", strings), ("summaries_en", strings),
             ("publisher_summary", string)]
        ),
        "translation": pa.schema(
            [("segment_id", string), ("doc_id", string), ("zh", string), ("zh_simplified", string), ("en", string)]
        ),
        "translation_paragraphs": pa.schema(
            [("paragraph_id", string), ("doc_id", string), ("segment_ids", strings), ("zh", string),
             ("zh_simplified", string), ("en", string)]
        ),
        "passages": pa.schema(
            [("passage_id", string), ("doc_id", string), ("paragraph_ids", strings), ("segment_ids", strings),
             ("script", string), ("text", string), ("text_simplified", string), ("translation_en", string),
             ("passage_summaries_zh", strings), ("passage_summaries_en", strings)]
        ),
    }


def reference_digests(refs: References) -> dict[str, str]:
    """sha256 of every reference file the build read, keyed by its path inside `references/`."""
    folder = refs.folder
    paths = [folder / "GUIDELINES.md", folder / "number_exceptions.yaml",
             *(f.path for f in refs.summaries.values()),
             *(f.path for f in refs.passages.values()),
             *(p for t in refs.translations.values() for p in (t.path, t.meta_path))]
    return {p.relative_to(folder).as_posix(): sha256_file(p) for p in sorted(paths)}


def write_manifest(folder: Path, docs: list[Document], references: dict, extra_versions: dict[str, str],
                   reference_provenance: dict) -> None:
    files = {p.name: sha256_file(p) for p in sorted(folder.iterdir()) if p.is_file() and p.name != "MANIFEST.json"}
    manifest = {
        "dataset": DATASET_NAME,
        "harness_version": __version__,
        "seeds": {d.source_file: d.source_sha256 for d in docs},
        "references": references,
        "reference_provenance": reference_provenance,  # copied into every run (harness.data.provenance)
        "files": files,
        "built_with": extra_versions,
    }
    write_text(folder / "MANIFEST.json", json.dumps(manifest, indent=2, sort_keys=True) + "\n")


def versions() -> dict[str, str]:
    # rouge-score and nltk (Porter stemmer) compute the reference-agreement table of the card.
    return {name: version(name) for name in ("pyarrow", "opencc", "rouge-score", "nltk")}


def check_out_dir(target: Path) -> None:
    """The build replaces `target` whole: refuse ".", "..", a file, the current folder or one above
    it, and a project folder (.git, pyproject.toml), so a typo in --out cannot delete a project."""
    target = Path(target)
    check_results_root(target.parent, "--out")
    child_path(target.parent, target.name, "--out folder name")
    if target.exists() and not target.is_dir():
        raise HarnessError(f"--out {target}: is a file, not a dataset folder")
    resolved, here = target.resolve(), Path.cwd().resolve()
    if resolved == here or resolved in here.parents or resolved == Path.home().resolve():
        raise HarnessError(f"--out {target}: is the current folder, one above it or the home folder; "
                           "refusing to replace it")
    if any((target / marker).exists() for marker in (".git", "pyproject.toml")):
        raise HarnessError(f"--out {target}: holds a project (.git or pyproject.toml); refusing to replace it")


def atomic_write_dir(target: Path, fill: Callable[[Path], None]) -> None:
    """Call ``fill(tmp)`` on a fresh sibling folder, then swap it into place."""
    with staged_folder(target) as tmp:
        fill(tmp)


#: Scores the reference summaries against each other for the card (harness.score.agreement):
#: passed in, because the data layer does not score.
Agreement = Callable[[list[Document], References], list[AgreementRow]]


def build_dataset(seeds_dir: Path, out_dir: Path, references_dir: Path | None = None, *,
                  agreement: Agreement) -> dict[str, int]:
    """Clean the seeds, join the validated references and write the dataset folder.

    ``references_dir`` defaults to the `references/` folder beside ``seeds_dir`` (the repository
    layout); ``agreement(docs, refs)`` gives the card's reference agreement rows. Returns rows per
    config.
    """
    # Every input error surfaces here, before any write.
    check_out_dir(out_dir)
    docs = load_documents(seeds_dir)
    refs = load_and_validate(references_dir if references_dir is not None else seeds_dir.parent / "references", docs)
    tables = {
        "documents": documents_rows(docs),
        "segments": segments_rows(docs),
        "summarization": summarization_rows(docs, refs),
        "translation": translation_rows(docs, refs),
        "translation_paragraphs": translation_paragraph_rows(docs, refs),
        "passages": passage_rows(docs, refs),
    }
    built_with = versions()
    card = render_card(docs, refs, agreement(docs, refs), {k: len(v) for k, v in tables.items()})
    references = {"guideline_version": refs.guideline_version, "files": reference_digests(refs)}
    provenance = reference_provenance(refs)

    def fill(folder: Path) -> None:
        for name, schema in schemas().items():
            write_parquet(tables[name], folder / f"{name}.parquet", schema)
        write_text(folder / "README.md", card)
        write_manifest(folder, docs, references, built_with, provenance)

    atomic_write_dir(out_dir, fill)
    return {name: len(rows) for name, rows in tables.items()}
