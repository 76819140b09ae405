"""The test suite's own layout: shared code lives in tests/helpers/ (imported as `helpers.x`, pytest's
`pythonpath`), fixtures in tests/conftest.py. No file touches `sys.path`, and no file imports a test
module, conftest or anything through the `tests.` package (a second copy of a helper module)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
SOURCES = sorted([*TESTS.glob("*.py"), *(TESTS / "helpers").glob("*.py")])


def _is_test_module(name: str) -> bool:
    parts = name.split(".")
    return parts[0] == "tests" or any(p.startswith("test_") or p == "conftest" for p in parts)


def _imported(tree: ast.AST) -> list[tuple[int, list[str]]]:
    """(line, the modules it may load) of every import, in functions too: `from X import y` may load X.y."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, [a.name]) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            found.append((node.lineno, [base, *(f"{base}.{a.name}".lstrip(".") for a in node.names)]))
        elif (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)
              and (isinstance(node.func, ast.Name) and node.func.id == "__import__"
                   or isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")):
            found.append((node.lineno, [node.args[0].value]))
    return found


def layout_problems(source: str) -> list[str]:
    """What breaks the layout rules in one file's source."""
    tree = ast.parse(source)
    problems = []
    for node in ast.walk(tree):
        sys_path = isinstance(node, ast.Attribute) and node.attr == "path" and ast.unparse(node.value) == "sys"
        prepend = isinstance(node, ast.Attribute) and node.attr == "syspath_prepend"  # pytest's monkeypatch
        from_sys = isinstance(node, ast.ImportFrom) and node.module == "sys" and any(a.name == "path" for a in node.names)
        if sys_path or prepend or from_sys:
            problems.append(f"line {node.lineno}: changes sys.path (import shared code from helpers/)")
    for line, names in _imported(tree):
        name = next((n for n in names if n and _is_test_module(n)), None)
        if name:
            problems.append(f"line {line}: imports {name} (shared code goes to tests/helpers/, fixtures to conftest.py)")
    return sorted(set(problems), key=lambda p: int(p.split(":")[0].split()[1]))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(TESTS)))
def test_no_sys_path_changes_and_no_test_imports_another(path):
    assert layout_problems(path.read_text(encoding="utf-8")) == []


def test_shared_code_lives_in_helpers():
    loose = [p.name for p in TESTS.glob("*.py") if not p.name.startswith("test_") and p.name != "conftest.py"]
    assert loose == [], "modules that are not tests belong in tests/helpers/"
    assert (TESTS / "helpers" / "__init__.py").is_file()


@pytest.mark.parametrize("source, problem", [
    ("from helpers.report_runs import write_run\nimport sys\nprint(sys.argv)\n", None),
    ("import pytest\n\ndef test_x():\n    __import__('hashlib')\n", None),
    ("import sys\nsys.path.insert(0, 'tests')\n", "line 2: changes sys.path"),
    ("def f(monkeypatch):\n    monkeypatch.syspath_prepend('scripts')\n", "line 2: changes sys.path"),
    ("from sys import path\n", "line 1: changes sys.path"),
    ("from test_report_helpers import run_smoke\n", "line 1: imports test_report_helpers "),
    ("def f():\n    from tests.test_run import without_timing\n", "line 2: imports tests.test_run "),
    ("import test_gguf\n", "line 1: imports test_gguf "),
    ("from tests import test_gguf\n", "line 1: imports tests "),
    ("from . import test_gguf\n", "line 1: imports test_gguf "),
    ("from tests.helpers.fake_backend import register\n", "line 1: imports tests.helpers.fake_backend "),
    ("from conftest import ROOT\n", "line 1: imports conftest "),
    ("x = __import__('test_run')\n", "line 1: imports test_run "),
    ("import importlib\nm = importlib.import_module('tests.fake_openai')\n", "line 2: imports tests.fake_openai "),
])
def test_the_layout_check(source, problem):
    found = layout_problems(source)
    if problem is None:
        assert found == []
    else:
        assert any(p.startswith(problem) for p in found), found
