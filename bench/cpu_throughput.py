"""CPU generation throughput of the bundled models: the harness's engines vs a naive loop.

    python bench/cpu_throughput.py [--model qwen2.5-coder-0.5b-instruct] [--items 16] [--max-new-tokens 48]

On the same items (the first translate_zh_en segments of the dataset, each model's own prompt
format, greedy, the same max_new_tokens) it measures output tokens per second of wall time for:

- naive:         transformers fp32, one `model.generate` call per item (what a quick script does);
- transformers:  the harness's `gguf` backend, engine transformers (fp32, length-sorted left-padded batches);
- llama.cpp:     the harness's `gguf` backend, engine llama.cpp (Q4_K_M, one sequence at a time);

and prints each as a ratio to the naive loop, measured in this one run. Target on 2 cores: the
fastest engine ≥ 4× the naive loop for the 0.5B model. Model loading is not timed (it is reported).
The load average is printed first: numbers taken on a busy machine are not comparable.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def prompts(n: int):
    """(id, Prompt) of the first n translate_zh_en items, built the way `harness run` builds them."""
    from harness.config import parse_config
    from harness.pipeline import plan_run

    config = parse_config({
        "run": "bench", "dataset": str(ROOT / "data"),
        "tasks": [{"task": "translate_zh_en", "limit": n}],
        "models": [{"name": "copy", "backend": "baseline", "kind": "copy"}],
    })
    plan = plan_run(config)
    task = plan.tasks["translate_zh_en"]
    return [task.request(item) for item in task.items]


def run_backend(backend, requests, max_new_tokens: int):
    from dataclasses import replace

    from harness.generate.base import GenerationSettings, Rendered

    rendered = []
    for r in requests:
        text = backend.render(r.prompt)
        rendered.append(Rendered(replace(r, max_new_tokens=max_new_tokens), text, backend.count_tokens(text), False))
    start = time.perf_counter()
    completions = list(backend.generate(rendered, GenerationSettings()))
    wall = time.perf_counter() - start
    return sum(c.output_tokens for c in completions), wall, {c.id: c.raw for c in completions}


def run_naive(backend, requests, max_new_tokens: int):
    """One generate() per item on the same fp32 model and tokenizer, no batching."""
    import torch

    hf = backend._hf
    model, tokenizer = hf.model, hf.tokenizer
    eos = hf._token_ids["eos_token_id"]
    total, start = 0, time.perf_counter()
    for r in requests:
        text = backend.render(r.prompt)
        ids = tokenizer(text, return_tensors="pt", add_special_tokens=hf._add_special_tokens)
        with torch.inference_mode():
            out = model.generate(**ids, max_new_tokens=max_new_tokens, do_sample=False, eos_token_id=eos,
                                 pad_token_id=hf._token_ids["pad_token_id"])
        new = out[0, ids["input_ids"].shape[1]:].tolist()
        total += next((i + 1 for i, t in enumerate(new) if t in eos), len(new))
    return total, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="qwen2.5-coder-0.5b-instruct")
    parser.add_argument("--items", type=int, default=16)
    parser.add_argument("--max-new-tokens", type=int, default=48)
    parser.add_argument("--batch-size", type=int, default=16)
    args = parser.parse_args()

    import torch

    from harness.generate import gguf

    threads = gguf.default_threads()
    torch.set_num_threads(threads)
    print(f"machine: {os.cpu_count()} cores, {threads} threads used, load average {os.getloadavg()[0]:.2f} "
          f"(1 min), torch {torch.__version__}")
    requests = prompts(args.items)
    print(f"items: {len(requests)} translate_zh_en segments, max_new_tokens {args.max_new_tokens}, greedy, model {args.model}")

    rows = []
    t = time.perf_counter()
    hf = gguf.load(gguf.GGUFSettings(model=args.model, engine="transformers", batch_size=args.batch_size))
    print(f"transformers engine loaded in {time.perf_counter() - t:.1f} s (conversion included on first use)")
    tokens, wall = run_naive(hf, requests, args.max_new_tokens)
    rows.append(("naive per-item transformers generate (fp32)", tokens, wall))
    tokens, wall, _ = run_backend(hf, requests, args.max_new_tokens)
    rows.append((f"harness transformers fp32, batch {args.batch_size}", tokens, wall))
    hf.close()

    t = time.perf_counter()
    llama = gguf.load(gguf.GGUFSettings(model=args.model, engine="llama.cpp", n_ctx=2048))
    print(f"llama.cpp engine loaded in {time.perf_counter() - t:.1f} s")
    tokens, wall, _ = run_backend(llama, requests, args.max_new_tokens)
    rows.append(("harness llama.cpp (Q4_K_M)", tokens, wall))
    llama.close()

    naive_rate = rows[0][1] / rows[0][2]
    print(f"\n| engine | output tokens | wall s | tokens/s | × naive |\n|---|---:|---:|---:|---:|")
    for name, tokens, wall in rows:
        rate = tokens / wall
        print(f"| {name} | {tokens} | {wall:.1f} | {rate:.1f} | {rate / naive_rate:.2f}× |")
    best = max(rows[1:], key=lambda r: r[1] / r[2])
    print(f"\nfastest engine: {best[0]}, {best[1] / best[2] / naive_rate:.2f}× the naive loop (target ≥ 4×); "
          f"load average now {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
