"""Run configs: YAML → strict pydantic models, with errors that name the file, line and key.

The file is read by harness.yaml_source (safe_yaml's limits, the line of every key, `--set
a.b.0=value` overrides applied to the parsed data and validated like the file; an error in an
overridden value names the `--set` option instead of a line). Unknown keys, tasks, metrics,
backends and post-processing rules are errors with a "did you mean" suggestion.

Relative paths in a config (dataset, prompt files, `file` backend outputs) are resolved against the
current directory, like `--results`: run `harness` from the project root.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PrivateAttr, SerializeAsAny, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from harness.errors import ConfigError, HarnessError, excerpt
from harness.generate.registry import BACKENDS
from harness.metric_table import METRICS
from harness.names import name_problem
from harness.options import SEED_MAX
from harness.postprocess import RULES
from harness.prompt_template import PromptTemplate
from harness.registry import did_you_mean
from harness.score.neural import MetricSettings  # the neural metrics' settings (`metric_settings`)
from harness.tasks import TASKS, TaskDef, with_kind_defaults
from harness.yaml_source import ConfigSource, apply_override, first_error, read_yaml

__all__ = ["ConfigError", "ConfigSource", "GenerationConfig", "ModelConfig", "RunConfig", "TaskConfig",
           "load_config", "parse_config", "select"]

MODEL_COMMON_KEYS = ("name", "backend", "tasks")


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
    return ValidationError.from_exception_data("config", [InitErrorDetails(type=error, loc=(key,), input=value)])


def _name(value: str, what: str) -> str:
    """The one name rule (harness.names): it rejects "", ".", "..", separators and hidden names."""
    problem = name_problem(value)
    if problem is not None:
        raise PydanticCustomError("bad_name", "{what} {value}: {problem}",
                                  {"what": what, "value": excerpt(value), "problem": problem})
    return value


def _known_metric(name: str) -> str:
    if name not in METRICS:
        raise _unknown("metric", name, METRICS)
    return name


def _known_rule(name: str) -> str:
    if name not in RULES:
        raise _unknown("post-processing rule", name, RULES)
    return name


class TaskConfig(StrictModel):
    yaml_models: ClassVar[dict] = {"define": TaskDef}  # `define` is validated into a TaskDef by hand
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
        return TaskDef.model_validate({**value, "name": info.data["task"]})

    @model_validator(mode="after")
    def _builtin_or_defined(self):
        if self.define is None and self.task not in TASKS:
            raise _at("task", self.task, _unknown("task", self.task, TASKS))
        if self.define is not None and self.task in TASKS:
            raise _at("task", self.task, PydanticCustomError(
                "builtin_task", "'{name}' is a built-in task; give your own task another name", {"name": self.task}))
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
        raise first_error(e, source, PromptTemplate) from None


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


def _validate_model_entry(raw: Any, i: int, source: ConfigSource) -> ModelConfig | Any:
    """Dispatch one model entry on its `backend` and validate its settings with that backend's model."""
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
        raise first_error(e, source, settings_cls, loc, known_extra=MODEL_COMMON_KEYS) from None
    try:
        return ModelConfig.model_validate({**common, "settings": settings})
    except ValidationError as e:
        raise first_error(e, source, ModelConfig, loc, known_extra=settings_cls.model_fields) from None


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
        raise first_error(e, source, RunConfig) from None
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
