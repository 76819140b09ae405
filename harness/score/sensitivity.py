"""`harness metrics check`: what each metric notices, in the style of DEMETR and ACES.

Material: the project's own references, never model output: English and Chinese segments of
data/translation.parquet (`en`; `zh_simplified`) and the English and Chinese reference summaries of
data/summarization.parquet. For each reference r and each perturbation type T below, the check
builds

- the faithful text f = a meaning-preserving paraphrase of r (the PARAPHRASE table: contractions
  and synonyms for English, synonyms for Chinese; at most two substitutions), and
- the perturbed text p = T(r), one meaning-changing edit of the reference itself,

and scores both against r (`numbers`, reference-free, against the source that r translates or the
article it summarises). A metric "catches" the error when it scores f above p (strictly; a tie is
a miss; for TER, lower is better). As in ACES, the faithful text differs from the reference in more
words than the perturbed one, so a metric that only counts overlap prefers the error. Pairwise
accuracy is the share of items caught, with a 95 % percentile bootstrap CI over items. A second
table gives the points each text type loses against the reference itself, m(r, r) − m(x, r): small
for the paraphrase, large for errors is what a meaning-aware metric should show.

The perturbations themselves are in harness.score.perturb.

Sample: per language and type, up to ``per_type`` (default 100) references, segments and
summaries, for which both the paraphrase and the perturbation exist, drawn with the seed from all
511 segments and 10 summaries. Runtime on 2 cores: see docs/scoring.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness.score.api import get_metric, item_scores
from harness.score.numbers import Numbers
from harness.score.perturb import ERROR_TYPES, LANGS, TYPES, Sample, name_pool, perturb
from harness.score.resample import bootstrap_indices, percentile_ci

SURFACE_METRICS = ("rouge1", "rouge2", "rougeL", "rougeLsum", "bleu", "chrf", "chrf++", "ter")
TASK_FOR_LANG = {"en": "translate_zh_en", "zh": "translate_en_zh"}


def load_samples(dataset: Path) -> list[Sample]:
    """Every segment reference (English; Simplified Chinese) and every reference summary."""
    import pandas as pd  # heavy: only the check reads the parquet files, with pandas

    segments = pd.read_parquet(Path(dataset) / "translation.parquet")
    out = []
    for lang, column in (("en", "en"), ("zh", "zh_simplified")):
        other = "zh_simplified" if lang == "en" else "en"
        out += [Sample(lang, "segment", str(r["segment_id"]), str(r[column]), str(r[other]))
                for _, r in segments.iterrows() if str(r[column]).strip()]
    summaries = pd.read_parquet(Path(dataset) / "summarization.parquet")
    for lang in LANGS:
        for _, row in summaries.iterrows():
            for k, text in enumerate(row[f"summaries_{lang}"]):
                out.append(Sample(lang, "summary", f"{row['doc_id']}-{'AB'[k]}", str(text), str(row["text_simplified"])))
    return out


@dataclass(frozen=True)
class SensitivityCell:
    """One (language, perturbation type, metric) of the check."""

    lang: str
    kind: str  # perturbation type
    metric: str
    n: int
    accuracy: float | None  # % of items where the faithful text scores above the perturbed (errors only)
    ci_low: float | None
    ci_high: float | None
    points_lost: float  # mean m(r, r) − m(x, r), sign flipped for lower-is-better metrics


def run_check(dataset: Path, metrics: Sequence[str] | None = None, *, per_type: int = 100, seed: int = 0,
              n_boot: int = 1000, configure=None) -> list[SensitivityCell]:
    """Every (language, perturbation type, metric) cell. ``configure(metrics, sources)`` returns
    the metric objects configured (bertscore/comet settings; comet reads the sources)."""
    names = list(metrics) if metrics else [*SURFACE_METRICS, "bertscore", "numbers", "terms"]
    samples = load_samples(dataset)
    pool = name_pool(samples)
    cells = []
    for lang in LANGS:
        task = TASK_FOR_LANG[lang]
        candidates = [s for s in samples if s.lang == lang]
        faithful = {s.id: perturb(s, "paraphrase", seed, pool) for s in candidates}
        candidates = [s for s in candidates if faithful[s.id] not in (None, s.reference)]
        # per type: up to `per_type` items it applies to, drawn with the seed
        chosen: dict[str, list[tuple[Sample, str]]] = {}
        for t, kind in enumerate(TYPES):
            applicable = []
            for s in candidates:
                text = faithful[s.id] if kind == "paraphrase" else perturb(s, kind, seed, pool)
                if text is not None and text != s.reference:
                    applicable.append((s, text))
            rng = np.random.default_rng([seed, t])
            keep = sorted(rng.choice(len(applicable), size=min(per_type, len(applicable)), replace=False))
            chosen[kind] = [applicable[i] for i in keep]
        # one scoring pass per language: the references themselves, the faithful and perturbed texts
        texts, refs, sources, source_langs, where = [], [], [], [], {}

        def add(key, text, sample):
            if key not in where:
                where[key] = len(texts)
                texts.append(text)
                refs.append([sample.reference])
                sources.append(sample.source)
                source_langs.append(sample.source_lang)

        for kind, pairs in chosen.items():
            for s, text in pairs:
                add((s.id, "self"), s.reference, s)
                add((s.id, "paraphrase"), faithful[s.id], s)
                add((s.id, kind), text, s)
        # numbers reads each item's source in its own language (segments: the other one; summaries: zh),
        # in F mode for summaries too: the check asks whether a changed number is noticed
        scorers = [m.with_sources(sources, source_langs) if isinstance(m, Numbers) else m
                   for m in (get_metric(name, task) for name in names)]
        if configure is not None:
            scorers = configure(scorers, sources)
        scores = item_scores(task, texts, refs, scorers)
        for kind in TYPES:
            ids = [s.id for s, _ in chosen[kind]]
            for metric in scorers:
                # None (terms: no glossary term in the source) → NaN: not caught, left out of the points lost
                values = np.asarray(scores[metric.name], dtype=np.float64)
                sign = -1.0 if metric.name == "ter" else 1.0
                own = sign * values[[where[(i, "self")] for i in ids]]
                perturbed = sign * values[[where[(i, kind)] for i in ids]]
                diffs = (own - perturbed)[~np.isnan(own - perturbed)]
                lost = float(np.mean(diffs)) if len(diffs) else float("nan")
                acc = low = high = None
                if kind != "paraphrase" and ids:
                    fair = sign * values[[where[(i, "paraphrase")] for i in ids]]
                    caught = (fair > perturbed).astype(float)
                    acc = 100 * float(caught.mean())
                    idx = bootstrap_indices(np.random.default_rng(seed), len(ids), n_boot)
                    low, high = percentile_ci(100 * caught[idx].mean(axis=1))
                cells.append(SensitivityCell(lang, kind, metric.name, len(ids), acc, low, high, lost))
    return cells


def render_markdown(cells: Sequence[SensitivityCell], *, per_type: int, seed: int) -> str:
    metrics = list(dict.fromkeys(c.metric for c in cells))
    by = {(c.lang, c.kind, c.metric): c for c in cells}
    lines = [
        f"Pairwise accuracy (%) with 95 % bootstrap CI: how often a metric scores a meaning-preserving paraphrase "
        f"of the reference above the reference with one error (seed {seed}; per language and type up to {per_type} "
        f"references, segments and summaries, that the perturbation and a paraphrase apply to; n = their number).",
        "",
        "| lang | perturbation | n | " + " | ".join(metrics) + " |",
        "|---|---|---:|" + "---:|" * len(metrics),
    ]
    for lang in LANGS:
        for kind in ERROR_TYPES:
            first = by[(lang, kind, metrics[0])]
            row = [f"{by[(lang, kind, m)].accuracy:.0f} [{by[(lang, kind, m)].ci_low:.0f}, {by[(lang, kind, m)].ci_high:.0f}]"
                   if by[(lang, kind, m)].accuracy is not None else "–" for m in metrics]
            lines.append(f"| {lang} | {kind} | {first.n} | " + " | ".join(row) + " |")
    lines += [
        "",
        "Points lost against the reference itself, mean of m(r, r) − m(x, r) (TER: sign flipped). A metric that "
        "notices meaning loses little on the paraphrase and much on the errors.",
        "",
        "| lang | text | n | " + " | ".join(metrics) + " |",
        "|---|---|---:|" + "---:|" * len(metrics),
    ]
    for lang in LANGS:
        for kind in TYPES:
            first = by[(lang, kind, metrics[0])]
            row = [f"{by[(lang, kind, m)].points_lost:.1f}" for m in metrics]
            lines.append(f"| {lang} | {kind} | {first.n} | " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


BEGIN, END = "<!-- metrics-check:begin -->", "<!-- metrics-check:end -->"


def replace_section(document: str, table: str) -> str:
    if BEGIN not in document or END not in document:
        raise ValueError("markers missing")
    head, rest = document.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{table}{END}{tail}"


def section(document: str) -> str:
    return document.split(BEGIN, 1)[1].split(END, 1)[0].lstrip("\n")
