"""`harness leaderboard` and `harness compare`: publish results folders and gate changes in CI."""

from __future__ import annotations

from pathlib import Path

import typer

from harness.errors import HarnessError
from harness.metric_table import get_spec
from harness.options import check_seed
from harness.report.compare import check_comparable, compare_runs
from harness.report.compare import to_json as compare_json
from harness.report.compare import to_markdown as compare_markdown
from harness.report.leaderboard import build_leaderboard, parse_main_metrics
from harness.report.leaderboard_writers import to_csv, to_json, to_markdown, write_files
from harness.report.runs import MANIFEST, load_run, load_runs, resolve_datasets
from harness.report.samples import DEFAULT_PAGE_ITEMS, MAX_PAGE_ITEMS, PageLimits
from harness.report.significance import Settings, dataset_items, user_task_items
from harness.report.site import check_out_folder, write_site


ALPHA_OPT = typer.Option(0.05, "--alpha", help="Significance level of the paired tests.")
def _test_option(default: str) -> typer.Option:
    return typer.Option(
        default,
        "--test",
        help="Which p-value decides significance: 'ar' (approximate randomisation) or 'bootstrap' (paired bootstrap).",
    )

SEED_OPT = typer.Option(0, "--seed", help="Seed of the bootstrap and randomisation draws.")
DATASET_OPT = typer.Option(
    None,
    "--dataset",
    help="Built dataset folder with the references (repeatable, one per dataset version). "
    "Default: the dataset.path recorded in each run; its MANIFEST hash must match the run's.",
)


def _settings(alpha: float, test: str, seed: int) -> Settings:
    check_seed(seed)  # --alpha is checked by Settings

    return Settings(alpha=alpha, test=test, seed=seed)


def _items_for(runs, datasets: list[Path] | None):
    folders = resolve_datasets(runs, datasets or [])
    lookups = {sha: dataset_items(folder) for sha, folder in folders.items()}
    lookups.update(user_task_items(runs))  # tasks the runs defined themselves, from their recorded definitions
    return lookups.__getitem__


def leaderboard(
    results: list[Path] = typer.Argument(
        ..., help="Results folders (results/<run>/) or parent folders holding several.", show_default=False
    ),
    out: Path = typer.Option(
        ...,
        "--out",
        help="Folder for leaderboard.md, leaderboard.csv, leaderboard.json, index.html and samples/ (the per-sample pages). "
        "It is replaced whole: it must be new, empty or an earlier leaderboard.",
    ),
    main_metric: list[str] = typer.Option(
        None,
        "--main-metric",
        help="Sort metric: METRIC for every task or TASK=METRIC (repeatable). Default: the task definition's main_metric (rougeL for summaries, chrf++ for translation).",
    ),
    dataset: list[Path] = DATASET_OPT,
    alpha: float = ALPHA_OPT,
    test: str = _test_option("ar"),
    seed: int = SEED_OPT,
    page_items: int = typer.Option(
        DEFAULT_PAGE_ITEMS,
        "--page-items",
        help=f"Items per page of the per-sample viewer (1–{MAX_PAGE_ITEMS:,}); a page also closes before it would pass 5 MB.",
    ),
) -> None:
    """Leaderboard tables from results folders: Markdown, CSV, JSON and a static HTML page.

    One table per task, and per dataset version, metric signatures and item set: those are never mixed. Models are sorted by the main metric with 95 % CIs; ranks are significance bands (rows not significantly worse than a band's best row share its rank).

    The HTML page works from file:// with no network: sortable tables, CI plots and a per-sample viewer that loads one page of one model's items at a time from samples/.
    """
    settings = _settings(alpha, test, seed)
    limits = PageLimits(items=page_items)
    check_out_folder(out)  # before the work: a folder it may not replace is bad input
    runs = load_runs(results)
    items_for = _items_for(runs, dataset)
    board = build_leaderboard(runs, items_for, parse_main_metrics(main_metric or []), settings)
    tables = {"leaderboard.md": to_markdown(board), "leaderboard.csv": to_csv(board), "leaderboard.json": to_json(board)}
    pages = write_site(out, board, runs, items_for, tables, limits)
    n_pages = sum(len(t.page_sizes) * len(t.systems) for t in pages)
    typer.echo(f"wrote {out}/: {', '.join(tables)}, index.html, samples/ ({n_pages} pages) "
               f"({len(board.tables)} tables from {len(runs)} runs)")
    for note in board.notes:
        typer.echo(f"note: {note}")


def compare(
    run_a: Path = typer.Argument(..., help="Results folder A (the reference, e.g. the committed baseline).", show_default=False),
    run_b: Path = typer.Argument(..., help="Results folder B (the candidate).", show_default=False),
    gate: bool = typer.Option(False, "--gate", help="Exit 1 when any compared metric drops significantly by more than --max-drop."),
    metric: list[str] = typer.Option(None, "--metric", help="Only these metrics (repeatable). Default: every metric both runs scored."),
    max_drop: float = typer.Option(0.5, "--max-drop", help="Largest significant drop (metric points, 0–100) the gate lets through."),
    intersect: bool = typer.Option(False, "--intersect", help="Compare on the items both runs have when their item sets differ (otherwise exit 2)."),
    out: Path = typer.Option(None, "--out", help="Also write compare.md and compare.json into this folder."),
    dataset: list[Path] = DATASET_OPT,
    alpha: float = ALPHA_OPT,
    test: str = _test_option("bootstrap"),
    seed: int = SEED_OPT,
) -> None:
    """Compare run B against run A on the same items: B − A with 95 % CI and paired p-values.

    Prints a Markdown report meant as a pull-request comment: a verdict line, then a table with ▲/▼ where the change is significant, the minimum detectable difference (MDE, 80 % power) of each comparison, and for BLEU, chrF/chrF++ and COMET the estimated accuracy of the delta (Kocmi et al. 2024). Where --max-drop is below the MDE the report says the gate is underpowered.

    Exit codes: 0 ok, 1 the --gate failed, 2 bad input (e.g. different dataset versions, or different item sets without --intersect).

    The default test is the paired bootstrap: with n items approximate randomisation cannot go below p ≈ 2/2^n, so it could never flag a change on five summaries.
    """
    for name in metric or []:
        get_spec(name)
    settings = _settings(alpha, test, seed)  # bad numbers fail before any folder is read
    for label, path in (("RUN_A", run_a), ("RUN_B", run_b)):
        if not (path / MANIFEST).is_file():
            raise HarnessError(f"{label}: {path} is not a results folder (no {MANIFEST})")
    a, b = load_run(run_a), load_run(run_b)
    check_comparable(a, b, max_drop)
    report = compare_runs(
        a, b, _items_for([a, b], dataset), metrics=metric or None, max_drop=max_drop, intersect=intersect,
        settings=settings,
    )
    markdown = compare_markdown(report)
    if out is not None:
        write_files(out, {"compare.md": markdown, "compare.json": compare_json(report)})
    typer.echo(markdown)
    if gate and report.failures:
        # SystemExit, not typer.Exit: click returns (drops) an Exit's code when harness.cli runs
        # it with standalone_mode=False.
        raise SystemExit(1)


def register(app: typer.Typer) -> None:
    app.command("leaderboard")(leaderboard)
    app.command("compare")(compare)
