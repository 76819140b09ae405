#!/usr/bin/env bash
# The evaluation CI runs (.github/workflows/eval.yml), as one script that also runs anywhere else:
#
#   scripts/ci_eval.sh install              venv + the project with the bundled models and llama.cpp
#   scripts/ci_eval.sh cache-key [CONFIG]   the actions/cache key part for CONFIG's models
#   scripts/ci_eval.sh pr [CONFIG]          build the dataset, run CONFIG (default configs/ci.yaml),
#                                           compare with the committed baseline (--gate), leaderboard
#   scripts/ci_eval.sh site [RESULTS...]    build the dataset and the leaderboard site of committed
#                                           results (default: results/) for GitHub Pages
#
# `pr` exits with the gate's code: 0 passed, 1 a significant regression, 2 bad input (e.g. no
# baseline, another dataset version). The comparison report and the site are written either way.
#
# Environment (all optional):
#   CI_OUT        output folder (default ci-out): results/, compare/compare.{md,json}, site/
#   CI_DATA       dataset folder to build and score against (default data)
#   CI_BASELINE   committed results folder to compare with (default results/<run of CONFIG>)
#   CI_EXTRAS     extras for `install` (default models,llama; `base` for none; see scripts/setup.sh)
#   HARNESS       harness command (default .venv/bin/harness when it exists)
#   HARNESS_CACHE generation cache folder (the workflow caches it with actions/cache)
set -euo pipefail
cd "$(dirname "$0")/.."

OUT="${CI_OUT:-ci-out}"
DATA="${CI_DATA:-data}"
if [[ -x .venv/bin/harness ]]; then
  HARNESS="${HARNESS:-.venv/bin/harness}"
  PYTHON="${PYTHON:-.venv/bin/python}"
else
  HARNESS="${HARNESS:-harness}"
  PYTHON="${PYTHON:-python3}"
fi

# Foldable log groups on GitHub Actions, plain step headers elsewhere.
if [[ "${GITHUB_ACTIONS:-}" == "true" ]]; then
  log() { printf '::group::%s\n' "$*" >&2; }
  endlog() { printf '::endgroup::\n' >&2; }
else
  log() { printf '== %s\n' "$*" >&2; }
  endlog() { :; }
fi
step() {
  local name="$1"
  shift
  log "$name"
  CURRENT_STEP="$name"
  "$@"
  endlog
}

# When a step before the comparison fails, leave a report that says so (the PR comment step
# posts whatever compare.md holds).
CURRENT_STEP=""
on_error() {
  local rc=$?
  if [[ -n "$CURRENT_STEP" && ! -s "$OUT/compare/compare.md" ]]; then
    mkdir -p "$OUT/compare"
    printf '**❌ CI evaluation failed while: %s (exit %s).** See the job log.\n' "$CURRENT_STEP" "$rc" >"$OUT/compare/compare.md"
  fi
  exit "$rc"
}

run_name() {  # the `run:` key of a config = the results folder name
  "$PYTHON" -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1], encoding="utf-8"))["run"])' "$1"
}

summary() {  # the report in the GitHub job summary, when there is one
  if [[ -n "${GITHUB_STEP_SUMMARY:-}" && -s "$OUT/compare/compare.md" ]]; then
    cat "$OUT/compare/compare.md" >>"$GITHUB_STEP_SUMMARY"
  fi
}

cmd_install() {
  scripts/setup.sh "${CI_EXTRAS:-models,llama}"
}

cmd_cache_key() {
  "$PYTHON" -m harness.report.cache_key cache-key "${1:-configs/ci.yaml}"
}

cmd_pr() {
  local config="${1:-configs/ci.yaml}" run baseline rc
  [[ -f "$config" ]] || { echo "error: $config: config file not found" >&2; exit 2; }
  run="$(run_name "$config")"
  baseline="${CI_BASELINE:-results/$run}"
  rm -rf "$OUT/results/$run" "$OUT/compare" "$OUT/site"
  mkdir -p "$OUT"
  trap on_error ERR

  step "build the dataset into $DATA" "$HARNESS" data build --out "$DATA"
  step "run $config" "$HARNESS" run "$config" --results "$OUT/results" --quiet --set "dataset=$DATA"

  log "compare $baseline (A) with $OUT/results/$run (B)"
  CURRENT_STEP="compare with the baseline"
  trap - ERR  # the ERR trap fires even under set +e: exit 1 here is the gate's verdict, not a failure
  set +e
  if [[ -f "$baseline/manifest.json" ]]; then
    "$HARNESS" compare "$baseline" "$OUT/results/$run" --gate --test bootstrap --out "$OUT/compare" --dataset "$DATA" 2>"$OUT/compare.err"
    rc=$?
  else
    echo "error: $baseline: no committed baseline results (run this config and commit its results folder)" >"$OUT/compare.err"
    rc=2
  fi
  set -e
  trap on_error ERR
  cat "$OUT/compare.err" >&2
  if [[ $rc -ne 0 && $rc -ne 1 ]]; then  # bad input: say why in the report
    mkdir -p "$OUT/compare"
    { printf '**❌ Could not compare with the baseline (exit %s):**\n\n```\n' "$rc"; cat "$OUT/compare.err"; printf '```\n'; } >"$OUT/compare/compare.md"
  fi
  endlog

  step "leaderboard of $OUT/results/$run" "$HARNESS" leaderboard "$OUT/results/$run" --out "$OUT/site" --dataset "$DATA"
  trap - ERR
  summary
  echo "gate exit code: $rc (report: $OUT/compare/compare.md, site: $OUT/site/index.html)" >&2
  return "$rc"
}

cmd_site() {
  local results=("$@")
  [[ ${#results[@]} -gt 0 ]] || results=(results)
  rm -rf "$OUT/site"
  mkdir -p "$OUT"
  step "build the dataset into $DATA" "$HARNESS" data build --out "$DATA"
  step "leaderboard of ${results[*]}" "$HARNESS" leaderboard "${results[@]}" --out "$OUT/site" --dataset "$DATA"
  echo "site: $OUT/site/index.html" >&2
}

command="${1:-}"
[[ $# -gt 0 ]] && shift
case "$command" in
  install) cmd_install "$@" ;;
  cache-key) cmd_cache_key "$@" ;;
  pr) cmd_pr "$@" ;;
  site) cmd_site "$@" ;;
  *)
    sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
