"""The judge's sensitivity check: the accuracy a judge really reaches on controlled errors.

The material and perturbations are `harness metrics check`'s (harness.score.sensitivity and
harness.score.perturb): for each reference r of the project's dataset, a meaning-preserving
paraphrase f and, per error type, one meaning-changing edit p of r (the same texts as the metric
check's: the same seed and the same name pool, drawn among all references). The judge judges f and
p against the source (MQM prompts: translation segments, both directions; rating prompts: the
reference summaries). It "catches" the error when it scores f strictly above p (a tie is a miss,
as for the metrics). Pairs with an unparsed answer on either side are left out of the accuracy and
counted: a judge that cannot answer is not credited with a verdict either way.

    pairs = draw_pairs(prompt.kind, dataset, per_type=10, seed=0)     # no model: deterministic
    judge, verdicts = judge_pairs(session, prompt, pairs)            # the judge's two scores per pair
    cells = check_cells(verdicts, seed=0)                           # accuracy, CI, n_unparsed per cell

`JudgeCheckRecord` is every verdict with the judge's raw answers and the options that produced
them: `harness metrics check --write-docs` writes it beside the docs, so the judge rows there can
be recomputed (tests/test_metrics_check.py) without asking the judge again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict

from harness.errors import HarnessError
from harness.generate.session import GenerationSession
from harness.io import md_code, sha256_text
from harness.judge.judge import Judge, JudgeItem, judge_label
from harness.judge.prompts import JudgePrompt
from harness.score.perturb import ERROR_TYPES, LANGS, TYPES, Sample, name_pool, perturb
from harness.score.resample import bootstrap_indices, percentile_ci
from harness.score.sensitivity import load_samples

SAMPLE_KIND = {"mqm": "segment", "rating": "summary"}  # what each kind of prompt judges
WHAT = {"mqm": "translation segments, both directions", "rating": "the reference summaries, against the article"}


@dataclass(frozen=True)
class CheckPair:
    """One drawn pair: the paraphrase and one error of the same reference."""

    lang: str  # the judged text's language
    kind: str  # error type
    sample: Sample
    paraphrase: str
    error: str


class PairVerdict(BaseModel):
    """The judge's scores of one pair (None: unparsed) and the texts' sha256 (which draw it was)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    lang: str
    kind: str
    id: str  # the reference's sample id
    paraphrase_sha256: str
    error_sha256: str
    paraphrase: float | None
    error: float | None
    answers: tuple[str, str]  # the judge's raw answers: paraphrase, error


class JudgeCheckRecord(BaseModel):
    """Every verdict of one judge check and what produced it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    judge: str  # `name@identity-hash`
    prompt: str  # the prompt's label (name, version, sha256)
    prompt_name: str  # as given: a built-in name or a file
    prompt_kind: str
    per_type: int
    seed: int
    n_boot: int
    command: str  # the options that produced it
    pairs: tuple[PairVerdict, ...]


@dataclass(frozen=True)
class JudgeCheckCell:
    lang: str  # the judged text's language
    kind: str  # error type
    n: int  # pairs (paraphrase, error) drawn
    n_unparsed: int  # pairs with an unparsed answer on either side, left out of the accuracy
    accuracy: float | None  # % of parsed pairs where the paraphrase scores strictly above the error
    ci_low: float | None
    ci_high: float | None


def check_kind(prompt: JudgePrompt) -> None:
    if prompt.kind not in SAMPLE_KIND:
        raise HarnessError(f"judge check: prompt {prompt.name} is {prompt.kind}; the check takes mqm and rating "
                           "prompts")


def draw_pairs(prompt_kind: str, dataset: Path, *, per_type: int = 10, seed: int = 0) -> list[CheckPair]:
    """Per language and error type, up to `per_type` pairs of the prompt's kind of reference, drawn
    with the seed (the metric check's procedure: seed and type index)."""
    samples = load_samples(dataset)
    pool = name_pool(samples)  # every reference's names, as the metric check: the same name swaps
    pairs = []
    for lang in LANGS:
        candidates = [s for s in samples if s.lang == lang and s.kind == SAMPLE_KIND[prompt_kind]]
        faithful = {s.id: perturb(s, "paraphrase", seed, pool) for s in candidates}
        candidates = [s for s in candidates if faithful[s.id] not in (None, s.reference)]
        for t, kind in enumerate(TYPES):
            if kind == "paraphrase":
                continue
            applicable = [(s, p) for s in candidates
                          if (p := perturb(s, kind, seed, pool)) is not None and p != s.reference]
            rng = np.random.default_rng([seed, t])
            keep = sorted(rng.choice(len(applicable), size=min(per_type, len(applicable)), replace=False))
            pairs += [CheckPair(lang, kind, applicable[i][0], faithful[applicable[i][0].id], applicable[i][1])
                      for i in keep]
    return pairs


def judge_pairs(session: GenerationSession, prompt: JudgePrompt,
                pairs: Sequence[CheckPair]) -> tuple[str, list[PairVerdict]]:
    """The judge's name and its verdict on every pair (each paraphrase judged once per language)."""
    check_kind(prompt)
    verdicts = []
    for lang in LANGS:
        mine = [p for p in pairs if p.lang == lang]
        items: dict[str, JudgeItem] = {}
        for p in mine:
            s = p.sample
            items.setdefault(f"{s.id}|paraphrase", JudgeItem(f"{s.id}|paraphrase", s.source, p.paraphrase))
            items[f"{s.id}|{p.kind}"] = JudgeItem(f"{s.id}|{p.kind}", s.source, p.error)
        if not items:
            continue
        # segments: the source is the other language; summaries: the Chinese article
        source_lang = ("zh" if lang == "en" else "en") if prompt.kind == "mqm" else "zh"
        outcome = Judge(prompt, source_lang=source_lang, target_lang=lang).run(session, list(items.values()))
        by_id = {j.id: j for j in outcome.judgements}
        for p in mine:
            f, e = by_id[f"{p.sample.id}|paraphrase"], by_id[f"{p.sample.id}|{p.kind}"]
            verdicts.append(PairVerdict(lang=lang, kind=p.kind, id=p.sample.id,
                                        paraphrase_sha256=sha256_text(p.paraphrase), error_sha256=sha256_text(p.error),
                                        paraphrase=f.value, error=e.value, answers=(f.answers[0], e.answers[0])))
    return judge_label(session), verdicts


def check_cells(verdicts: Sequence[PairVerdict], *, seed: int = 0, n_boot: int = 1000) -> list[JudgeCheckCell]:
    """One cell per language and error type: accuracy over the parsed pairs, bootstrap CI, unparsed count."""
    cells = []
    for lang in LANGS:
        for kind in ERROR_TYPES:
            pairs = [(v.paraphrase, v.error) for v in verdicts if (v.lang, v.kind) == (lang, kind)]
            parsed = [(f, p) for f, p in pairs if f is not None and p is not None]
            acc = low = high = None
            if parsed:
                caught = np.array([float(f > p) for f, p in parsed])
                acc = 100 * float(caught.mean())
                idx = bootstrap_indices(np.random.default_rng(seed), len(caught), n_boot)
                low, high = percentile_ci(100 * caught[idx].mean(axis=1))
            cells.append(JudgeCheckCell(lang, kind, len(pairs), len(pairs) - len(parsed), acc, low, high))
    return cells


def run_judge_check(session: GenerationSession, prompt: JudgePrompt, dataset: Path, *, per_type: int = 10,
                    seed: int = 0, n_boot: int = 1000) -> list[JudgeCheckCell]:
    check_kind(prompt)
    _, verdicts = judge_pairs(session, prompt, draw_pairs(prompt.kind, dataset, per_type=per_type, seed=seed))
    return check_cells(verdicts, seed=seed, n_boot=n_boot)


def _accuracy(c: JudgeCheckCell) -> str:
    return "–" if c.accuracy is None else f"{c.accuracy:.0f} [{c.ci_low:.0f}, {c.ci_high:.0f}]"


def render_check(cells: Sequence[JudgeCheckCell]) -> str:
    lines = ["lang  error     n  unparsed  accuracy % [95% CI] (paraphrase judged strictly above the error)"]
    for c in cells:
        acc = "n/a" if c.accuracy is None else _accuracy(c)
        lines.append(f"{c.lang:<5} {c.kind:<9} {c.n:>2}  {c.n_unparsed:>8}  {acc}")
    return "\n".join(lines)


def render_markdown(cells: Sequence[JudgeCheckCell], record: JudgeCheckRecord, verdicts: str | None) -> str:
    """The judge's rows of `harness metrics check`'s table. `verdicts`: the name of the record's file
    beside the document (None when none is written); an HTML comment names it for the tests."""
    lines = [
        f"Judge {md_code(record.judge)}, prompt {md_code(record.prompt)} ({md_code(record.command)}): the same "
        f"perturbations judged against the source ({WHAT[record.prompt_kind]}); per language and error type up "
        f"to {record.per_type} pairs drawn with seed {record.seed}. The paraphrase must be judged strictly above "
        "the error; a pair with an unparsed answer on either side is left out of the accuracy and counted in "
        "`unparsed`.",
    ]
    if verdicts is not None:
        lines[0] += f" Every verdict, with the judge's raw answers: [{verdicts}]({verdicts})."
        lines.append(f"<!-- judge-check: {verdicts} -->")
    lines += ["", "| lang | perturbation | n | unparsed | judge |", "|---|---|---:|---:|---:|"]
    lines += [f"| {c.lang} | {c.kind} | {c.n} | {c.n_unparsed} | {_accuracy(c)} |" for c in cells]
    return "\n".join(lines) + "\n"
