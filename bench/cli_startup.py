"""How long `harness --help` takes, wall clock including interpreter start (target < 0.5 s).

    python bench/cli_startup.py [--runs 10]

Prints the median and the ratio to the target, and the same for a bare `python -c pass`
so the figure can be read against this machine's interpreter start-up.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time

TARGET_S = 0.5


def wall(cmd: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    exe = shutil.which("harness") or sys.exit("harness is not on PATH: pip install -e . first")
    bare = wall([sys.executable, "-c", "pass"], args.runs)
    helped = wall([exe, "--help"], args.runs)
    data_help = wall([exe, "data", "build", "--help"], args.runs)
    print(f"python -c pass          median {bare:.3f} s")
    print(f"harness --help          median {helped:.3f} s  ({helped / TARGET_S:.2f}× the {TARGET_S} s target)")
    print(f"harness data build -h   median {data_help:.3f} s  ({data_help / TARGET_S:.2f}× the {TARGET_S} s target)")
    print(f"harness --help costs {helped / bare:.1f}× a bare interpreter start")


if __name__ == "__main__":
    main()
