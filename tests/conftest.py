import os
from pathlib import Path

import pytest

from helpers.gguf_models import GEMMA

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


@pytest.fixture(scope="session")
def model_cache(request) -> Path:
    """A HARNESS_CACHE shared by every test of the session (and kept between sessions) holding the
    bundled Gemma 3 270M, assembled once (tests/test_gguf.py, tests/test_gguf_batched.py)."""
    from harness.generate import gguf
    from harness.generate.catalogue import get_model

    folder = Path(request.config.cache.mkdir("harness-models"))
    old = os.environ.get("HARNESS_CACHE")
    os.environ["HARNESS_CACHE"] = str(folder)
    gguf.ensure_model_file(get_model(GEMMA))  # assemble + verify once
    yield folder
    if old is None:
        os.environ.pop("HARNESS_CACHE", None)
    else:
        os.environ["HARNESS_CACHE"] = old
