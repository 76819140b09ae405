"""YAML sources and their error messages, for every YAML file the harness reads (run configs,
prompt files, task definitions): the file is read safely and within limits (harness.safe_yaml),
the node tree gives the line of every key path (`ConfigSource`), `--set a.b.0=value` overrides
are applied to the parsed data, and a pydantic `ValidationError` becomes one `ConfigError`
naming the file, the line and the dotted key path (`first_error`).

A model class may name, in a class attribute `yaml_models`, fields it validates into another
model by hand (a task's `define:`), so an unknown key inside them still gets a did-you-mean.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from harness.errors import ConfigError, HarnessError, excerpt
from harness.registry import did_you_mean
from harness.safe_yaml import load_file, load_text

# --- where things are in the file ----------------------------------------------------------


Loc = tuple  # a key path: ("models", 1, "revision")


@dataclass
class ConfigSource:
    """The file a config came from, the line of every key path in it and the `--set` overrides."""

    file: str = "<config>"
    lines: dict[Loc, int] = field(default_factory=dict)
    overrides: dict[Loc, str] = field(default_factory=dict)  # path → the "--set k=v" text

    def where(self, loc: Sequence) -> str:
        loc = tuple(loc)
        for n in range(len(loc), -1, -1):  # an override of a path or of one of its parents
            if loc[:n] in self.overrides:
                return f"--set {self.overrides[loc[:n]]}"
        for n in range(len(loc), -1, -1):  # the deepest known part of the path
            if loc[:n] in self.lines:
                return f"{self.file}:{self.lines[loc[:n]]}"
        return self.file

    def error(self, loc: Sequence, message: str) -> ConfigError:
        path = dotted(loc)
        return ConfigError(f"{self.where(loc)}: {path + ': ' if path else ''}{message}")


def dotted(loc: Iterable) -> str:
    return ".".join(str(p) for p in loc)


def line_map(node, path: Loc, lines: dict, source: str) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: dict = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if key in seen:
                raise ConfigError(
                    f"{source}:{key_node.start_mark.line + 1}: {dotted((*path, key))}: duplicate key "
                    f"(first on line {seen[key]})"
                )
            seen[key] = key_node.start_mark.line + 1
            lines[(*path, key)] = key_node.start_mark.line + 1
            line_map(value_node, (*path, key), lines, source)
    elif isinstance(node, yaml.SequenceNode):
        for i, child in enumerate(node.value):
            lines[(*path, i)] = child.start_mark.line + 1
            line_map(child, (*path, i), lines, source)


def read_yaml(path: Path, what: str = "config") -> tuple[Any, ConfigSource]:
    """Parse a YAML file safely and within limits (harness.safe_yaml); returns the data and a
    ConfigSource with the line of every key."""
    path = Path(path)
    try:
        data, node = load_file(path, what)
    except HarnessError as e:
        raise ConfigError(str(e)) from None
    source = ConfigSource(file=str(path))
    if node is not None:
        source.lines[()] = node.start_mark.line + 1
        line_map(node, (), source.lines, str(path))
    return data, source


# --- overrides -----------------------------------------------------------------------------------


def apply_override(data: Any, expression: str, source: ConfigSource) -> Any:
    """Set `a.b.0.c=value` in the parsed data (value parsed as YAML: `5`, `null`, `[a, b]`)."""
    key, sep, raw = expression.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"--set {expression}: expected KEY.PATH=VALUE, e.g. tasks.0.limit=5")
    try:
        value = load_text(raw, "value")[0]
    except HarnessError as e:
        raise ConfigError(f"--set {excerpt(expression)}: {e}") from None
    parts = key.strip().split(".")
    loc: list = []
    node = data
    for n, part in enumerate(parts):
        last = n == len(parts) - 1
        if isinstance(node, list):
            if not re.fullmatch(r"\d+", part) or int(part) >= len(node):
                raise ConfigError(
                    f"--set {expression}: {dotted(loc) or 'the config'} is a list of {len(node)}; "
                    f"'{part}' is not an index in it"
                )
            index = int(part)
            loc.append(index)
            if last:
                node[index] = value
            else:
                node = node[index]
        elif isinstance(node, dict):
            loc.append(part)
            if last:
                node[part] = value
            else:
                if part not in node or node[part] is None:
                    node[part] = {}
                node = node[part]
        else:
            raise ConfigError(f"--set {expression}: {dotted(loc)} is a single value, it has no key '{part}'")
    source.overrides[tuple(loc)] = expression
    return data


# --- errors --------------------------------------------------------------------------------------


def error_message(err: Mapping, known: Iterable[str] | None) -> str:
    kind, msg = err["type"], err["msg"]
    if kind == "extra_forbidden":
        return "unknown key" + (did_you_mean(str(err["loc"][-1]), known) if known is not None else "")
    if kind == "missing":
        return "missing required key"
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    value = err.get("input")
    if kind.endswith("_type") and (value is None or isinstance(value, (str, int, float, bool))):
        msg += f" (got {shown(value)})"
    return msg


def shown(value) -> str:
    """A value as an error quotes it: short and escaped. A long string may be a whole file's text
    (`prompt: ../../etc/passwd` parses as one string): only its length is told."""
    if isinstance(value, str) and (len(value) > 40 or "\n" in value):
        return f"a string of {len(value)} characters"
    return excerpt(value, 40)


def model_at(root: type[BaseModel], loc: Sequence) -> type[BaseModel] | None:
    """The pydantic model class that holds the last key of `loc` (for did-you-mean on unknown keys)."""
    cls: Any = root
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(cls, type) and issubclass(cls, BaseModel)) or part not in cls.model_fields:
            return None
        nested = getattr(cls, "yaml_models", {}).get(part)  # a field validated into a model by hand
        if nested is not None:
            cls = nested
            continue
        ann = cls.model_fields[part].annotation
        while True:
            args = [a for a in typing.get_args(ann) if a is not type(None)]
            if isinstance(ann, type) and issubclass(ann, BaseModel):
                break
            if not args:
                break
            ann = args[0]
        cls = ann
    return cls if isinstance(cls, type) and issubclass(cls, BaseModel) else None


def first_error(e: ValidationError, source: ConfigSource, root: type[BaseModel], prefix: Loc = (),
                 known_extra: Iterable[str] = ()) -> ConfigError:
    """The first problem (in file order) as a ConfigError, with a count of the others."""
    errors = e.errors()

    def line(err) -> int:
        where = source.where((*prefix, *err["loc"]))
        tail = where.rsplit(":", 1)[-1]
        return int(tail) if tail.isdigit() else 0

    errors.sort(key=lambda err: (err["type"] == "missing", line(err)))  # a typo'd key before the key it misses
    err = errors[0]
    loc = (*prefix, *err["loc"])
    known = None
    if err["type"] == "extra_forbidden":
        holder = model_at(root, err["loc"][:-1])
        known = [*(holder.model_fields if holder else ()), *known_extra]
    more = f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})" if len(errors) > 1 else ""
    return source.error(loc, error_message(err, known) + more)
