"""`harness metrics check`: what each metric notices (controlled perturbations of the references)."""

from __future__ import annotations

from pathlib import Path

import typer

from harness.errors import HarnessError
from harness.io import write_text
from harness.registry import did_you_mean
from harness.score import METRIC_NAMES
from harness.score.neural import configure
from harness.score.sensitivity import render_markdown, replace_section, run_check

NAME = "metrics"

app = typer.Typer(help="Check what the metrics notice: controlled errors in the project's own references.",
                  no_args_is_help=True)


@app.command("check")
def metrics_check(
    dataset: Path = typer.Option(Path("data"), "--dataset", help="Dataset folder (translation.parquet, summarization.parquet)."),
    metric: list[str] = typer.Option(None, "--metric", metavar="NAME", help="Metrics to check; repeatable. Default: every metric but comet."),
    per_type: int = typer.Option(100, "--per-type", help="References per language and perturbation type (seeded sample)."),
    seed: int = typer.Option(0, "--seed", help="Seed of every perturbation, sample and bootstrap."),
    n_boot: int = typer.Option(1000, "--n-boot", help="Bootstrap resamples for the accuracy CIs."),
    write_docs: Path = typer.Option(None, "--write-docs", metavar="FILE", help="Also replace the generated section of FILE (docs/scoring.md)."),
    bertscore_model: str = typer.Option(None, "--bertscore-model", metavar="MODEL", help="bertscore encoder (default: the bundled multilingual-e5-small)."),
    comet_python: Path = typer.Option(None, "--comet-python", metavar="PYTHON", help="comet: an interpreter with unbabel-comet."),
    comet_model: str = typer.Option(None, "--comet-model", metavar="MODEL", help="comet: a model name or a .ckpt path."),
) -> None:
    """Perturb the references (number, name, negation, dropped clause, shuffled words) and a
    meaning-preserving paraphrase of them, all seeded; print, for every metric, how often it scores
    the paraphrase above the error (pairwise accuracy with a 95% bootstrap CI) per language and
    type, and the points each text loses against the reference. See docs/scoring.md."""
    for name in metric or ():
        if name not in METRIC_NAMES:
            raise HarnessError(f"--metric: unknown metric '{name}'{did_you_mean(name, METRIC_NAMES)}")
    if per_type < 2 or n_boot < 1:
        raise HarnessError("--per-type must be at least 2 and --n-boot at least 1")
    for name in ("translation.parquet", "summarization.parquet"):
        if not (dataset / name).is_file():
            raise HarnessError(f"--dataset {dataset}: no {name} (build it with: harness data build)")
    if write_docs is not None and not write_docs.is_file():
        raise HarnessError(f"--write-docs {write_docs}: no such file")
    settings = {"bertscore": {"model": bertscore_model},
                "comet": {"python": None if comet_python is None else str(comet_python), "model": comet_model}}
    cells = run_check(dataset, metric or None, per_type=per_type, seed=seed, n_boot=n_boot,
                      configure=lambda metrics, sources: configure(metrics, settings, sources=sources))
    table = render_markdown(cells, per_type=per_type, seed=seed)
    typer.echo(table, nl=False)
    if write_docs is not None:
        try:
            write_text(write_docs, replace_section(write_docs.read_text(encoding="utf-8"), table))
        except ValueError:
            raise HarnessError(f"--write-docs {write_docs}: no <!-- metrics-check:begin --> … end markers") from None
        typer.echo(f"wrote the table into {write_docs}", err=True)
