"""One huge item: `harness score` on a single-line hypothesis of --mb megabytes of plain ASCII
(issue 22 item 4), each metric in its own process under an address-space limit
(``RLIMIT_AS``, as ``ulimit -v``). Prints, per metric, the exit code, the wall time, the peak
resident and virtual memory of the process and the score, or the one error line.

    python bench/long_item.py [--mb 50] [--ref-mb 0] [--limit-mb 2000] [--task translate_zh_en]
                              [--metric chrf --metric bleu ...] [--workdir /tmp/long-item]

The hypothesis is seeded pseudo-English (words of 2-9 letters, capitalised sentences of 8-24
words, so ROUGE-Lsum sees sentences), or with --zh-hyp seeded Chinese without spaces (3,000
characters, clauses of 8-30 ending in ，or 。); --ref-mb 0 gives a normal 40-word reference, otherwise a
second line of that size. For a task with a Chinese target the reference is Chinese (the
hypothesis stays ASCII: scored as an off-target output). --limit-mb 0 runs without a limit.

Measured 2026-12-08 on the 2-core development machine (shared; wall times are indicative),
`python bench/long_item.py --metric M ...` (RSS = peak resident memory of the process):

    50 MB ASCII hypothesis, 240-character reference, translate_zh_en
    metric     before (commit 6a7d2ee)                         after, under the 2 GB limit
               2 GB limit            no limit
    chrf       traceback (59 lines)  23.1 s, 4056 MiB          9.7 s,  914 MiB   same value 0.0018
    chrf++     MemoryError traceback 23.3 s, 4832 MiB          13.1 s, 970 MiB   same value 0.0015
    bleu       11.3 s, 1304 MiB      19.1 s, 1304 MiB          9.3 s,  247 MiB   same value
    rougeL     MemoryError traceback stopped after 14 min,     8.7 s,  343 MiB
                                     3730 MiB and growing
    rouge2                                                     9.2 s,  418 MiB
    rougeLsum                                                  32.9 s, 343 MiB
    summarize_zh (Chinese reference): rouge1 7.6 s, 866 MiB; rougeL 6.5 s, 733 MiB

    --zh-hyp: 50 MB of Chinese without spaces (16.7 M characters)
    translate_en_zh: chrf 6.8 s, 435 MiB; chrf++ 18.2 s, 637 MiB; bleu 14.2 s, 446 MiB
    summarize_zh:    rouge1 11.8 s, 740 MiB; rougeL 10.6 s, 496 MiB

    --ref-mb 50 (a 50 MB reference as well): bleu 19.3 s, 467 MiB; chrf and chrf++ are
    refused with one line, exit 2 ("error: out of memory scoring task translate_zh_en: the
    longest item is line 1 of …/ref-50mb-en.txt (50000000 characters); --max-item-chars refuses
    such lines before scoring"): the dictionary of the reference's distinct 4- to 6-grams and
    16 bytes a character for 100 M characters do not fit in 2 GB.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_METRICS = ["chrf", "chrf++", "bleu", "rougeL"]
ZH_REF = "今天天气很好，我们去公园散步。研究人员发布了新的模型，市场反应积极，数据显示增长明显。"


def _english(n_chars: int, seed: int) -> str:
    rng = random.Random(seed)
    letters = "etaoinshrdlcumwfgypbvkjxqz"
    weights = [12, 9, 8, 8, 7, 7, 6, 6, 6, 4, 4, 3, 3, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1]
    vocab = ["".join(rng.choices(letters, weights, k=rng.randint(2, 9))) for _ in range(5000)]
    parts, size = [], 0
    while size < n_chars:
        words = rng.choices(vocab, k=rng.randint(8, 24))
        sentence = " ".join(words).capitalize() + ". "
        parts.append(sentence)
        size += len(sentence)
    return "".join(parts)[:n_chars].rstrip()


def _chinese(n_bytes: int, seed: int) -> str:
    rng = random.Random(seed)
    chars = [chr(c) for c in rng.sample(range(0x4E00, 0x9FA6), 3000)]
    parts, size = [], 0
    while size < n_bytes:
        sentence = "".join(rng.choices(chars, k=rng.randint(8, 30))) + rng.choice("，。")
        parts.append(sentence)
        size += 3 * len(sentence)
    return "".join(parts)


def _child(limit_mb: int, argv: list[str]) -> None:
    """Run `harness ARGV` under the limit; report the peak memory on stderr at exit."""
    if limit_mb:
        resource.setrlimit(resource.RLIMIT_AS, (limit_mb << 20, limit_mb << 20))

    def report() -> None:
        status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
        sys.stderr.write(f"\nLONG_ITEM_PEAK {int(status['VmHWM'].split()[0])} {int(status['VmPeak'].split()[0])}\n")

    atexit.register(report)
    sys.path.insert(0, str(ROOT))
    from harness.cli import main

    main(argv)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=float, default=50)
    parser.add_argument("--ref-mb", type=float, default=0)
    parser.add_argument("--limit-mb", type=int, default=2000)
    parser.add_argument("--task", default="translate_zh_en")
    parser.add_argument("--metric", action="append")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/long-item"))
    parser.add_argument("--zh-hyp", action="store_true", help="a Chinese hypothesis (no spaces) instead of ASCII")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args, rest = parser.parse_known_args()
    if args.child is not None:
        _child(args.child, rest[rest.index("--") + 1 :] if "--" in rest else rest)
        return

    zh = args.task in ("translate_en_zh", "summarize_zh", "summarize_passage_zh")
    args.workdir.mkdir(parents=True, exist_ok=True)
    hyp = args.workdir / f"hyp-{args.mb:g}mb{'-zh' if args.zh_hyp else ''}.txt"
    ref = args.workdir / f"ref-{args.ref_mb:g}mb-{'zh' if zh else 'en'}.txt"
    if not hyp.exists():
        hyp.write_text((_chinese(int(args.mb * 1e6), 1) if args.zh_hyp else _english(int(args.mb * 1e6), 1)) + "\n", encoding="utf-8")
    if not ref.exists():
        text = (ZH_REF * max(1, int(args.ref_mb * 1e6 / len(ZH_REF.encode())))) if zh else _english(max(int(args.ref_mb * 1e6), 240), 2)
        ref.write_text(text + "\n", encoding="utf-8")
    print(f"task {args.task}: hyp {hyp} ({hyp.stat().st_size / 1e6:.1f} MB), ref {ref} ({ref.stat().st_size / 1e6:.3f} MB); "
          f"limit {'none' if not args.limit_mb else f'{args.limit_mb} MiB address space'}; {sys.executable}; {ROOT}")
    print(f"{'metric':10} {'rc':>3} {'wall s':>8} {'peak RSS MiB':>13} {'peak VM MiB':>12}  result")
    for metric in args.metric or DEFAULT_METRICS:
        cmd = [sys.executable, str(Path(__file__).resolve()), "--child", str(args.limit_mb), "--",
               "score", "--task", args.task, "--hyp", str(hyp), "--ref", str(ref), "--metric", metric, "--json", "--n-boot", "100"]
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        wall = time.perf_counter() - start
        peak = [line for line in proc.stderr.splitlines() if line.startswith("LONG_ITEM_PEAK")]
        rss, vm = (int(x) / 1024 for x in peak[-1].split()[1:]) if peak else (float("nan"), float("nan"))
        other = [line for line in proc.stderr.splitlines() if line.strip() and not line.startswith("LONG_ITEM_PEAK")]
        if proc.returncode == 0:
            result = f"{json.loads(proc.stdout)['scores'][0]['value']:.4f}"
        else:
            result = f"{len(other)} stderr lines; last: {other[-1][:150] if other else ''}"
        print(f"{metric:10} {proc.returncode:>3} {wall:>8.1f} {rss:>13.0f} {vm:>12.0f}  {result}", flush=True)


if __name__ == "__main__":
    main()
