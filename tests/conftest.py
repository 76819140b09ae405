import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Never let a test reach the Hugging Face Hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def documents():
    from harness.data.seeds import load_documents

    return {d.id: d for d in load_documents(ROOT / "seeds")}


@pytest.fixture
def run_cli(capsys):
    """Run `harness ARGS` in-process; returns (exit_code, stdout, stderr)."""
    from harness.cli import main

    def run(*args: str):
        try:
            main(list(args))
            code = 0
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else 1
        out = capsys.readouterr()
        return code, out.out, out.err

    return run
