"""A configured model as a judge, asked through a `GenerationSession`: the judge's prompts are fitted,
keyed and cached like any generation (same SQLite cache, committed in batches, so a killed judge
run resumes where it stopped), and its answers are parsed strictly (`harness.judge.parse`).

    judge = Judge(prompt, source_lang="zh", target_lang="en")
    outcome = judge.run(session, items)          # JudgeItem(id, source, hypothesis, reference?, hypothesis_b?)
    score = judge_score(outcome, seed=0)         # mean over parsed items, bootstrap CI, n_unparsed

The score's signature names the judge (its config name and identity hash), the prompt (name,
version, sha256), the scale and the number of unparsed answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from harness.errors import HarnessError
from harness.generate.session import GenerationSession
from harness.io import sha256_json
from harness.judge.parse import (MQM_SCALE, RATING_SCALE, Parsed, combine_orders, parse_mqm, parse_preference,
                                 parse_rating)
from harness.judge.prompts import JudgePrompt, language_fields
from harness.request import Request
from harness.score.resample import bootstrap_indices, percentile_ci, resampled_sums

ORDERS = ("ab", "ba")  # pairwise: each item asked with system B second, then first


@dataclass(frozen=True)
class JudgeItem:
    id: str
    source: str
    hypothesis: str  # the output judged (pairwise: system A's)
    reference: str | None = None  # only for prompts with {reference}
    hypothesis_b: str | None = None  # pairwise: system B's output


@dataclass(frozen=True)
class Query:
    """One judge call: the session fits it like a task item (its `source` may be cut to fit)."""

    id: str
    source: str
    fields: dict[str, str]


@dataclass(frozen=True)
class Judgement:
    id: str
    value: float | None  # 0-100; None when an answer was not parsed
    problem: str | None  # why not
    answers: tuple[str, ...]  # the judge's raw answers (two for pairwise: orders A/B, B/A)
    detail: dict = field(default_factory=dict)
    truncated: bool = False  # the source was cut to fit the judge's context

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class JudgeOutcome:
    judge: str  # `name@identity-hash`
    prompt: JudgePrompt
    judgements: list[Judgement]
    generated: int  # judge calls made now
    cached: int  # judge calls answered from the cache
    output_tokens: int  # of every answer, cached ones included


class JudgeTask:
    """The judge prompt as the session's `PromptSource` (name, template version and sha256)."""

    def __init__(self, prompt: JudgePrompt, max_new_tokens: int):
        self.name = f"judge-{prompt.name}"
        self.template = prompt  # .version and .sha256 join the cache key
        self.max_new_tokens = max_new_tokens

    def prompt(self, query: Query, source: str | None = None):
        return self.template.build({**query.fields, "source": query.source if source is None else source})

    def request(self, query: Query) -> Request:
        return Request(id=query.id, prompt=self.prompt(query), source=query.source,
                       max_new_tokens=self.max_new_tokens, task=self.name)


class Judge:
    def __init__(self, prompt: JudgePrompt, *, source_lang: str, target_lang: str, max_new_tokens: int | None = None):
        self.prompt = prompt
        self.languages = language_fields(source_lang, target_lang)
        self.task = JudgeTask(prompt, max_new_tokens or prompt.max_new_tokens)

    def queries(self, items: Sequence[JudgeItem]) -> list[Query]:
        uses_reference = "{reference}" in self.prompt.user
        out = []
        seen = set()
        for n, item in enumerate(items, 1):
            if item.id in seen:
                raise HarnessError(f"judge items: id {item.id!r} appears twice (item {n})")
            seen.add(item.id)
            if uses_reference and item.reference is None:
                raise HarnessError(f"judge prompt {self.prompt.name}: uses {{reference}} but item {n} has none")
            if (self.prompt.kind == "pairwise") != (item.hypothesis_b is not None):
                need = "needs a" if self.prompt.kind == "pairwise" else "takes no"
                raise HarnessError(f"judge prompt {self.prompt.name}: a {self.prompt.kind} prompt {need} second "
                                   f"system's output (item {n})")
            base = {**self.languages, "reference": item.reference or ""}
            if self.prompt.kind == "pairwise":
                a, b = item.hypothesis, item.hypothesis_b
                out.append(Query(f"{item.id}#ab", item.source, {**base, "hypothesis_a": a, "hypothesis_b": b}))
                out.append(Query(f"{item.id}#ba", item.source, {**base, "hypothesis_a": b, "hypothesis_b": a}))
            else:
                out.append(Query(item.id, item.source, {**base, "hypothesis": item.hypothesis}))
        return out

    def parse(self, answer: str, item: JudgeItem) -> Parsed:
        if self.prompt.kind == "mqm":
            return parse_mqm(answer, (item.hypothesis, item.source))
        if self.prompt.kind == "rating":
            return parse_rating(answer, self.prompt.field)
        return parse_preference(answer, self.prompt.field)

    def run(self, session: GenerationSession, items: Sequence[JudgeItem], progress=None) -> JudgeOutcome:
        """Judge every item: cached answers first, the judge model for the rest (committed as they come)."""
        queries = self.queries(items)
        fitted = [session.fit(self.task, q)[0] for q in queries]
        answers, generated = session.complete(self.task, fitted, progress or _Silent())
        truncated = {r.request.id: r.truncated for r in fitted}
        judgements = []
        for item in items:
            if self.prompt.kind == "pairwise":
                ids = [f"{item.id}#{o}" for o in ORDERS]
                parsed = combine_orders(*(self.parse(answers[i].raw, item) for i in ids))
            else:
                ids = [item.id]
                parsed = self.parse(answers[item.id].raw, item)
            judgements.append(Judgement(item.id, parsed.value, parsed.problem, tuple(answers[i].raw for i in ids),
                                        parsed.detail, any(truncated[i] for i in ids)))
        tokens = sum(c.output_tokens for c in answers.values())
        return JudgeOutcome(judge_label(session), self.prompt, judgements, generated, len(queries) - generated, tokens)


def judge_label(session: GenerationSession) -> str:
    """`name@identity-hash`: how signatures and reports name a judge (12 hex digits of its identity's sha256)."""
    return f"{session.model}@{sha256_json(session.identity)[:12]}"


class _Silent:
    def advance(self, items: int, tokens: int) -> None:
        pass


# --- the score -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class JudgeScore:
    """The mean judge score over the parsed items (0-100) with its 95 % bootstrap CI; unparsed
    items are left out of the mean and counted. `value` is None when no answer was parsed."""

    metric: str  # judge:<prompt name>
    value: float | None
    ci_low: float | None
    ci_high: float | None
    signature: str
    n: int  # items judged
    n_unparsed: int
    unparsed_ids: tuple[str, ...]

    def to_dict(self) -> dict:
        return asdict(self)


def scale(prompt: JudgePrompt) -> str:
    if prompt.kind == "mqm":
        return MQM_SCALE
    if prompt.kind == "rating":
        return RATING_SCALE
    return "pref-B:mean(B=100,tie=50,A=0)-over-orders-AB,BA"


def signature(outcome: JudgeOutcome, n_unparsed: int) -> str:
    return (f"judge:{outcome.prompt.kind}|model:{outcome.judge}|prompt:{outcome.prompt.label}|"
            f"scale:{scale(outcome.prompt)}|parse:strict|unparsed:{n_unparsed}/{len(outcome.judgements)}")


def judge_score(outcome: JudgeOutcome, *, seed: int = 0, n_boot: int = 1000) -> JudgeScore:
    """Item statistics (value, 1) for parsed items and (0, 0) for the others: the mean and every
    bootstrap resample are sums of values over sums of parsed counts, so an unparsed item never counts as 0."""
    js = outcome.judgements
    if not js:
        raise HarnessError("judge: no items to judge")
    stats = np.array([[j.value, 1.0] if j.value is not None else [0.0, 0.0] for j in js])
    unparsed = tuple(j.id for j in js if j.value is None)
    sig = signature(outcome, len(unparsed))
    metric = f"judge:{outcome.prompt.name}"
    if len(unparsed) == len(js):
        return JudgeScore(metric, None, None, None, sig, len(js), len(unparsed), unparsed)
    value = float(stats[:, 0].sum() / stats[:, 1].sum())
    sums = resampled_sums(stats, bootstrap_indices(np.random.default_rng(seed), len(js), n_boot))
    kept = sums[:, 1] > 0  # a resample of only unparsed items has no mean
    low, high = percentile_ci(sums[kept, 0] / sums[kept, 1])
    return JudgeScore(metric, value, low, high, sig, len(js), len(unparsed), unparsed)
