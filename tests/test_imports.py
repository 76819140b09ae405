"""The package's import graph: one declared layer order (docs/architecture.md, "Layers"), no
cycle, imports at the top of modules except heavy third-party libraries. Checked on the source
(AST), so an import inside a function counts too."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HARNESS = ROOT / "harness"
ARCHITECTURE = ROOT / "docs" / "architecture.md"

#: Third-party libraries a function may import lazily: each costs `harness --help` a noticeable
#: start-up time (or pulls in one that does) and only some commands need it.
HEAVY = frozenset({
    "torch", "transformers", "llama_cpp", "bert_score", "datasets", "huggingface_hub", "pyarrow", "pandas",
    "jinja2", "jieba", "opencc", "comet", "aiohttp", "safetensors", "gguf", "nltk", "sacrebleu", "rouge_score",
    "tokenizers", "sentencepiece", "selenium", "rich",
})
MAX_LINES = 450


@dataclass(frozen=True)
class Import:
    importer: str  # module name
    target: str  # the imported module (or module.attr for `from m import attr`)
    line: int
    in_function: bool


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, root: Path = ROOT) -> list[Import]:
    """Every import statement of a file (at the top or inside a function), relative ones resolved."""
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    in_function = {id(inner) for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                   for inner in ast.walk(node) if inner is not node}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            targets = [f"{base}.{a.name}" for a in node.names]  # resolved to `base` unless a module
        else:
            continue
        out += [Import(name, t, node.lineno, id(node) in in_function) for t in targets]
    return out


def harness_modules(root: Path = ROOT) -> dict[str, Path]:
    return {module_name(p, root): p for p in sorted((root / "harness").rglob("*.py"))}


def resolve(target: str, modules) -> str | None:
    """The harness module an import names (`harness.io.write_text` → `harness.io`)."""
    while target and target not in modules:
        target = target.rpartition(".")[0]
    return target or None


def graph(root: Path = ROOT) -> dict[str, set[str]]:
    modules = harness_modules(root)
    edges: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        for imp in imports_of(path, root):
            if imp.target.startswith("harness"):
                target = resolve(imp.target, modules)
                if target and target != name:
                    edges[name].add(target)
    return edges


def declared_layers(text: str) -> list[tuple[str, ...]]:
    block = re.search(r"```layers\n(.*?)```", text, re.S)
    assert block, "docs/architecture.md has no ```layers block"
    return [tuple(line.split()) for line in block.group(1).splitlines() if line.strip()]


def group_of(module: str, layers: list[tuple[str, ...]]) -> tuple[int, str] | None:
    """(layer index, the declared entry) of a module: the longest declared prefix."""
    best = None
    for index, layer in enumerate(layers):
        for entry in layer:
            inside = module == entry or (entry != "harness" and module.startswith(entry + "."))  # the root is one module
            if inside and (best is None or len(entry) > len(best[1])):
                best = (index, entry)
    return best


def layer_violations(edges: dict[str, set[str]], layers: list[tuple[str, ...]]) -> list[str]:
    bad = []
    for module, targets in sorted(edges.items()):
        mine = group_of(module, layers)
        if mine is None:
            bad.append(f"{module}: in no declared layer")
            continue
        for target in sorted(targets):
            theirs = group_of(target, layers)
            if theirs is None or mine[1] == theirs[1]:  # own package: allowed (cycles are checked apart)
                continue
            if theirs[0] >= mine[0]:
                bad.append(f"{module} (layer {mine[0]}) imports {target} (layer {theirs[0]})")
    return bad


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def lazy_import_problems(root: Path = ROOT) -> list[str]:
    """Imports inside functions that are not of a heavy library, or that do not say so."""
    bad = []
    for name, path in harness_modules(root).items():
        lines = path.read_text(encoding="utf-8").splitlines()
        seen = set()
        for imp in imports_of(path, root):
            if not imp.in_function or imp.line in seen:
                continue
            seen.add(imp.line)
            top = imp.target.split(".")[0]
            if top not in HEAVY:
                bad.append(f"{path.relative_to(root)}:{imp.line}: {imp.target} imported inside a function")
            elif "#" not in lines[imp.line - 1]:
                bad.append(f"{path.relative_to(root)}:{imp.line}: lazy import of {top} without a comment naming why")
    return sorted(set(bad))


LAYERS = declared_layers(ARCHITECTURE.read_text(encoding="utf-8"))


def test_every_module_follows_the_declared_layer_order():
    assert layer_violations(graph(), LAYERS) == []


def test_the_import_graph_has_no_cycle():
    assert cycles(graph()) == []


def test_imports_inside_functions_are_only_heavy_libraries_and_say_so():
    assert lazy_import_problems() == []


@pytest.mark.parametrize("path", sorted(HARNESS.rglob("*.py")), ids=lambda p: str(p.relative_to(HARNESS)))
def test_no_module_is_longer_than_the_limit(path):
    assert len(path.read_text(encoding="utf-8").splitlines()) <= MAX_LINES


def test_every_declared_entry_exists():
    modules = harness_modules()
    missing = [e for layer in LAYERS for e in layer if not any(m == e or m.startswith(e + ".") for m in modules)]
    assert sum(len(layer) for layer in LAYERS) == len({e for layer in LAYERS for e in layer})  # each entry once
    assert missing == []


# --- the checker itself: it must find what it is meant to forbid ---------------------------------


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path


def test_the_checker_sees_function_level_and_relative_imports(tmp_path):
    root = _tree(tmp_path, {
        "harness/__init__.py": "",
        "harness/low.py": "",
        "harness/high/__init__.py": "",
        "harness/high/a.py": "",
        "harness/high/b.py": "def f():\n    from .a import x\n    from harness import low\n",
        "harness/high/c.py": "from . import b\nfrom .. import low\n",
    })
    edges = graph(root)
    assert edges["harness.high.b"] == {"harness.high.a", "harness.low"}
    assert edges["harness.high.c"] == {"harness.high.b", "harness.low"}


@pytest.mark.parametrize(("files", "expected"), [
    ({"harness/low.py": "def f():\n    import harness.high\n", "harness/high.py": ""},
     ["harness.low (layer 1) imports harness.high (layer 2)"]),
    ({"harness/low.py": "", "harness/high.py": "from harness import low\n"}, []),
    ({"harness/low.py": "", "harness/peer.py": "import harness.low\n", "harness/high.py": ""}, []),
    ({"harness/low.py": "from harness import other\n", "harness/other.py": "", "harness/high.py": ""},
     ["harness.low (layer 1) imports harness.other (layer 1)"]),
    ({"harness/stray.py": "", "harness/low.py": "", "harness/high.py": ""}, ["harness.stray: in no declared layer"]),
])
def test_the_layer_check_flags_upward_and_sideways_imports(tmp_path, files, expected):
    root = _tree(tmp_path, {"harness/__init__.py": "", **files})
    layers = [("harness",), ("harness.low", "harness.other"), ("harness.high", "harness.peer")]
    if "harness/peer.py" in files:
        layers = [("harness",), ("harness.low",), ("harness.peer",), ("harness.high",)]
    assert layer_violations(graph(root), layers) == expected


def test_the_cycle_check_finds_a_cycle_through_a_function_level_import(tmp_path):
    root = _tree(tmp_path, {"harness/__init__.py": "", "harness/a.py": "import harness.b\n",
                            "harness/b.py": "def f():\n    import harness.a\n"})
    assert cycles(graph(root)) == [["harness.a", "harness.b"]]


@pytest.mark.parametrize(("body", "problem"), [
    ("def f():\n    import torch  # heavy: torch\n", None),
    ("def f():\n    import torch\n", "without a comment"),
    ("def f():\n    import json  # heavy?\n", "imported inside a function"),
    ("def f():\n    from harness import io  # cycle dodge\n", "imported inside a function"),
    ("import json\n", None),
])
def test_the_lazy_import_check(tmp_path, body, problem):
    root = _tree(tmp_path, {"harness/__init__.py": "", "harness/m.py": body})
    found = lazy_import_problems(root)
    assert (found == []) if problem is None else (len(found) == 1 and problem in found[0])
