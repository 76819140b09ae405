"""Run configs: YAML → strict pydantic models, with errors that name the file, line and key.

The file is read with harness.safe_yaml (`yaml.safe_load` semantics, nothing in a config is
executed, with limits on size and aliases); its node tree gives the line of every key. Unknown
keys, tasks, metrics, backends and post-processing rules are errors with a "did you mean" suggestion. `--set a.b.0=value` overrides
are applied to the parsed data and validated like the file; an error in an overridden value names
the `--set` option instead of a line.

Relative paths in a config (dataset, prompt files, `file` backend outputs) are resolved against the
current directory, like `--results`: run `harness` from the project root.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PrivateAttr, SerializeAsAny, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from harness.errors import HarnessError, excerpt
from harness.names import name_problem
from harness.options import SEED_MAX
from harness.registry import did_you_mean
from harness.score.neural import MetricSettings  # the neural metrics' settings (`metric_settings`)

MODEL_COMMON_KEYS = ("name", "backend", "tasks")


class ConfigError(HarnessError):
    """A config problem; the message starts with `file:line: key.path:`."""


# --- where things are in the YAML file ----------------------------------------------------------


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


def _line_map(node, path: Loc, lines: dict, source: str) -> None:
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
            _line_map(value_node, (*path, key), lines, source)
    elif isinstance(node, yaml.SequenceNode):
        for i, child in enumerate(node.value):
            lines[(*path, i)] = child.start_mark.line + 1
            _line_map(child, (*path, i), lines, source)


def read_yaml(path: Path, what: str = "config") -> tuple[Any, ConfigSource]:
    """Parse a YAML file safely and within limits (harness.safe_yaml); returns the data and a
    ConfigSource with the line of every key."""
    from harness.safe_yaml import load_file

    path = Path(path)
    try:
        data, node = load_file(path, what)
    except HarnessError as e:
        raise ConfigError(str(e)) from None
    source = ConfigSource(file=str(path))
    if node is not None:
        source.lines[()] = node.start_mark.line + 1
        _line_map(node, (), source.lines, str(path))
    return data, source


# --- overrides -----------------------------------------------------------------------------------


def apply_override(data: Any, expression: str, source: ConfigSource) -> Any:
    """Set `a.b.0.c=value` in the parsed data (value parsed as YAML: `5`, `null`, `[a, b]`)."""
    key, sep, raw = expression.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"--set {expression}: expected KEY.PATH=VALUE, e.g. tasks.0.limit=5")
    from harness.safe_yaml import load_text

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


# --- the models ----------------------------------------------------------------------------------


MAX_TOKENS = 1_000_000  # max_new_tokens: far beyond any context, still a number a backend can allocate for
MAX_ITEMS = 1_000_000  # limit / per_doc / shots: far beyond any dataset here


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)


def _unknown(kind: str, name, known: Iterable[str]) -> PydanticCustomError:
    return PydanticCustomError("unknown_name", "unknown {kind} '{name}'{hint}",
                               {"kind": kind, "name": str(name), "hint": did_you_mean(str(name), known)})


def _at(key: str, value, error: PydanticCustomError) -> ValidationError:
    """`error` located at `key` of the model being validated (for checks that need several keys)."""
    from pydantic_core import InitErrorDetails

    return ValidationError.from_exception_data("config", [InitErrorDetails(type=error, loc=(key,), input=value)])


def _name(value: str, what: str) -> str:
    """The one name rule (harness.names): it rejects "", ".", "..", separators and hidden names."""
    problem = name_problem(value)
    if problem is not None:
        raise PydanticCustomError("bad_name", "{what} {value}: {problem}",
                                  {"what": what, "value": excerpt(value), "problem": problem})
    return value


def _known_metric(name: str) -> str:
    from harness.score.registry import METRICS

    if name not in METRICS:
        raise _unknown("metric", name, METRICS)
    return name


def _known_rule(name: str) -> str:
    from harness.postprocess import RULES

    if name not in RULES:
        raise _unknown("post-processing rule", name, RULES)
    return name


def _task_definition():
    from harness.tasks import TaskDef

    return TaskDef


class TaskConfig(StrictModel):
    task: str
    # A task of the config's own (docs/run.md, "Your own tasks"): a harness.tasks.TaskDef mapping
    # without `name` (it is `task`). Absent: `task` names a built-in task.
    define: Any = None
    limit: int | None = Field(None, ge=1, le=MAX_ITEMS)
    per_doc: int | None = Field(None, ge=1, le=MAX_ITEMS)
    ids: list[str] | None = None
    # None (the task's default prompt file), a path to a prompt YAML file, or an inline mapping;
    # always a PromptTemplate after validation.
    prompt: Any = Field(None, validate_default=True)
    shots: int = Field(0, ge=0, le=64)
    max_new_tokens: int = Field(0, ge=1, le=MAX_TOKENS)  # default filled from the task definition
    metrics: list[Annotated[str, AfterValidator(_known_metric)]] = []  # default filled from the task definition

    @model_validator(mode="before")
    @classmethod
    def _defaults(cls, data):
        from harness.tasks import TASKS, with_kind_defaults

        if not isinstance(data, dict):
            return data
        data = dict(data)
        if isinstance(data.get("define"), dict):
            definition = with_kind_defaults({**data["define"], "name": data.get("task")})
            defaults = {"max_new_tokens": definition.get("max_new_tokens"), "metrics": definition.get("metrics")}
        elif data.get("define") is None and data.get("task") in TASKS:
            t = TASKS[data["task"]]
            defaults = {"max_new_tokens": t.max_new_tokens, "metrics": list(t.metrics)}
        else:
            return data
        for key, value in defaults.items():
            if data.get(key) is None and value is not None:
                data[key] = value
        return data

    @field_validator("define")
    @classmethod
    def _define(cls, value, info: ValidationInfo):
        if value is None:
            return None
        if not isinstance(value, dict):
            raise PydanticCustomError("define_type", "must be a mapping (a task definition; docs/run.md)")
        if "task" not in info.data:
            return value  # the task name itself is wrong; that error is reported
        if "name" in value and value["name"] != info.data["task"]:  # a dumped config repeats it: fine
            raise PydanticCustomError("define_name", "name '{name}' differs from the task's name '{task}': leave "
                                      "`name` out (the task's name is its `task` key)",
                                      {"name": str(value["name"]), "task": info.data["task"]})
        return _task_definition().model_validate({**value, "name": info.data["task"]})

    @model_validator(mode="after")
    def _builtin_or_defined(self):
        from harness.tasks import TASKS

        if self.define is None and self.task not in TASKS:
            raise _at("task", self.task, _unknown("task", self.task, TASKS))
        if self.define is not None and self.task in TASKS:
            raise _at("task", self.task, PydanticCustomError(
                "builtin_task", "'{name}' is a built-in task; give your own task another name", {"name": self.task}))
        from harness.score.registry import METRICS

        lang = self.definition.target_lang
        for name in self.metrics:
            if lang not in METRICS[name].languages:  # the metric registry declares what each metric scores
                raise _at("metrics", self.metrics, PydanticCustomError(
                    "metric_lang", "{name} does not score target language '{lang}' (it scores {known})",
                    {"name": name, "lang": lang, "known": ", ".join(METRICS[name].languages)}))
        return self

    @property
    def definition(self):
        """The task's harness.tasks.TaskDef (built-in or defined here)."""
        from harness.tasks import TASKS

        return self.define if self.define is not None else TASKS[self.task]

    @field_validator("metrics")
    @classmethod
    def _some_metrics(cls, value: list[str]) -> list[str]:
        if not value:
            raise PydanticCustomError("empty", "needs at least one metric")
        if len(set(value)) != len(value):
            raise PydanticCustomError("duplicate", "lists a metric twice")
        return value

    @field_validator("prompt")
    @classmethod
    def _prompt(cls, value, info: ValidationInfo):
        from harness.tasks import TASKS, PromptTemplate

        if isinstance(value, PromptTemplate):
            return value
        definition = info.data.get("define")
        if definition is None and info.data.get("task") in TASKS:
            definition = TASKS[info.data["task"]]
        if value is None and not hasattr(definition, "prompt_path"):
            return None  # the task or its definition is wrong; that error is reported
        if value is None or isinstance(value, str):
            return _prompt_file(value, definition)
        if not isinstance(value, dict):
            raise PydanticCustomError("prompt_type", "must be a path to a prompt file or a mapping (got {got})",
                                      {"got": type(value).__name__})
        return PromptTemplate.model_validate(value)


def _prompt_file(spec: str | None, definition):
    """Load a prompt file (the task's default when `spec` is None); errors name the prompt file."""
    from harness.tasks import PromptTemplate

    if spec is None and definition.prompt_path is None:
        raise PydanticCustomError(
            "prompt_missing", "no built-in prompt for {kind} {src} → {tgt}: give the task a `prompt` (a file or a "
            "mapping) or define.prompt (a built-in prompt name)",
            {"kind": definition.kind, "src": definition.source_lang, "tgt": definition.target_lang})
    path = definition.prompt_path if spec is None else Path(spec)
    if not path.is_file():
        raise PydanticCustomError("prompt_file", "prompt file '{path}' not found (leave `prompt` out for the task's "
                                  "built-in prompt, harness/prompts/{name}.yaml)",
                                  {"path": str(path), "name": definition.prompt or definition.name})
    data, source = read_yaml(path, "prompt")
    try:
        return PromptTemplate.model_validate(data)
    except ValidationError as e:
        raise _first_error(e, source, PromptTemplate) from None


class GenerationConfig(StrictModel):
    do_sample: bool = False
    temperature: float = Field(0.0, ge=0.0, le=100.0)
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    stop: list[str] = []

    @model_validator(mode="after")
    def _consistent(self):
        if self.do_sample and self.temperature == 0:
            raise PydanticCustomError("sampling", "do_sample: true needs a temperature above 0")
        if not self.do_sample and (self.temperature != 0 or self.top_p != 1.0):
            raise PydanticCustomError(
                "sampling", "temperature/top_p only apply with do_sample: true (greedy decoding ignores them)"
            )
        if any(not s for s in self.stop):
            raise PydanticCustomError("stop", "stop strings must not be empty")
        return self


class ModelConfig(StrictModel):
    """A model entry: the common keys, plus `settings` validated by the backend's settings model."""

    name: str
    backend: str
    tasks: list[str] | None = None  # run only on these tasks of the config (default: all)
    settings: SerializeAsAny[BaseModel]

    @field_validator("name")
    @classmethod
    def _folder_name(cls, value: str) -> str:
        return _name(value, "model name")

    @property
    def spec(self):
        from harness.generate.registry import BACKENDS

        return BACKENDS[self.backend]

    @property
    def role(self) -> str:
        return self.spec.role_of(self.settings)

    def to_dict(self) -> dict:
        out = {"name": self.name, "backend": self.backend}
        if self.tasks is not None:
            out["tasks"] = list(self.tasks)
        out.update(self.settings.model_dump(mode="json"))
        return out


DEFAULT_POSTPROCESS = ("strip_reasoning", "strip_label", "trim")


class RunConfig(StrictModel):
    run: str
    dataset: str = "data"
    seed: int = Field(0, ge=0, lt=SEED_MAX)
    tasks: list[TaskConfig] = Field(min_length=1)
    models: list[ModelConfig] = Field(min_length=1)
    generation: GenerationConfig = GenerationConfig()
    postprocess: list[Annotated[str, AfterValidator(_known_rule)]] = list(DEFAULT_POSTPROCESS)
    metric_settings: MetricSettings = MetricSettings()  # bertscore encoder, comet interpreter/model (harness.score.neural)

    _source: ConfigSource = PrivateAttr(default_factory=ConfigSource)

    @field_validator("run")
    @classmethod
    def _run_name(cls, value: str) -> str:
        return _name(value, "run name")

    @property
    def source(self) -> ConfigSource:
        return self._source

    def error(self, loc: Sequence, message: str) -> ConfigError:
        return self._source.error(loc, message)

    def task(self, name: str) -> TaskConfig:
        return next(t for t in self.tasks if t.task == name)

    def model(self, name: str) -> ModelConfig:
        return next(m for m in self.models if m.name == name)

    def tasks_of(self, model: ModelConfig) -> list[str]:
        names = [t.task for t in self.tasks]
        return [t for t in names if model.tasks is None or t in model.tasks]

    def to_dict(self) -> dict:
        """The resolved config: every default filled in, prompts inline, as written to the manifest."""
        out = self.model_dump(mode="json", exclude={"models"})
        for task in out["tasks"]:  # built-in tasks: as before tasks could be defined (same config hash)
            if task.get("define") is None:
                task.pop("define", None)
        out["models"] = [m.to_dict() for m in self.models]
        return out


# --- validation ----------------------------------------------------------------------------------


def _message(err: Mapping, known: Iterable[str] | None) -> str:
    kind, msg = err["type"], err["msg"]
    if kind == "extra_forbidden":
        return "unknown key" + (did_you_mean(str(err["loc"][-1]), known) if known is not None else "")
    if kind == "missing":
        return "missing required key"
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    value = err.get("input")
    if kind.endswith("_type") and (value is None or isinstance(value, (str, int, float, bool))):
        msg += f" (got {_shown(value)})"
    return msg


def _shown(value) -> str:
    """A value as an error quotes it: short and escaped. A long string may be a whole file's text
    (`prompt: ../../etc/passwd` parses as one string): only its length is told."""
    if isinstance(value, str) and (len(value) > 40 or "\n" in value):
        return f"a string of {len(value)} characters"
    return excerpt(value, 40)


def _model_at(root: type[BaseModel], loc: Sequence) -> type[BaseModel] | None:
    """The pydantic model class that holds the last key of `loc` (for did-you-mean on unknown keys)."""
    import typing

    cls: Any = root
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(cls, type) and issubclass(cls, BaseModel)) or part not in cls.model_fields:
            return None
        if cls is TaskConfig and part == "define":
            cls = _task_definition()
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


def _first_error(e: ValidationError, source: ConfigSource, root: type[BaseModel], prefix: Loc = (),
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
        holder = _model_at(root, err["loc"][:-1])
        known = [*(holder.model_fields if holder else ()), *known_extra]
    more = f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})" if len(errors) > 1 else ""
    return source.error(loc, _message(err, known) + more)


def _validate_model_entry(raw: Any, i: int, source: ConfigSource) -> ModelConfig | Any:
    """Dispatch one model entry on its `backend` and validate its settings with that backend's model."""
    from harness.generate.registry import BACKENDS

    loc = ("models", i)
    if not isinstance(raw, dict):
        return raw  # RunConfig reports the type error
    backend = raw.get("backend")
    if backend is None:
        raise source.error((*loc, "backend"), f"missing required key (one of: {', '.join(sorted(BACKENDS))})")
    if not isinstance(backend, str) or backend not in BACKENDS:
        raise source.error((*loc, "backend"), f"unknown backend '{backend}'{did_you_mean(str(backend), BACKENDS)}")
    try:
        settings_cls = BACKENDS[backend].settings_model()
    except HarnessError as e:  # the backend's module is missing or broken (e.g. an optional dependency)
        raise source.error((*loc, "backend"), str(e)) from None
    common = {k: v for k, v in raw.items() if k in MODEL_COMMON_KEYS}
    rest = {k: v for k, v in raw.items() if k not in MODEL_COMMON_KEYS}
    try:
        settings = settings_cls.model_validate(rest)
    except ValidationError as e:
        raise _first_error(e, source, settings_cls, loc, known_extra=MODEL_COMMON_KEYS) from None
    try:
        return ModelConfig.model_validate({**common, "settings": settings})
    except ValidationError as e:
        raise _first_error(e, source, ModelConfig, loc, known_extra=settings_cls.model_fields) from None


def parse_config(data: Any, source: ConfigSource | None = None) -> RunConfig:
    """Validate parsed YAML data into a RunConfig; the first problem raises a ConfigError."""
    source = source or ConfigSource()
    if not isinstance(data, dict):
        got = "an empty file" if data is None else f"a {type(data).__name__}"
        raise source.error((), f"a config is a mapping of keys (run, dataset, tasks, models, ...), got {got}")
    data = dict(data)
    if isinstance(data.get("models"), list):
        data["models"] = [_validate_model_entry(m, i, source) for i, m in enumerate(data["models"])]
    try:
        config = RunConfig.model_validate(data)
    except ValidationError as e:
        raise _first_error(e, source, RunConfig) from None
    config._source = source
    _cross_checks(config)
    return config


def _cross_checks(config: RunConfig) -> None:
    task_names = [t.task for t in config.tasks]
    for i, name in enumerate(task_names):
        if name in task_names[:i]:
            raise config.error(("tasks", i, "task"), f"task '{name}' is listed twice (also tasks.{task_names.index(name)})")
    model_names = [m.name for m in config.models]
    for i, name in enumerate(model_names):
        if name in model_names[:i]:
            raise config.error(("models", i, "name"),
                               f"model name '{name}' is used twice (also models.{model_names.index(name)})")
    for i, m in enumerate(config.models):
        for j, t in enumerate(m.tasks or ()):
            if t not in task_names:
                raise config.error(("models", i, "tasks", j),
                                   f"task '{t}' is not among the config's tasks{did_you_mean(t, task_names)}")
        if m.tasks is not None and not m.tasks:
            raise config.error(("models", i, "tasks"), "an empty task list runs nothing; leave the key out for all tasks")


def load_config(path: Path, overrides: Sequence[str] = ()) -> RunConfig:
    """Read, override and validate a config file."""
    data, source = read_yaml(Path(path))
    for expression in overrides:
        if not isinstance(data, (dict, list)):
            break  # parse_config reports the shape
        data = apply_override(data, expression, source)
    return parse_config(data, source)


def select(config: RunConfig, *, models: Sequence[str] | None = None, tasks: Sequence[str] | None = None,
           limit: int | None = None) -> RunConfig:
    """The config restricted to some models/tasks and/or with every task's `limit` replaced."""
    model_names = [m.name for m in config.models]
    task_names = [t.task for t in config.tasks]
    for name in models or ():
        if name not in model_names:
            raise ConfigError(f"--models: no model '{name}' in {config.source.file}{did_you_mean(name, model_names)}")
    for name in tasks or ():
        if name not in task_names:
            raise ConfigError(f"--tasks: no task '{name}' in {config.source.file}{did_you_mean(name, task_names)}")
    if limit is not None and not 1 <= limit <= MAX_ITEMS:
        raise ConfigError(f"--limit: must be between 1 and {MAX_ITEMS} (got {limit})")
    new_tasks = [t for t in config.tasks if not tasks or t.task in tasks]
    if limit is not None:
        new_tasks = [t.model_copy(update={"limit": limit}) for t in new_tasks]
    new_models = [m for m in config.models if not models or m.name in models]
    kept = {t.task for t in new_tasks}
    new_models = [m for m in new_models if m.tasks is None or set(m.tasks) & kept]
    if not new_models:
        raise ConfigError("--models/--tasks: the selection leaves no model with a task to run")
    new_models = [m if m.tasks is None else m.model_copy(update={"tasks": [t for t in m.tasks if t in kept]})
                  for m in new_models]
    out = config.model_copy(update={"tasks": new_tasks, "models": new_models})
    out._source = config.source
    return out
