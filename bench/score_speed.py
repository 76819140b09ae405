"""Scoring speed: 10,000 segment pairs with BLEU + chrF++ + ROUGE-1/2/L/Lsum and 1,000 bootstrap
samples (target ≤ 5 s on 2 cores), against a naive bootstrap that re-scores text per resample.

    python bench/score_speed.py [--n 10000] [--boot 1000] [--lang zh|en|both] [--naive-boot 5]
    python bench/score_speed.py --bertscore [--n 10000]     (target ≤ 10 min on 2 cores)

--bertscore times BERTScore on the bundled encoder (half Chinese, half English pairs, all texts
distinct) from an empty embedding cache, then the same scoring again from the cache, and counts
the texts the second scoring embedded (must be 0). With --n below 10,000 it also prints the
linear extrapolation to 10,000 pairs (embedding dominates and is linear in the number of texts).

The pairs are built from the repository's own segments (data/segments.parquet for Chinese,
references/translations/en for English): each reference is a segment with a light seeded edit
(so all 10,000 are distinct), each hypothesis a heavier edit of its reference.

The naive bootstrap re-scores the resampled texts for every resample with the libraries
themselves (sacrebleu ``corpus_score``, rouge-score ``score_multi``). It is far too slow to
run 1,000 times on 10,000 pairs, so it is timed on --naive-boot resamples and extrapolated
linearly to --boot resamples; the output says so. (sacrebleu memoises tokenisation, so later
resamples are a little cheaper than the first: the extrapolation, if anything, flatters it.)
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET_S = 5.0
METRICS = ["bleu", "chrf++", "rouge1", "rouge2", "rougeL", "rougeLsum"]
FILLER_ZH = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行"
FILLER_EN = "the a of and to in is that for it with as was on said new model data market".split()


def _segments(lang: str) -> list[str]:
    if lang == "zh":
        import pandas as pd

        return pd.read_parquet(ROOT / "data" / "segments.parquet").zh_simplified.tolist()
    rows = []
    for path in sorted((ROOT / "references" / "translations" / "en").glob("*.jsonl")):
        rows += [json.loads(line)["en"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return rows


def _edit(units: list[str], share: float, filler: list[str] | str, rng: random.Random) -> list[str]:
    units = list(units)
    for _ in range(max(1, int(len(units) * share))):
        op, i = rng.random(), rng.randrange(len(units))
        if op < 0.4:
            units[i] = rng.choice(filler)
        elif op < 0.7 and len(units) > 1:
            units.pop(i)
        else:
            units.insert(i, rng.choice(filler))
    return units


def make_pairs(lang: str, n: int, seed: int = 0) -> tuple[list[str], list[list[str]]]:
    rng = random.Random(seed)
    segments = _segments(lang)
    hyps, refs = [], []
    for i in range(n):
        base = segments[i % len(segments)]
        if lang == "zh":
            ref = "".join(_edit(list(base), 0.05, FILLER_ZH, rng))
            hyp = "".join(_edit(list(ref), 0.25, FILLER_ZH, rng))
        else:
            ref = " ".join(_edit(base.split(), 0.05, FILLER_EN, rng))
            hyp = " ".join(_edit(ref.split(), 0.25, FILLER_EN, rng))
        hyps.append(hyp)
        refs.append([ref])
    return hyps, refs


def run_ours(task: str, hyps, refs, n_boot: int) -> tuple[float, float, list]:
    """(wall s, CPU s of this process, scores) of one ``harness.score.score`` call."""
    from harness.score import score

    wall, cpu = time.perf_counter(), time.process_time()
    scores = score(task, hyps, refs, METRICS, seed=0, n_boot=n_boot)
    return time.perf_counter() - wall, time.process_time() - cpu, scores


def run_naive(task: str, hyps, refs, n_boot: int) -> float:
    """Seconds per resample when each resample re-scores its texts from scratch with the
    libraries themselves: sacrebleu ``corpus_score`` (BLEU, chrF++) and rouge-score
    ``score_multi`` with our Chinese/English tokenizer, mean F over items."""
    import numpy as np
    import sacrebleu
    from rouge_score import rouge_scorer

    from harness.score.rouge import Rouge

    lang = "zh" if task == "translate_en_zh" else "en"
    rouge = Rouge("rouge1", lang)
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL", "rougeLsum"], tokenizer=rouge.tokenizer)
    bleu = sacrebleu.BLEU(tokenize="zh" if lang == "zh" else "13a")
    chrf = sacrebleu.CHRF(word_order=2)
    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    for _ in range(n_boot):
        idx = rng.integers(0, len(hyps), size=len(hyps))
        h, r = [hyps[i] for i in idx], [refs[i][0] for i in idx]
        bleu.corpus_score(h, [r])
        chrf.corpus_score(h, [r])
        per_item = [scorer.score_multi([rouge.prepare(ref)], rouge.prepare(hyp)) for hyp, ref in zip(h, r)]
        {t: np.mean([s[t].fmeasure for s in per_item]) for t in scorer.rouge_types}
    return (time.perf_counter() - t0) / n_boot


BERTSCORE_TARGET_S = 600.0


def run_bertscore(n: int) -> None:
    """Cold and cached BERTScore on n pairs; the encoder folder is converted first, untimed."""
    import os
    import tempfile

    from harness.encoders.e5 import ensure_e5_folder
    from harness.score import score
    from harness.score.bertscore import BertScore

    t0 = time.perf_counter()
    ensure_e5_folder()
    print(f"encoder folder ready in {time.perf_counter() - t0:.1f} s (conversion on first use only)")
    half = n // 2
    pairs = {"zh": make_pairs("zh", half, seed=1), "en": make_pairs("en", n - half, seed=1)}
    with tempfile.TemporaryDirectory(prefix="bench-bertscore-") as tmp:
        db = Path(tmp) / "embeddings.sqlite"
        total = {"cold": 0.0, "cached": 0.0}
        cpu_total = {"cold": 0.0, "cached": 0.0}
        for phase in ("cold", "cached"):
            for lang, (hyps, refs) in pairs.items():
                task = "translate_en_zh" if lang == "zh" else "translate_zh_en"
                metric = BertScore(lang, cache_path=db)
                wall, cpu = time.perf_counter(), time.process_time()
                [s] = score(task, hyps, refs, [metric], seed=0, n_boot=1000)
                took = time.perf_counter() - wall
                total[phase] += took
                cpu_total[phase] += time.process_time() - cpu
                print(f"  {phase:6s} [{lang}] {len(hyps)} pairs: {took:.1f} s, texts embedded {metric.encoder.texts_embedded}, "
                      f"encoder loaded {metric.encoder.loaded}; bertscore {s.value:.2f} [{s.ci_low:.2f}, {s.ci_high:.2f}]")
        size = db.stat().st_size / 2**20
    load = os.getloadavg()[0]
    print(f"{n} pairs: cold {total['cold']:.1f} s, cached {total['cached']:.1f} s (cache {size:.0f} MiB); load average {load:.1f} now")
    scale = 10_000 / n
    per_10k, cpu_10k = total["cold"] * scale, cpu_total["cold"] * scale
    cores = len(os.sched_getaffinity(0))
    note = f" (extrapolated linearly from {n})" if n != 10_000 else ""
    print(f"  → wall {per_10k:.0f} s per 10,000 pairs{note}: {per_10k / BERTSCORE_TARGET_S:.2f}× the "
          f"{BERTSCORE_TARGET_S:.0f} s target at this load")
    print(f"  → CPU {cpu_10k:.0f} s per 10,000 pairs (all threads); on {cores} otherwise idle cores ≈ "
          f"{cpu_10k / cores:.0f} s wall: {cpu_10k / cores / BERTSCORE_TARGET_S:.2f}× the target")
    print(f"  → cached rescore: wall {total['cached'] * scale:.0f} s per 10,000 pairs, no text embedded")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--boot", type=int, default=1000)
    parser.add_argument("--lang", choices=["zh", "en", "both"], default="both")
    parser.add_argument("--runs", type=int, default=3, help="timed runs of ours; the median is reported")
    parser.add_argument("--naive-boot", type=int, default=2, help="naive resamples actually timed")
    parser.add_argument("--bertscore", action="store_true", help="time BERTScore (cold and cached) instead")
    args = parser.parse_args()
    if args.bertscore:
        import os

        print(f"BERTScore on {args.n} pairs, bundled encoder; {len(os.sched_getaffinity(0))} cores, "
              f"load average {os.getloadavg()[0]:.1f} at start")
        run_bertscore(args.n)
        return

    import os

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{args.n} segment pairs, metrics {' + '.join(METRICS)}, {args.boot} bootstrap samples; "
          f"{cores} cores, load average {load:.1f} at start (wall times grow with other processes' load, CPU times much less)")
    for lang in (["zh", "en"] if args.lang == "both" else [args.lang]):
        task = "translate_en_zh" if lang == "zh" else "translate_zh_en"
        hyps, refs = make_pairs(lang, args.n)
        run_ours(task, hyps[:50], refs[:50], 10)  # imports and lazy set-up outside the timing
        runs = [run_ours(task, hyps, refs, args.boot) for _ in range(args.runs)]
        wall = statistics.median(r[0] for r in runs)
        cpu = statistics.median(r[1] for r in runs)
        scores = runs[-1][2]
        per_resample = run_naive(task, hyps, refs, args.naive_boot)
        naive = per_resample * args.boot
        print(f"\n[{lang}] task {task}")
        print("  " + ", ".join(f"{s.metric} {s.value:.2f} [{s.ci_low:.2f}, {s.ci_high:.2f}]" for s in scores))
        print(f"  ours (statistics resampled)  wall median {wall:.2f} s, CPU {cpu:.2f} s ({args.runs} runs)"
              f"  → {wall / TARGET_S:.2f}× the {TARGET_S:.0f} s target (CPU {cpu / TARGET_S:.2f}×)")
        print(f"  naive (texts re-scored with sacrebleu + rouge-score per resample): {per_resample:.1f} s per resample, "
              f"timed on {args.naive_boot} and extrapolated to {args.boot}: ≈ {naive:,.0f} s")
        print(f"  ratio naive / ours           ≈ {naive / wall:,.0f}× (wall)")


if __name__ == "__main__":
    main()
