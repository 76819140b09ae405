"""Imports run one way: data -> generate -> score -> report, with harness.io and harness.record
(files and the results record) below every stage. Checked on the source (AST), so an import
inside a function counts too."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HARNESS = ROOT / "harness"


def imported_modules(path: Path, root: Path = ROOT) -> set[str]:
    """Every harness module a file imports, at the top or inside a function."""
    package = ".".join(path.relative_to(root).with_suffix("").parts[:-1])
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([base] if base else []))
            out.add(base)
            out |= {f"{base}.{a.name}" for a in node.names}  # `from harness import results`
    return {m for m in out if m == "harness" or m.startswith("harness.")}


def _forbidden(modules: set[str], prefixes: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == p or m.startswith(p + ".") for p in prefixes))


GENERATE = sorted((HARNESS / "generate").glob("*.py"))


@pytest.mark.parametrize("path", GENERATE, ids=[p.name for p in GENERATE])
def test_generate_does_not_import_results_report_or_pipeline(path):
    assert _forbidden(imported_modules(path), ("harness.results", "harness.report", "harness.pipeline")) == []


@pytest.mark.parametrize(("module", "forbidden"), [
    # the environment record: no scorer, no rendering
    ("results.py", ("harness.score", "harness.report", "harness.pipeline", "harness.generate", "harness.tasks")),
    # the record and the file helpers sit below every stage
    ("record.py", ("harness.score", "harness.report", "harness.pipeline", "harness.generate", "harness.tasks",
                   "harness.results", "harness.data", "harness.config")),
    ("io.py", ("harness.score", "harness.report", "harness.pipeline", "harness.generate", "harness.tasks",
               "harness.results", "harness.record", "harness.data", "harness.config")),
])
def test_lower_modules_do_not_import_upper_ones(module, forbidden):
    assert _forbidden(imported_modules(HARNESS / module), forbidden) == []


def test_the_checker_sees_function_level_and_relative_imports(tmp_path):
    """The checker itself: it must find what it is meant to forbid."""
    sample = tmp_path / "harness" / "generate" / "probe.py"
    sample.parent.mkdir(parents=True)
    sample.write_text("def f():\n    from harness.results import now\n    from ..report import runs\n    import harness.io\n"
                      "from harness import results\n", encoding="utf-8")
    modules = imported_modules(sample, tmp_path)
    assert modules >= {"harness.results", "harness.results.now", "harness.report", "harness.report.runs", "harness.io"}
    assert _forbidden(modules, ("harness.results",)) == ["harness.results", "harness.results.now"]
