"""`harness score`: table and JSON output, several references, escaped newlines, bad input."""

from __future__ import annotations

import json

import pytest

from harness.score import score

HYPS = ["今天天气很好。我们去公园。", "GPT4发布了", "臺灣的AI研究很活躍。"]
REF_A = ["我们去公园。今天天气很好。", "GPT4模型发布", "台湾的人工智能研究很活跃。"]
REF_B = ["天气很好，去公园散步吧。", "OpenAI发布GPT4", "台湾AI研究活跃。"]


def write(path, lines, newline="\n"):
    path.write_text(newline.join(lines) + newline, encoding="utf-8")
    return str(path)


@pytest.fixture
def files(tmp_path):
    return {
        "hyp": write(tmp_path / "hyp.txt", HYPS),
        "a": write(tmp_path / "a.txt", REF_A),
        "b": write(tmp_path / "b.txt", REF_B),
    }


def test_json_output_equals_api(run_cli, files):
    code, out, err = run_cli("score", "--task", "summarize_zh", "--hyp", files["hyp"], "--ref", files["a"], "--ref", files["b"], "--json", "--seed", "3")
    assert code == 0 and err == ""
    data = json.loads(out)
    assert data["task"] == "summarize_zh" and data["n"] == 3
    expected = score("summarize_zh", HYPS, [[a, b] for a, b in zip(REF_A, REF_B)], seed=3)
    assert [s["metric"] for s in data["scores"]] == ["rouge1", "rouge2", "rougeL", "rougeLsum"]
    for entry, s in zip(data["scores"], expected):
        assert entry == {
            "metric": s.metric,
            "value": s.value,
            "ci_low": s.ci_low,
            "ci_high": s.ci_high,
            "signature": s.signature,
            "precision": s.precision,
            "recall": s.recall,
            "off_target": 0,
        }
        assert "|refs:2|" in entry["signature"]


def test_table_has_ci_and_signature_on_every_row(run_cli, files):
    code, out, err = run_cli("score", "--task", "translate_en_zh", "--hyp", files["hyp"], "--ref", files["a"], "--metric", "bleu", "--metric", "chrf++", "--metric", "ter")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].startswith("translate_en_zh: 3 items, 1 reference each; 95% percentile bootstrap CI (1000 samples, seed 0)")
    assert lines[1].split()[:3] == ["metric", "value", "95%"]
    rows = {line.split()[0]: line for line in lines[2:]}
    assert set(rows) == {"bleu", "chrf++", "ter"}
    for s in score("translate_en_zh", HYPS, [[a] for a in REF_A], ["bleu", "chrf++", "ter"]):
        row = rows[s.metric]
        assert f"{s.value:.2f}" in row and f"[{s.ci_low:.2f}, {s.ci_high:.2f}]" in row and row.endswith(s.signature)


def test_escaped_newlines_and_crlf(run_cli, tmp_path):
    # the hypothesis has two sentences on two lines: \n inside an item is written as a backslash-n
    hyp = write(tmp_path / "h.txt", ["天气很好\\n我们去公园", "a\\\\b"], newline="\r\n")
    ref = write(tmp_path / "r.txt", ["我们去公园\\n天气很好", "a\\\\b"])
    code, out, _ = run_cli("score", "--task", "summarize_zh", "--hyp", hyp, "--ref", ref, "--metric", "rougeLsum", "--metric", "rougeL", "--json")
    assert code == 0
    values = {s["metric"]: s["value"] for s in json.loads(out)["scores"]}
    # item 1: Lsum = 1.0 (both sentences found), L = 5/9 as in the hand-computed test; item 2: identical
    assert values["rougeLsum"] == pytest.approx(100.0)
    assert values["rougeL"] == pytest.approx((100 * 5 / 9 + 100) / 2)


def test_jieba_tokenizer_option(run_cli, files):
    code, out, _ = run_cli("score", "--task", "summarize_zh", "--hyp", files["hyp"], "--ref", files["a"], "--zh-tokenizer", "jieba", "--json")
    assert code == 0
    assert all("|tok:jieba-0.42" in s["signature"] for s in json.loads(out)["scores"])


def test_blank_lines_are_empty_outputs(run_cli, tmp_path):
    hyp = tmp_path / "blank.txt"
    hyp.write_bytes(b"\n\n")
    ref = write(tmp_path / "r.txt", ["今天天气很好", "我们去公园"])
    code, out, _ = run_cli("score", "--task", "translate_en_zh", "--hyp", str(hyp), "--ref", ref, "--json")
    assert code == 0
    assert [s["value"] for s in json.loads(out)["scores"]] == [0.0, 0.0]


def _bad_files(tmp_path):
    write(tmp_path / "two.txt", ["一", "二"])
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "bom.txt").write_bytes("\ufeff".encode("utf-8"))
    (tmp_path / "latin1.txt").write_bytes("café\nthé\n".encode("latin-1"))
    write(tmp_path / "three.txt", ["一", "二", "三"])
    write(tmp_path / "zh.txt", ["今天天气很好", "我们去公园", "GPT4发布了"])
    return tmp_path


BAD = [
    (["--hyp", "three.txt", "--ref", "two.txt"], "error: --ref {d}/two.txt: 2 lines but --hyp {d}/three.txt has 3"),
    (["--hyp", "empty.txt", "--ref", "two.txt"], "error: --hyp {d}/empty.txt: empty file"),
    (["--hyp", "three.txt", "--ref", "bom.txt"], "error: --ref {d}/bom.txt: empty file"),
    (["--hyp", "latin1.txt", "--ref", "two.txt"], "error: --hyp {d}/latin1.txt: not UTF-8 (byte 0xe9 on line 1)"),
    (["--hyp", "missing.txt", "--ref", "two.txt"], "error: --hyp {d}/missing.txt: no such file"),
    (["--hyp", "three.txt", "--ref", "three.txt", "--metric", "blue"], "error: --metric: unknown metric 'blue' (did you mean 'bleu'?)"),
    (["--hyp", "three.txt", "--ref", "three.txt", "--task", "summarise_zh"], "error: --task: unknown task 'summarise_zh' (did you mean 'summarize_zh'?)"),
    (["--hyp", "three.txt", "--ref", "three.txt", "--zh-tokenizer", "words"], "error: --zh-tokenizer: unknown tokenizer 'words' (known: char, jieba)"),
    # issue 22: refused even when no ROUGE metric would use it
    (["--hyp", "three.txt", "--ref", "three.txt", "--zh-tokenizer", "bogus", "--metric", "bleu"], "error: --zh-tokenizer: unknown tokenizer 'bogus' (known: char, jieba)"),
    (["--hyp", "three.txt", "--ref", "three.txt", "--zh-tokenizer", "bogus", "--task", "translate_en_zh"], "error: --zh-tokenizer: unknown tokenizer 'bogus' (known: char, jieba)"),
    (["--hyp", "zh.txt", "--ref", "zh.txt", "--task", "summarize_en"], "error: --ref {d}/zh.txt: line 1: tokenizer 'rouge-default' would drop 6 of its 6 words/characters ('今天天气很好'); is the target language right? (task summarize_en)"),
    (["--hyp", "zh.txt", "--ref", "zh.txt", "--task", "translate_zh_en"], "error: --ref {d}/zh.txt: line 1: mostly Chinese text ('今天天气很好') scored as English; use a zh task (task translate_zh_en)"),
]


@pytest.mark.parametrize("args, message", BAD)
def test_bad_input_is_one_line_and_exit_2(run_cli, tmp_path, args, message):
    d = _bad_files(tmp_path)
    args = [str(d / a) if a.endswith(".txt") else a for a in args]
    if "--task" not in args:
        args = ["--task", "summarize_zh", *args]
    code, out, err = run_cli("score", *args)
    assert code == 2
    assert out == ""
    assert err == message.format(d=d) + "\n"


def test_chinese_output_for_an_english_target_is_scored_and_warned(run_cli, tmp_path):
    (tmp_path / "hyp.txt").write_text("今天天气很好\nthe weather is fine\n", encoding="utf-8")
    (tmp_path / "ref.txt").write_text("the weather is good today\nthe weather is fine\n", encoding="utf-8")
    code, out, err = run_cli("score", "--task", "translate_zh_en", "--hyp", str(tmp_path / "hyp.txt"),
                             "--ref", str(tmp_path / "ref.txt"), "--metric", "chrf", "--json")
    assert code == 0
    assert err == (f"warning: --hyp {tmp_path}/hyp.txt: 1 of 2 lines are mostly Chinese for an English target; "
                   "scored as they are (task translate_zh_en)\n")
    [chrf] = json.loads(out)["scores"]
    assert chrf["off_target"] == 1 and 0 < chrf["value"] < 100
