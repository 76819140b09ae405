"""The name rule (harness.names) and the bounded YAML loader (harness.safe_yaml), as tables."""

from __future__ import annotations


import pytest

from harness.errors import HarnessError, excerpt
from harness.names import child_path, name_problem, run_folder
from harness.safe_yaml import MAX_ALIASES, MAX_NODES, load_text


@pytest.mark.parametrize("name", ["smoke", "qwen2.5-7b", "a", "A_b-c.d", "0", "r" * 128, "run..x"])
def test_valid_names(name):
    assert name_problem(name) is None


@pytest.mark.parametrize("name", ["", ".", "..", ".hidden", "-rf", "_x", "a/b", "a\\b", "/abs", "a b", "a\nb",
                                  "a\x00b", "r" * 129, "名字", 12, None])
def test_invalid_names(name):
    assert name_problem(name) is not None


def test_a_run_folder_is_a_direct_child_of_the_results_root(tmp_path):
    assert run_folder(tmp_path / "results", "smoke") == tmp_path / "results" / "smoke"
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "linked").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(HarnessError, match="not a direct child"):
        child_path(tmp_path / "results", "linked", "run name")
    (tmp_path / "file").write_text("x")
    with pytest.raises(HarnessError, match=r"^--results .*file: .*file is not a folder$"):
        run_folder(tmp_path / "file", "smoke")


def aliases(n: int) -> str:
    return "x: &x 1\ny: [" + ", ".join(["*x"] * n) + "]\n"


def test_alias_limit_is_exact():
    data, _ = load_text(aliases(MAX_ALIASES), "f.yaml")
    assert len(data["y"]) == MAX_ALIASES
    with pytest.raises(HarnessError, match=rf"^f\.yaml:2: more than {MAX_ALIASES} aliases"):
        load_text(aliases(MAX_ALIASES + 1), "f.yaml")


def test_expansion_limit_counts_every_use_of_an_anchor():
    # 10 uses of a 10 001-value list: 100 010 values once expanded, over the limit; 9 uses fit
    base = "a: &a [" + ", ".join(["0"] * 10_000) + "]\n"
    load_text(base + "b: [" + ", ".join(["*a"] * 8) + "]\n", "f.yaml")
    with pytest.raises(HarnessError, match=f"expands to more than {MAX_NODES} values"):
        load_text(base + "b: [" + ", ".join(["*a"] * 10) + "]\n", "f.yaml")


@pytest.mark.parametrize(
    "text, message",
    [
        ("a: &a [*a]\n", "f.yaml:1: an alias refers to the anchor that contains it"),
        ("a: !!python/object/apply:os.system ['true']\n", "f.yaml:1: invalid YAML: could not determine a constructor"),
        ("a: [\n", "f.yaml:2: invalid YAML:"),
        ("x" * (1 << 20) + "y", "f.yaml: larger than 1024 KiB"),
    ],
)
def test_hostile_yaml_is_one_short_line(text, message):
    with pytest.raises(HarnessError) as e:
        load_text(text, "f.yaml")
    assert str(e.value).startswith(message) and "\n" not in str(e.value) and len(str(e.value)) < 300


def test_safe_load_semantics_otherwise():
    data, node = load_text("a: &v {k: 1}\nb: *v\nc: 2024-01-01\nd: [1, 2.5, null, yes]\n", "f.yaml")
    assert data["a"] == data["b"] == {"k": 1} and str(data["c"]) == "2024-01-01" and data["d"] == [1, 2.5, None, True]
    assert node.start_mark.line == 0


@pytest.mark.parametrize(
    "value, shown",
    [("short", "'short'"), ("a\nb", "'a\\nb'"), ("x" * 100, "'" + "x" * 60 + "'… (100 chars)"), (12, "12")],
)
def test_excerpt(value, shown):
    assert excerpt(value) == shown
