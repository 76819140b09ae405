"""Run configs: the bad-config corpus (each malformed file with its exact one-line message),
`--set` overrides, selection options and the resolved config."""

from pathlib import Path

import pytest

from harness.config import ConfigError, load_config, parse_config, select
from harness.generate.registry import BACKENDS

BAD = Path("tests/data/bad_configs")

# file → (line, message). Every message names the file, the line and the key path; unknown names
# come with a suggestion. `harness config validate` must print exactly "error: FILE:LINE: MESSAGE".
BAD_CONFIGS = {
    "unknown_top_key": (3, "sed: unknown key (did you mean 'seed'?)"),
    "unknown_task": (4, "tasks.1.task: unknown task 'sumarize_en' (did you mean 'summarize_en'?)"),
    "unknown_metric": (4, "tasks.0.metrics.1: unknown metric 'rougel' (did you mean 'rougeL'?)"),
    "metric_for_wrong_key": (4, "tasks.0.metric: unknown key (did you mean 'metrics'?)"),
    "unknown_backend": (6, "models.0.backend: unknown backend 'hff' (did you mean 'hf'?)"),
    "missing_backend": (5, f"models.0.backend: missing required key (one of: {', '.join(sorted(BACKENDS))})"),
    "unknown_model_key": (7, "models.0.kinds: unknown key (did you mean 'kind'?) (and 1 more problem)"),
    "unknown_kind": (7, "models.0.kind: unknown baseline kind 'leed' (did you mean 'lead'?)"),
    "lead_setting_on_copy": (5, "models.0: n and unit apply only to kind: lead"),
    "hf_typo": (8, "models.0.revison: unknown key (did you mean 'revision'?)"),
    "hf_missing_path": (6, "models.0: model: local path './no/such/model' does not exist"),
    "bad_run_name": (1, "run: run name 'my run': 1-128 letters, digits, '.', '_' or '-', starting with a letter or "
                        "digit (it names a folder or file)"),
    "bad_model_name": (5, "models.0.name: model name 'lead/3': 1-128 letters, digits, '.', '_' or '-', starting with "
                          "a letter or digit (it names a folder or file)"),
    "limit_zero": (4, "tasks.0.limit: Input should be greater than or equal to 1"),
    "limit_string": (4, "tasks.0.limit: Input should be a valid integer (got 'five')"),
    "missing_models": (1, "models: missing required key"),
    "empty_tasks": (2, "tasks: List should have at least 1 item after validation, not 0"),
    "duplicate_key": (4, "run: duplicate key (first on line 1)"),
    "yaml_syntax": (4, "invalid YAML: expected <block end>, but found '<block mapping start>'"),
    "not_a_mapping": (1, "a config is a mapping of keys (run, dataset, tasks, models, ...), got a list"),
    "duplicate_model": (6, "models.1.name: model name 'lead-3' is used twice (also models.0)"),
    "duplicate_task": (5, "tasks.2.task: task 'summarize_zh' is listed twice (also tasks.0)"),
    "sampling_without_temperature": (6, "generation: do_sample: true needs a temperature above 0"),
    "temperature_negative": (6, "generation.temperature: Input should be greater than or equal to 0"),
    "generation_typo": (8, "generation.temprature: unknown key (did you mean 'temperature'?)"),
    "unknown_postprocess_rule": (6, "postprocess.1: unknown post-processing rule 'strip_lable' "
                                    "(did you mean 'strip_label'?)"),
    "model_task_not_in_config": (9, "models.0.tasks.1: task 'summarise_en' is not among the config's tasks "
                                    "(did you mean 'summarize_en'?)"),
    "agreement_on_translation": (9, "models.0.tasks.1: the reference-agreement row (reference B against A) needs two "
                                  "references; translate_zh_en has one"),
    "prompt_without_source": (7, "tasks.0.prompt.input: must contain {source} exactly once"),
    "prompt_file_missing": (4, "tasks.0.prompt: prompt file 'prompts/no_such_prompt.yaml' not found (leave `prompt` "
                               "out for the task's built-in prompt, harness/prompts/translate_zh_en.yaml)"),
    "missing_dataset": (2, "dataset: dataset folder 'no/such/folder' not found (build it with `harness data build`)"),
    "file_missing_ids": (6, "models.0: tests/data/bad_configs/partial_outputs.jsonl: no output for 2 item(s) of "
                            "translate_zh_en: 000-p01-s02, 000-p02-s01"),
    "file_not_found": (5, "models.0: tests/data/bad_configs/no_such_outputs.jsonl: outputs file not found"),
    "too_many_shots": (4, "tasks.0.shots: 5 shots need 5 items from other documents; only 4 exist"),
    "unknown_item_id": (4, "tasks.0.ids: unknown item id(s) 999 in summarize_zh"),
}


@pytest.fixture(autouse=True)
def _project_root(root, monkeypatch, tmp_path):
    monkeypatch.chdir(root)  # config paths are relative to the current directory
    monkeypatch.setenv("HARNESS_CACHE", str(tmp_path / "cache"))


def test_the_corpus_is_complete():
    files = {p.stem for p in BAD.glob("*.yaml")}
    assert files == set(BAD_CONFIGS) | {"prompt_file_bad"}  # its message names the prompt file (below)
    assert len(BAD_CONFIGS) >= 20


@pytest.mark.parametrize("name", sorted(BAD_CONFIGS))
def test_bad_config_gives_one_line_and_exit_2(run_cli, name, tmp_path):
    line, message = BAD_CONFIGS[name]
    path = BAD / f"{name}.yaml"
    code, out, err = run_cli("config", "validate", str(path))
    assert (code, out) == (2, "")
    assert err == f"error: {path}:{line}: {message}\n"


@pytest.mark.parametrize("name", ["unknown_task", "hf_missing_path", "file_missing_ids", "missing_dataset"])
def test_bad_config_stops_run_before_anything_is_written(run_cli, name, tmp_path):
    results = tmp_path / "results"
    code, out, err = run_cli("run", str(BAD / f"{name}.yaml"), "--results", str(results), "--quiet")
    assert code == 2 and err.count("\n") == 1 and err.startswith(f"error: {BAD / name}.yaml:")
    assert not results.exists()
    assert not (tmp_path / "cache").exists()  # not even the cache was opened


def test_errors_inside_a_prompt_file_name_that_file():
    with pytest.raises(ConfigError) as e:
        load_config(BAD / "prompt_file_bad.yaml")
    assert str(e.value) == (f"{BAD}/prompt_bad.yaml.txt:4: inputs: unknown key (did you mean 'input'?) "
                            "(and 1 more problem)")


@pytest.mark.parametrize(
    "override, message",
    [
        ("tasks.0.limt=3", "--set tasks.0.limt=3: tasks.0.limt: unknown key (did you mean 'limit'?)"),
        ("models.0.n=two", "--set models.0.n=two: models.0.n: Input should be a valid integer (got 'two')"),
        ("models.0.backend=hff", "--set models.0.backend=hff: models.0.backend: unknown backend 'hff' "
                                 "(did you mean 'hf'?)"),
        ("tasks.9.limit=2", "--set tasks.9.limit=2: tasks is a list of 5; '9' is not an index in it"),
        ("tasks.0.limit", "--set tasks.0.limit: expected KEY.PATH=VALUE, e.g. tasks.0.limit=5"),
        ("run.x=1", "--set run.x=1: run is a single value, it has no key 'x'"),
        ("tasks.0.metrics=[bleu, chrf+]", "--set tasks.0.metrics=[bleu, chrf+]: tasks.0.metrics.1: unknown metric "
                                          "'chrf+' (did you mean 'chrf++'?)"),
    ],
)
def test_overrides_are_validated_like_the_file(override, message):
    with pytest.raises(ConfigError) as e:
        load_config(Path("configs/smoke.yaml"), [override])
    assert str(e.value) == message


def test_overrides_apply_with_yaml_values():
    config = load_config(Path("configs/smoke.yaml"),
                         ["tasks.0.limit=2", "models.0.n=2", "tasks.2.metrics=[chrf]", 'generation.stop=["\\n\\n"]'])
    assert config.tasks[0].limit == 2
    assert config.models[0].settings.n == 2
    assert config.tasks[2].metrics == ["chrf"]
    assert config.generation.stop == ["\n\n"]


def test_defaults_are_resolved_and_trust_remote_code_is_off():
    from harness.tasks import TASKS

    config = parse_config({
        "run": "r",
        "tasks": [{"task": "summarize_zh"}, {"task": "translate_zh_en"}],
        "models": [{"name": "m", "backend": "hf", "model": "Qwen/Qwen2.5-0.5B-Instruct"}],
    })
    assert config.dataset == "data" and config.seed == 0
    assert config.tasks[0].metrics == ["rouge1", "rouge2", "rougeL", "rougeLsum"]
    assert config.tasks[1].metrics == ["bleu", "chrf++"]
    assert config.tasks[0].max_new_tokens == TASKS["summarize_zh"].max_new_tokens
    assert config.tasks[0].prompt.version == "1" and "{source}" in config.tasks[0].prompt.input
    assert config.models[0].settings.trust_remote_code is False
    assert config.generation.do_sample is False and config.generation.temperature == 0.0
    resolved = config.to_dict()
    assert resolved["models"][0]["trust_remote_code"] is False
    assert resolved["tasks"][0]["prompt"]["output"] == "摘要：{target}"
    assert parse_config(resolved).to_dict() == resolved  # the manifest's config is itself a valid config


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"models": ["lead-4"]}, "--models: no model 'lead-4' in configs/smoke.yaml (did you mean 'lead-3'?)"),
        ({"tasks": ["translate_zh"]}, "--tasks: no task 'translate_zh' in configs/smoke.yaml "
                                      "(did you mean 'translate_zh_en'?)"),
        ({"limit": 0}, "--limit: must be between 1 and 1000000 (got 0)"),
        ({"models": ["lead-3"], "tasks": ["translate_en_zh"]},
         "--models/--tasks: the selection leaves no model with a task to run"),
    ],
)
def test_selection_errors(kwargs, message):
    with pytest.raises(ConfigError) as e:
        select(load_config(Path("configs/smoke.yaml")), **kwargs)
    assert str(e.value) == message


def test_selection_keeps_what_was_asked():
    config = select(load_config(Path("configs/smoke.yaml")), models=["copy", "reference-B"],
                    tasks=["summarize_zh", "translate_en_zh"], limit=2)
    assert [t.task for t in config.tasks] == ["summarize_zh", "translate_en_zh"]
    assert all(t.limit == 2 for t in config.tasks)
    assert [m.name for m in config.models] == ["copy", "reference-B"]
    assert config.models[0].tasks == ["translate_en_zh"]
    assert config.tasks_of(config.models[1]) == ["summarize_zh", "translate_en_zh"]


def test_validate_ok(run_cli):
    code, out, err = run_cli("config", "validate", "configs/smoke.yaml")
    assert code == 0
    assert out == "configs/smoke.yaml: OK — run 'smoke', 5 task(s) with 60 items, 4 model(s), 7 model × task pairs\n"
    assert "reference-B: not run on translate_zh_en, translate_zh_en_doc, translate_en_zh" in err
