"""`harness judge`: a model of a run config judges outputs (harness.judge): read from files (`--src`,
`--hyp`), or a results folder's (`--run`, `--system`: the judgements are recorded in the folder,
judgements/ and judgements.json, and shown in its results.md); or, with `--check`, the dataset's own
references with controlled errors, to measure the judge's accuracy."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

import typer

from harness.commands.score import read_items
from harness.config import load_config
from harness.errors import HarnessError
from harness.generate.cache import GenerationCache, NoCache
from harness.generate.session import GenerationSession
from harness.io import make_folders, read_text, write_jsonl, write_text
from harness.judge.check import SAMPLE_KIND, render_check, run_judge_check
from harness.judge.judge import Judge, JudgeItem, JudgeScore, judge_label, judge_score
from harness.judge.prompts import BUILTIN, load_prompt
from harness.options import N_BOOT_MAX, check_range, check_seed
from harness.record import JudgementsDoc, JudgeRow, judgement_path, read_judgements, read_manifest, write_judgements
from harness.registry import did_you_mean
from harness.report.runs import load_run
from harness.report.tables import with_judge_section
from harness.request import GenerationSettings
from harness.tasks import TASKS

SHOWN = 20  # unparsed answers printed; --out has them all


def _column(path: Path | None, option: str, n: int, hyp: Path) -> list[str] | None:
    if path is None:
        return None
    lines = read_items(path, option)
    if len(lines) != n:
        raise HarnessError(f"{option} {path}: {len(lines)} lines but --hyp {hyp} has {n}")
    return lines


def _file_items(src: Path | None, hyp: Path | None, hyp_b: Path | None, ref: Path | None) -> list[JudgeItem]:
    """Items from files: ids are line numbers."""
    if src is None or hyp is None:
        raise HarnessError("--src and --hyp: both needed to judge files (or --run and --system to judge a run)")
    hypotheses = read_items(hyp, "--hyp")
    sources = _column(src, "--src", len(hypotheses), hyp)
    refs = _column(ref, "--ref", len(hypotheses), hyp)
    second = _column(hyp_b, "--hyp-b", len(hypotheses), hyp)
    return [JudgeItem(str(n), sources[n - 1], hypotheses[n - 1], refs[n - 1] if refs else None,
                      second[n - 1] if second else None) for n in range(1, len(hypotheses) + 1)]


def _run_items(folder: Path, task: str, system: str | None, system_b: str | None) -> tuple[list[JudgeItem], object]:
    """Items from a results folder: the task's recorded items (sources, first reference) and the
    cleaned outputs of `system` (and `system_b`), by item id. Returns them and the task's definition."""
    if system is None:
        raise HarnessError("--system: needed with --run (the model of the run whose outputs are judged)")
    run = load_run(folder)
    if task not in run.task_records:
        raise HarnessError(f"--task: run {folder} has no task '{task}'{did_you_mean(task, run.task_records)}")
    items = {it.id: it for it in run.items(task)}

    def outputs(model: str, option: str) -> dict[str, str]:
        if (model, task) not in run.predictions:
            known = sorted(m for m, t in run.predictions if t == task)
            raise HarnessError(f"{option}: run {folder} has no outputs of model '{model}' on {task}"
                               f"{did_you_mean(model, known)}")
        return {p.id: p.output for p in run.predictions[(model, task)]}

    first = outputs(system, "--system")
    second = outputs(system_b, "--system-b") if system_b is not None else None
    if second is not None and set(second) != set(first):
        raise HarnessError(f"--system-b: {system_b} and {system} answered different items of {task}")
    return [JudgeItem(i, items[i].source, out, items[i].references[0] if items[i].references else None,
                      second[i] if second is not None else None) for i, out in first.items()], run.definition(task)


def _record_in_run(folder: Path, path: Path, judged: JudgementsDoc, system: str, task: str, system_b: str | None,
                   score: JudgeScore, outcome) -> None:
    """The judgements of a run's outputs land in the run: judgements/…jsonl (every item), their row in
    judgements.json (replacing an earlier one of the same file) and results.md's judge section."""
    row = JudgeRow(model=system, task=task, judge=outcome.judge, metric=score.metric, value=score.value,
                   ci_low=score.ci_low, ci_high=score.ci_high, signature=score.signature, n=score.n,
                   n_unparsed=score.n_unparsed, system_b=system_b, file=path.relative_to(folder).as_posix())
    doc = JudgementsDoc(run=judged.run, judgements=[*(r for r in judged.judgements if r.file != row.file), row])
    make_folders(path.parent)
    write_jsonl(path, [j.to_dict() for j in outcome.judgements])
    write_judgements(folder, doc)
    results = folder / "results.md"
    if results.is_file():
        write_text(results, with_judge_section(read_text(results), doc))
    typer.echo(f"wrote {path}, {folder / 'judgements.json'} and the judge section of {results}", err=True)


def judge_entry(config: Path, model: str, option: str):
    """The model entry `model` of the run config `config`, checked before anything loads."""
    run_config = load_config(config)
    names = [m.name for m in run_config.models]
    if model not in names:
        raise HarnessError(f"{option}: no model '{model}' in {config}{did_you_mean(model, names)}")
    entry = run_config.model(model)
    entry.spec.check(entry.settings, {})
    return entry


@contextmanager
def judge_session(entry, *, no_cache: bool = False) -> Iterator[GenerationSession]:
    """The judge loaded on the user's generation cache, decoding greedily whatever the config's
    `generation:` says for the models it evaluates; closed on the way out."""
    store = GenerationCache()
    try:
        backend = entry.spec.load(entry.settings)
        try:
            yield GenerationSession(backend, entry, GenerationSettings(), NoCache(store) if no_cache else store)
        finally:
            backend.close()
    finally:
        store.close()


def _report(score: JudgeScore, outcome, where) -> str:
    value = "n/a (no answer parsed)" if score.value is None else \
        f"{score.value:.2f} [{score.ci_low:.2f}, {score.ci_high:.2f}]"
    lines = [f"{score.metric}: {value} over {score.n - score.n_unparsed} of {score.n} items "
             f"({score.n_unparsed} unparsed, left out of the mean; {outcome.generated} judge calls made, "
             f"{outcome.cached} cached)", f"signature: {score.signature}"]
    for n, j in enumerate(outcome.judgements, 1):
        if j.value is None and len(lines) < SHOWN + 2:
            shown = " | ".join(a.replace("\n", "\\n")[:120] for a in j.answers)
            lines.append(f"unparsed: {where(n, j.id)}: {j.problem}; answer: {shown}")
    if score.n_unparsed > SHOWN:
        lines.append(f"… and {score.n_unparsed - SHOWN} more unparsed (all are in --out)")
    return "\n".join(lines)


def judge_command(
    config: Path = typer.Argument(..., metavar="CONFIG", help="A run config whose `models:` has the judge."),
    model: str = typer.Option(..., "--model", metavar="NAME", help="The judge: the name of a model entry of CONFIG (gguf, openai, hf)."),
    prompt: str = typer.Option(..., "--prompt", metavar="PROMPT", help=f"A built-in judge prompt ({', '.join(BUILTIN)}) or a prompt YAML file."),
    task: str = typer.Option(None, "--task", metavar="TASK", help="Files: a built-in task (gives the source and target languages); --run: a task of the run."),
    src: Path = typer.Option(None, "--src", metavar="FILE", help="Sources, one item per line (newlines inside an item written as \\n)."),
    hyp: Path = typer.Option(None, "--hyp", metavar="FILE", help="The outputs judged, same format and line count."),
    hyp_b: Path = typer.Option(None, "--hyp-b", metavar="FILE", help="pairwise: system B's outputs (the score is B's preference over --hyp)."),
    ref: Path = typer.Option(None, "--ref", metavar="FILE", help="References, for prompts that show {reference}."),
    run: Path = typer.Option(None, "--run", metavar="FOLDER", help="Judge a results folder's outputs instead of files (with --system)."),
    system: str = typer.Option(None, "--system", metavar="MODEL", help="--run: the model whose outputs are judged."),
    system_b: str = typer.Option(None, "--system-b", metavar="MODEL", help="--run, pairwise: the second model (the score is its preference over --system)."),
    check: bool = typer.Option(False, "--check", help="Instead of judging outputs: the judge's accuracy on controlled errors in the dataset's references (mqm: segments; rating prompts: summaries)."),
    dataset: Path = typer.Option(Path("data"), "--dataset", help="--check: the built dataset folder."),
    per_type: int = typer.Option(10, "--per-type", help="--check: references per language and error type (seeded sample)."),
    out: Path = typer.Option(None, "--out", metavar="FILE", help="Write every item's judgement (value, problem, raw answers) as JSONL."),
    seed: int = typer.Option(0, "--seed", help="Seed of the bootstrap resamples."),
    n_boot: int = typer.Option(1000, "--n-boot", help="Bootstrap resamples for the 95% CI."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Ask the judge again (new answers still refresh the cache)."),
    as_json: bool = typer.Option(False, "--json", help="Print the score as one JSON object."),
) -> None:
    """Judge outputs with a model of a run config: MQM error annotation (translation), faithfulness or
    coverage ratings, or pairwise preference in both orders (summaries).

    Judge calls go through the generation cache, so a rerun is free and a killed run resumes. Answers
    are parsed strictly: an unparseable answer is counted and shown, and left out of the mean.
    """
    check_seed(seed)
    check_range("--n-boot", n_boot, 1, N_BOOT_MAX)
    judge_prompt = load_prompt(prompt)
    if check:
        given = [o for o, v in (("--task", task), ("--src", src), ("--hyp", hyp), ("--hyp-b", hyp_b), ("--ref", ref),
                                ("--run", run), ("--system", system), ("--system-b", system_b), ("--out", out))
                 if v is not None]
        if given:
            raise HarnessError(f"{given[0]}: not with --check (it judges the dataset's own references)")
        check_range("--per-type", per_type, 1, 10_000)
        if judge_prompt.kind not in SAMPLE_KIND:
            raise HarnessError(f"--check: prompt {prompt} is {judge_prompt.kind}; the check takes mqm and rating prompts")
        for name in ("translation.parquet", "summarization.parquet"):
            if not (dataset / name).is_file():
                raise HarnessError(f"--dataset {dataset}: no {name} (build it with `harness data build`)")
        items = definition = where = None
    elif task is None:
        raise HarnessError("--task: needed to judge files or a run (or --check for the judge's accuracy)")
    elif run is not None:
        if any(o is not None for o in (src, hyp, hyp_b, ref)):
            raise HarnessError("--run: judges a results folder; --src, --hyp, --hyp-b and --ref are for files")
        items, definition = _run_items(run, task, system, system_b)
        manifest = read_manifest(run)
        # where the judgements will go, and the run's earlier ones, checked before the judge loads
        run_path = judgement_path(run, system, task, model, judge_prompt.name, system_b)
        judged = read_judgements(run, manifest) or JudgementsDoc(run=manifest.run, judgements=[])
        where = lambda n, i: f"{run} {system} {task} item {i}"  # noqa: E731
    else:
        if system is not None or system_b is not None:
            raise HarnessError("--system/--system-b: only with --run")
        if task not in TASKS:
            raise HarnessError(f"--task: unknown task '{task}'{did_you_mean(task, TASKS)}")
        items, definition = _file_items(src, hyp, hyp_b, ref), TASKS[task]
        where = lambda n, i: f"--hyp {hyp} line {n}"  # noqa: E731
    if items and (judge_prompt.kind == "pairwise") != (items[0].hypothesis_b is not None):
        second = "--system-b" if run is not None else "--hyp-b"
        raise HarnessError(f"{second}: {'required' if items[0].hypothesis_b is None else 'only'} with a pairwise "
                           f"prompt (--prompt {prompt} is {judge_prompt.kind})")
    entry = judge_entry(config, model, "--model")
    if not check:
        judge = Judge(judge_prompt, source_lang=definition.source_lang, target_lang=definition.target_lang)
        judge.queries(items)  # bad input stops here, before the judge loads
    with judge_session(entry, no_cache=no_cache) as session:
        if check:
            cells = run_judge_check(session, judge_prompt, dataset, per_type=per_type, seed=seed, n_boot=n_boot)
        else:
            outcome = judge.run(session, items)
    if check:
        name = judge_label(session)
        if as_json:
            typer.echo(json.dumps({"judge": name, "prompt": judge_prompt.label,
                                   "cells": [asdict(c) for c in cells]}, ensure_ascii=False))
        else:
            typer.echo(f"judge check: model {name}, prompt {judge_prompt.label}, dataset {dataset}, seed {seed}\n"
                       + render_check(cells))
        return
    score = judge_score(outcome, seed=seed, n_boot=n_boot)
    if out is not None:
        write_jsonl(out, [j.to_dict() for j in outcome.judgements])
    if run is not None:
        _record_in_run(run, run_path, judged, system, task, system_b, score, outcome)
    if as_json:
        typer.echo(json.dumps({**score.to_dict(), "generated": outcome.generated, "cached": outcome.cached},
                              ensure_ascii=False))
    else:
        typer.echo(_report(score, outcome, where))


def register(app: typer.Typer) -> None:
    app.command("judge")(judge_command)
