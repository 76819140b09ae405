"""`harness data ...`: build and inspect the dataset made from seeds/."""

from __future__ import annotations

from pathlib import Path

import typer

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
    from harness.data.build import build_dataset

    counts = build_dataset(seeds, out, references)
    typer.echo(f"wrote {out}/: " + ", ".join(f"{name} {n} rows" for name, n in counts.items()))


@app.command("show")
def data_show(doc_id: str = typer.Argument(..., help="Document id, e.g. 000."), seeds: Path = SEEDS_OPT) -> None:
    """Print a document's cleaned text, one segment per line with its id."""
    from harness.data.seeds import load_document

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
    from harness.data.seeds import load_document, load_documents

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
