"""`harness metrics check`: the perturbations do what their names say, deterministically, and the
table in docs/scoring.md is what the command computes (surface metrics recomputed here; TER and
bertscore columns are left to the command, TER on shuffled text alone takes minutes). The judge's
rows are recomputed from the verdicts recorded beside the document (asking a real judge again takes
hours on 2 cores), after checking that they are the verdicts on today's draw."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from harness.io import sha256_text
from harness.judge import check as judge_check
from harness.judge.prompts import BUILTIN, load_prompt
from harness.score import perturb as pert
from harness.score import sensitivity as sens
from helpers.fake_judge import register


def _rng(seed=0):
    return np.random.default_rng(seed)


@pytest.mark.parametrize("text, lang", [
    ("Prices rose 3.5 percent to 120 yuan in 2024.", "en"),
    ("用户数在5天内突破100万。", "zh"),
])
def test_digit_change_touches_exactly_one_number(text, lang):
    out = pert.change_digits(text, lang, _rng())
    assert out != text
    before, after = pert._NUMBER.findall(text), pert._NUMBER.findall(out)
    assert len(before) == len(after) and sum(a != b for a, b in zip(before, after)) == 1
    assert pert._NUMBER.sub("#", out) == pert._NUMBER.sub("#", text)  # nothing else changed


@pytest.mark.parametrize("text, lang, unit_swapped", [
    # the number type draws among every digit spot and every unit after a number
    ("用户数在5天内突破100万。", "zh", {"用户数在5天内突破100千。"}),
    ("融资1750亿元，两千人。", "zh", {"融资1750百万元，两千人。", "融资1750亿元，两万人。"}),
    ("It raised $3.1 bn and 200 million.", "en", {"It raised $3.1 million and 200 million.",
                                                  "It raised $3.1 bn and 200 billion."}),
])
def test_number_type_changes_digits_or_a_unit(text, lang, unit_swapped):
    seen = {pert.change_number(text, lang, _rng(seed)) for seed in range(40)}
    units = seen & unit_swapped
    assert units  # both kinds are drawn
    for out in seen - units:  # the others change exactly one number's digits, nothing else
        before, after = pert._NUMBER.findall(text), pert._NUMBER.findall(out)
        assert len(before) == len(after) and sum(a != b for a, b in zip(before, after)) == 1
        assert pert._NUMBER.sub("#", out) == pert._NUMBER.sub("#", text)


@pytest.mark.parametrize("text, lang, expected", [
    ("1750亿", "zh", "1750百万"), ("100万", "zh", "100千"), ("两千", "zh", "两万"), ("3万亿", "zh", "3亿"),
    ("175 billion", "en", "175 million"), ("25 thousand", "en", "25 million"), ("2 trillion", "en", "2 billion"),
    ("3.1 bn", "en", "3.1 million"), ("a million", "en", None), ("万物", "zh", None),
])
def test_unit_swaps(text, lang, expected):
    assert pert.change_unit(text, lang, _rng()) == expected


@pytest.mark.parametrize("text, lang, expected", [
    ("He did not sign the deal.", "en", "He did sign the deal."),
    ("It isn't over.", "en", "It is over."),
    ("The deal was signed.", "en", "The deal was not signed."),
    ("他没有签署协议。", "zh", "他有签署协议。"),
    ("他不同意。", "zh", "他同意。"),
    ("他签署了协议。", "zh", "他不签署了协议。"),
    ("Tokyo.", "en", None),
])
def test_negation_is_removed_else_added(text, lang, expected):
    assert pert.flip_negation(text, lang, _rng()) == expected


@pytest.mark.parametrize("text, lang", [
    ("First, the models grew; then the costs rose. Finally, prices fell.", "en"),
    ("大模型发展迅速，成本随之上升；价格最终下降。", "zh"),
])
def test_drop_removes_one_piece_and_keeps_the_rest_in_order(text, lang):
    out = pert.drop_clause(text, lang, _rng())
    pattern = r"(?<=[,;.!?])\s+" if lang == "en" else r"(?<=[，；。！？,;])"
    pieces, kept = re.split(pattern, text), re.split(pattern, out)
    assert len(kept) == len(pieces) - 1
    assert any(pieces[:i] + pieces[i + 1:] == kept for i in range(len(pieces)))


@pytest.mark.parametrize("text, lang", [("The quick brown fox jumps over the lazy dog.", "en"),
                                        ("今天北京的天气非常好。", "zh")])
def test_shuffle_is_a_permutation_with_the_end_punctuation_last(text, lang):
    out = pert.shuffle_words(text, lang, _rng())
    assert out != text and out[-1] == text[-1]
    if lang == "en":
        assert Counter(out[:-1].split()) == Counter(text[:-1].split())
    else:
        assert Counter(out) == Counter(text)


@pytest.mark.parametrize("text, lang, allowed", [
    ("They did not buy large companies.", "en", {"They didn't purchase big firms.", "They didn't buy big companies.",
                                                 "They didn't purchase large companies.", "They didn't buy large firms.",
                                                 "They did not purchase big companies.", "They did not purchase large firms.",
                                                 "They did not buy big firms."}),
    ("但是目前问题很多。", "zh", {"不过当前问题很多。", "不过目前难题很多。", "但是当前难题很多。",
                              "不过目前问题许多。", "但是当前问题许多。", "但是目前难题许多。"}),
])
def test_paraphrase_makes_two_table_substitutions(text, lang, allowed):
    assert pert.paraphrase(text, lang, _rng()) in allowed


def test_name_swap_uses_a_name_of_the_same_kind():
    pool = {"en": {"name": ["Liang Zheng", "Sam Altman", "Wu Fei"]}, "zh": {"nr": ["李强", "吴飞", "梁正"], "ns": ["北京"], "nt": []}}
    out = pert.swap_name("Yesterday Sam Altman spoke.", "en", _rng(), pool["en"])
    assert out in ("Yesterday Liang Zheng spoke.", "Yesterday Wu Fei spoke.")
    assert pert.swap_name("梁正表示，吴飞同意。", "zh", _rng(), pool["zh"]) in ("李强表示，吴飞同意。", "梁正表示，李强同意。")
    assert pert.swap_name("他在北京。", "zh", _rng(), pool["zh"]) is None  # no other place in the pool


def test_perturbations_are_deterministic_from_the_seed():
    sample = pert.Sample("en", "segment", "x", "On 30 November, Sam Altman did not say that prices rose 5 percent.", "")
    pool = {"en": {"name": ["Liang Zheng"]}, "zh": {}}
    for kind in pert.TYPES:
        assert pert.perturb(sample, kind, 0, pool) == pert.perturb(sample, kind, 0, pool)
    shuffles = {pert.perturb(sample, "shuffle", seed, pool) for seed in range(5)}
    assert len(shuffles) > 1


def _table_cells(section: str) -> dict:
    cells = {}
    header = None
    for line in section.splitlines():
        if line.startswith("| lang | perturbation |"):
            header = [c.strip() for c in line.strip("|").split("|")]
            continue
        if line.startswith("| lang | text |"):
            break
        if header and line.startswith("| ") and not line.startswith("|---"):
            row = dict(zip(header, (c.strip() for c in line.strip("|").split("|"))))
            for metric in header[3:]:
                cells[(row["lang"], row["perturbation"], metric)] = (int(row["n"]), row[metric])
    return cells


def test_docs_table_is_what_the_check_computes(root):
    metrics = ("rouge1", "rouge2", "rougeL", "rougeLsum", "bleu", "chrf", "chrf++")
    documented = _table_cells(sens.section((root / "docs" / "scoring.md").read_text(encoding="utf-8")))
    assert {k[2] for k in documented} >= {*metrics, "ter", "bertscore"}
    for c in sens.run_check(root / "data", metrics, per_type=100, seed=0):
        if c.accuracy is not None:
            assert documented[(c.lang, c.kind, c.metric)] == (c.n, f"{c.accuracy:.0f} [{c.ci_low:.0f}, {c.ci_high:.0f}]")


def test_cli_prints_and_writes_the_section(tmp_path, run_cli, root):
    doc = tmp_path / "doc.md"
    doc.write_text(f"# x\n{sens.BEGIN}\nold\n{sens.END}\nafter\n", encoding="utf-8")
    code, out, err = run_cli("metrics", "check", "--dataset", str(root / "data"), "--metric", "chrf",
                             "--per-type", "5", "--n-boot", "50", "--write-docs", str(doc))
    assert code == 0, err
    assert "| en | negation | 5 |" in out and "| zh | paraphrase | 5 |" in out
    text = doc.read_text(encoding="utf-8")
    assert "old" not in text and sens.section(text) == out and text.endswith(f"{sens.END}\nafter\n")
    code, _, err = run_cli("metrics", "check", "--metric", "chrff")
    assert code == 2 and "did you mean 'chrf'" in err


# --- the judge's rows ------------------------------------------------------------------------------

NO_ERROR = "Critical:\nno-error\nMajor:\nno-error\nMinor:\nno-error"


def assert_judge_rows_are_their_verdicts(doc: Path, dataset: Path) -> judge_check.JudgeCheckRecord:
    """The judge rows of `doc`'s generated section are what the check computes from the verdicts
    recorded beside it, and those verdicts are on the texts the check draws today, with today's prompt."""
    text = sens.section(doc.read_text(encoding="utf-8"))
    name = re.search(r"<!-- judge-check: (\S+) -->", text).group(1)
    record = judge_check.JudgeCheckRecord.model_validate_json((doc.parent / name).read_text(encoding="utf-8"))
    pairs = judge_check.draw_pairs(record.prompt_kind, dataset, per_type=record.per_type, seed=record.seed)
    assert [(v.lang, v.kind, v.id, v.paraphrase_sha256, v.error_sha256) for v in record.pairs] == \
        [(p.lang, p.kind, p.sample.id, sha256_text(p.paraphrase), sha256_text(p.error)) for p in pairs]
    if record.prompt_name in BUILTIN:
        assert load_prompt(record.prompt_name).label == record.prompt
    cells = judge_check.check_cells(record.pairs, seed=record.seed, n_boot=record.n_boot)
    assert text.endswith("\n" + judge_check.render_markdown(cells, record, name))
    return record


def test_docs_judge_rows_are_the_recorded_verdicts(root):
    doc = root / "docs" / "scoring.md"
    if "<!-- judge-check:" not in sens.section(doc.read_text(encoding="utf-8")):
        pytest.skip("no judge rows in docs/scoring.md yet")  # drop once a real judge's rows are written
    assert_judge_rows_are_their_verdicts(doc, root / "data")


def _judge_rows(out: str) -> dict:
    rows = {}
    for line in out.split("| lang | perturbation | n | unparsed | judge |", 1)[1].splitlines()[2:]:
        lang, kind, n, unparsed, accuracy = (c.strip() for c in line.strip("|").split("|"))
        rows[(lang, kind)] = (int(n), int(unparsed), accuracy)
    return rows


def scripted_config(tmp_path: Path, answers: dict[str, str]) -> Path:
    config = tmp_path / "judge.yaml"
    model = {"name": "judge", "backend": "scripted", "answers": answers, "default": NO_ERROR}
    config.write_text("run: j\ntasks: [{task: translate_zh_en}]\nmodels:\n  - " + json.dumps(model) + "\n",
                      encoding="utf-8")
    return config


# The scripted judge, per cell of 2 pairs: English: it finds a major error in the first error text
# (80 < 100 for the paraphrase: caught) and answers the second with prose (unparsed: left out);
# Chinese: no error anywhere (every pair a tie: a miss). Cells with fewer references have fewer pairs.
EXPECTED_JUDGE_ROWS = {
    ("en", "number"): (2, 1, "100 [100, 100]"), ("en", "name"): (2, 1, "100 [100, 100]"),
    ("en", "negation"): (2, 1, "100 [100, 100]"), ("en", "drop"): (2, 1, "100 [100, 100]"),
    ("en", "shuffle"): (2, 1, "100 [100, 100]"), ("en", "term"): (2, 1, "100 [100, 100]"),
    ("zh", "number"): (2, 0, "0 [0, 0]"), ("zh", "name"): (2, 0, "0 [0, 0]"),
    ("zh", "negation"): (2, 0, "0 [0, 0]"), ("zh", "drop"): (2, 0, "0 [0, 0]"),
    ("zh", "shuffle"): (2, 0, "0 [0, 0]"), ("zh", "term"): (2, 0, "0 [0, 0]"),
}


def test_cli_adds_the_judges_rows_and_records_its_verdicts(tmp_path, run_cli, root, monkeypatch):
    register(monkeypatch)
    monkeypatch.setenv("HARNESS_CACHE", str(tmp_path / "cache"))
    answers, seen = {}, Counter()
    for p in judge_check.draw_pairs("mqm", root / "data", per_type=2, seed=0):
        seen[(p.lang, p.kind)] += 1
        if p.lang == "en":
            caught = seen[(p.lang, p.kind)] == 1
            answer = f'Critical:\nno-error\nMajor:\naccuracy/mistranslation - "{p.error}"\nMinor:\nno-error' \
                if caught else "The translation looks fine to me."
            answers["```" + re.escape(p.error) + "```"] = answer
    doc = tmp_path / "doc.md"
    doc.write_text(f"# x\n{sens.BEGIN}\nold\n{sens.END}\nafter\n", encoding="utf-8")
    config = scripted_config(tmp_path, answers)
    code, out, err = run_cli("metrics", "check", "--dataset", str(root / "data"), "--metric", "chrf",
                             "--per-type", "5", "--n-boot", "50", "--judge-config", str(config),
                             "--judge-model", "judge", "--judge-per-type", "2", "--write-docs", str(doc))
    assert code == 0, err
    assert _judge_rows(out) == EXPECTED_JUDGE_ROWS
    assert "| en | negation | 5 |" in out  # the metric rows are still there
    text = doc.read_text(encoding="utf-8")
    assert sens.section(text) == out and text.endswith(f"{sens.END}\nafter\n")
    assert "<!-- judge-check: doc.judge-check.json -->" in out
    assert f"prompt `{load_prompt('mqm').label}`" in out and "Judge `judge@" in out
    record = assert_judge_rows_are_their_verdicts(doc, root / "data")
    assert record.command == (f"--judge-config {config} --judge-model judge --judge-prompt mqm --judge-per-type 2 "
                              "--seed 0 --n-boot 50")
    unparsed = [v for v in record.pairs if v.error is None]
    assert {v.answers[1] for v in unparsed} == {"The translation looks fine to me."} and len(unparsed) == 6
    assert {v.paraphrase for v in record.pairs} == {100.0}


def test_docs_check_fails_on_verdicts_of_another_draw(tmp_path, run_cli, root, monkeypatch):
    register(monkeypatch)
    monkeypatch.setenv("HARNESS_CACHE", str(tmp_path / "cache"))
    doc = tmp_path / "doc.md"
    doc.write_text(f"{sens.BEGIN}\n{sens.END}\n", encoding="utf-8")
    code, _, err = run_cli("metrics", "check", "--dataset", str(root / "data"), "--metric", "chrf", "--per-type", "2",
                           "--n-boot", "20", "--judge-config", str(scripted_config(tmp_path, {})),
                           "--judge-model", "judge", "--judge-per-type", "1", "--write-docs", str(doc))
    assert code == 0, err
    assert_judge_rows_are_their_verdicts(doc, root / "data")
    path = tmp_path / "doc.judge-check.json"
    record = json.loads(path.read_text(encoding="utf-8"))
    record["pairs"][0]["error_sha256"] = sha256_text("another text")
    path.write_text(json.dumps(record), encoding="utf-8")
    with pytest.raises(AssertionError):
        assert_judge_rows_are_their_verdicts(doc, root / "data")


@pytest.mark.parametrize("options, message", [
    (["--judge-model", "judge"], "--judge-config and --judge-model: both needed to check a judge"),
    (["--judge-prompt", "faithfulness"], "--judge-prompt: only with --judge-config and --judge-model"),
    (["--judge-config", "{config}", "--judge-model", "judg"],
     "--judge-model: no model 'judg' in {config} (did you mean 'judge'?)"),
    (["--judge-config", "{config}", "--judge-model", "judge", "--judge-prompt", "pairwise"],
     "--judge-prompt: pairwise is pairwise; the check takes mqm and rating prompts (mqm, faithfulness, coverage)"),
    (["--judge-config", "{config}", "--judge-model", "judge", "--judge-per-type", "0"],
     "--judge-per-type: must be in [1, 10000] (got 0)"),
])
def test_bad_judge_options_are_one_line_before_any_scoring(tmp_path, run_cli, root, monkeypatch, options, message):
    register(monkeypatch)
    config = scripted_config(tmp_path, {})
    code, out, err = run_cli("metrics", "check", "--dataset", str(root / "data"),
                             *(o.format(config=config) for o in options))
    assert (code, out) == (2, "")
    assert err == f"error: {message.format(config=config)}\n"
