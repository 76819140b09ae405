"""`harness refs ...`: check the human references and lay them out for a native-speaker review."""

from __future__ import annotations

from pathlib import Path

import typer

ORDER = 15  # after `data`
NAME = "refs"

app = typer.Typer(help="Check the human references and print them for review.", no_args_is_help=True)

SEEDS_OPT = typer.Option(Path("seeds"), "--seeds", help="Folder with the five seed articles.")
REFS_OPT = typer.Option(Path("references"), "--references", help="Folder with the references and GUIDELINES.md.")


def _load(seeds: Path, references: Path):
    from harness.data.references import load_references
    from harness.data.seeds import load_documents

    docs = load_documents(seeds)
    return docs, load_references(references, [d.id for d in docs])


@app.command("check")
def refs_check(seeds: Path = SEEDS_OPT, references: Path = REFS_OPT) -> None:
    """Run the build's validation of the references alone and print what was checked; fails (exit
    2, one line listing every offending id) exactly where `harness data build` would."""
    from harness.data.references import validate

    docs, refs = _load(seeds, references)
    validate(refs, docs)
    segments = sum(len(t.entries) for t in refs.translations.values())
    summaries = {"zh": 0, "en": 0}
    for (_, language), f in refs.summaries.items():
        summaries[language] += len(f.summaries)
    files = [*refs.summaries.values(), *refs.translations.values()]
    reviewed = sum(1 for f in files if f.provenance.reviewed_by)
    typer.echo(
        f"OK: {len(docs)} documents, {segments} segments translated, "
        f"{summaries['zh']} zh + {summaries['en']} en summaries, "
        f"{len(refs.number_exceptions)} number exceptions, guideline {refs.guideline_version}, "
        f"{reviewed} of {len(files)} files reviewed"
    )


@app.command("review")
def refs_review(
    doc_id: str = typer.Argument(..., help="Document id, e.g. 000."),
    seeds: Path = SEEDS_OPT,
    references: Path = REFS_OPT,
    width: int = typer.Option(0, "--width", help="Line width in terminal cells (0: the terminal's width)."),
) -> None:
    """Print a document's review sheet: review status and validation problems, the four
    summaries, then every segment with its English reference side by side.

    Columns: segment id │ source │ English. Works on references that do not pass validation yet.
    """
    import shutil

    from harness.data.references import problems
    from harness.data.review import render_review
    from harness.data.rules import SEEDS_BY_ID
    from harness.errors import HarnessError
    from harness.registry import lookup

    if width < 0:
        raise HarnessError(f"--width: must be 0 (terminal width) or a positive number of cells, got {width}")
    lookup("document id", doc_id, SEEDS_BY_ID)
    docs, refs = _load(seeds, references)
    doc = next(d for d in docs if d.id == doc_id)
    columns = width or shutil.get_terminal_size((140, 40)).columns
    for line in render_review(doc, refs, problems(refs, docs), max(60, columns)):
        typer.echo(line)
