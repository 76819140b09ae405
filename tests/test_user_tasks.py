"""Tasks a config defines itself (`define:`), end to end: run, rescore, leaderboard, compare and
the gate on configs/custom-task.yaml, every dataset shape, and one clear exit-2 line (file and
key) for every kind of bad dataset."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "custom"


@pytest.fixture(autouse=True)
def _cache(monkeypatch, tmp_path):
    monkeypatch.setenv("HARNESS_CACHE", str(tmp_path / "cache"))


def test_the_example_writer_reproduces_the_committed_files(tmp_path):
    from harness.commands.data import write_example as write

    written = write(ROOT / "data", tmp_path)
    assert sorted(p.name for p in written) == sorted(p.name for p in EXAMPLE.iterdir())
    for path in written:
        assert path.read_bytes() == (EXAMPLE / path.name).read_bytes(), path.name
    rows = list(csv.DictReader((EXAMPLE / "news_zh_en.csv").open(encoding="utf-8", newline="")))
    lines = [json.loads(x) for x in (EXAMPLE / "news_zh_en.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rows) == len(lines) == 30
    assert [(r["id"], r["zh"], [r["en"]]) for r in rows] == [(x["id"], x["zh"], x["references"]) for x in lines]


# --- the shipped config, end to end --------------------------------------------------------------


@pytest.fixture(scope="module")
def custom_run(tmp_path_factory):
    """configs/custom-task.yaml run from the project root into a temporary results folder."""
    import os

    from harness.cli import main

    out = tmp_path_factory.mktemp("custom")
    old, env = os.getcwd(), os.environ.get("HARNESS_CACHE")
    os.environ["HARNESS_CACHE"] = str(out / "cache")
    os.chdir(ROOT)
    try:
        main(["run", "configs/custom-task.yaml", "--results", str(out / "results"), "--quiet"])
    except SystemExit as e:
        assert e.code in (0, None)
    finally:
        os.chdir(old)
        if env is None:
            os.environ.pop("HARNESS_CACHE")
        else:
            os.environ["HARNESS_CACHE"] = env
    return out / "results" / "custom-task"


def test_the_run_records_definitions_and_dataset_hashes(custom_run):
    from harness.io import sha256_file

    manifest = json.loads((custom_run / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["dataset"] is None  # no built-in task: the built dataset was never needed
    jsonl, csv_task = manifest["tasks"]["news_zh_en"], manifest["tasks"]["news_en_zh"]
    assert jsonl["dataset"]["sha256"] == sha256_file(EXAMPLE / "news_zh_en.jsonl")
    assert csv_task["dataset"]["sha256"] == sha256_file(EXAMPLE / "news_zh_en.csv")
    assert jsonl["definition"]["references"] == ["references"] and csv_task["definition"]["references"] == ["zh"]
    assert jsonl["definition"]["main_metric"] == "chrf++" and jsonl["definition"]["prompt"] == "translate_zh_en"
    assert csv_task["definition"]["prompt"] == "translate_en_zh" and csv_task["definition"]["doc"] is None
    assert (jsonl["n_items"], csv_task["n_items"], jsonl["n_references"]) == (30, 30, 1)
    scores = json.loads((custom_run / "scores.json").read_text(encoding="utf-8"))
    signatures = {(s["task"], s["metric"]): s["signature"] for s in scores["scores"]}
    assert "tok:13a" in signatures[("news_zh_en", "bleu")]  # English target
    assert "tok:zh" in signatures[("news_en_zh", "bleu")] and "prenorm:t2s+nfkc" in signatures[("news_en_zh", "bleu")]
    copy = [json.loads(x) for x in (custom_run / "predictions" / "copy" / "news_zh_en.jsonl").read_text().splitlines()]
    source = {json.loads(x)["id"]: json.loads(x)["zh"] for x in (EXAMPLE / "news_zh_en.jsonl").read_text().splitlines()}
    assert [r["output"] for r in copy] == [source[r["id"]] for r in copy]


def test_a_second_run_of_user_tasks_comes_from_the_cache(custom_run, tmp_path, run_cli, monkeypatch):
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("HARNESS_CACHE", str(custom_run.parents[1] / "cache"))  # the cache the first run filled
    code, out, err = run_cli("run", "configs/custom-task.yaml", "--results", str(tmp_path), "--quiet")
    assert (code, err) == (0, "")
    manifest = json.loads((tmp_path / "custom-task" / "manifest.json").read_text(encoding="utf-8"))
    assert (manifest["cache"]["hits"], manifest["cache"]["misses"]) == (120, 0)
    for name in ("copy", "lead-20c"):
        for task in ("news_zh_en", "news_en_zh"):
            rows = [json.loads(x) for x in (tmp_path / "custom-task" / "predictions" / name / f"{task}.jsonl").open()]
            first = [json.loads(x) for x in (custom_run / "predictions" / name / f"{task}.jsonl").open()]
            assert [r["output"] for r in rows] == [r["output"] for r in first]


def test_render_shows_a_user_task_prompt(run_cli, monkeypatch):
    monkeypatch.chdir(ROOT)
    code, out, err = run_cli("render", "configs/custom-task.yaml", "--task", "news_en_zh", "-n", "1")
    assert code == 0
    assert "copy · news_en_zh · 000-p01-s01" in out and "请把下面的英文翻译成中文" in out


def test_rescore_rebuilds_the_items_without_the_config(custom_run, tmp_path, run_cli, monkeypatch):
    folder = shutil.copytree(custom_run, tmp_path / "copy")
    monkeypatch.chdir(tmp_path)  # relative dataset paths no longer resolve: the recorded absolute path does
    code, out, err = run_cli("rescore", str(folder))
    assert (code, err) == (0, "")

    def scores(path):
        return json.loads((path / "scores.json").read_text(encoding="utf-8"))["scores"]

    assert scores(folder) == scores(custom_run)
    assert (folder / "results.md").read_text(encoding="utf-8").split("\n", 3)[3] == \
        (custom_run / "results.md").read_text(encoding="utf-8").split("\n", 3)[3]


def test_rescore_refuses_a_changed_dataset(custom_run, tmp_path, run_cli):
    folder = shutil.copytree(custom_run, tmp_path / "copy")
    data = tmp_path / "news.jsonl"
    shutil.copy(EXAMPLE / "news_zh_en.jsonl", data)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    manifest["tasks"]["news_zh_en"]["dataset"].update(path=str(data), local_path=str(data))
    (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    assert run_cli("rescore", str(folder))[0] == 0
    data.write_text(data.read_text(encoding="utf-8").replace("Too busy", "So busy"), encoding="utf-8")
    code, out, err = run_cli("rescore", str(folder))
    assert code == 2 and err.count("\n") == 1
    assert f"{folder}/manifest.json: tasks.news_zh_en.dataset: the run read " in err and f"{data} has sha256" in err


def test_leaderboard_of_user_tasks(custom_run, tmp_path, run_cli):
    code, out, err = run_cli("leaderboard", str(custom_run), "--out", str(tmp_path / "site"))
    assert (code, err) == (0, "")
    board = json.loads((tmp_path / "site" / "leaderboard.json").read_text(encoding="utf-8"))
    tables = {t["task"]: t for t in board["tables"]}
    assert set(tables) == {"news_zh_en", "news_en_zh"}
    assert tables["news_zh_en"]["main_metric"] == "chrf++"  # the definition's main metric
    assert [r["model"] for r in tables["news_zh_en"]["rows"]] == ["copy", "lead-20c"]
    from harness.io import sha256_file

    assert tables["news_en_zh"]["dataset_manifest_sha256"] == sha256_file(EXAMPLE / "news_zh_en.csv")
    assert "news_zh_en" in (tmp_path / "site" / "index.html").read_text(encoding="utf-8")


def test_compare_and_the_gate_on_user_tasks(custom_run, tmp_path, run_cli):
    code, out, err = run_cli("compare", str(custom_run), str(custom_run), "--gate")
    assert (code, err) == (0, "") and out.startswith("**✅ No significant drop")
    worse = shutil.copytree(custom_run, tmp_path / "worse")
    path = worse / "predictions" / "copy" / "news_en_zh.jsonl"
    rows = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]
    path.write_text("".join(json.dumps({**r, "output": "x"}, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    assert run_cli("rescore", str(worse))[0] == 0
    code, out, err = run_cli("compare", str(custom_run), str(worse), "--gate")
    assert code == 1 and "❌ Regression: copy on news\\_en\\_zh" in out


def test_compare_refuses_a_user_task_on_other_data(custom_run, tmp_path, run_cli):
    other = shutil.copytree(custom_run, tmp_path / "other")
    for name in ("manifest.json",):
        text = (other / name).read_text(encoding="utf-8")
        manifest = json.loads(text)
        manifest["tasks"]["news_zh_en"]["dataset"]["sha256"] = "f" * 64
        (other / name).write_text(json.dumps(manifest), encoding="utf-8")
    code, out, err = run_cli("compare", str(custom_run), str(other), "--gate")
    assert code == 2 and "news_zh_en was made on dataset version ffffffffffff" in err


# --- dataset shapes ------------------------------------------------------------------------------

PAIRS = [
    {"id": "a1", "doc": "a", "zh": "今天天气很好。", "en": "The weather is fine today.", "en2": "It is a fine day."},
    {"id": "a2", "doc": "a", "zh": "我们去公园。", "en": "We go to the park.", "en2": "We are going to the park."},
    {"id": "b1", "doc": "b", "zh": "他读书。", "en": "He reads.", "en2": "He is reading a book."},
]


def _write(path: Path, rows: list[dict]) -> Path:
    if path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    elif path.suffix == ".csv":
        with path.open("w", encoding="utf-8", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    elif path.suffix == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def _config(tmp_path: Path, define: dict, models=None, **task) -> Path:
    data = {
        "run": "user",
        "tasks": [{"task": "mine", "define": {"id": "id", "source": "zh", "references": ["en", "en2"],
                                              "source_lang": "zh", "target_lang": "en", "kind": "translation",
                                              **define}, **task}],
        "models": models or [{"name": "copy", "backend": "baseline", "kind": "copy"}],
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_every_file_shape_gives_the_same_items(tmp_path, suffix):
    from harness.tasks import TaskDef, load_items

    path = _write(tmp_path / f"pairs{suffix}", PAIRS)
    task = TaskDef(name="mine", dataset=str(path), id="id", doc="doc", source="zh", references=["en", "en2"],
                   source_lang="zh", target_lang="en", kind="translation")
    items = load_items(task)
    assert [(i.id, i.doc_id, i.source, i.references) for i in items] == [
        (p["id"], p["doc"], p["zh"], (p["en"], p["en2"])) for p in PAIRS]


def test_datasets_folders_saved_and_data_files(tmp_path):
    import datasets

    from harness.dataset_files import dataset_sha256
    from harness.tasks import TaskDef, load_items

    saved = tmp_path / "saved"
    datasets.DatasetDict({"test": datasets.Dataset.from_list(PAIRS)}).save_to_disk(str(saved))
    files = tmp_path / "files"
    files.mkdir()
    _write(files / "test.jsonl", PAIRS)
    base = dict(name="mine", id="id", source="zh", references=["en"], source_lang="zh", target_lang="en",
                kind="translation")
    for folder, split in ((saved, None), (files, "test")):  # a data file named test.jsonl is split "test"
        items = load_items(TaskDef(**base, dataset=str(folder), split=split))
        assert [i.id for i in items] == ["a1", "a2", "b1"] and items[0].references == (PAIRS[0]["en"],)
        assert items[0].doc_id == "a1"  # no doc column: every item is its own document
    before = dataset_sha256(str(files))
    (files / ".hidden").write_text("x")
    assert dataset_sha256(str(files)) == before
    (files / "test.jsonl").write_text((files / "test.jsonl").read_text() + "\n")
    assert dataset_sha256(str(files)) != before


def test_a_list_column_and_u2028_inside_a_json_string(tmp_path):
    from harness.tasks import TaskDef, load_items

    rows = [{"id": "1", "zh": "第一行\u2028仍是第一行。", "refs": ["One line\u2028still.", "B"]},
            {"id": "2", "zh": "第二行。", "refs": ["Two.", "B2"]}]
    path = _write(tmp_path / "pairs.jsonl", rows)
    task = TaskDef(name="t", dataset=str(path), id="id", source="zh", references="refs", source_lang="zh",
                   target_lang="en", kind="translation")
    items = load_items(task)
    assert items[0].source == "第一行\u2028仍是第一行。" and items[0].references == ("One line\u2028still.", "B")


def test_shots_and_baselines_on_a_dataset_without_documents(tmp_path, run_cli, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _write(tmp_path / "pairs.csv", [{k: v for k, v in p.items() if k != "doc"} for p in PAIRS])
    models = [{"name": "lead", "backend": "baseline", "kind": "lead", "n": 1},
              {"name": "agreement", "backend": "baseline", "kind": "reference"}]
    config = _config(tmp_path, {"dataset": "pairs.csv"}, models, shots=2)
    code, out, err = run_cli("run", str(config), "--results", "results", "--quiet")
    assert (code, err) == (0, "")
    from harness.config import load_config
    from harness.pipeline.plan import plan_run

    plan = plan_run(load_config(config))
    shots = plan.tasks["mine"].shots
    by_source = {p["zh"]: p["id"] for p in PAIRS}
    assert all(item not in {by_source[s] for s, _ in shots[item]} for item in shots)  # never the item itself
    assert {len(v) for v in shots.values()} == {2}
    scores = json.loads((tmp_path / "results" / "user" / "scores.json").read_text())["scores"]
    agreement = next(s for s in scores if s["model"] == "agreement" and s["metric"] == "chrf++")
    assert agreement["signature"].startswith("chrf++|nrefs:1|")  # reference B against A alone


def test_the_agreement_row_is_skipped_for_one_reference(tmp_path, run_cli, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _write(tmp_path / "pairs.jsonl", PAIRS)
    models = [{"name": "copy", "backend": "baseline", "kind": "copy"},
              {"name": "agreement", "backend": "baseline", "kind": "reference"}]
    config = _config(tmp_path, {"dataset": "pairs.jsonl", "references": ["en"]}, models)
    code, out, err = run_cli("run", str(config), "--results", "results", "--quiet")
    assert code == 2 and "model 'agreement' has no task it can run" in err


# --- bad datasets: one line, exit 2, the config key and the dataset file ------------------------

BAD = [
    ("missing source column", PAIRS, {"source": "chinese"}, "tasks.0.define.source",
     "pairs.jsonl: no column 'chinese' (key source; columns: id, doc, zh, en, en2)"),
    ("missing reference column", PAIRS, {"references": ["en", "en3"]}, "tasks.0.define.references",
     "pairs.jsonl: no reference column 'en3'"),
    ("empty source", [PAIRS[0], {**PAIRS[1], "zh": "  "}], {}, "tasks.0.define.source",
     "pairs.jsonl:2: empty source in column 'zh' (item a2)"),
    ("duplicate id", [PAIRS[0], PAIRS[1], {**PAIRS[2], "id": "a1"}], {}, "tasks.0.define.id",
     "pairs.jsonl:3: id 'a1' appears twice (first at "),
    ("reference count changes", [PAIRS[0], {**PAIRS[1], "en2": ""}], {}, "tasks.0.define.references",
     "pairs.jsonl:2: item a2 has 1 reference(s) but a1 has 2; every item needs the same number"),
    ("no reference at all", [{**PAIRS[0], "en": None, "en2": None}], {}, "tasks.0.define.references",
     "pairs.jsonl:1: item a1 has no reference in en, en2"),
    ("a number as a reference", [{**PAIRS[0], "en2": 3}], {}, "tasks.0.define.references",
     "pairs.jsonl:1: a reference of item a1 is a int, expected text"),
    ("empty file", [], {}, "tasks.0.define.dataset", "pairs.jsonl: no items"),
]


@pytest.mark.parametrize("case, rows, define, key, message", BAD, ids=[b[0] for b in BAD])
def test_bad_datasets_exit_2_naming_file_and_key(tmp_path, run_cli, monkeypatch, case, rows, define, key, message):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "pairs.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    config = _config(tmp_path, {"dataset": "pairs.jsonl", **define})
    code, out, err = run_cli("run", str(config), "--results", "results", "--quiet")
    assert code == 2 and out == "" and err.count("\n") == 1, err
    assert err.startswith(f"error: {config}:") and f": {key}: " in err and message in err, err
    assert not (tmp_path / "results").exists()


@pytest.mark.parametrize("name, content, message", [
    ("pairs.jsonl", b'{"id": "a", "zh": "x", "en": "y"}\n{"id": "b", \n', "pairs.jsonl:2: not valid JSON"),
    ("pairs.jsonl", b'["a", "b"]\n', "pairs.jsonl:1: expected a JSON object, got list"),
    ("pairs.jsonl", '{"id": "a"}\n'.encode("utf-16"), "pairs.jsonl: not UTF-8"),
    ("pairs.csv", b'id,zh,en,en2\na,"x,y\n', "pairs.csv:2: not valid CSV"),
    ("pairs.csv", b'id,zh,en\na,x,y,z\n', "pairs.csv:2: more cells than header columns"),
    ("pairs.parquet", b"not parquet", "pairs.parquet: cannot read as Parquet"),
    ("pairs.txt", b"a\tb\n", "pairs.txt: unsupported dataset file type '.txt'"),
    ("missing.jsonl", None, "missing.jsonl: dataset not found"),
])
def test_unreadable_files_exit_2(tmp_path, run_cli, monkeypatch, name, content, message):
    monkeypatch.chdir(tmp_path)
    if content is not None:
        (tmp_path / name).write_bytes(content)
    config = _config(tmp_path, {"dataset": name})
    code, out, err = run_cli("run", str(config), "--results", "results", "--quiet")
    assert code == 2 and err.count("\n") == 1 and ": tasks.0.define.dataset: " in err and message in err, err


def test_a_hub_id_offline_is_a_clear_error(tmp_path, run_cli, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.chdir(tmp_path)
    config = _config(tmp_path, {"dataset": "someone/their-test-set"})
    code, out, err = run_cli("run", str(config), "--results", "results", "--quiet")
    assert code == 2 and "someone/their-test-set: not a local file or folder, and it could not be fetched" in err


@pytest.mark.parametrize("define, task, key, message", [
    ({"source_lang": "fr"}, {}, "tasks.0.define.source_lang", "unknown language 'fr' (known: en, zh)"),
    ({"target_lang": "eng"}, {}, "tasks.0.define.target_lang", "unknown language 'eng' (did you mean 'en'?)"),
    ({"kind": "qa"}, {}, "tasks.0.define.kind", "Input should be 'translation' or 'summarization'"),
    ({"name": "x"}, {}, "tasks.0.define", "leave `name` out"),
    ({"colums": "x"}, {}, "tasks.0.define.colums", "unknown key"),
    ({"metrics": ["bleu", "chrf"], "main_metric": "chrf++"}, {}, "tasks.0.define", "main_metric 'chrf++' is not among metrics"),
    ({"prompt": "translate_zh_fr"}, {}, "tasks.0.define.prompt", "unknown built-in prompt 'translate_zh_fr'"),
    ({"kind": "summarization", "source_lang": "en"}, {}, "tasks.0.prompt", "no built-in prompt for summarization en → en"),
    ({}, {"task": "summarize_zh"}, "tasks.0.task", "'summarize_zh' is a built-in task; give your own task another name"),
    ({}, {"task": "my task"}, "tasks.0.define.name", "task name 'my task': 1-128 letters, digits"),
])
def test_bad_definitions_exit_2(tmp_path, run_cli, define, task, key, message):
    _write(tmp_path / "pairs.jsonl", PAIRS)
    config = _config(tmp_path, {"dataset": str(tmp_path / "pairs.jsonl"), **define})
    if task:
        data = yaml.safe_load(config.read_text(encoding="utf-8"))
        data["tasks"][0].update(task)
        config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    code, out, err = run_cli("config", "validate", str(config))
    assert code == 2 and err.count("\n") == 1 and f": {key}: " in err and message in err, err


def test_a_summary_task_with_its_own_prompt_needs_no_built_in_one(tmp_path, run_cli, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rows = [{"id": str(i), "text": f"The first sentence {i}. The second one.", "summary": f"Sentence {i}."}
            for i in range(3)]
    _write(tmp_path / "docs.jsonl", rows)
    prompt = {"version": "1", "instruction": "Summarise.", "input": "Article: {source}", "output": "Summary: {target}"}
    data = {"run": "sum", "tasks": [{"task": "en_sum", "prompt": prompt, "define": {
        "dataset": "docs.jsonl", "id": "id", "source": "text", "references": "summary", "source_lang": "en",
        "target_lang": "en", "kind": "summarization"}}],
        "models": [{"name": "lead-1", "backend": "baseline", "kind": "lead", "n": 1}]}
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    code, out, err = run_cli("run", "c.yaml", "--results", "results", "--quiet")
    assert (code, err) == (0, "")
    scores = json.loads((tmp_path / "results" / "sum" / "scores.json").read_text())["scores"]
    assert [s["metric"] for s in scores] == ["rouge1", "rouge2", "rougeL", "rougeLsum"]
    # "The first sentence 0." against "Sentence 0.": 2 of 4 hypothesis tokens, 2 of 2 reference tokens
    assert next(s for s in scores if s["metric"] == "rouge1")["value"] == pytest.approx(100 * 2 / 3, abs=0.01)


def test_the_recorded_config_parses_again(custom_run, monkeypatch):
    """manifest.json's resolved config is a valid config (definitions included) and says the same."""
    from harness.config import parse_config

    monkeypatch.chdir(ROOT)
    recorded = json.loads((custom_run / "manifest.json").read_text(encoding="utf-8"))["config"]
    assert recorded["tasks"][0]["define"]["dataset"] == "examples/custom/news_zh_en.jsonl"
    assert parse_config(recorded).to_dict() == recorded
