"""The `numbers` metric on the dataset's own segment pairs (issue 20's acceptance figures).

    python bench/numbers_metric.py [--seed 0] [--misses]

For both directions (zh → en: the Chinese segment is the source and its English reference
translation the output; en → zh: the other way round), over all 511 segment pairs of
references/translations/en:

1. the mean item score of the reference translations and the corpus (micro F) score: every
   source number kept scores 100 (target: mean >= 98);
2. for each number perturbation of the output (harness.score.perturb: digits changed, a unit
   swapped 万 ↔ 千 / 亿 ↔ 百万 / million ↔ billion, a number dropped, a percentage added), on
   every pair it applies to, the share where the faithful output scores above the perturbed one
   (target: >= 95 %). --misses prints the pairs where it does not.

3. the reference summaries (data/summarization.parquet, data/passages.parquet; A and B) against
   their article or passage, in the summaries' precision-only mode.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.score import item_scores, score  # noqa: E402  (after the sys.path line)
from harness.score.numbers import Numbers, number_details  # noqa: E402
from harness.score.perturb import add_number, change_digits, change_unit, drop_number  # noqa: E402

TASKS = {("zh", "en"): "translate_zh_en", ("en", "zh"): "translate_en_zh"}


def pairs() -> list[dict]:
    rows = []
    for path in sorted((ROOT / "references" / "translations" / "en").glob("*.jsonl")):
        rows += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return rows


def perturbations(text: str, lang: str, source: str, rng_for) -> dict[str, str | None]:
    return {
        "digits": change_digits(text, lang, rng_for("digits")),
        "unit": change_unit(text, lang, rng_for("unit")),
        "drop": drop_number(text, lang, rng_for("drop")),
        "add": add_number(text, lang, rng_for("add"), source),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--misses", action="store_true")
    args = parser.parse_args()
    rows = pairs()
    for (src_lang, out_lang), task in TASKS.items():
        sources, outputs = [r[src_lang] for r in rows], [r[out_lang] for r in rows]
        metric = Numbers(out_lang).with_sources(sources, src_lang)
        refs = [[o] for o in outputs]
        faithful = item_scores(task, outputs, refs, [metric])["numbers"]
        (corpus,) = score(task, outputs, refs, [metric], seed=args.seed, n_boot=1000)
        print(f"{src_lang} -> {out_lang}: {len(rows)} pairs; reference translations: mean item score "
              f"{np.mean(faithful):.2f}, corpus {corpus.value:.2f} [{corpus.ci_low:.2f}, {corpus.ci_high:.2f}] "
              f"(P {corpus.precision:.2f}, R {corpus.recall:.2f}); {sum(f < 100 for f in faithful)} below 100")
        by_kind: dict[str, list[tuple[int, str]]] = {}
        for i, r in enumerate(rows):
            def rng_for(kind, i=i):
                return np.random.default_rng([args.seed, i, len(kind)])
            for kind, text in perturbations(outputs[i], out_lang, sources[i], rng_for).items():
                if text is not None and text != outputs[i]:
                    by_kind.setdefault(kind, []).append((i, text))
        total_caught = total = 0
        for kind, items in by_kind.items():
            idx = [i for i, _ in items]
            sub = Numbers(out_lang).with_sources([sources[i] for i in idx], src_lang)
            perturbed = item_scores(task, [t for _, t in items], [[outputs[i]] for i in idx], [sub])["numbers"]
            caught = [faithful[i] > p for i, p in zip(idx, perturbed)]
            total_caught, total = total_caught + sum(caught), total + len(caught)
            print(f"  {kind:7s} n={len(items):3d}  faithful > perturbed: {100 * np.mean(caught):.1f} %")
            if args.misses:
                for (i, text), hit in zip(items, caught):
                    if not hit:
                        print(f"    miss {rows[i]['segment_id']}: {text}\n      "
                              f"{number_details(sources[i], text, src_lang, out_lang)}")
        print(f"  all     n={total:3d}  faithful > perturbed: {100 * total_caught / total:.1f} %")
    summaries()


def summaries() -> None:
    import pandas as pd  # heavy: only the summary figures read parquet

    for config, column, task in (("summarization", "summaries", "summarize"), ("passages", "passage_summaries", "summarize_passage")):
        table = pd.read_parquet(ROOT / "data" / f"{config}.parquet")
        for lang in ("zh", "en"):
            pairs = [(row["text_simplified"], s) for _, row in table.iterrows() for s in row[f"{column}_{lang}"] if s]
            metric = Numbers(lang).with_sources([a for a, _ in pairs], "zh", summary=True)
            (s,) = score(f"{task}_{lang}", [s for _, s in pairs], [["", ""]] * len(pairs), [metric], n_boot=1000)
            print(f"{config} {lang}: {len(pairs)} reference summaries, precision {s.value:.2f} "
                  f"[{s.ci_low:.2f}, {s.ci_high:.2f}]")


if __name__ == "__main__":
    main()
