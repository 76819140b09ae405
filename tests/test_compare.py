"""`harness compare` and its gate, on real predictions: a run of configs/smoke.yaml (baselines on
the real dataset) against itself, against copies with deliberately damaged outputs, with tiny
noise, with other item sets or another dataset version."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from helpers.report_runs import ModelSpec, items_for, run_smoke, standard_models, task_items, write_run

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    return run_smoke(tmp_path_factory.mktemp("smoke"))


def copy_run(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def edit_predictions(run: Path, model: str, task: str, edit) -> None:
    """Rewrite one model's outputs in place: edit(index, output) -> new output."""
    path = run / "predictions" / model / f"{task}.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line.strip()]
    for i, row in enumerate(rows):
        row["output"] = edit(i, row["output"])
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def compare(run_cli, a: Path, b: Path, *args: str):
    return run_cli("compare", str(a), str(b), "--dataset", str(ROOT / "data"), *args)


def test_a_run_against_itself_passes_the_gate(smoke, run_cli, tmp_path):
    code, out, err = compare(run_cli, smoke, smoke, "--gate", "--out", str(tmp_path / "report"))
    assert (code, err) == (0, "")
    assert out.startswith("**✅ No significant drop larger than 0.5 points")
    doc = json.loads((tmp_path / "report" / "compare.json").read_text(encoding="utf-8"))
    assert doc["gate_passed"] is True
    assert {(c["model"], c["task"]) for c in doc["comparisons"]} == {
        ("lead-3", "summarize_zh"),
        ("lead-120c", "summarize_zh"),
        # copy into English is off-target (Chinese output): scored as it is, never dropped.
        ("copy", "translate_zh_en"),
        ("copy", "translate_zh_en_doc"),
        ("copy", "translate_en_zh"),
    }
    assert all(c["delta"] == 0 and c["mark"] == "" for c in doc["comparisons"])
    assert (tmp_path / "report" / "compare.md").read_text(encoding="utf-8") == out.rstrip("\n") + "\n"
    assert doc["notes"] == []
    # The agreement row is never compared.
    assert "reference-B" not in {c["model"] for c in doc["comparisons"]}


@pytest.mark.parametrize(
    ("model", "task", "damage"),
    [
        ("copy", "translate_en_zh", lambda i, s: s[: len(s) // 4]),  # outputs cut to a quarter
        ("copy", "translate_en_zh", lambda i, s: "."),  # outputs emptied
        ("lead-3", "summarize_zh", lambda i, s: s[:20]),  # summaries cut to 20 characters
    ],
)
def test_damaged_outputs_fail_the_gate(smoke, run_cli, tmp_path, model, task, damage):
    damaged = copy_run(smoke, tmp_path / "damaged")
    edit_predictions(damaged, model, task, damage)
    code, out, err = compare(run_cli, smoke, damaged, "--gate")
    assert code == 1, out + err
    first = out.splitlines()[0]
    assert first.startswith(f"**❌ Regression: {model} on {task.replace('_', chr(92) + '_')}")
    rows = [line for line in out.splitlines() if line.startswith(f"| {model} | {task.replace('_', chr(92) + '_')} |")]
    assert rows and all("▼" in line for line in rows) and any(line.endswith("▼ **gate** |") for line in rows)
    # Without --gate the same report, exit 0.
    code, out2, _ = compare(run_cli, smoke, damaged)
    assert code == 0 and out2 == out


def test_tiny_noise_passes_the_gate(smoke, run_cli, tmp_path):
    noisy = copy_run(smoke, tmp_path / "noisy")
    edit_predictions(noisy, "copy", "translate_en_zh", lambda i, s: s[:-1] if i in (3, 11) else s)
    edit_predictions(noisy, "lead-3", "summarize_zh", lambda i, s: s.replace("。", "，", 1) if i == 0 else s)
    code, out, err = compare(run_cli, smoke, noisy, "--gate")
    assert (code, err) == (0, "")
    assert out.startswith("**✅")
    assert not [line for line in out.splitlines() if line.startswith("| ") and "▼" in line]


def test_improvement_is_marked_and_never_fails(smoke, run_cli, tmp_path):
    """B's copy baseline outputs replaced by the Chinese references: a large significant gain."""
    from harness.tasks import load_items

    refs = {i.id: i.references[0] for i in load_items("translate_en_zh", ROOT / "data")}
    better = copy_run(smoke, tmp_path / "better")
    ids = [json.loads(line)["id"] for line in (smoke / "predictions/copy/translate_en_zh.jsonl").read_text(encoding="utf-8").split("\n") if line]
    edit_predictions(better, "copy", "translate_en_zh", lambda i, s: refs[ids[i]])
    code, out, _ = compare(run_cli, smoke, better, "--gate")
    assert code == 0
    rows = [line for line in out.splitlines() if line.startswith("| copy | translate\\_en\\_zh |")]
    assert len(rows) == 2 and all(line.rstrip(" |").endswith("▲") for line in rows)
    assert "2 significantly better, 0 significantly worse" in out.splitlines()[0]


def test_max_drop_lets_a_small_significant_drop_through(smoke, run_cli, tmp_path):
    damaged = copy_run(smoke, tmp_path / "damaged")
    edit_predictions(damaged, "lead-3", "summarize_zh", lambda i, s: s[:60])
    doc_path = tmp_path / "r"
    code, _, _ = compare(run_cli, smoke, damaged, "--gate", "--out", str(doc_path))
    assert code == 1
    worst = min(c["delta"] for c in json.loads((doc_path / "compare.json").read_text(encoding="utf-8"))["comparisons"])
    code, out, _ = compare(run_cli, smoke, damaged, "--gate", "--max-drop", str(abs(worst) + 0.01))
    assert code == 0 and out.startswith("**✅"), out
    # Gating rouge1 alone with the default max drop still fails: it dropped significantly too.
    code, _, _ = compare(run_cli, smoke, damaged, "--gate", "--metric", "rouge1")
    assert code == 1


def test_different_item_sets_exit_2_unless_intersect(smoke, run_cli, tmp_path):
    fewer = copy_run(smoke, tmp_path / "fewer")  # as if run with a limit of 17 on translate_en_zh
    for path in (fewer / "predictions").glob("*/translate_en_zh.jsonl"):
        lines = path.read_text(encoding="utf-8").split("\n")
        path.write_text("\n".join(lines[:17]) + "\n", encoding="utf-8")
    manifest = json.loads((fewer / "manifest.json").read_text(encoding="utf-8"))
    manifest["tasks"]["translate_en_zh"]["n_items"] = 17
    (fewer / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    code, out, err = compare(run_cli, smoke, fewer, "--gate")
    assert code == 2 and out == ""
    assert "copy translate_en_zh has 17 items" in err and "has 20 (17 shared); pass --intersect" in err
    code, out, err = compare(run_cli, smoke, fewer, "--gate", "--intersect")
    assert (code, err) == (0, "")
    assert "compared on the 17 items both runs have (A 20, B 17)" in out


def test_different_dataset_versions_exit_2(smoke, run_cli, tmp_path):
    other = copy_run(smoke, tmp_path / "other")
    for name in ("manifest.json", "scores.json"):
        text = (other / name).read_text(encoding="utf-8")
        sha = json.loads((smoke / "manifest.json").read_text(encoding="utf-8"))["dataset"]["manifest_sha256"]
        (other / name).write_text(text.replace(sha, "f" * 64), encoding="utf-8")
    code, out, err = compare(run_cli, smoke, other, "--gate")
    assert code == 2 and "runs on different references cannot be compared" in err and out == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--metric", "chrf+"), "unknown metric 'chrf+' (did you mean 'chrf++'?)"),
        (("--metric", "ter"), "--metric: 'ter' is not scored in both runs"),
        (("--alpha", "1.5"), "--alpha: must be between 0 and 1"),
        (("--test", "t-test"), "--test: must be one of ar, bootstrap"),
        (("--max-drop", "-1"), "--max-drop: must be 0 or more points"),
    ],
)
def test_bad_options_exit_2(smoke, run_cli, args, message):
    code, out, err = compare(run_cli, smoke, smoke, "--gate", *args)
    assert code == 2 and out == "" and message in err and err.count("\n") == 1


def test_bad_run_folders_exit_2(smoke, run_cli, tmp_path):
    code, _, err = compare(run_cli, smoke, tmp_path / "missing")
    assert code == 2 and "RUN_B:" in err and "not a results folder" in err
    code, _, err = compare(run_cli, smoke.parent, smoke)
    assert code == 2 and "RUN_A:" in err
    lonely = copy_run(smoke, tmp_path / "lonely")
    manifest = json.loads((lonely / "manifest.json").read_text(encoding="utf-8"))
    scores = json.loads((lonely / "scores.json").read_text(encoding="utf-8"))
    manifest["models"] = {"other": {"backend": "baseline", "role": "baseline", "identity": {}}}
    manifest["throughput"] = {"other": manifest["throughput"]["copy"]}
    scores["scores"] = [dict(s, model="other") for s in scores["scores"] if s["model"] == "copy"]
    scores["summary"] = []
    (lonely / "predictions" / "copy").rename(lonely / "predictions" / "other")
    (lonely / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    (lonely / "scores.json").write_text(json.dumps(scores), encoding="utf-8")
    code, _, err = compare(run_cli, smoke, lonely, "--gate")
    assert code == 2 and "no model in common" in err


def test_ter_increase_is_a_drop(tmp_path):
    """TER is an error rate: B's higher TER must fail the gate (the sign flips)."""
    from harness.report.compare import compare_runs
    from harness.report.runs import load_run

    refs = task_items("translate_zh_en")[2]
    good = {"m": ModelSpec(outputs={"translate_zh_en": [r[0] for r in refs]})}
    bad = {"m": ModelSpec(outputs={"translate_zh_en": [" ".join(r[0].split()[:2]) for r in refs]})}
    metrics = {"translate_zh_en": ["ter"]}
    a = load_run(write_run(tmp_path, "a", good, metrics=metrics))
    b = load_run(write_run(tmp_path, "b", bad, metrics=metrics))
    report = compare_runs(a, b, items_for)
    (d,) = report.deltas
    assert d.delta > 0 and d.improvement < 0 and d.mark == "▼" and d.fails_gate
    reverse = compare_runs(b, a, items_for)
    assert reverse.deltas[0].mark == "▲" and not reverse.failures


def test_markdown_marks_only_significant_rows(tmp_path):
    """Translation noise (alpha vs beta outputs under one name) is not significant: no mark."""
    from harness.report.compare import compare_runs, to_markdown
    from harness.report.runs import load_run

    models = standard_models()
    a = load_run(write_run(tmp_path, "a", {"m": models["alpha"]}))
    b = load_run(write_run(tmp_path, "b", {"m": models["beta"]}))
    report = compare_runs(a, b, items_for)
    md = to_markdown(report).splitlines()
    for d in report.deltas:
        line = next(x for x in md if x.startswith(f"| m | {d.task.replace('_', chr(92) + '_')} | {d.metric} |"))
        assert line.rstrip().endswith(("▲ |", "▼ |", "▼ **gate** |")) == d.significant
    assert any(d.significant for d in report.deltas) and any(not d.significant for d in report.deltas)


def test_underpowered_gate_says_so(smoke, run_cli, tmp_path):
    """Five summaries, lead-3 made worse on two and better on two (replaced by reference A): the
    per-item differences spread so widely that the test could only detect rougeL differences far
    above the gate's 0.5. The report says so, the JSON carries the MDE; the gate itself still decides."""
    from harness.tasks import load_items

    refs = [i.references[0] for i in load_items("summarize_zh", ROOT / "data")]
    mixed = copy_run(smoke, tmp_path / "mixed")
    edit_predictions(mixed, "lead-3", "summarize_zh", lambda i, s: s[:20] if i < 2 else refs[i] if i < 4 else s)
    code, out, err = compare(run_cli, smoke, mixed, "--gate", "--metric", "rougeL", "--out", str(tmp_path / "r"))
    assert (code, err) == (0, "")
    doc = json.loads((tmp_path / "r" / "compare.json").read_text(encoding="utf-8"))
    (power,) = doc["underpowered"]
    lead = next(c for c in doc["comparisons"] if c["model"] == "lead-3")
    assert lead["mde"] == pytest.approx(power["mde"], abs=1e-4) and power["mde"] > 5
    assert lead["estimated_accuracy"] == {"level": "not published", "paper_row": None, "note": "no published figure for rougeL"}
    message = (f"underpowered: with n = 5 this test detects rougeL differences ≥ {lead['mde']:.2f} on summarize_zh, "
               "more than the gate's max drop of 0.5")
    assert {k: power[k] for k in ("task", "metric", "n", "models", "message")} == {
        "task": "summarize_zh", "metric": "rougeL", "n": 5, "models": ["lead-3"], "message": message}
    assert doc["power"] == {"alpha": 0.05, "power": 0.8}
    assert f"- ⚠️ {message.replace('_', chr(92) + '_')}" in out.splitlines()
    # lead-120c did not change: no spread, no MDE, no claim about its power
    assert next(c for c in doc["comparisons"] if c["model"] == "lead-120c")["mde"] is None
    # a max drop the test can see is not underpowered
    code, out, _ = compare(run_cli, smoke, mixed, "--gate", "--metric", "rougeL", "--max-drop", f"{lead['mde'] + 0.01:.2f}")
    assert code == 0 and "⚠️" not in out
    # approximate randomisation on five items cannot reach p < 0.05 at all
    code, out, _ = compare(run_cli, smoke, mixed, "--gate", "--metric", "rougeL", "--test", "ar")
    assert ("- ⚠️ underpowered: with n = 5 the approximate-randomisation test cannot go below p = 0.05 on "
            "summarize\\_zh (its smallest p-value is about 2/2^5 = 0.0625)") in out.splitlines()


@pytest.mark.parametrize(
    ("metric", "says"),
    [
        ("bleu", "Kocmi et al. (2024), Navigating the Metrics Maze, appendix table main\\_thresholds (BLEU row)"),
        ("chrf++", "(chrF row (chrF++ was not measured; read on chrF's))"),
        ("rougeL", "for rougeL no such figure is published"),
    ],
)
def test_report_names_the_power_and_the_published_row(smoke, run_cli, metric, says):
    code, out, _ = compare(run_cli, smoke, smoke, "--metric", metric)
    header = next(line for line in out.splitlines() if line.startswith("| model |"))
    assert code == 0 and "| p AR | MDE | est. accuracy |" in header
    assert says in out
    # a run against itself: no spread in any difference, so no MDE is claimed
    assert "—: the paired differences have no spread (e.g. identical outputs)" in out
