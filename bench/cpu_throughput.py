"""CPU generation throughput of the bundled models: the harness's engines vs a naive loop.

    python bench/cpu_throughput.py [--model qwen2.5-coder-0.5b-instruct] [--items 16] [--max-new-tokens 48]

On the same items (the first translate_zh_en segments of the dataset, each model's own prompt
format, greedy, the same max_new_tokens) it measures output tokens per second of wall time for:

- naive:         transformers fp32, one `model.generate` call per item (what a quick script does);
- transformers:  the harness's `gguf` backend, engine transformers (fp32, length-sorted left-padded batches);
- llama.cpp:     the harness's `gguf` backend, engine llama.cpp (Q4_K_M), one sequence at a time
                 (`parallel: 1`, the engine before batching);
- batched P:     the same backend's batched decoder at P = 1, 4, 8, 16 sequences per llama_decode
                 (continuous batching, fixed order, shared prompt prefix evaluated once);
- raw batched:   the reference: a loop written here over llama-cpp-python's low-level batch API
                 (no harness code): every prompt in its own sequence of one context, prompts
                 evaluated together, then one token per sequence per llama_decode, numpy argmax,
                 stopping at end-of-generation or max_new_tokens; no prefix sharing.

and prints each as a ratio to the naive loop and to the one-at-a-time llama.cpp engine, measured in
this one run. Targets on 2 cores for the 0.5B model: the fastest engine ≥ 4× the naive loop, and
the batched engine at 16 sequences ≥ 0.8× the raw batched reference. Model loading is not timed
(it is reported). The load average is printed before and after: numbers taken on a busy machine
are not comparable.
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
    from harness.pipeline.plan import plan_run

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

    from harness.request import GenerationSettings, Rendered

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

    hf = backend  # the transformers engine is the hf backend itself
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
    parser.add_argument("--no-transformers", action="store_true", help="skip the two transformers rows")
    parser.add_argument("--llama-server", metavar="PATH", help=(
        "also time llama.cpp's own server (a llama-server binary built from the llama.cpp copy in the "
        "llama-cpp-python sdist) with 16 parallel slots, the same prompts sent at once over HTTP"))
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
    if not args.no_transformers:
        t = time.perf_counter()
        hf = gguf.load(gguf.GGUFSettings(model=args.model, engine="transformers", batch_size=args.batch_size))
        print(f"transformers engine loaded in {time.perf_counter() - t:.1f} s (conversion included on first use)")
        tokens, wall = run_naive(hf, requests, args.max_new_tokens)
        rows.append(("naive per-item transformers generate (fp32)", tokens, wall))
        tokens, wall, _ = run_backend(hf, requests, args.max_new_tokens)
        rows.append((f"harness transformers fp32, batch {args.batch_size}", tokens, wall))
        hf.close()

    from harness.generate.llama_batch import BatchedDecoder

    t = time.perf_counter()
    llama = gguf.load(gguf.GGUFSettings(model=args.model, engine="llama.cpp", n_ctx=2048, parallel=1))
    print(f"llama.cpp engine loaded in {time.perf_counter() - t:.1f} s")
    tokens, wall, single = run_backend(llama, requests, args.max_new_tokens)
    rows.append(("harness llama.cpp (Q4_K_M), one at a time (parallel 1)", tokens, wall))
    engine = llama.llama
    engine.load_weights()
    for p in (1, 4, 8, 16):
        engine.batched = BatchedDecoder(engine.llm._model, n_parallel=p, n_ctx_seq=2048, threads=engine.threads)
        tokens, wall, outputs = run_backend(llama, requests, args.max_new_tokens)
        same = sum(outputs[i] == single[i] for i in single)
        rows.append((f"harness llama.cpp batched, {p} sequences (prefix {engine.batched.prefix_tokens} tokens shared; "
                     f"{same}/{len(single)} outputs as one at a time)", tokens, wall))
        engine.batched.close()
        engine.batched = None
    texts = [llama.render(r.prompt) for r in requests]
    llama.close()
    path, meta = gguf.ensure_model_file(gguf.get_model(args.model))
    tokens, wall = run_raw_batched(path, texts, args.max_new_tokens, threads, add_bos=meta.add_bos)
    rows.append(("raw batched loop over llama-cpp-python's batch API, 16 sequences (reference)", tokens, wall))
    if args.llama_server:
        tokens, wall, served = run_server(args.llama_server, path, texts, args.max_new_tokens, threads)
        same = sum(served[k] == single[r.id] for k, r in enumerate(requests))
        rows.append((f"llama.cpp server, 16 slots, continuous batching ({same}/{len(single)} outputs as one at a time)",
                     tokens, wall))

    by_name = {name: tokens / wall for name, tokens, wall in rows}
    naive_rate = rows[0][1] / rows[0][2] if not args.no_transformers else None
    single_rate = next(v for k, v in by_name.items() if k.startswith("harness llama.cpp (Q4_K_M), one at a time"))
    print("\n| engine | output tokens | wall s | tokens/s | × naive | × one at a time |\n|---|---:|---:|---:|---:|---:|")
    for name, tokens, wall in rows:
        rate = tokens / wall
        naive = f"{rate / naive_rate:.2f}×" if naive_rate else "–"
        print(f"| {name} | {tokens} | {wall:.1f} | {rate:.1f} | {naive} | {rate / single_rate:.2f}× |")
    best = max(rows[1:], key=lambda r: r[1] / r[2])
    if naive_rate:
        print(f"\nfastest engine: {best[0]}, {best[1] / best[2] / naive_rate:.2f}× the naive loop (target ≥ 4×)")
    batched16 = next(v for k, v in by_name.items() if k.startswith("harness llama.cpp batched, 16 "))
    raw = next(v for k, v in by_name.items() if k.startswith("raw batched loop"))
    print(f"batched engine at 16 sequences: {batched16 / raw:.2f}× the raw batched reference (target ≥ 0.8×); "
          f"{batched16 / single_rate:.2f}× one at a time")
    print(f"load average now {os.getloadavg()[0]:.2f} (1 min)")


def run_server(binary: str, model_path, texts, max_new_tokens: int, threads: int):
    """llama.cpp's server with 16 slots: every prompt sent at once, greedy, its /completion endpoint."""
    import json
    import socket
    import subprocess
    import urllib.request
    from concurrent.futures import ThreadPoolExecutor

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen([binary, "-m", str(model_path), "--host", "127.0.0.1", "--port", str(port),
                               "-np", "16", "-c", str(2048 * 16), "-t", str(threads), "-tb", str(threads), "-b", "512",
                               "--cont-batching", "--no-webui"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                with urllib.request.urlopen(f"{base}/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.2)
        else:
            raise SystemExit(f"{binary}: the server did not answer /health within 2 minutes")

        def complete(text: str):
            body = json.dumps({"prompt": text, "n_predict": max_new_tokens, "temperature": 0.0, "top_k": 1,
                               "cache_prompt": False}).encode()
            request = urllib.request.Request(f"{base}/completion", body, {"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=600) as r:
                answer = json.loads(r.read())
            return answer["content"], answer["tokens_predicted"]

        start = time.perf_counter()
        with ThreadPoolExecutor(len(texts)) as pool:
            answers = list(pool.map(complete, texts))
        wall = time.perf_counter() - start
    finally:
        server.terminate()
        server.wait(30)
    outputs = {i: a[0] for i, a in enumerate(answers)}
    return sum(a[1] for a in answers), wall, outputs


def run_raw_batched(path, texts, max_new_tokens: int, threads: int, add_bos: bool):
    """The reference: llama-cpp-python's low-level API only, every prompt in its own sequence."""
    import llama_cpp
    import numpy as np

    llama_cpp.llama_backend_init()
    mparams = llama_cpp.llama_model_default_params()
    model = llama_cpp.llama_model_load_from_file(str(path).encode(), mparams)
    vocab = llama_cpp.llama_model_get_vocab(model)
    n_vocab = llama_cpp.llama_vocab_n_tokens(vocab)
    prompts = []
    for text in texts:
        raw = text.encode("utf-8")
        buf = (llama_cpp.llama_token * (len(raw) + 8))()
        n = llama_cpp.llama_tokenize(vocab, raw, len(raw), buf, len(buf), add_bos, True)
        prompts.append(list(buf[:n]))
    n_seq = len(prompts)
    cparams = llama_cpp.llama_context_default_params()
    cparams.n_ctx, cparams.n_seq_max, cparams.n_batch, cparams.n_ubatch = 2048 * n_seq, n_seq, 512, 512
    cparams.n_threads = cparams.n_threads_batch = threads
    cparams.flash_attn_type = llama_cpp.LLAMA_FLASH_ATTN_TYPE_DISABLED
    ctx = llama_cpp.llama_init_from_model(model, cparams)
    batch = llama_cpp.llama_batch_init(512, 0, 1)

    def decode(entries):
        for i, (tok, pos, seq, logits) in enumerate(entries):
            batch.token[i], batch.pos[i], batch.n_seq_id[i], batch.logits[i] = tok, pos, 1, logits
            batch.seq_id[i][0] = seq
        batch.n_tokens = len(entries)
        assert llama_cpp.llama_decode(ctx, batch) == 0

    start = time.perf_counter()
    flat = [(t, i, s, i == len(p) - 1) for s, p in enumerate(prompts) for i, t in enumerate(p)]
    next_token = {}  # sequence -> its first generated token
    for c in range(0, len(flat), 512):  # every prompt, 512 tokens per llama_decode
        chunk = flat[c:c + 512]
        decode(chunk)
        for j, (_, _, seq, wants_logits) in enumerate(chunk):
            if wants_logits:
                logits = llama_cpp.llama_get_logits_ith(ctx, j)
                next_token[seq] = int(np.ctypeslib.as_array(logits, shape=(n_vocab,)).argmax())
    generated = {s: [next_token[s]] for s in range(n_seq)}
    live = [s for s in range(n_seq) if not llama_cpp.llama_vocab_is_eog(vocab, next_token[s])]
    while live:
        live = [s for s in live if len(generated[s]) < max_new_tokens]
        if not live:
            break
        decode([(generated[s][-1], len(prompts[s]) + len(generated[s]) - 1, s, True) for s in live])
        still = []
        for j, s in enumerate(live):
            tok = int(np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(ctx, j), shape=(n_vocab,)).argmax())
            generated[s].append(tok)
            if not llama_cpp.llama_vocab_is_eog(vocab, tok):
                still.append(s)
        live = still
    wall = time.perf_counter() - start
    llama_cpp.llama_batch_free(batch)
    llama_cpp.llama_free(ctx)
    llama_cpp.llama_model_free(model)
    return sum(len(g) for g in generated.values()), wall


if __name__ == "__main__":
    main()
