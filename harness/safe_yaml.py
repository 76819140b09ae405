"""The one YAML loader for every YAML file a user gives the harness (configs, prompt files,
reference files): `yaml.safe_load` semantics (nothing is executed) with limits, so a hostile file
is one error line instead of a full memory or a hang.

- size: at most MAX_BYTES (1 MiB) of text;
- aliases: at most MAX_ALIASES `*alias` uses in a document;
- expansion: at most MAX_NODES nodes once every alias is expanded (a "billion laughs" file uses
  few aliases but expands to 10^9 nodes in anything that walks the data), and no alias inside
  its own anchor (a recursive structure).

Parse errors name the file and line with the parser's short problem text; they never quote the
file beyond that (the problem text quotes at most one character or token, escaped).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from harness.errors import HarnessError, excerpt

MAX_BYTES = 1 << 20
MAX_ALIASES = 100
MAX_NODES = 100_000


class YamlLimitError(HarnessError):
    pass


class _LimitedLoader(yaml.SafeLoader):
    aliases = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                mark = self.peek_event().start_mark
                raise YamlLimitError(f"line {mark.line + 1}: more than {MAX_ALIASES} aliases (*name); "
                                     "a config does not need that many")
        return super().compose_node(parent, index)


def _expanded_size(root: yaml.Node) -> int:
    """Nodes in the tree once every alias is expanded (shared nodes counted once per use)."""
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in active:
            line = node.start_mark.line + 1
            raise YamlLimitError(f"line {line}: an alias refers to the anchor that contains it (a recursive structure)")
        active.add(key)
        total = 1
        if isinstance(node, yaml.SequenceNode):
            children = node.value
        elif isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        else:
            children = []
        for child in children:
            total += size(child)
            if total > MAX_NODES:
                break
        active.discard(key)
        sizes[key] = total
        return total

    return size(root)


def load_text(text: str, where: str) -> tuple[Any, yaml.Node | None]:
    """(data, node tree) of one YAML document; HarnessError starting with `where` on any problem."""
    if len(text) > MAX_BYTES:
        raise YamlLimitError(f"{where}: larger than {MAX_BYTES // 1024} KiB; not a config")
    loader = _LimitedLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, None
        if _expanded_size(node) > MAX_NODES:
            raise YamlLimitError(f"line {node.start_mark.line + 1}: expands to more than {MAX_NODES} values "
                                 "(aliases nested inside aliases)")
        return loader.construct_document(node), node
    except YamlLimitError as e:
        raise YamlLimitError(f"{where}:{str(e).removeprefix('line ')}") from None
    except RecursionError:
        raise YamlLimitError(f"{where}: nested too deeply") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise HarnessError(f"{where}{line}: invalid YAML: {_short(problem)}") from None
    finally:
        loader.dispose()


def _short(problem: str) -> str:
    problem = " ".join(str(problem).split())
    return problem if len(problem) <= 120 and problem.isprintable() else excerpt(problem, 100)


def read_text(path: Path, what: str = "YAML") -> str:
    """The text of a YAML file: exists, at most MAX_BYTES, UTF-8 (a BOM is dropped)."""
    path = Path(path)
    if not path.is_file():
        raise HarnessError(f"{path}: {what} file not found")
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise YamlLimitError(f"{path}: {size} bytes, larger than {MAX_BYTES // 1024} KiB; not a {what} file")
        data = path.read_bytes()
    except OSError as e:
        raise HarnessError(f"{path}: cannot read ({e.strerror})") from None
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as e:
        raise HarnessError(f"{path}: not UTF-8 text (byte {e.start})") from None


def load_file(path: Path, what: str = "YAML") -> tuple[Any, yaml.Node | None]:
    """(data, node tree) of a YAML file, with the limits above."""
    return load_text(read_text(path, what), str(path))


def safe_load(path: Path, what: str = "YAML") -> Any:
    return load_file(path, what)[0]
