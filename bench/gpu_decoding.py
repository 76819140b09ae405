"""GPU decoding throughput: dynamic-cache batching vs static-cache compiled decoding.

    python bench/gpu_decoding.py [--prompts 256] [--new-tokens 64] [--batch 64] [--json OUT]

A 0.5B-class model (the Qwen2.5-0.5B architecture: 24 layers, hidden 896, 14 heads / 2 KV heads,
vocabulary 151,936) in bf16 with RANDOM weights: throughput depends on shapes, not on weight
values, and the machine that runs this cannot download the real ones. Prompt lengths are the
token lengths of the dataset's first 256 segments (about 1.3 tokens per Chinese character), with
random token ids. Every sequence generates exactly --new-tokens tokens (min = max), greedy, so
both modes do the same work. Prints output tokens/s of each mode and their ratio, measured in
this one run. Needs a CUDA GPU; nothing in the project requires one.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def prompt_lengths(n: int) -> list[int]:
    try:
        import pyarrow.parquet as pq

        zh = pq.read_table(ROOT / "data" / "segments.parquet", columns=["zh"]).column("zh").to_pylist()
    except Exception:  # the device machine may lack pyarrow: fall back to a fixed spread
        zh = ["字" * (20 + (i * 37) % 90) for i in range(n)]
    lengths = [max(8, int(len(s) * 1.3)) + 24 for s in zh]  # + a chat/instruction wrapper
    return (lengths * (n // len(lengths) + 1))[:n]


def build_model(torch, dtype):
    from transformers import Qwen2Config, Qwen2ForCausalLM

    config = Qwen2Config(
        vocab_size=151936, hidden_size=896, intermediate_size=4864, num_hidden_layers=24,
        num_attention_heads=14, num_key_value_heads=2, max_position_embeddings=32768,
        rope_theta=1_000_000.0, tie_word_embeddings=True,
    )
    torch.manual_seed(0)
    with torch.device("cuda"):
        model = Qwen2ForCausalLM(config).to(dtype)
    model.eval()
    n_params = sum(p.numel() for p in model.parameters())
    return model, n_params


def batches(torch, lengths, batch_size, vocab, generator, fixed_width=None):
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])  # length-sorted, as the harness does
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        width = fixed_width or max(lengths[i] for i in idx)
        ids = torch.full((len(idx), width), 0, dtype=torch.long)
        mask = torch.zeros((len(idx), width), dtype=torch.long)
        for row, i in enumerate(idx):  # left padding
            ids[row, width - lengths[i] :] = torch.randint(1, vocab, (lengths[i],), generator=generator)
            mask[row, width - lengths[i] :] = 1
        yield ids.cuda(), mask.cuda()


def run_mode(torch, model, lengths, args, fixed_width=None, **generate_kwargs) -> tuple[float, int, float]:
    generator = torch.Generator().manual_seed(0)
    data = list(batches(torch, lengths, args.batch, model.config.vocab_size, generator, fixed_width))
    # Warm-up on the first batch (compilation, CUDA graph capture, cuBLAS autotuning) is timed
    # apart: a static cache compiles once per shape, so its batches share one padded width.
    ids, mask = data[0]
    warm = time.perf_counter()
    model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=args.new_tokens,
                   min_new_tokens=args.new_tokens, do_sample=False, pad_token_id=0, **generate_kwargs)
    torch.cuda.synchronize()
    warm = time.perf_counter() - warm
    produced = 0
    start = time.perf_counter()
    for ids, mask in data:
        out = model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=args.new_tokens,
                             min_new_tokens=args.new_tokens, do_sample=False, pad_token_id=0, **generate_kwargs)
        produced += (out.shape[1] - ids.shape[1]) * ids.shape[0]
    torch.cuda.synchronize()
    return time.perf_counter() - start, produced, warm


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prompts", type=int, default=256)
    parser.add_argument("--new-tokens", type=int, default=64)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args()

    import torch
    import transformers

    if not torch.cuda.is_available():
        raise SystemExit("bench/gpu_decoding.py needs a CUDA GPU")
    model, n_params = build_model(torch, torch.bfloat16)
    lengths = prompt_lengths(args.prompts)
    print(f"{torch.cuda.get_device_name()}  torch {torch.__version__}  transformers {transformers.__version__}")
    print(f"model: Qwen2.5-0.5B architecture, {n_params / 1e6:.0f}M parameters, bf16, random weights")
    print(f"{args.prompts} prompts ({min(lengths)}–{max(lengths)} tokens), {args.new_tokens} new tokens each, "
          f"batch {args.batch}, greedy")

    results = {}
    wall, tokens, warm = run_mode(torch, model, lengths, args)
    results["dynamic"] = {"wall_s": wall, "tokens": tokens, "tokens_per_s": tokens / wall, "warmup_s": warm}
    print(f"dynamic cache, eager          : {tokens / wall:10.0f} tok/s  ({wall:.2f} s; warm-up {warm:.1f} s)")
    wall, tokens, warm = run_mode(torch, model, lengths, args, fixed_width=max(lengths), cache_implementation="static",
                                  compile_config=transformers.CompileConfig(fullgraph=True, mode="reduce-overhead"))
    results["static_compiled"] = {"wall_s": wall, "tokens": tokens, "tokens_per_s": tokens / wall, "warmup_s": warm}
    print(f"static cache, torch.compile   : {tokens / wall:10.0f} tok/s  ({wall:.2f} s; warm-up incl. compile {warm:.1f} s)")
    ratio = results["static_compiled"]["tokens_per_s"] / results["dynamic"]["tokens_per_s"]
    print(f"ratio static-compiled / dynamic: {ratio:.2f}x")
    results.update(device=torch.cuda.get_device_name(), torch=torch.__version__, transformers=transformers.__version__,
                   prompts=args.prompts, new_tokens=args.new_tokens, batch=args.batch, ratio=ratio)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
