"""Judging speed: the bundled GGUF model as an MQM judge of translate_zh_en segments, on this machine.

    python bench/judge_speed.py [--model qwen2.5-coder-1.5b-instruct] [--items 200] [--prompt mqm] [--threads N]

Judges the first N translate_zh_en segments of the dataset (the reference translations as the
outputs judged) through the `gguf` backend and a generation session on a fresh, empty cache in a
temporary folder (every call is made; nothing is read from or left in the user's cache; the model
file is read from $HARNESS_CACHE as usual). Prints the wall time, segments per second, output tokens
per second, the judge score, how many answers were unparsed, and the load average before and after
(numbers taken on a busy machine are not comparable). Model loading is timed separately.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    from harness.config import parse_config
    from harness.generate.cache import GenerationCache
    from harness.generate.session import GenerationSession
    from harness.judge.judge import Judge, JudgeItem, judge_score
    from harness.judge.prompts import load_prompt
    from harness.request import GenerationSettings
    from harness.tasks import load_items

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="qwen2.5-coder-1.5b-instruct")
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--prompt", default="mqm")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--parallel", type=int, default=None, help="gguf `parallel` (default: the backend's)")
    args = parser.parse_args()

    items = load_items("translate_zh_en", ROOT / "data")[: args.items]
    judge_items = [JudgeItem(i.id, i.source, i.references[0]) for i in items]
    settings = {"model": args.model, "engine": "llama.cpp"}
    if args.threads:
        settings["threads"] = args.threads
    if args.parallel:
        settings["parallel"] = args.parallel
    config = parse_config({"run": "bench", "dataset": str(ROOT / "data"), "tasks": [{"task": "translate_zh_en"}],
                           "models": [{"name": "judge", "backend": "gguf", **settings}]})
    entry = config.models[0]
    print(f"load average before: {os.getloadavg()}; cpus: {os.cpu_count()}")
    start = time.perf_counter()
    backend = entry.spec.load(entry.settings)
    load_s = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as folder:
        cache = GenerationCache(Path(folder))
        try:
            session = GenerationSession(backend, entry, GenerationSettings(), cache)
            judge = Judge(load_prompt(args.prompt), source_lang="zh", target_lang="en")
            start = time.perf_counter()
            outcome = judge.run(session, judge_items)
            wall = time.perf_counter() - start
        finally:
            cache.close()
            backend.close()
    score = judge_score(outcome)
    tokens = outcome.output_tokens
    print(f"model {args.model}, prompt {args.prompt}, {len(judge_items)} segments; model load {load_s:.1f} s")
    print(f"judging: {wall:.1f} s wall, {len(judge_items) / wall:.3f} segments/s, {tokens / wall:.1f} output tokens/s "
          f"({tokens} tokens)")
    value = "n/a" if score.value is None else f"{score.value:.2f} [{score.ci_low:.2f}, {score.ci_high:.2f}]"
    print(f"score {value}; unparsed {score.n_unparsed} of {score.n}")
    print(f"signature: {score.signature}")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
