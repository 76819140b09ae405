"""`harness refs ...`: check the references, write a review sheet for a bilingual reviewer, apply it."""

from __future__ import annotations

import shutil
from datetime import datetime, timezone
from pathlib import Path

import typer

from harness.data.card import independence, independence_lines
from harness.data.provenance import collapse, label
from harness.data.reference_checks import problems, validate
from harness.data.references import load_references
from harness.data.review import render_review
from harness.data.review_apply import apply_sheet
from harness.data.review_sheet import write_sheet
from harness.data.rules import SEEDS_BY_ID
from harness.data.seeds import load_documents
from harness.errors import HarnessError
from harness.registry import lookup
from harness.score.agreement import reference_agreement

ORDER = 15  # after `data`
NAME = "refs"

app = typer.Typer(help="Check the references, write review sheets and apply a reviewer's verdicts.",
                  no_args_is_help=True)

SEEDS_OPT = typer.Option(Path("seeds"), "--seeds", help="Folder with the five seed articles.")
REFS_OPT = typer.Option(Path("references"), "--references", help="Folder with the references and GUIDELINES.md.")
DATA_OPT = typer.Option(Path("data"), "--data", help="Dataset folder rebuilt after the review is recorded.")


def _load(seeds: Path, references: Path):
    docs = load_documents(seeds)
    return docs, load_references(references, [d.id for d in docs])


@app.command("check")
def refs_check(
    seeds: Path = SEEDS_OPT,
    references: Path = REFS_OPT,
    targets: bool = typer.Option(False, "--targets", help="Also fail (exit 2) unless summaries A and B meet the "
                                                          "independence targets of GUIDELINES.md §1."),
) -> None:
    """Run the build's validation of the references alone and print what was checked, each file's
    provenance label and the independence of summaries A and B (mean A-vs-B ROUGE-2, longest
    shared span) against their targets; fails (exit 2, one line listing every offending id)
    exactly where `harness data build` would."""
    docs, refs = _load(seeds, references)
    validate(refs, docs)
    segments = sum(len(t.entries) for t in refs.translations.values())
    summaries = {"zh": 0, "en": 0}
    for (_, language), f in refs.summaries.items():
        summaries[language] += len(f.summaries)
    passage_summaries = {"zh": 0, "en": 0}
    for (_, language), f in refs.passages.items():
        passage_summaries[language] += sum(len(s) for s in f.passages.values())
    files = [*refs.summaries.values(), *refs.passages.values(), *refs.translations.values()]
    reviewed = sum(1 for f in files if f.provenance.reviewed_by)
    typer.echo(
        f"OK: {len(docs)} documents, {segments} segments translated, "
        f"{summaries['zh']} zh + {summaries['en']} en summaries, "
        f"{passage_summaries['zh']} zh + {passage_summaries['en']} en passage summaries, "
        f"{len(refs.number_exceptions)} number exceptions, guideline {refs.guideline_version}, "
        f"{reviewed} of {len(files)} files reviewed"
    )
    for f in files:
        p = f.provenance
        labels = collapse([label(w, p.reviewed_by, p.reviewed_on) for w in p.written_by])
        typer.echo(f"{f.path.relative_to(references).as_posix()} (version {p.version}): {labels}")
    agreement = reference_agreement(docs, refs)
    rows = independence(docs, refs, agreement)
    passage_rows = independence(docs, refs, agreement, "passages")
    for line in [*independence_lines(rows), *independence_lines(passage_rows, "passages")]:
        typer.echo(line)
    missed = [r.language for r in rows if not r.met] + [f"{r.language} passages" for r in passage_rows if not r.met]
    if targets and missed:
        missed = ", ".join(missed)
        raise HarnessError(f"{references}: summaries A and B miss the independence targets ({missed}; see above)")


@app.command("review")
def refs_review(
    doc_id: str = typer.Argument(..., help="Document id, e.g. 000."),
    seeds: Path = SEEDS_OPT,
    references: Path = REFS_OPT,
    width: int = typer.Option(0, "--width", help="Line width in terminal cells (0: the terminal's width)."),
    out: Path = typer.Option(None, "--out", help="Write a review sheet (CSV, UTF-8 with BOM) to this file and a "
                                                 "self-contained HTML view beside it, instead of printing."),
) -> None:
    """Print a document's review sheet: review status and validation problems, the four
    summaries, each passage's summaries (with its segment range), then every segment with its
    English reference side by side.

    Columns: segment id │ source │ English. Works on references that do not pass validation yet.

    With --out FILE.csv: one row per article summary, per passage summary and per segment (id,
    file and its version, sha256 of the source and of the reference, source, reference, and empty
    verdict / correction / comment columns for the reviewer) plus FILE.html, a read-only view.
    Record it with `harness refs apply FILE.csv`.
    """
    if width < 0:
        raise HarnessError(f"--width: must be 0 (terminal width) or a positive number of cells, got {width}")
    lookup("document id", doc_id, SEEDS_BY_ID)
    docs, refs = _load(seeds, references)
    doc = next(d for d in docs if d.id == doc_id)
    if out is not None:
        sheet, view, n_rows = write_sheet(doc, refs, out)
        typer.echo(f"wrote {sheet} ({n_rows} rows to review) and {view}")
        return
    columns = width or shutil.get_terminal_size((140, 40)).columns
    for line in render_review(doc, refs, problems(refs, docs), max(60, columns)):
        typer.echo(line)


@app.command("apply")
def refs_apply(
    sheet: Path = typer.Argument(..., help="A review sheet written by `harness refs review DOC_ID --out` and "
                                           "filled in by the reviewer."),
    reviewer: str = typer.Option(..., "--reviewer", help="The reviewer's name (a person: recorded as kind human)."),
    date: str = typer.Option(None, "--date", help="Review date YYYY-MM-DD (default: today, UTC)."),
    seeds: Path = SEEDS_OPT,
    references: Path = REFS_OPT,
    data: Path = DATA_OPT,
) -> None:
    """Record a filled-in review sheet: check every row first (unknown or missing ids, a source or
    reference changed since the sheet was written, a sheet for another file version, a missing or
    unknown verdict, a correction on an 'ok' row: exit 2, one line, nothing written); then write
    the corrections, sign the document's five reference files off (article summaries, passage
    summaries, translation: reviewer, date, each item's verdict and the previous text in
    review_history, version + 1) and rebuild DATA, so that the card and every label follow."""
    day = date or datetime.now(timezone.utc).strftime("%Y-%m-%d")
    applied = apply_sheet(sheet, reviewer, day, seeds=seeds, references=references, data=data,
                          agreement=reference_agreement)
    versions = ", ".join(f"{rel} → version {v}" for rel, v in applied.versions.items())
    typer.echo(f"applied {sheet}: document {applied.doc_id}, {applied.ok} ok, {applied.fixed} corrected, "
               f"reviewed by {' '.join(reviewer.split())} (human) on {day}; {versions}; rebuilt {data}/")
