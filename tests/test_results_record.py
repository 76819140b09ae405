"""The typed results record (harness.record) on damaged and mismatched folders.

A real folder written by `harness run configs/smoke.yaml` (baselines, seconds) is copied and
damaged one way per case; `harness rescore`, `harness leaderboard` and `harness compare` must
each end with exit 2 and exactly one line on stderr naming the file (and key or line), and leave
every file that was there byte-for-byte as it was (and write nothing new).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from helpers.report_runs import run_smoke, standard_models, write_run

ROOT = Path(__file__).resolve().parents[1]
PRED = "predictions/copy/translate_en_zh.jsonl"  # 20 lines in the smoke run


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    return run_smoke(tmp_path_factory.mktemp("smoke"))


def _json(run: Path, name: str):
    return json.loads((run / name).read_text(encoding="utf-8"))


def _put(run: Path, name: str, doc) -> None:
    (run / name).write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")


def _edit_manifest(edit):
    def damage(run: Path) -> None:
        doc = _json(run, "manifest.json")
        edit(doc)
        _put(run, "manifest.json", doc)
    return damage


def _edit_scores(edit):
    def damage(run: Path) -> None:
        doc = _json(run, "scores.json")
        edit(doc)
        _put(run, "scores.json", doc)
    return damage


def _edit_line(n: int, **fields):
    def damage(run: Path) -> None:
        path = run / PRED
        lines = path.read_text(encoding="utf-8").split("\n")
        row = json.loads(lines[n])
        row.update(fields)
        lines[n] = json.dumps(row, ensure_ascii=False)
        path.write_text("\n".join(lines), encoding="utf-8")
    return damage


def _lines(edit):
    def damage(run: Path) -> None:
        path = run / PRED
        lines = [line for line in path.read_text(encoding="utf-8").split("\n") if line]
        path.write_text("\n".join(edit(lines)) + "\n", encoding="utf-8")
    return damage


def _write(name: str, text: str):
    def damage(run: Path) -> None:
        (run / name).write_text(text, encoding="utf-8")
    return damage


def _del(*keys):
    def edit(doc):
        for key in keys[:-1]:
            doc = doc[key]
        del doc[keys[-1]]
    return edit


def _set(value, *keys):
    def edit(doc):
        for key in keys[:-1]:
            doc = doc[key]
        doc[keys[-1]] = value
    return edit


ALL = ("rescore", "leaderboard", "compare")
REPORTS = ("leaderboard", "compare")  # rescore recomputes scores.json: it does not read the old one

# (case id, damage, commands, file named in the message, text the message must contain)
CASES = [
    ("manifest {}", _write("manifest.json", "{}"), ALL, "manifest.json", "missing key 'run'"),
    ("manifest []", _write("manifest.json", "[]"), ALL, "manifest.json", "expected a JSON object, got a list"),
    ("manifest not JSON", _write("manifest.json", '{"run": '), ALL, "manifest.json", "invalid JSON at line 1"),
    ("manifest not UTF-8", lambda run: (run / "manifest.json").write_bytes(b'{"run": "\xff"}'), ALL, "manifest.json",
     "not UTF-8"),
    ("manifest missing tasks", _edit_manifest(_del("tasks")), ALL, "manifest.json", "missing key 'tasks'"),
    ("manifest missing dataset hash", _edit_manifest(_del("dataset", "manifest_sha256")), ALL, "manifest.json",
     "missing key 'dataset.manifest_sha256'"),
    ("manifest n_items a string", _edit_manifest(_set("20", "tasks", "translate_en_zh", "n_items")), ALL,
     "manifest.json", "'tasks.translate_en_zh.n_items' has the wrong type (a string, expected an integer)"),
    ("manifest metrics not a list", _edit_manifest(_set("bleu", "tasks", "translate_en_zh", "metrics")), ALL,
     "manifest.json", "'tasks.translate_en_zh.metrics' has the wrong type"),
    ("manifest bad role", _edit_manifest(_set("champion", "models", "copy", "role")), ALL, "manifest.json",
     "models.copy.role is 'champion', expected one of model, baseline, agreement"),
    ("manifest models a list", _edit_manifest(_set([], "models")), ALL, "manifest.json",
     "'models' has the wrong type (a list, expected an object)"),
    ("manifest unknown schema_version", _edit_manifest(_set(99, "schema_version")), ALL, "manifest.json",
     "'schema_version' is 99; this harness reads version 1"),
    ("manifest throughput for an unknown model", _edit_manifest(_set({"ghost": {}}, "throughput")), ALL,
     "manifest.json", "throughput.ghost: model not in 'models'"),
    ("output 12345", _edit_line(0, output=12345), ALL, f"{PRED}:1",
     "'output' has the wrong type (an integer, expected a string)"),
    ("truncated 'yes'", _edit_line(4, truncated="yes"), ALL, f"{PRED}:5",
     "'truncated' has the wrong type (a string, expected true or false)"),
    ("scores a list", _edit_line(1, scores=[1, 2]), ALL, f"{PRED}:2", "'scores' has the wrong type"),
    ("line without id", _edit_line(2, id=None), ALL, f"{PRED}:3", "'id' has the wrong type (null, expected a string)"),
    ("line not an object", _lines(lambda lines: lines[:5] + ["[1, 2]"] + lines[6:]), ALL, f"{PRED}:6",
     "expected a JSON object, got a list"),
    ("line not JSON", _lines(lambda lines: lines[:2] + ['{"id": '] + lines[3:]), ALL, f"{PRED}:3", "not valid JSON"),
    ("duplicated line", _lines(lambda lines: lines + lines[:1]), ALL, f"{PRED}:21",
     "item id '000-p01-s01' appears twice (first at line 1)"),
    ("cut to 3 of 20 lines", _lines(lambda lines: lines[:3]), ALL, PRED,
     "3 prediction line(s), but manifest.json says the task has 20 items"),
    ("empty predictions", _write(PRED, "\n"), ALL, PRED, "empty (no predictions)"),
    ("predictions missing", lambda run: (run / PRED).unlink(), ALL, PRED, "missing"),
    ("scores.json of another run", _edit_scores(_set("other-run", "run")), REPORTS, "scores.json",
     "run is 'other-run' but manifest.json is run 'smoke' (scores of another run)"),
    ("scores.json of another dataset", _edit_scores(_set("f" * 64, "dataset_manifest_sha256")), REPORTS,
     "scores.json", "dataset_manifest_sha256 ffffffffffff… differs"),
    ("scores.json {}", _write("scores.json", "{}"), REPORTS, "scores.json", "missing key 'run'"),
    ("scores.json unknown schema_version", _edit_scores(_set(2, "schema_version")), REPORTS, "scores.json",
     "'schema_version' is 2"),
    ("score value a string", _edit_scores(lambda d: d["scores"][0].__setitem__("value", "12.5")), REPORTS,
     "scores.json", "'scores[0].value' has the wrong type (a string, expected a number)"),
    ("share out of range", _edit_scores(lambda d: d["summary"][0].__setitem__("truncated_share", 3)), REPORTS,
     "scores.json", "'summary[0].truncated_share' must be a share between 0 and 1, got 3"),
    ("score for an unknown task", _edit_scores(lambda d: d["scores"][0].__setitem__("task", "ghost_task")), REPORTS,
     "scores.json", "scores[0]: task 'ghost_task' is not in manifest.json's tasks"),
]

TABLE = [pytest.param(damage, command, file, text, id=f"{case}-{command}")
         for case, damage, commands, file, text in CASES for command in commands]


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize(("damage", "command", "file", "text"), TABLE)
def test_damaged_folder_is_exit_2_one_line_nothing_changed(smoke, run_cli, tmp_path, damage, command, file, text):
    run = tmp_path / "smoke"
    shutil.copytree(smoke, run)
    damage(run)
    before = _snapshot(tmp_path)
    out = tmp_path / "site"
    args = {
        "rescore": ["rescore", str(run)],
        "leaderboard": ["leaderboard", str(run), "--out", str(out), "--dataset", str(ROOT / "data")],
        "compare": ["compare", str(smoke), str(run), "--gate", "--dataset", str(ROOT / "data")],
    }[command]
    code, stdout, stderr = run_cli(*args)
    assert code == 2, (stdout, stderr)
    assert stderr.count("\n") == 1 and stderr.startswith("error: "), stderr
    assert f"{run / file}" in stderr and text in stderr, stderr
    assert _snapshot(tmp_path) == before  # nothing changed, nothing new (no `site/`)


def test_runs_written_before_schema_version_still_load(smoke, run_cli, tmp_path):
    """The committed results/default and results/ci have no schema_version: read as version 1,
    and a rescore of such a folder gives byte-identical tables and predictions."""
    from harness.record import read_manifest, read_scores

    old = tmp_path / "smoke"
    shutil.copytree(smoke, old)
    for name in ("manifest.json", "scores.json"):
        doc = _json(old, name)
        assert doc.pop("schema_version") == 1
        _put(old, name, doc)
    manifest = read_manifest(old)
    assert manifest.schema_version == 1 and read_scores(old, manifest).schema_version == 1
    before = _snapshot(old)
    code, stdout, stderr = run_cli("rescore", str(old))
    assert (code, stderr) == (0, ""), stderr
    after = _snapshot(old)
    assert after["manifest.json"] == before["manifest.json"]  # rescore never rewrites the manifest
    assert {k: v for k, v in after.items() if k.startswith("predictions/")} == {
        k: v for k, v in before.items() if k.startswith("predictions/")}
    for name in ("results.md", "results.csv"):
        assert after[name] == (smoke / name).read_bytes()
    code, _, stderr = run_cli("compare", str(smoke), str(old), "--gate", "--dataset", str(ROOT / "data"))
    assert (code, stderr) == (0, "")


def test_runs_that_call_the_agreement_row_ceiling_still_load(smoke, run_cli, tmp_path):
    """Folders written before the rename say role "ceiling" for the reference-agreement row: read
    as "agreement" by rescore, the leaderboard and compare, which show the new name."""
    from harness.record import read_manifest

    old = tmp_path / "old"
    shutil.copytree(smoke, old)
    doc = _json(old, "manifest.json")
    assert doc["models"]["reference-B"]["role"] == "agreement"
    doc["models"]["reference-B"]["role"] = "ceiling"
    _put(old, "manifest.json", doc)
    assert read_manifest(old).models["reference-B"].role == "agreement"
    code, _, stderr = run_cli("rescore", str(old))
    assert (code, stderr) == (0, ""), stderr
    for name in ("results.md", "results.csv"):
        assert (old / name).read_bytes() == (smoke / name).read_bytes()
    assert "summarize_zh,reference-B,agreement," in (old / "results.csv").read_text(encoding="utf-8")
    code, _, stderr = run_cli("leaderboard", str(old), "--out", str(tmp_path / "site"))
    assert (code, stderr) == (0, "")
    board = json.loads((tmp_path / "site" / "leaderboard.json").read_text(encoding="utf-8"))
    roles = {(t["task"], r["label"]): r["role"] for t in board["tables"] for r in t["rows"]}
    assert roles[("summarize_zh", "reference-B")] == "agreement"
    assert "ceiling" not in "".join(p.read_text(encoding="utf-8") for p in (tmp_path / "site").rglob("*") if p.is_file())
    code, out, stderr = run_cli("compare", str(smoke), str(old), "--gate", "--dataset", str(ROOT / "data"),
                                "--out", str(tmp_path / "report"))
    assert (code, stderr) == (0, "")
    compared = json.loads((tmp_path / "report" / "compare.json").read_text(encoding="utf-8"))["comparisons"]
    assert "reference-B" not in {c["model"] for c in compared}  # the agreement row is never compared
    assert "ceiling" not in out


def test_optional_and_extra_fields_are_kept(tmp_path, smoke):
    """Fields added later (or by other tools) load and are written back unchanged."""
    from harness.record import dump, read_manifest, read_predictions

    run = tmp_path / "smoke"
    shutil.copytree(smoke, run)
    doc = _json(run, "manifest.json")
    doc["references"] = {"summaries": "written by A, reviewed by B"}
    doc["tasks"]["translate_en_zh"]["dataset_sha256"] = "a" * 64
    del doc["git_dirty"], doc["models"]["copy"]["info"]
    _put(run, "manifest.json", doc)
    manifest = read_manifest(run)
    assert dump(manifest) == doc
    assert manifest.tasks["translate_en_zh"].model_extra == {"dataset_sha256": "a" * 64}
    predictions = read_predictions(run / PRED, n_items=20)
    assert [dump(p) for p in predictions] == [json.loads(line) for line in (run / PRED).read_text().split("\n") if line]


def test_a_written_folder_round_trips(smoke):
    """What `harness run` wrote reads back into the models and dumps to the same JSON."""
    from harness.record import dump, read_manifest, read_scores

    manifest = read_manifest(smoke)
    assert dump(manifest) == _json(smoke, "manifest.json")
    assert dump(read_scores(smoke, manifest)) == _json(smoke, "scores.json")


@pytest.mark.parametrize("folder", ["default", "ci", "full"])
def test_the_committed_results_load(folder):
    from harness.record import read_manifest, read_predictions, read_scores

    path = ROOT / "results" / folder
    manifest = read_manifest(path)
    scores = read_scores(path, manifest)
    assert manifest.schema_version == scores.schema_version == 1
    for model, tasks in manifest.throughput.items():
        for task in tasks:
            assert len(read_predictions(path / "predictions" / model / f"{task}.jsonl", manifest.tasks[task].n_items)) \
                == manifest.tasks[task].n_items


def test_a_hostile_model_name_in_a_results_folder_is_refused(tmp_path):
    """Model names become paths (predictions/<model>/) and CSV cells: a folder whose manifest names a
    model '=HYPERLINK(...)' (hand-made: `harness run` never writes one) is refused by the one name
    rule when it is read, so it never reaches leaderboard.csv. (The CSV writer neutralises formula
    cells anyway: tests/test_io.py.)"""
    from harness.errors import HarnessError
    from harness.report.runs import load_runs

    models = standard_models()
    models["=HYPERLINK(\"http://x\",\"y\")"] = models.pop("alpha")
    run = write_run(tmp_path, "evil", models)
    with pytest.raises(HarnessError, match="HYPERLINK.*1-128 letters"):
        load_runs([run])
