"""`harness run`, `harness rescore`, `harness render` and `harness config validate`."""

from __future__ import annotations

from pathlib import Path

import typer

from harness.commands.progress import RichReporter
from harness.config import load_config, select
from harness.errors import HarnessError
from harness.names import run_folder
from harness.pipeline.plan import plan_run
from harness.pipeline.render import render_prompts
from harness.pipeline.rescore import rescore as rescore_folder
from harness.pipeline.run import evaluate


SET_OPT = typer.Option(None, "--set", metavar="KEY.PATH=VALUE",
                       help="Override a config key, validated like the file, e.g. --set tasks.0.limit=5 "
                            "--set models.1.batch_size=8 (repeatable; the value is YAML).")

config_app = typer.Typer(help="Check run configs.", no_args_is_help=True)


def _split(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


def register(app: typer.Typer) -> None:
    app.command("run")(run)
    app.command("rescore")(rescore)
    app.command("render")(render)
    app.add_typer(config_app, name="config")


def run(
    config_file: Path = typer.Argument(..., metavar="FILE", help="Run config (YAML), e.g. configs/smoke.yaml."),
    overrides: list[str] = SET_OPT,
    limit: int = typer.Option(None, "--limit", help="Only the first N items of every task (replaces each task's limit)."),
    models: str = typer.Option(None, "--models", help="Only these models (comma-separated names from the config)."),
    tasks: str = typer.Option(None, "--tasks", help="Only these tasks (comma-separated)."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Regenerate everything (new outputs still refresh the cache)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars (for CI logs); notes and summaries stay."),
    results: Path = typer.Option(Path("results"), "--results", help="Folder that receives results/<run>/."),
) -> None:
    """Run every model of FILE on its tasks, score, and write RESULTS/<run>/.

    Generations are cached (SQLite in $HARNESS_CACHE or the user cache dir), so a run that was
    killed continues where it stopped. Bad input stops the run with one line and exit code 2
    before any model loads; nothing is written under RESULTS.
    """
    config = select(load_config(config_file, overrides or ()), models=_split(models), tasks=_split(tasks), limit=limit)
    run_folder(results, config.run)  # a --results that is a file fails now, not after generating
    evaluate(config, results_root=results, use_cache=not no_cache, reporter=RichReporter(quiet))


def rescore(
    folder: Path = typer.Argument(..., metavar="RESULTS/RUN", help="A results folder written by `harness run`."),
) -> None:
    """Recompute item scores, scores.json, results.md and results.csv from the stored predictions.

    No model is loaded. The dataset the run used must be unchanged (its MANIFEST sha256 is checked).
    """
    doc = rescore_folder(folder)
    typer.echo(f"rescored {folder}/: {len(doc.summary)} model × task rows, {len(doc.scores)} scores")


def render(
    config_file: Path = typer.Argument(..., metavar="FILE", help="Run config (YAML)."),
    task: str = typer.Option(None, "--task", help="Only this task."),
    model: str = typer.Option(None, "--model", help="Only this model (it is loaded for its tokenizer and template)."),
    n: int = typer.Option(3, "-n", help="Items per task."),
    overrides: list[str] = SET_OPT,
) -> None:
    """Print the exact strings each model will receive (chat template applied, truncation marked).

    Nothing is generated: look at the prompts before spending compute.
    """
    if not 1 <= n <= 1000:
        raise HarnessError(f"-n: must be between 1 and 1000 (got {n})")
    config = select(load_config(config_file, overrides or ()), models=[model] if model else None,
                    tasks=[task] if task else None)
    for view in render_prompts(config, model=model, task=task, n=n):
        r = view.rendered
        context = f"context {view.context_length}" if view.context_length else "no context limit"
        status = f"TRUNCATED ({view.note})" if r.truncated else "not truncated"
        typer.echo(f"===== {view.model} · {view.task} · {view.item_id} · {r.input_tokens} input tokens · "
                   f"max_new_tokens {r.request.max_new_tokens} · {context} · {status}")
        if not view.reads_prompt:
            typer.echo("(a baseline: it reads the item's source/references, not this prompt)")
        typer.echo(r.text)
        if r.truncated:
            typer.echo(f"[… source truncated here to fit the context: {view.note}]")
        typer.echo("===== end")


@config_app.command("validate")
def validate(
    config_file: Path = typer.Argument(..., metavar="FILE", help="Run config (YAML)."),
    overrides: list[str] = SET_OPT,
) -> None:
    """Check a config offline, without loading any model.

    Checks keys, tasks, metrics, backends, prompts, the dataset and each backend's inputs (output
    files and their ids, local model paths). Problems: one line naming file, line and key; exit 2.
    """
    config = load_config(config_file, overrides or ())
    plan = plan_run(config)
    for note in plan.notes:
        typer.echo(f"note: {note}", err=True)
    n_items = sum(len(t.items) for t in plan.tasks.values())
    pairs = sum(len(m.tasks) for m in plan.models)
    typer.echo(f"{config_file}: OK — run '{config.run}', {len(plan.tasks)} task(s) with {n_items} items, "
               f"{len(plan.models)} model(s), {pairs} model × task pairs")
