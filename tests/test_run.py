"""`harness run` end to end (baselines, the file backend, a fake model), the results folder
contract, truncation, post-processing, missing references, `render` and `rescore`."""

import json
import shutil
from pathlib import Path

import pytest

from harness.config import load_config, parse_config
from harness.pipeline.rescore import rescore
from harness.pipeline.run import evaluate
from harness.postprocess import clean
from helpers.fake_backend import Echo, EchoSettings, register
from helpers.report_runs import tiny_provenance
from helpers.results import lines, without_timing

MANIFEST_KEYS = {"run", "harness_version", "git_commit", "config", "dataset", "versions", "hardware", "started",
                 "finished", "models", "tasks", "throughput", "cache", "postprocess_rules", "reference_provenance"}
PREDICTION_KEYS = ["id", "prompt_sha256", "raw", "output", "input_tokens", "output_tokens", "truncated",
                   "stop_reason", "latency_s", "scores"]


@pytest.fixture(autouse=True)
def _setup(root, monkeypatch, tmp_path):
    monkeypatch.chdir(root)
    monkeypatch.setenv("HARNESS_CACHE", str(tmp_path / "cache"))
    register(monkeypatch)


@pytest.fixture(scope="module")
def smoke(tmp_path_factory, root):
    """One run of configs/smoke.yaml through the CLI, shared by the tests that only read it."""
    import os
    import subprocess
    import sys

    tmp = tmp_path_factory.mktemp("smoke")
    env = {**os.environ, "HARNESS_CACHE": str(tmp / "cache")}
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "run", "configs/smoke.yaml", "--results",
                           str(tmp / "results"), "--quiet"], cwd=root, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return tmp / "results" / "smoke", proc


def test_smoke_run_writes_the_documented_folder(smoke, root):
    folder, proc = smoke
    assert sorted(p.name for p in folder.iterdir()) == ["manifest.json", "predictions", "results.csv", "results.md",
                                                         "scores.json"]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert MANIFEST_KEYS <= set(manifest)
    assert manifest["dataset"]["manifest_sha256"] == __import__("hashlib").sha256(
        (root / "data" / "MANIFEST.json").read_bytes()).hexdigest()
    assert {m: v["role"] for m, v in manifest["models"].items()} == {
        "lead-3": "baseline", "lead-120c": "baseline", "copy": "baseline", "reference-B": "agreement"}
    assert manifest["models"]["lead-3"]["identity"] == {"engine": "baseline", "kind": "lead", "n": 3, "unit": "sentences"}
    assert {t: v["n_items"] for t, v in manifest["tasks"].items()} == {
        "summarize_zh": 5, "summarize_en": 5, "translate_zh_en": 20, "translate_zh_en_doc": 10, "translate_en_zh": 20}
    assert [r["name"] for r in manifest["postprocess_rules"]] == ["strip_reasoning", "strip_label", "trim"]
    assert manifest["versions"]["python"] and "torch" in manifest["versions"]
    assert manifest["cache"]["misses"] + manifest["cache"]["hits"] == 5 + 5 + 50 + 10
    assert set(manifest["models"]["reference-B"]["skipped"]) == {"translate_zh_en", "translate_zh_en_doc",
                                                                 "translate_en_zh"}

    copy_en_zh = lines(folder / "predictions" / "copy" / "translate_en_zh.jsonl")
    assert [list(row) for row in copy_en_zh] == [PREDICTION_KEYS] * 20
    assert [r["id"] for r in copy_en_zh[:5]] == ["000-p01-s01", "000-p01-s02", "000-p02-s01", "000-p02-s02",
                                                 "001-p01-s01"]  # dataset order, first 4 per document
    assert copy_en_zh[0]["output"] == '"Too busy."' and copy_en_zh[0]["stop_reason"] == "none"
    assert set(copy_en_zh[0]["scores"]) == {"bleu", "chrf++"}

    scores = json.loads((folder / "scores.json").read_text())
    assert list(scores) == ["schema_version", "run", "dataset_manifest_sha256", "harness_version", "created", "scores",
                            "summary"]
    assert scores["schema_version"] == manifest["schema_version"] == 1
    assert oct(folder.stat().st_mode & 0o777) == "0o755"  # folders 0755 like their 0644 files (not mkdtemp's 0700)
    assert oct((folder / "predictions" / "copy").stat().st_mode & 0o777) == "0o755"
    assert oct((folder / "scores.json").stat().st_mode & 0o777) == "0o644"
    row = next(s for s in scores["scores"] if (s["model"], s["task"], s["metric"]) == ("reference-B", "summarize_zh", "rougeL"))
    assert row["n"] == 5 and row["ci_low"] <= row["value"] <= row["ci_high"] and "refs:1" in row["signature"]
    lead = next(s for s in scores["scores"] if (s["model"], s["task"], s["metric"]) == ("lead-3", "summarize_zh", "rouge1"))
    assert "refs:2" in lead["signature"]
    assert {(s["model"], s["task"]) for s in scores["summary"]} == {
        ("lead-3", "summarize_zh"), ("lead-120c", "summarize_zh"), ("copy", "translate_zh_en"),
        ("copy", "translate_zh_en_doc"), ("copy", "translate_en_zh"), ("reference-B", "summarize_zh"),
        ("reference-B", "summarize_en")}

    md = (folder / "results.md").read_text()
    assert md.count("\n## ") == 5 and "| reference-B | reference agreement (B vs A) | 5 |" in md
    # The references' provenance travels from data/MANIFEST.json into the run and its tables.
    dataset_manifest = json.loads((root / "data" / "MANIFEST.json").read_text())
    assert manifest["reference_provenance"] == dataset_manifest.get("reference_provenance")
    csv_lines = (folder / "results.csv").read_text().splitlines()
    assert csv_lines[0].startswith("task,model,role,n,rouge1,rouge1_ci_low,rouge1_ci_high") and len(csv_lines) == 8
    assert proc.stdout.count("(baseline)") == 3 and proc.stdout.count("(agreement)") == 1
    assert not list(folder.parent.glob(".smoke.tmp-*"))


@pytest.mark.parametrize(
    ("task", "line"),
    [
        ("summarize_zh", "MDE (rougeL, n = 5): {mde:.2f} points: the smallest rougeL difference a paired test at α = 0.05 "
                         "detects with 80 % power on these items, for the two best rows, lead-3 vs lead-120c, from their "
                         "per-item differences."),
        # reference-B (the agreement row) is not a system; copy alone: no pair
        ("summarize_en", "MDE: — (fewer than two systems scored on the same items: no pair to compare)."),
        ("translate_en_zh", "MDE: — (fewer than two systems scored on the same items: no pair to compare)."),
    ],
)
def test_results_md_shows_the_mde_of_the_two_best_rows(smoke, root, task, line):
    """results.md's power line under each task's table: the MDE of the two best rows on the main metric,
    as `harness compare` computes it from their stored outputs (same seed, same number)."""
    from harness.score import compare
    from harness.tasks import load_items

    folder, _ = smoke
    md = (folder / "results.md").read_text()
    section = md.split(f"\n## {task}: ", 1)[1].split("\n## ", 1)[0]
    if "{mde" in line:
        refs = {i.id: list(i.references) for i in load_items(task, root / "data")}
        best, second = (lines(folder / "predictions" / m / f"{task}.jsonl") for m in ("lead-3", "lead-120c"))
        (c,) = compare(task, [p["output"] for p in best], [p["output"] for p in second], [refs[p["id"]] for p in best],
                       ["rougeL"], seed=0)
        assert c.mde > 5
        line = line.format(mde=c.mde)
    assert [x for x in section.splitlines() if x.startswith("MDE")] == [line]


@pytest.mark.parametrize(
    "doc, n, unit, expected",
    [
        ("000", 1, "sentences", "“太忙了。”"),
        ("000", 3, "sentences", "“太忙了。”这是清华大学人工智能(AI)国际治理研究院副院长梁正面对记者脱口而出的一句话。\n去年11月30日,"
                                "非营利性研究机构OpenAI推出AI聊天机器人ChatGPT,它所展现出的智能涌现能力在全球范围内引发了一场AI“狂飙”,"
                                "也在业界点燃了百亿美元大战。"),
        ("004", 12, "chars", "ChatGPT是一款由美"),  # 7 Latin letters + 5 characters
    ],
)
def test_lead_baseline(doc, n, unit, expected):
    from harness.generate.baseline import Baseline, BaselineSettings
    from harness.request import Prompt, Rendered, Request
    from harness.tasks import load_items

    item = next(i for i in load_items("summarize_zh", Path("data")) if i.id == doc)
    request = Request(id=doc, prompt=Prompt((), ""), source=item.source)
    backend = Baseline(BaselineSettings(kind="lead", n=n, unit=unit))
    assert backend.output(Rendered(request, "", 0, False)) == expected


def test_agreement_row_is_reference_b(smoke):
    from harness.tasks import load_items

    folder, _ = smoke
    items = {i.id: i for i in load_items("summarize_en", Path("data"))}
    for row in lines(folder / "predictions" / "reference-B" / "summarize_en.jsonl"):
        assert row["output"] == items[row["id"]].references[1].strip()


def test_rescore_equals_run(smoke, tmp_path, run_cli):
    folder, _ = smoke
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    before = {p: p.read_bytes() for p in copy.rglob("*") if p.is_file()}
    code, out, err = run_cli("rescore", str(copy))
    assert (code, err) == (0, "")
    assert out == f"rescored {copy}/: 7 model × task rows, 22 scores\n"
    for path, data in before.items():
        if path.name == "scores.json":
            old, new = json.loads(data), json.loads(path.read_bytes())
            assert {**old, "created": None} == {**new, "created": None}
        else:
            assert path.read_bytes() == data, path


def test_rescore_refuses_a_changed_dataset(smoke, tmp_path):
    folder, _ = smoke
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["dataset"]["manifest_sha256"] = "0" * 64
    (copy / "manifest.json").write_text(json.dumps(manifest))
    from harness.errors import HarnessError

    with pytest.raises(HarnessError, match="the dataset changed since the run"):
        rescore(copy)


def test_two_runs_are_identical(smoke, tmp_path, monkeypatch):
    """Same config, fresh cache: identical predictions and scores (timings aside)."""
    folder, _ = smoke
    monkeypatch.setenv("HARNESS_CACHE", str(tmp_path / "fresh-cache"))
    again = evaluate(load_config(Path("configs/smoke.yaml")), results_root=tmp_path / "results")
    assert without_timing(again) == without_timing(folder)


def test_file_backend_scores_outside_outputs(tmp_path):
    from harness.tasks import load_items

    items = load_items("translate_en_zh", Path("data"))[:4]
    outputs = tmp_path / "system" / "translate_en_zh.jsonl"
    outputs.parent.mkdir()
    # the Chinese source is the reference of translate_en_zh: a perfect system scores 100
    rows = [{"id": it.id, "output": it.references[0]} for it in items]
    rows[3] = {"id": items[3].id, "output": "摘要：完全不同的一句话。"}  # label stripped, then scored
    outputs.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    config = parse_config({
        "run": "outside",
        "tasks": [{"task": "translate_en_zh", "limit": 3}],
        "models": [{"name": "perfect", "backend": "file", "path": str(tmp_path / "system" / "{task}.jsonl")}],
    })
    folder = evaluate(config, results_root=tmp_path / "results")
    scores = {s["metric"]: s["value"] for s in json.loads((folder / "scores.json").read_text())["scores"]}
    assert scores == {"bleu": pytest.approx(100.0), "chrf++": pytest.approx(100.0)}
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["models"]["perfect"]["role"] == "model"
    assert list(manifest["models"]["perfect"]["identity"]["sha256"]) == ["translate_en_zh"]
    assert manifest["cache"]["hits"] == 0  # outputs are read, never cached

    config = parse_config({**config.to_dict(), "tasks": [{"task": "translate_en_zh", "ids": [items[3].id]}]})
    folder = evaluate(config, results_root=tmp_path / "results")
    row = lines(folder / "predictions" / "perfect" / "translate_en_zh.jsonl")[0]
    assert (row["raw"], row["output"]) == ("摘要：完全不同的一句话。", "完全不同的一句话。")


def test_truncation_keeps_the_head_at_a_sentence_boundary(tmp_path):
    from harness.tasks import load_items

    config = parse_config({
        "run": "trunc",
        "tasks": [{"task": "summarize_zh", "limit": 2, "max_new_tokens": 100}],
        "models": [{"name": "echo", "backend": "echo", "context_length": 700}],
    })
    folder = evaluate(config, results_root=tmp_path / "results")
    rows = lines(folder / "predictions" / "echo" / "summarize_zh.jsonl")
    sources = {i.id: i.source for i in load_items("summarize_zh", Path("data"))}
    template = config.tasks[0].prompt
    for row in rows:
        assert row["truncated"] is True and row["input_tokens"] <= 700 - 100
        kept = template.build(sources[row["id"]]).plain  # the full prompt, for comparison
        assert len(kept) > 700
    # the kept source is a prefix of whole sentences, and one more sentence would not have fit
    from harness.pipeline.plan import plan_run
    from harness.pipeline.run import open_session
    from harness.text import sentence_units

    plan = plan_run(config)
    task = plan.tasks["summarize_zh"]
    item = task.items[0]
    session = open_session(plan, plan.models[0], Echo(EchoSettings(context_length=700)))
    rendered, note = session.fit(task, item)
    units = sentence_units(item.source)
    k = int(note.split()[1])
    assert note == f"kept {k} of {len(units)} sentences"
    assert rendered.text == template.build("".join(units[:k]).rstrip()).plain
    assert len(template.build("".join(units[: k + 1]).rstrip()).plain) > 600
    summary = json.loads((folder / "scores.json").read_text())["summary"][0]
    assert summary["truncated_share"] == 1.0 and summary["max_tokens_share"] == 0.0
    assert "| echo | model | 2 |" in (folder / "results.md").read_text() and "| 100 % | 0 % |" in (folder / "results.md").read_text()


def test_a_prompt_that_cannot_fit_is_an_error(tmp_path, run_cli):
    from harness.errors import HarnessError

    config = parse_config({
        "run": "nofit",
        "tasks": [{"task": "summarize_zh", "limit": 1, "max_new_tokens": 100}],
        "models": [{"name": "echo", "backend": "echo", "context_length": 120}],
    })
    with pytest.raises(HarnessError, match=r"model echo, task summarize_zh: the prompt without any source takes \d+ "
                                           r"tokens but the context of 120 minus max_new_tokens 100 leaves 20"):
        evaluate(config, results_root=tmp_path / "results")
    assert not (tmp_path / "results").exists()


@pytest.mark.parametrize(
    "raw, output",
    [
        ("<think>让我想想……</think>\n\n摘要：大模型发展迅速。 ", "大模型发展迅速。"),
        ("Summary: Large models grew fast.", "Large models grew fast."),
        ("**Summary:** Large models grew fast.", "Large models grew fast."),
        ("<think>still thinking when max_new_tokens hit", ""),
        ("reasoning the template opened</think>答案", "答案"),
        ("The summary: keep this label, it is not leading", "The summary: keep this label, it is not leading"),
        ("  English: Too busy.\n", "Too busy."),
        ("摘要:摘要：只去掉一个标签", "摘要：只去掉一个标签"),
    ],
)
def test_postprocess_rules(raw, output):
    assert clean(raw, ["strip_reasoning", "strip_label", "trim"]) == output


def test_missing_references_are_named_and_left_out(tmp_path, root):
    import pyarrow.parquet as pq

    data = tmp_path / "data"
    shutil.copytree(root / "data", data)
    table = pq.read_table(data / "summarization.parquet").to_pylist()
    table[1]["summaries_en"] = [table[1]["summaries_en"][0], None]  # 001 lost reference B
    table[3]["summaries_en"] = []  # 003 has none
    import pyarrow as pa

    pq.write_table(pa.Table.from_pylist(table, schema=pq.read_schema(data / "summarization.parquet")),
                   data / "summarization.parquet")
    config = parse_config({
        "run": "partial",
        "dataset": str(data),
        "tasks": [{"task": "summarize_en"}, {"task": "summarize_zh", "limit": 1}],
        "models": [{"name": "reference-B", "backend": "baseline", "kind": "reference"}],
    })
    folder = evaluate(config, results_root=tmp_path / "results")
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["tasks"]["summarize_en"]["missing_references"] == ["001", "003"]
    assert manifest["tasks"]["summarize_en"]["n_items"] == 3
    assert [r["id"] for r in lines(folder / "predictions" / "reference-B" / "summarize_en.jsonl")] == ["000", "002", "004"]
    assert "2 item(s) left out for missing references: 001, 003." in (folder / "results.md").read_text()


def test_render_prints_the_exact_prompt(run_cli):
    from harness.tasks import load_items

    code, out, err = run_cli("render", "configs/smoke.yaml", "--task", "translate_en_zh", "--model", "copy", "-n", "2")
    assert code == 0, err
    items = load_items("translate_en_zh", Path("data"))
    instruction = load_config(Path("configs/smoke.yaml")).task("translate_en_zh").prompt.instruction
    assert out == "".join(
        f"===== copy · translate_en_zh · {it.id} · 0 input tokens · max_new_tokens 320 · no context limit · "
        "not truncated\n(a baseline: it reads the item's source/references, not this prompt)\n"
        f"{instruction}\n\n英文：{it.source}\n中文：\n===== end\n"
        for it in items[:2]
    )


def test_render_shows_chat_rendering_and_truncation(tmp_path, run_cli):
    config = tmp_path / "echo.yaml"
    config.write_text("run: r\ntasks:\n  - task: summarize_en\n    max_new_tokens: 50\nmodels:\n"
                      "  - {name: echo, backend: echo, chat: true, context_length: 500}\n", encoding="utf-8")
    code, out, err = run_cli("render", str(config), "-n", "1")
    assert code == 0, err
    header, body = out.split("\n", 1)
    assert header.startswith("===== echo · summarize_en · 000 · ") and "context 500 · TRUNCATED (kept " in header
    assert body.startswith("<user>Write a summary in English") and "</user><assistant>\n[… source truncated here" in body


def test_help_lists_the_commands(run_cli):
    code, out, _ = run_cli("--help")
    for command in ("run", "rescore", "render", "config"):
        assert f" {command} " in out
    code, out, _ = run_cli("run", "--help")
    assert code == 0 and "--set" in out and "--no-cache" in out and "--quiet" in out


def test_outputs_the_scorer_refuses_are_reported_not_faked(tmp_path, monkeypatch):
    import harness.pipeline.rescore
    from harness.score.text import ScoringError

    def refuse(*args, **kwargs):
        raise ScoringError("hypothesis of item", 2, "mostly Chinese text ('大模型') scored as English; use a zh task")

    monkeypatch.setattr(harness.pipeline.rescore, "score_with_items", refuse)
    config = parse_config({"run": "refused", "tasks": [{"task": "translate_en_zh", "limit": 2}],
                           "models": [{"name": "copy", "backend": "baseline", "kind": "copy"}]})
    folder = evaluate(config, results_root=tmp_path / "results")
    scores = json.loads((folder / "scores.json").read_text())
    assert scores["scores"] == []
    assert scores["summary"][0]["not_scored"] == ("hypothesis of 000-p01-s02: mostly Chinese text ('大模型') scored "
                                                  "as English; use a zh task")
    assert all(row["scores"] == {} for row in lines(folder / "predictions" / "copy" / "translate_en_zh.jsonl"))
    md = (folder / "results.md").read_text()
    assert "| copy | baseline | 2 | not scored | – |" in md and "- copy was not scored: hypothesis of 000-p01-s02: mostly" in md


def test_results_folder_is_swapped_in_whole(tmp_path):
    import os
    import subprocess
    import sys

    from harness.io import staged_folder

    target = tmp_path / "run"
    target.mkdir()
    (target / "old.txt").write_text("previous run")
    with pytest.raises(RuntimeError):
        with staged_folder(target) as staging:
            (staging / "half.txt").write_text("half")
            raise RuntimeError("killed while writing")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # the previous folder is untouched
    assert [p.name for p in target.iterdir()] == ["old.txt"]

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    (tmp_path / f".run.tmp-{gone.pid}-x").mkdir()  # left by a killed run
    (tmp_path / f".run.tmp-{os.getppid()}-y").mkdir()  # a live run's staging folder is not touched
    with staged_folder(target) as staging:
        (staging / "new.txt").write_text("new run")
    assert sorted(p.name for p in tmp_path.iterdir()) == [f".run.tmp-{os.getppid()}-y", "run"]
    assert [p.name for p in target.iterdir()] == ["new.txt"]


def test_shots_come_from_other_documents_and_do_not_depend_on_the_subset():
    from harness.pipeline.plan import plan_run
    from harness.tasks import load_items

    def plan(limit):
        return plan_run(parse_config({"run": "shots", "tasks": [{"task": "translate_zh_en", "limit": limit, "shots": 3}],
                                      "models": [{"name": "copy", "backend": "baseline", "kind": "copy"}]}))

    doc_of = {}
    for it in load_items("translate_zh_en", Path("data")):
        doc_of.setdefault(it.source, set()).add(it.doc_id)
    task = plan(40).tasks["translate_zh_en"]
    for item in task.items:
        shots = task.shots[item.id]
        assert len(shots) == 3 and all(item.doc_id not in doc_of[source] for source, _ in shots)
        prompt = task.prompt(item)
        assert [role for role, _ in prompt.messages] == ["user", "assistant"] * 3 + ["user"]
        assert prompt.messages[1][1] == shots[0][1]  # the shot's answer is its reference
        assert prompt.plain.endswith(f"Chinese: {item.source}\nEnglish:")
        assert f"Chinese: {shots[0][0]}\nEnglish: {shots[0][1]}\n\n" in prompt.plain
    assert plan(5).tasks["translate_zh_en"].shots == {i: task.shots[i] for i in list(task.shots)[:5]}
    assert len({tuple(s) for s in task.shots.values()}) > 30  # each item draws its own


@pytest.mark.parametrize(
    ("task", "stop"),
    [("summarize_zh", "\n文章："), ("summarize_en", None), ("translate_zh_en", "\nChinese:"), ("translate_en_zh", "\n英文：")],
)
def test_plain_prompts_stop_at_the_next_block(task, stop):
    """A base model given k-shot blocks writes the next "Chinese: …" block after its answer: the
    plain form carries the input label as a stop string (chat models never see it)."""
    import yaml

    from harness.prompt_template import PromptTemplate
    from harness.tasks import default_prompt_path

    template = PromptTemplate.model_validate(yaml.safe_load(default_prompt_path(task).read_text(encoding="utf-8")))
    prompt = template.build("源文本", shots=[("例句", "answer")])
    label = template.input.split("{source}")[0].strip()
    assert prompt.plain_stop == (f"\n{label}",)
    assert prompt.source == "源文本"  # what translation-only models (Marian, NLLB) read
    if stop is not None:
        assert prompt.plain_stop == (stop,)
    # The shot's block starts with the label after a blank line, never after a single newline.
    assert prompt.plain.count(label) == 2 and prompt.plain_stop[0] not in prompt.plain.replace(f"\n\n{label}", "")


def test_with_plain_stops_adds_each_stop_once():
    from harness.request import GenerationSettings, Prompt, Rendered, Request, with_plain_stops

    def rendered(stops):
        return Rendered(Request(id="x", prompt=Prompt(messages=(), plain="p", plain_stop=stops), source=""), "p", 1, False)

    settings = GenerationSettings(stop=("\n\n",))
    assert with_plain_stops(settings, [rendered(("\nChinese:",)), rendered(("\nChinese:", "\n\n"))]).stop == ("\n\n", "\nChinese:")
    assert with_plain_stops(settings, [rendered(())]) is settings


def test_jsonl_reader_keeps_line_separators_inside_strings(tmp_path):
    """JSON written with ensure_ascii=False leaves U+2028/U+2029 raw; str.splitlines() would cut
    such a prediction in two and make `harness rescore` fail on a model's output."""
    from harness.io import read_jsonl

    path = tmp_path / "p.jsonl"
    rows = [{"id": "a", "output": "第一行\u2028第二行\u2029end"}, {"id": "b", "output": "x"}]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    assert read_jsonl(path) == [(f"{path}:1", rows[0]), (f"{path}:2", rows[1])]


def test_tables_label_the_references_from_their_provenance(smoke):
    """results.md / results.csv say who wrote and reviewed the references; old runs say it was not recorded."""
    import csv
    import io

    from harness.record import Manifest, ScoresDoc
    from harness.report.tables import render_csv, render_markdown

    folder, _ = smoke
    manifest = json.loads((folder / "manifest.json").read_text())
    scores = json.loads((folder / "scores.json").read_text())
    manifest["reference_provenance"] = tiny_provenance()
    manifest, scores = Manifest.model_validate(manifest), ScoresDoc.model_validate(scores)
    md = render_markdown(manifest, scores)
    zh = ("A: AI-written (Claude), reviewed by Wang Fang (human), 2026-12-10 (1 of 2); "
          "AI-written (Claude), not reviewed (1 of 2); B: human-written (Li Lei), not reviewed")
    assert f"References: {zh}." in md
    assert "References: AI-written (Claude), not reviewed." in md  # translate_zh_en
    assert "References: the published Chinese article (source text, no reference writer)." in md  # translate_en_zh
    assert (f"- reference-B is the reference agreement (B vs A): reference B scored against reference A alone ({zh}); "
            "every other row is scored against all references.") in md
    rows = list(csv.DictReader(io.StringIO(render_csv(manifest, scores))))
    agreement = next(r for r in rows if r["model"] == "reference-B" and r["task"] == "summarize_zh")
    assert agreement["references"] == f"reference agreement (B vs A): {zh}" and agreement["role"] == "agreement"
    assert next(r for r in rows if r["model"] == "lead-3")["references"] == zh

    manifest = manifest.model_copy(update={"reference_provenance": None})  # a run written before the field existed
    md = render_markdown(manifest, scores)
    assert md.count("References: reference provenance not recorded.") == 4
    assert "human" not in md
