"""Overhead of the `hf` backend and of a cached `harness run`, measured in one run.

    python bench/run_overhead.py [--sizes tiny,small] [--items 64] [--batch-size 16]
                                 [--max-new-tokens 32] [--repeats 3] [--no-cached-run]

Part 1, for each model size (Qwen2-style causal LMs built from a config with a tokenizer trained on
the seed text; nothing is downloaded), on the same items with greedy decoding:

  naive    one `model.generate` call per item (what a hand-written loop does)
  bare     transformers alone, batched: the items in order, `batch-size` at a time, left-padded
  bare-sorted  the same, on the items sorted longest first (the batches the harness forms)
  harness  `harness.generate.hf` (render → count → length-sorted, left-padded batches)

Each variant runs `--repeats` times, interleaved, after one warm-up; ratios use the best run
(noise from other processes only ever adds time), medians are printed beside them.
Targets: harness ≥ 5× the naive loop at batch 16, and within 10 % of the bare batched call.
All three must give the same outputs (checked and printed).

Part 2: a fully cached rerun of a `harness run` config (default: a tiny local model and baselines
on all five tasks, in a fresh cache; `--config FILE` for another, e.g. configs/default.yaml, with
your own HARNESS_CACHE): run once, then time a second `harness run` as a subprocess, interpreter
start included (target ≤ 3 s wall). The manifest's cache counts show the rerun generated nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SIZES = {"tiny": {"hidden_size": 64, "layers": 2}, "small": {"hidden_size": 256, "layers": 4}}
TARGET_NAIVE_RATIO = 5.0
TARGET_BARE_SLACK = 0.10
TARGET_CACHED_S = 3.0


def items(n: int) -> list[str]:
    from tests.helpers.tiny_models import seed_corpus

    lines = [line for line in seed_corpus() if len(line) >= 8]
    return [line[:120] for line in lines[:n]]


def naive(model, tokenizer, texts, config) -> list[str]:
    import torch

    out = []
    for text in texts:
        ids = tokenizer(text, return_tensors="pt")
        with torch.inference_mode():
            generated = model.generate(**ids, generation_config=config)
        out.append(tokenizer.decode(generated[0, ids["input_ids"].shape[1] :], skip_special_tokens=True))
    return out


def bare_batched(model, tokenizer, texts, config, batch_size: int) -> list[str]:
    import torch

    tokenizer.padding_side = "left"
    out = []
    for start in range(0, len(texts), batch_size):
        batch = tokenizer(texts[start : start + batch_size], return_tensors="pt", padding=True)
        with torch.inference_mode():
            generated = model.generate(**batch, generation_config=config)
        new = generated[:, batch["input_ids"].shape[1] :]
        out += tokenizer.batch_decode(new, skip_special_tokens=True)
    return out


def harness_backend(backend, texts, max_new_tokens: int) -> list[str]:
    from harness.request import GenerationSettings, Prompt, Rendered, Request

    rendered = []
    for i, text in enumerate(texts):
        request = Request(id=str(i), prompt=Prompt(messages=(("user", text),), plain=text), source=text, max_new_tokens=max_new_tokens)
        prompt = backend.render(request.prompt)
        rendered.append(Rendered(request, prompt, backend.count_tokens(prompt), False))
    by_id = {c.id: c.raw for c in backend.generate(rendered, GenerationSettings())}
    return [by_id[str(i)] for i in range(len(texts))]


def bench_size(size: str, work: Path, args) -> dict:
    from transformers import GenerationConfig

    from harness.generate.hf import HFSettings, load
    from tests.helpers.tiny_models import build_qwen2, train_tokenizer

    tokenizer = train_tokenizer(work / f"tok-{size}", chat_template=None)
    path = build_qwen2(tokenizer, work / f"qwen2-{size}", **SIZES[size])
    backend = load(HFSettings(model=str(path), batch_size=args.batch_size))
    model, tok = backend.model, backend.tokenizer
    n_params = sum(p.numel() for p in model.parameters())
    config = GenerationConfig(max_new_tokens=args.max_new_tokens, do_sample=False, **backend._token_ids)
    texts = items(args.items)

    # The same items longest first: what the harness batches; isolates its overhead from its sorting.
    lengths = [len(ids) for ids in tok(texts)["input_ids"]]
    order = sorted(range(len(texts)), key=lambda i: (-lengths[i], i))
    sorted_texts = [texts[i] for i in order]

    def bare_sorted():
        out = bare_batched(model, tok, sorted_texts, config, args.batch_size)
        restored = [""] * len(texts)
        for position, index in enumerate(order):
            restored[index] = out[position]
        return restored

    variants = {
        "naive": lambda: naive(model, tok, texts, config),
        "bare": lambda: bare_batched(model, tok, texts, config, args.batch_size),
        "bare-sorted": bare_sorted,
        "harness": lambda: harness_backend(backend, texts, args.max_new_tokens),
    }
    outputs = {name: fn() for name, fn in variants.items()}  # warm-up, and the outputs compared
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(args.repeats):
        for name, fn in variants.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {
        "size": size,
        "params": n_params,
        "best": {name: min(t) for name, t in times.items()},
        "median": {name: statistics.median(t) for name, t in times.items()},
        "same_outputs": all(out == outputs["naive"] for out in outputs.values()),
        "n": len(texts),
    }


TINY_CONFIG = """run: bench-overhead
dataset: {data}
tasks:
  - {{task: summarize_zh, limit: 3, max_new_tokens: 16}}
  - {{task: summarize_en, limit: 3, max_new_tokens: 16}}
  - {{task: translate_zh_en, limit: 8, max_new_tokens: 16}}
  - {{task: translate_zh_en_doc, limit: 4, max_new_tokens: 16}}
  - {{task: translate_en_zh, limit: 8, max_new_tokens: 16}}
models:
  - {{name: lead-3, backend: baseline, kind: lead, n: 3, tasks: [summarize_zh]}}
  - {{name: copy, backend: baseline, kind: copy, tasks: [translate_zh_en, translate_zh_en_doc, translate_en_zh]}}
  - {{name: tiny-qwen2, backend: hf, model: {model}, batch_size: 8}}
"""


def timed_runs(config: Path, results: Path, env: dict, runs: int = 2) -> list[tuple[float, dict | str]]:
    """Wall time of `harness run CONFIG` as a subprocess (interpreter start included), and its cache counts."""
    import json

    exe = Path(sys.executable).with_name("harness")
    command = [str(exe)] if exe.exists() else [sys.executable, "-m", "harness.cli"]
    command += ["run", str(config), "--results", str(results), "--quiet"]
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
        wall = time.perf_counter() - start
        if done.returncode != 0:
            out.append((wall, "failed: " + " ".join(done.stderr.strip().splitlines()[-1:])))
            break
        manifests = sorted(results.glob("*/manifest.json"), key=lambda p: p.stat().st_mtime)
        out.append((wall, json.loads(manifests[-1].read_text())["cache"]))
    return out


def cached_rerun(work: Path, config: Path | None) -> list[tuple[float, dict | str]] | None:
    """Cold run then fully cached rerun of `config` (default: a tiny-model config in a fresh cache)."""
    try:
        import harness.commands.run  # noqa: F401
    except ImportError:
        return None
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    if config is None:
        from tests.helpers.tiny_models import build_tiny_models

        models = build_tiny_models(work / "tiny")
        config = work / "bench.yaml"
        config.write_text(TINY_CONFIG.format(data=ROOT / "data", model=models.qwen2), encoding="utf-8")
        env["HARNESS_CACHE"] = str(work / "cache")  # starts empty: the first run is cold
    return timed_runs(config, work / "results", env)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="tiny,small")
    parser.add_argument("--items", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-new-tokens", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-cached-run", action="store_true")
    parser.add_argument("--config", type=Path, help="time reruns of this config with your HARNESS_CACHE "
                        "(e.g. configs/default.yaml after one run) instead of the tiny-model config")
    args = parser.parse_args()

    import torch
    from transformers.utils import logging

    logging.disable_progress_bar()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; {args.items} items, "
          f"batch {args.batch_size}, max_new_tokens {args.max_new_tokens}, median of {args.repeats}")
    with tempfile.TemporaryDirectory(prefix="run-overhead-") as tmp:
        work = Path(tmp)
        own_cache = os.environ.get("HARNESS_CACHE")
        os.environ["HARNESS_CACHE"] = str(work / "cache")  # the backend's folder-hash memo stays in here
        for size in args.sizes.split(","):
            r = bench_size(size, work, args)
            best, median = r["best"], r["median"]
            print(f"\n{size} Qwen2-style model, {r['params'] / 1e6:.1f} M parameters, {r['n']} items "
                  "(best of the runs; median in brackets)")
            for name in ("naive", "bare", "bare-sorted", "harness"):
                print(f"  {name:11s} {best[name]:7.2f} s  [{median[name]:6.2f} s]  {r['n'] / best[name]:6.1f} items/s")
            speedup = best["naive"] / best["harness"]
            print(f"  harness vs naive loop: {speedup:.1f}× faster "
                  f"({'meets' if speedup >= TARGET_NAIVE_RATIO else 'MISSES'} the ≥ {TARGET_NAIVE_RATIO:.0f}× target)")
            for bare in ("bare", "bare-sorted"):
                slack = best["harness"] / best[bare] - 1
                print(f"  harness vs {bare} batched: {slack:+.1%} "
                      f"({'meets' if slack <= TARGET_BARE_SLACK else 'MISSES'} the ≤ +{TARGET_BARE_SLACK:.0%} target)")
            print(f"  identical outputs across all four: {'yes' if r['same_outputs'] else 'NO'}")
        if own_cache is None:
            os.environ.pop("HARNESS_CACHE")
        else:
            os.environ["HARNESS_CACHE"] = own_cache
        if not args.no_cached_run:
            result = cached_rerun(work, args.config)
            what = args.config or "tiny Qwen2 + lead-3/copy baselines on all five tasks"
            if result is None:
                print("\ncached rerun: `harness run` is not available (harness/commands/run.py missing)")
                return
            print(f"\nharness run, {what}:")
            for label, (wall, cache) in zip(("first run", "rerun"), result):
                counts = cache if isinstance(cache, str) else f"{cache['hits']} cache hits, {cache['misses']} generated"
                print(f"  {label:9s} {wall:6.2f} s wall, interpreter start included ({counts})")
            if len(result) == 2 and not isinstance(result[1][1], str):
                wall, cache = result[1]
                state = "fully cached" if cache["misses"] == 0 else "NOT fully cached"
                print(f"  {state} rerun: {wall:.2f} s = {wall / TARGET_CACHED_S:.2f}× the {TARGET_CACHED_S:.0f} s target "
                      f"({'meets' if wall <= TARGET_CACHED_S else 'MISSES'} it)")


if __name__ == "__main__":
    main()
