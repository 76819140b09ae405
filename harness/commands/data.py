"""`harness data ...`: build and inspect the dataset made from seeds/, and write the example user
dataset from it."""

from __future__ import annotations

from pathlib import Path

import typer

from harness.data.build import build_dataset
from harness.data.seeds import load_document, load_documents
from harness.io import csv_text, jsonl_text, sha256_file, write_text
from harness.score.agreement import reference_agreement
from harness.tasks import TASKS, load_items, select_items

ORDER = 10  # position in `harness --help`
NAME = "data"  # registered as a command group

app = typer.Typer(help="Build and inspect the dataset made from seeds/.", no_args_is_help=True)

SEEDS_OPT = typer.Option(Path("seeds"), "--seeds", help="Folder with the five seed articles.")


@app.command("build")
def data_build(
    seeds: Path = SEEDS_OPT,
    references: Path = typer.Option(Path("references"), "--references",
                                    help="Folder with the references and GUIDELINES.md."),
    out: Path = typer.Option(Path("data"), "--out", help="Dataset folder to (re)write atomically."),
) -> None:
    """Clean the seeds, segment them, validate and join the references (as `harness refs check`)
    and write OUT as a Hugging Face dataset (parquet configs + card + MANIFEST).

    Deterministic: two builds give byte-identical files.

    On any bad input: one line naming every offending id, and the previous OUT is left untouched.
    """
    counts = build_dataset(seeds, out, references, agreement=reference_agreement)
    typer.echo(f"wrote {out}/: " + ", ".join(f"{name} {n} rows" for name, n in counts.items()))


@app.command("show")
def data_show(doc_id: str = typer.Argument(..., help="Document id, e.g. 000."), seeds: Path = SEEDS_OPT) -> None:
    """Print a document's cleaned text, one segment per line with its id."""
    doc = load_document(seeds, doc_id)
    for key in ("title", "subtitle", "author", "source", "url"):
        if doc.metadata.get(key):
            typer.echo(f"# {key}: {doc.metadata[key]}")
    typer.echo(f"# script: {doc.script}  paragraphs: {len(doc.paragraphs)}  segments: {len(doc.segments)}")
    for paragraph in doc.paragraphs:
        typer.echo("")
        for seg in paragraph:
            typer.echo(f"{seg.id}  {seg.zh}")


@app.command("report")
def data_report(
    seeds: Path = SEEDS_OPT,
    doc: str = typer.Option(None, "--doc", help="Only this document id."),
) -> None:
    """Show, per document, what each cleaning rule removed or changed (counts and text)."""
    docs = [load_document(seeds, doc)] if doc else load_documents(seeds)
    for d in docs:
        typer.echo(f"== {d.id} ({d.source_file}, script {d.script})")
        for result in d.applied:
            if not result.count:
                continue
            rule = result.rule
            action = f"→ {rule.repl!r}" if rule.repl else "removed"
            target = f" → metadata.{rule.field}" if rule.field else ""
            typer.echo(f"  [{rule.name}] {result.count}× {action}{target}: {rule.why}")
            for text in result.removed[:20]:
                shown = text if len(text) <= 120 else text[:100] + f"… ({len(text)} chars)"
                typer.echo(f"      {shown!r}")
            if result.count > 20:
                typer.echo(f"      … and {result.count - 20} more")


# --- the example user dataset of configs/custom-task.yaml ---------------------------------------

EXAMPLE_SEGMENTS_PER_DOC = 6
EXAMPLE_NAME = "news_zh_en"


def example_rows(data_dir: Path) -> list[dict]:
    items = select_items(load_items(TASKS["translate_zh_en"], data_dir), per_doc=EXAMPLE_SEGMENTS_PER_DOC)
    return [{"id": i.id, "doc": i.doc_id, "zh": i.source, "en": i.references[0]} for i in items]


def render_example(data_dir: Path) -> dict[str, str]:
    """File name → text of every file the example consists of."""
    table = example_rows(data_dir)
    jsonl = jsonl_text({"id": r["id"], "doc": r["doc"], "zh": r["zh"], "references": [r["en"]]} for r in table)
    csv_file = csv_text(["id", "doc", "zh", "en"], ([r["id"], r["doc"], r["zh"], r["en"]] for r in table))
    manifest = sha256_file(Path(data_dir) / "MANIFEST.json")
    readme = f"""# Example user dataset (configs/custom-task.yaml)

Written by `harness data example` from the project's built dataset
(MANIFEST sha256 `{manifest}`):
the first {EXAMPLE_SEGMENTS_PER_DOC} segments of each of its {len({r['doc'] for r in table})} articles, {len(table)} Chinese/English segment pairs, in two
file shapes:

- `{EXAMPLE_NAME}.jsonl`: `{{"id", "doc", "zh", "references": [<English>]}}`, one object per line
- `{EXAMPLE_NAME}.csv`: columns `id, doc, zh, en`

The English references are the dataset's own translations; who wrote and reviewed them is in
data/README.md ("References and their provenance"). Do not edit these files by hand: rerun the
writer (a test checks that it reproduces them byte for byte).
"""
    return {f"{EXAMPLE_NAME}.jsonl": jsonl, f"{EXAMPLE_NAME}.csv": csv_file, "README.md": readme}


def write_example(data_dir: Path, out_dir: Path) -> list[Path]:
    written = []
    for name, text in render_example(data_dir).items():
        write_text(Path(out_dir) / name, text)
        written.append(Path(out_dir) / name)
    return written


@app.command("example")
def data_example(
    data: Path = typer.Option(Path("data"), "--data", help="The built dataset folder."),
    out: Path = typer.Option(Path("examples/custom"), "--out", help="Where the files go."),
) -> None:
    """Write the example user dataset of configs/custom-task.yaml from the built dataset.

    The first 6 segments of every article of DATA's `translation` config, as news_zh_en.jsonl (a
    list column of references), news_zh_en.csv (one column per reference) and a README.md saying
    where they come from. The output depends only on the dataset: re-running it gives the same bytes.
    """
    for path in write_example(data, out):
        typer.echo(f"wrote {path}")
