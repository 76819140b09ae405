"""`harness metrics check`: what each metric notices (controlled perturbations of the references)."""

from __future__ import annotations

from pathlib import Path

import typer

from harness.commands.judge import judge_entry, judge_session
from harness.errors import HarnessError
from harness.io import read_text, write_json, write_text
from harness.judge import check as judge_check
from harness.judge.prompts import load_prompt
from harness.options import check_range
from harness.registry import did_you_mean
from harness.score import METRIC_NAMES
from harness.score.neural import configure
from harness.score.sensitivity import BEGIN, END, render_markdown, replace_section, run_check

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
    judge_config: Path = typer.Option(None, "--judge-config", metavar="CONFIG", help="Also check a judge: a run config whose models: has it (with --judge-model)."),
    judge_model: str = typer.Option(None, "--judge-model", metavar="NAME", help="The judge: a model entry of --judge-config (gguf, openai, hf)."),
    judge_prompt: str = typer.Option(None, "--judge-prompt", metavar="PROMPT", help="The judge's prompt: mqm (translation segments; the default), faithfulness or coverage (reference summaries), or a prompt YAML file."),
    judge_per_type: int = typer.Option(None, "--judge-per-type", metavar="K", help="Pairs the judge judges per language and error type (default 10)."),
) -> None:
    """Perturb the references (number, name, negation, dropped clause, shuffled words) and a
    meaning-preserving paraphrase of them, all seeded; print, for every metric, how often it scores
    the paraphrase above the error (pairwise accuracy with a 95% bootstrap CI) per language and
    type, and the points each text loses against the reference. With --judge-config and
    --judge-model, a judge's accuracy on the same errors too (unparsed answers counted, left out).
    See docs/scoring.md."""
    for name in metric or ():
        if name not in METRIC_NAMES:
            raise HarnessError(f"--metric: unknown metric '{name}'{did_you_mean(name, METRIC_NAMES)}")
    if per_type < 2 or n_boot < 1:
        raise HarnessError("--per-type must be at least 2 and --n-boot at least 1")
    for name in ("translation.parquet", "summarization.parquet"):
        if not (dataset / name).is_file():
            raise HarnessError(f"--dataset {dataset}: no {name} (build it with: harness data build)")
    if write_docs is not None:
        if not write_docs.is_file():
            raise HarnessError(f"--write-docs {write_docs}: no such file")
        document = read_text(write_docs)
        if BEGIN not in document or END not in document:  # checked before minutes of scoring and judging
            raise HarnessError(f"--write-docs {write_docs}: no {BEGIN} … {END} markers")
    judge = None
    if judge_config is not None or judge_model is not None:
        if judge_config is None or judge_model is None:
            raise HarnessError("--judge-config and --judge-model: both needed to check a judge")
        judge_per_type = 10 if judge_per_type is None else judge_per_type
        check_range("--judge-per-type", judge_per_type, 1, 10_000)
        prompt = load_prompt(judge_prompt or "mqm")
        if prompt.kind not in judge_check.SAMPLE_KIND:
            raise HarnessError(f"--judge-prompt: {judge_prompt} is {prompt.kind}; the check takes mqm and rating "
                               "prompts (mqm, faithfulness, coverage)")
        judge = (judge_entry(judge_config, judge_model, "--judge-model"), prompt)  # loads nothing yet
    elif judge_prompt is not None or judge_per_type is not None:
        given = "--judge-prompt" if judge_prompt is not None else "--judge-per-type"
        raise HarnessError(f"{given}: only with --judge-config and --judge-model")
    settings = {"bertscore": {"model": bertscore_model},
                "comet": {"python": None if comet_python is None else str(comet_python), "model": comet_model}}
    cells = run_check(dataset, metric or None, per_type=per_type, seed=seed, n_boot=n_boot,
                      configure=lambda metrics, sources: configure(metrics, settings, sources=sources))
    table = render_markdown(cells, per_type=per_type, seed=seed)
    record = verdicts = None
    if judge is not None:
        entry, prompt = judge
        pairs = judge_check.draw_pairs(prompt.kind, dataset, per_type=judge_per_type, seed=seed)
        with judge_session(entry) as session:
            name, judged = judge_check.judge_pairs(session, prompt, pairs)
        shown_prompt = judge_prompt or "mqm"
        command = (f"--judge-config {judge_config} --judge-model {judge_model} --judge-prompt {shown_prompt} "
                   f"--judge-per-type {judge_per_type} --seed {seed} --n-boot {n_boot}")
        record = judge_check.JudgeCheckRecord(
            judge=name, prompt=prompt.label, prompt_name=shown_prompt,
            prompt_kind=prompt.kind, per_type=judge_per_type, seed=seed, n_boot=n_boot, command=command, pairs=judged)
        # the verdicts go beside the document, so its judge rows can be recomputed without the judge
        verdicts = None if write_docs is None else write_docs.with_name(f"{write_docs.stem}.judge-check.json")
        cells_j = judge_check.check_cells(record.pairs, seed=seed, n_boot=n_boot)
        table += "\n" + judge_check.render_markdown(cells_j, record, None if verdicts is None else verdicts.name)
    typer.echo(table, nl=False)
    if write_docs is not None:
        try:  # read again: the document may have been edited while the check ran
            updated = replace_section(read_text(write_docs), table)
        except ValueError:
            raise HarnessError(f"--write-docs {write_docs}: no {BEGIN} … {END} markers") from None
        if verdicts is not None:
            write_json(verdicts, record.model_dump(mode="json"))
            typer.echo(f"wrote the judge's verdicts into {verdicts}", err=True)
        write_text(write_docs, updated)
        typer.echo(f"wrote the table into {write_docs}", err=True)
