"""The `harness` command line. Heavy libraries are imported inside the commands."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from harness.errors import HarnessError

app = typer.Typer(
    help="Evaluation harness for Chinese summarisation and Chinese↔English translation: "
    "build the dataset, score outputs with Chinese-aware ROUGE/BLEU/chrF, with signatures and CIs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(help="Build and inspect the dataset made from seeds/.", no_args_is_help=True)
app.add_typer(data_app, name="data")

SEEDS_OPT = typer.Option(Path("seeds"), "--seeds", help="Folder with the five seed articles.")


@data_app.command("build")
def data_build(
    seeds: Path = SEEDS_OPT,
    out: Path = typer.Option(Path("data"), "--out", help="Dataset folder to (re)write atomically."),
) -> None:
    """Clean the seeds, segment them and write OUT as a Hugging Face dataset (parquet + card + MANIFEST).

    The build is deterministic: two builds give byte-identical files. On any bad input the
    previous OUT is left untouched.
    """
    from harness.data.build import build_dataset

    counts = build_dataset(seeds, out)
    typer.echo(f"wrote {out}/: " + ", ".join(f"{name} {n} rows" for name, n in counts.items()))


@data_app.command("show")
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


@data_app.command("report")
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


def main(argv: list[str] | None = None) -> None:
    """Entry point: every bad input becomes one line on stderr and exit code 2."""
    try:  # typer >= 0.20 vendors click
        from typer._click import exceptions as click
    except ImportError:  # pragma: no cover - older typer
        from click import exceptions as click

    command = typer.main.get_command(app)
    try:
        command.main(args=argv if argv is not None else sys.argv[1:], prog_name="harness", standalone_mode=False)
    except HarnessError as e:
        typer.echo(f"error: {e}", err=True)
        sys.exit(e.exit_code)
    except click.NoArgsIsHelpError as e:  # bare `harness` / `harness data`: help, exit 0
        typer.echo(e.ctx.get_help())
    except click.UsageError as e:
        typer.echo(f"error: {e.format_message()}", err=True)
        sys.exit(2)
    except typer.Exit as e:
        sys.exit(e.exit_code)
    except typer.Abort:
        typer.echo("aborted", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
