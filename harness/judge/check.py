"""The judge's sensitivity check: the accuracy a judge really reaches on controlled errors.

The material and perturbations are `harness metrics check`'s (harness.score.sensitivity and
harness.score.perturb): for each reference r of the project's dataset, a meaning-preserving
paraphrase f and, per error type, one meaning-changing edit p of r. The judge judges f and p
against the source (MQM prompts: translation segments, both directions; rating prompts: the
reference summaries). It "catches" the error when it scores f strictly above p (a tie is a miss,
as for the metrics). Pairs with an unparsed answer on either side are left out of the accuracy and
counted: a judge that cannot answer is not credited with a verdict either way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness.errors import HarnessError
from harness.generate.session import GenerationSession
from harness.judge.judge import Judge, JudgeItem
from harness.judge.prompts import JudgePrompt
from harness.score.perturb import ERROR_TYPES, LANGS, TYPES, name_pool, perturb
from harness.score.resample import bootstrap_indices, percentile_ci
from harness.score.sensitivity import load_samples

SAMPLE_KIND = {"mqm": "segment", "rating": "summary"}  # what each kind of prompt judges


@dataclass(frozen=True)
class JudgeCheckCell:
    lang: str  # the judged text's language
    kind: str  # error type
    n: int  # pairs (paraphrase, error) drawn
    n_unparsed: int  # pairs with an unparsed answer on either side, left out of the accuracy
    accuracy: float | None  # % of parsed pairs where the paraphrase scores strictly above the error
    ci_low: float | None
    ci_high: float | None


def run_judge_check(session: GenerationSession, prompt: JudgePrompt, dataset: Path, *, per_type: int = 10,
                    seed: int = 0, n_boot: int = 1000) -> list[JudgeCheckCell]:
    if prompt.kind not in SAMPLE_KIND:
        raise HarnessError(f"judge check: prompt {prompt.name} is {prompt.kind}; the check takes mqm and rating "
                           "prompts")
    samples = [s for s in load_samples(dataset) if s.kind == SAMPLE_KIND[prompt.kind]]
    pool = name_pool(samples)
    cells = []
    for lang in LANGS:
        candidates = [s for s in samples if s.lang == lang]
        faithful = {s.id: perturb(s, "paraphrase", seed, pool) for s in candidates}
        candidates = [s for s in candidates if faithful[s.id] not in (None, s.reference)]
        chosen: dict[str, list] = {}
        for t, kind in enumerate(TYPES):  # the same draw as `harness metrics check` (seed, type index)
            if kind == "paraphrase":
                continue
            applicable = [(s, p) for s in candidates
                          if (p := perturb(s, kind, seed, pool)) is not None and p != s.reference]
            rng = np.random.default_rng([seed, t])
            keep = sorted(rng.choice(len(applicable), size=min(per_type, len(applicable)), replace=False))
            chosen[kind] = [applicable[i] for i in keep]
        items: dict[str, JudgeItem] = {}
        for kind, pairs in chosen.items():
            for s, text in pairs:
                items.setdefault(f"{s.id}|paraphrase", JudgeItem(f"{s.id}|paraphrase", s.source, faithful[s.id]))
                items[f"{s.id}|{kind}"] = JudgeItem(f"{s.id}|{kind}", s.source, text)
        # segments: the source is the other language; summaries: the Chinese article
        source_lang = ("zh" if lang == "en" else "en") if prompt.kind == "mqm" else "zh"
        judge = Judge(prompt, source_lang=source_lang, target_lang=lang)
        values = {j.id: j.value for j in judge.run(session, list(items.values())).judgements}
        for kind in ERROR_TYPES:
            pairs = [(values[f"{s.id}|paraphrase"], values[f"{s.id}|{kind}"]) for s, _ in chosen[kind]]
            parsed = [(f, p) for f, p in pairs if f is not None and p is not None]
            acc = low = high = None
            if parsed:
                caught = np.array([float(f > p) for f, p in parsed])
                acc = 100 * float(caught.mean())
                idx = bootstrap_indices(np.random.default_rng(seed), len(caught), n_boot)
                low, high = percentile_ci(100 * caught[idx].mean(axis=1))
            cells.append(JudgeCheckCell(lang, kind, len(pairs), len(pairs) - len(parsed), acc, low, high))
    return cells


def render_check(cells: Sequence[JudgeCheckCell]) -> str:
    lines = ["lang  error     n  unparsed  accuracy % [95% CI] (paraphrase judged strictly above the error)"]
    for c in cells:
        acc = "n/a" if c.accuracy is None else f"{c.accuracy:.0f} [{c.ci_low:.0f}, {c.ci_high:.0f}]"
        lines.append(f"{c.lang:<5} {c.kind:<9} {c.n:>2}  {c.n_unparsed:>8}  {acc}")
    return "\n".join(lines)
