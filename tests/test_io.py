"""harness.io: the one module that writes, reads and hashes files (tables of inputs → expected outputs)."""

from __future__ import annotations

import ast
import csv
import io as stdio
import json
import os
import stat
from pathlib import Path

import pytest

from harness import io
from harness.errors import HarnessError

ROOT = Path(__file__).resolve().parents[1]


# --- hashes: known vectors (FIPS 180-2 examples, and sha256sum of the same bytes) ------------------

EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
ABC = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


@pytest.mark.parametrize(("func", "value", "expected"), [
    (io.sha256_bytes, b"", EMPTY),
    (io.sha256_bytes, b"abc", ABC),
    (io.sha256_text, "abc", ABC),
    (io.sha256_text, "中文", "72726d8818f693066ceb69afa364218b692e62ea92b385782363780f47529c21"),
    (io.sha256_json, {"b": 1, "a": "abc"}, io.sha256_text('{"a":"abc","b":1}')),
])
def test_sha256(func, value, expected):
    assert func(value) == expected


def test_sha256_file_streams_blocks_like_one_read(tmp_path):
    path = tmp_path / "big.bin"
    data = os.urandom(io._BLOCK + 12345)  # more than one block
    path.write_bytes(data)
    assert io.sha256_file(path) == io.sha256_bytes(data)
    (tmp_path / "abc").write_bytes(b"abc")
    assert io.sha256_file(tmp_path / "abc") == ABC


@pytest.mark.parametrize(("obj", "expected"), [
    ({"b": [1, 2.5], "a": None}, '{"a":null,"b":[1,2.5]}'),
    ({"z": "中", "a": {"y": True, "x": 1}}, '{"a":{"x":1,"y":true},"z":"中"}'),
    ([], "[]"),
])
def test_canonical_json(obj, expected):
    assert io.canonical_json(obj) == expected


# --- JSONL ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("data", "expected"), [
    ('{"a": "x\u2028y\u2029z"}\n', [{"a": "x\u2028y\u2029z"}]),  # raw line separators inside a string
    ('\ufeff{"a": 1}\n{"a": 2}\n', [{"a": 1}, {"a": 2}]),  # a UTF-8 BOM
    ('{"a": 1}\r\n{"a": 2}\r\n', [{"a": 1}, {"a": 2}]),  # CRLF
    ('\n{"a": 1}\n\n  \n{"a": 2}', [{"a": 1}, {"a": 2}]),  # blank lines, no final newline
    ('{"a": "x\x85y"}\n', [{"a": "x\x85y"}]),  # NEL: splitlines() splits on it too
    ("", []),
])
def test_parse_jsonl(tmp_path, data, expected):
    path = tmp_path / "x.jsonl"
    path.write_bytes(data.encode("utf-8"))
    rows = io.read_jsonl(path)
    assert [value for _, value in rows] == expected
    assert all(where.startswith(f"{path}:") for where, _ in rows)


@pytest.mark.parametrize(("data", "message"), [
    (b'{"a": 1}\n{"a": \n', r"x\.jsonl:2: not valid JSON"),
    (b'{"a": 1}\n\xff\n', r"x\.jsonl: not UTF-8 \(byte 9\)"),
])
def test_bad_jsonl_is_one_error_naming_the_line(tmp_path, data, message):
    path = tmp_path / "x.jsonl"
    path.write_bytes(data)
    with pytest.raises(HarnessError, match=message):
        io.read_jsonl(path)


def test_jsonl_round_trip_keeps_every_character(tmp_path):
    rows = [{"id": "a", "output": "第一行\u2028第二行\u2029\r\n end"}, {"id": "b", "output": ""}]
    io.write_jsonl(tmp_path / "p.jsonl", rows)
    assert [v for _, v in io.read_jsonl(tmp_path / "p.jsonl")] == rows
    assert (tmp_path / "p.jsonl").read_text(encoding="utf-8").count("\n") == 2


# --- atomic writes and staged folders ---------------------------------------------------------------


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_atomic_writes_publish_0644_files_and_0755_folders(tmp_path):
    old = os.umask(0o077)  # even under a strict umask
    try:
        io.write_text(tmp_path / "a" / "b" / "t.txt", "中文\n")
        io.write_bytes(tmp_path / "b.bin", b"\0\1")
        io.write_json(tmp_path / "j.json", {"k": "中"})
    finally:
        os.umask(old)
    assert (tmp_path / "a" / "b" / "t.txt").read_bytes() == "中文\n".encode("utf-8")
    assert (tmp_path / "j.json").read_text(encoding="utf-8") == '{\n  "k": "中"\n}\n'
    assert [_mode(p) for p in (tmp_path / "a", tmp_path / "a" / "b")] == [0o755, 0o755]
    assert {_mode(p) for p in (tmp_path / "a" / "b" / "t.txt", tmp_path / "b.bin", tmp_path / "j.json")} == {0o644}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b.bin", "j.json"]  # no temporary left


def test_a_failed_atomic_write_keeps_the_old_file(tmp_path):
    path = tmp_path / "f.txt"
    path.write_text("old")
    with pytest.raises(RuntimeError):
        with io.atomic_writer(path) as f:
            f.write("half")
            raise RuntimeError("killed")
    assert path.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["f.txt"]


def test_staged_folder_is_0755_and_swapped_in_whole(tmp_path):
    target = tmp_path / "run"
    target.mkdir()
    (target / "old.txt").write_text("previous")
    old = os.umask(0o077)
    try:
        with io.staged_folder(target) as staging:
            assert _mode(staging) == 0o755
            io.write_text(staging / "predictions" / "m" / "t.jsonl", "{}\n")
    finally:
        os.umask(old)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
    assert [p.name for p in target.iterdir()] == ["predictions"]
    assert {_mode(p) for p in (target, target / "predictions", target / "predictions" / "m")} == {0o755}


# --- Markdown -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("plain-text 1.5 [2.0, 3.0] – 0 %", "plain-text 1.5 [2.0, 3.0] – 0 %"),
    ("chrf++", "chrf++"),
    ("a|b", "a\\|b"),
    ("qwen_2 *x* `y`", "qwen\\_2 \\*x\\* \\`y\\`"),
    ("<img src=x onerror=alert(1)> & co", "&lt;img src=x onerror=alert(1)&gt; &amp; co"),
    ("back\\slash", "back\\\\slash"),
    ("two\nlines\t and  spaces", "two lines and spaces"),
    (12, "12"),
])
def test_md_text(text, expected):
    assert io.md_text(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("a|b", "`a|b`"),
    ("has ` tick", "``has ` tick``"),
    ("`edge", "`` `edge ``"),
    ("x\ny", "`x y`"),
])
def test_md_code(text, expected):
    assert io.md_code(text) == expected


def test_markdown_table_escapes_text_cells_and_keeps_markdown_cells():
    lines = io.markdown_table(
        ["model", "score", "signature"],
        [["a|b_c", io.Markdown("**12.3** [1.0, 2.0]"), io.md_code("bleu|nrefs:1")],
         ["<b>", "–", io.Markdown("already \\| escaped")]],
        "lrl",
    )
    assert lines == [
        "| model | score | signature |",
        "|---|---:|---|",
        "| a\\|b\\_c | **12.3** [1.0, 2.0] | `bleu\\|nrefs:1` |",
        "| &lt;b&gt; | – | already \\| escaped |",
    ]


def test_markdown_table_checks_its_shape():
    with pytest.raises(ValueError):
        io.markdown_table(["a", "b"], [], "l")
    with pytest.raises(ValueError):
        io.markdown_table(["a", "b"], [["x"]], "ll")


# --- CSV ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
    ("+cmd", "'+cmd"),
    ("-2+3", "'-2+3"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"),
    ("\rx", "'\rx"),
    ("-1.5", "-1.5"),  # text that is a number stays a number
    ("+3", "+3"),
    ("-1e-3", "-1e-3"),
    (-1.5, -1.5),
    (-3, -3),
    (0.25, 0.25),
    (None, ""),
    ("lead-3", "lead-3"),
    ("a=b", "a=b"),
    ("", ""),
])
def test_csv_cell(value, expected):
    assert io.csv_cell(value) == expected


def test_csv_text_round_trips_through_a_csv_reader():
    text = io.csv_text(["model", "value"], [["=1+1", -1.5], ['a,"b"', None], ["ok", 2]])
    assert text == "model,value\n'=1+1,-1.5\n\"a,\"\"b\"\"\",\nok,2\n"
    assert list(csv.reader(stdio.StringIO(text))) == [["model", "value"], ["'=1+1", "-1.5"], ['a,"b"', ""], ["ok", "2"]]


# --- one copy of each helper ----------------------------------------------------------------------------

# Calls that belong in harness/io.py only (a second copy of atomic writes, staged folders or CSV writing).
IO_ONLY = {("os", "replace"), ("tempfile", "mkstemp"), ("tempfile", "mkdtemp"), ("tempfile", "NamedTemporaryFile"),
           ("csv", "writer"), ("os", "rename")}


def _calls(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name):
            yield node.func.value.id, node.func.attr, node.lineno
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "splitlines":
            yield "str", "splitlines", node.lineno


def test_no_second_copy_of_the_io_helpers():
    found = []
    for path in sorted((ROOT / "harness").rglob("*.py")):
        if path.name == "io.py" and path.parent.name == "harness":
            continue
        for module, name, line in _calls(ast.parse(path.read_text(encoding="utf-8"))):
            if (module, name) in IO_ONLY:
                found.append(f"{path.relative_to(ROOT)}:{line}: {module}.{name}")
    assert found == []


def test_jsonl_is_never_split_with_splitlines():
    """No function both splits text with splitlines() and decodes JSON: JSON lines go through
    harness.io.read_jsonl / parse_jsonl (splitlines() is for messages and /proc files)."""
    found = []
    for path in sorted((ROOT / "harness").rglob("*.py")):
        for func in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            calls = {name for _, name, _ in _calls(func)} | {
                n.func.attr for n in ast.walk(func) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)}
            if "splitlines" in calls and "loads" in calls:
                found.append(f"{path.relative_to(ROOT)}: {func.name}")
    assert found == []


@pytest.mark.parametrize(("data", "expected"), [
    ('{"id": "a", "output": "line\u2028separator\u2029inside"}\n', {(None, "a"): "line\u2028separator\u2029inside"}),
    ('\ufeff{"id": "a", "output": "x", "task": "t"}\r\n', {("t", "a"): "x"}),  # BOM, as `harness score` accepts
])
def test_file_backend_reads_jsonl_through_the_shared_reader(tmp_path, data, expected):
    from harness.generate.file import read_outputs

    path = tmp_path / "outputs.jsonl"
    path.write_bytes(data.encode("utf-8"))
    assert read_outputs(path) == expected


@pytest.mark.parametrize(("data", "message"), [
    ('{"id": "a", "output": 5}\n', r'outputs\.jsonl:1: each line needs string "id" and "output" fields'),
    ('{"id": "a", "output": "x"}\n{"id": "a", "output": "y"}\n', r"outputs\.jsonl:2: id a appears twice"),
    ('{"id": "a", "output": "x"}\n{"id"\n', r"outputs\.jsonl:2: not valid JSON"),
])
def test_file_backend_errors_name_the_line(tmp_path, data, message):
    from harness.generate.file import read_outputs

    path = tmp_path / "outputs.jsonl"
    path.write_text(data, encoding="utf-8")
    with pytest.raises(HarnessError, match=message):
        read_outputs(path)
