"""The report tests' tiny results folders (tests/helpers/report_runs.py) follow the contract."""

import pytest

from harness.report.runs import load_run
from harness.tasks import load_items
from helpers.report_runs import standard_models, task_items, write_dataset, write_run


def test_fixture_dataset_is_read_by_load_items(tmp_path):
    folder, _ = write_dataset(tmp_path / "data")
    for task in ("summarize_zh", "translate_zh_en"):
        ids, sources, refs = task_items(task)
        items = load_items(task, folder)
        assert [i.id for i in items] == ids
        assert [i.source for i in items] == sources
        assert [list(i.references) for i in items] == refs


def test_fixture_folder_follows_the_contract(tmp_path):
    run = load_run(write_run(tmp_path, "tiny", standard_models()))
    assert run.tasks == ("summarize_zh", "translate_zh_en")
    assert run.models["human"].role == "agreement"
    assert run.models_for("translate_zh_en") == ("alpha", "beta", "lead-1")
    assert run.item_ids("alpha", "summarize_zh") == tuple(task_items("summarize_zh")[0])
    assert run.scores_for("alpha", "summarize_zh")["rougeL"].value == pytest.approx(100.0)
