"""`harness score --json --items`: every metric's per-item values, in input order."""

from __future__ import annotations

import json

import pytest


@pytest.mark.parametrize("task, hyps, refs, metrics", [
    ("summarize_zh", ["今天天气很好。", "他没有签署协议。", ""], ["今天天气不错。", "他签署了协议。", "你好"], []),
    ("translate_zh_en", ["The cat sat.", "It rained on Monday.", "x"], ["A cat sat.", "It rained on Tuesday.", "y z"],
     ["bleu", "chrf", "chrf++", "ter"]),
])
def test_items_are_the_item_scores_in_input_order(tmp_path, run_cli, task, hyps, refs, metrics):
    from harness.score import item_scores

    (tmp_path / "h.txt").write_text("\n".join(hyps) + "\n")
    (tmp_path / "r.txt").write_text("\n".join(refs) + "\n")
    args = ["score", "--task", task, "--hyp", str(tmp_path / "h.txt"), "--ref", str(tmp_path / "r.txt"), "--json", "--items"]
    for m in metrics:
        args += ["--metric", m]
    code, out, err = run_cli(*args)
    assert code == 0, err
    entries = json.loads(out)["scores"]
    expected = item_scores(task, hyps, [[r] for r in refs], [e["metric"] for e in entries])
    assert [e["metric"] for e in entries] == list(expected) and entries
    for e in entries:
        assert e["items"] == expected[e["metric"]] and len(e["items"]) == len(hyps)
    # reversing the input reverses the items
    (tmp_path / "h.txt").write_text("\n".join(hyps[::-1]) + "\n")
    (tmp_path / "r.txt").write_text("\n".join(refs[::-1]) + "\n")
    code, out, _ = run_cli(*args)
    assert [e["items"] for e in json.loads(out)["scores"]] == [e["items"][::-1] for e in entries]


def test_items_needs_json(tmp_path, run_cli):
    (tmp_path / "h.txt").write_text("a\n")
    code, out, err = run_cli("score", "--task", "translate_zh_en", "--hyp", str(tmp_path / "h.txt"),
                             "--ref", str(tmp_path / "h.txt"), "--items")
    assert code == 2 and "--items: only with --json" in err
