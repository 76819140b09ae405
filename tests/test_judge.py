"""The judge (harness.judge): strict parsers, prompt files, and judging through a generation session
with a scripted judge backend (cache hits, pairwise orders, unparsed answers left out of the mean)."""

from __future__ import annotations

import pytest

from harness.errors import ConfigError, HarnessError
from harness.generate.cache import GenerationCache
from harness.generate.session import GenerationSession
from harness.io import sha256_json
from harness.judge.check import run_judge_check
from harness.judge.judge import Judge, JudgeItem, judge_score
from harness.judge.parse import combine_orders, parse_mqm, parse_preference, parse_rating
from harness.judge.prompts import BUILTIN, load_prompt
from harness.request import GenerationSettings
from helpers.fake_judge import entry, load

NO_ERRORS = "Critical:\nno-error\nMajor:\nno-error\nMinor:\nno-error"
ONE_MAJOR = 'Critical:\nno-error\nMajor:\naccuracy/mistranslation - "bank"\nMinor:\nno-error'
ONE_MINOR = 'Critical:\nno-error\nMajor:\nno-error\nMinor:\nfluency/punctuation - ","'


# --- parsers ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("answer, value, penalty, n_errors", [
    (NO_ERRORS, 100.0, 0, 0),
    (ONE_MINOR, 96.0, 1, 1),
    (ONE_MAJOR, 80.0, 5, 1),
    # the GEMBA-MQM paper's example answer: 2 major + 2 minor = 12 → 100 - 48
    ('Critical:\nno-error\nMajor:\naccuracy/mistranslation - "involvement"\naccuracy/omission - "accompanied"\n'
     'Minor:\nfluency/grammar - "the mark"\nfluency/register - "dinner"', 52.0, 12, 4),
    ('Critical:\nnon-translation - "整句"\nMajor:\nno-error\nMinor:\nno-error', 0.0, 25, 1),
    # the penalty is capped at 25: 30 scores like 25
    ('Critical:\naccuracy/addition - "x"\nMajor:\nstyle/awkward - "y"\nMinor:\nno-error', 0.0, 30, 2),
    # 24 is just under the cap
    ('Critical:\nno-error\nMajor:\nstyle - "a"\nstyle - "b"\nstyle - "c"\nstyle - "d"\nMinor:\nother - "e"\n'
     'other - "f"\nother - "g"\nother - "h"', 4.0, 24, 8),
    # an enclosing fence, bullets, a severity's answer on its own line, curly quotes, any order, case
    ("```\nMINOR: no error\nCritical: no-error\nMajor:\n- Terminology/inconsistent use - “GDP”\n```", 80.0, 5, 1),
])
def test_mqm_answers_are_scored(answer, value, penalty, n_errors):
    parsed = parse_mqm(answer)
    assert parsed.ok, parsed.problem
    assert (parsed.value, parsed.detail["penalty"], len(parsed.detail["errors"])) == (value, penalty, n_errors)


def test_mqm_errors_are_kept_with_their_spans():
    parsed = parse_mqm("Critical:\nno-error\nMajor:\n- Terminology/inconsistent use - “GDP”\nMinor:\nstyle - \"so\"")
    assert parsed.detail["errors"] == [
        {"severity": "major", "category": "terminology", "subcategory": "inconsistent use", "span": "GDP"},
        {"severity": "minor", "category": "style", "subcategory": None, "span": "so"},
    ]


@pytest.mark.parametrize("texts, problem", [
    (("He went to the bank.", "他去了银行。"), None),
    (("He went to the BANK.", "他去了银行。"), None),  # spans are found regardless of case
    (("He went to the river.", "他去了银行。"), "'major': span 'bank' is in neither the translation nor the source"),
])
def test_mqm_spans_must_occur_in_the_translation_or_the_source(texts, problem):
    assert parse_mqm(ONE_MAJOR, texts).problem == problem


@pytest.mark.parametrize("answer, problem", [
    ("", "no 'Critical:' section"),
    ("The translation is good.", "text before the first severity: 'The translation is good.'"),
    ("Critical:\nno-error\nMajor:\nno-error", "no 'Minor:' section"),
    ("Critical:\nno-error\nMajor:\nno-error\nMajor:\nno-error\nMinor:\nno-error", "'major' appears twice"),
    ("Critical:\nMajor:\nno-error\nMinor:\nno-error", "'critical' lists nothing (neither errors nor no-error)"),
    ('Critical:\nno-error\nMajor:\nno-error\naccuracy/omission - "x"\nMinor:\nno-error',
     "'major' lists errors and no-error"),
    ('Critical:\nno-error\nMajor:\naccuracy mistranslation "x"\nMinor:\nno-error',
     "'major': not category/subcategory - \"span\": 'accuracy mistranslation \"x\"'"),
    ('Critical:\nno-error\nMajor:\nno-error\nMinor:\ngrammar/agreement - "x"', "'minor': unknown category 'grammar'"),
    ("Critical:\nno-error\nMajor:\naccuracy/omission - x\nMinor:\nno-error",
     "'major': not category/subcategory - \"span\": 'accuracy/omission - x'"),
])
def test_unparseable_mqm_answers_have_no_value_and_say_why(answer, problem):
    parsed = parse_mqm(answer)
    assert (parsed.value, parsed.problem) == (None, problem)


@pytest.mark.parametrize("answer, value", [
    ("Faithfulness: 4", 75.0),
    ("4", 75.0),  # the value alone fills the form
    ("3.", 50.0),
    ("faithfulness: 5/5", 100.0),
    ("Faithfulness: 1\nThe summary invents a date.", 0.0),
    ("Faithfulness: **3**", 50.0),
    ("Faithfulness：2", 25.0),
])
def test_ratings_are_scaled_to_0_100(answer, value):
    assert parse_rating(answer, "Faithfulness").value == value


@pytest.mark.parametrize("answer, problem", [
    ("Coverage: 4", "no 'Faithfulness:' line"),
    ("4\nIt is faithful.", "no 'Faithfulness:' line"),  # the value alone, but not alone
    ("6", "rating 6 outside 1-5"),
    ("Faithfulness: 6", "rating 6 outside 1-5"),
    ("Faithfulness: 0", "rating 0 outside 1-5"),
    ("Faithfulness: 4\nFaithfulness: 5", "2 'Faithfulness:' lines"),
    ("Faithfulness: four", "not 'Faithfulness: <value>': 'Faithfulness: four'"),
    ("Faithfulness: 3.5", "not 'Faithfulness: <value>': 'Faithfulness: 3.5'"),
])
def test_unparseable_ratings_have_no_value(answer, problem):
    parsed = parse_rating(answer, "Faithfulness")
    assert (parsed.value, parsed.problem) == (None, problem)


@pytest.mark.parametrize("answer, label", [
    ("Preferred: A", "A"), ("preferred: b", "B"), ("Preferred: Tie.", "tie"), ("Preferred: B\nIt is shorter.", "B"),
    ("B", "B"), ("tie", "tie"),
])
def test_preferences_are_read(answer, label):
    assert parse_preference(answer, "Preferred").detail == {"preferred": label}


@pytest.mark.parametrize("answer", ["AB", "A\nbecause", "Preferred: both", "Preferred: A or B", "Preferred: A\nPreferred: B"])
def test_unparseable_preferences_are_refused(answer):
    assert not parse_preference(answer, "Preferred").ok


@pytest.mark.parametrize("ab, ba, value, consistent", [
    ("B", "A", 100.0, True),  # B preferred in both positions
    ("A", "B", 0.0, True),
    ("tie", "tie", 50.0, True),
    ("A", "A", 50.0, False),  # always the first position: the bias cancels out
    ("B", "B", 50.0, False),
    ("B", "tie", 75.0, False),
])
def test_both_orders_combine_into_a_preference_for_b(ab, ba, value, consistent):
    first, second = (parse_preference(f"Preferred: {x}", "Preferred") for x in (ab, ba))
    combined = combine_orders(first, second)
    assert (combined.value, combined.detail["consistent"]) == (value, consistent)


def test_a_preference_unparsed_in_either_order_leaves_the_item_unparsed():
    combined = combine_orders(parse_preference("Preferred: A", "Preferred"),
                              parse_preference("Both are fine.", "Preferred"))
    assert (combined.value, combined.problem) == (None, "order B/A: no 'Preferred:' line")


# --- prompt files ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name, kind, label_start", [
    ("mqm", "mqm", "mqm-v1@sha256="), ("faithfulness", "rating", "faithfulness-v1@sha256="),
    ("coverage", "rating", "coverage-v1@sha256="), ("pairwise", "pairwise", "pairwise-v1@sha256="),
])
def test_builtin_prompts_load_with_their_version_and_sha256(name, kind, label_start):
    prompt = load_prompt(name)
    assert name in BUILTIN
    assert prompt.kind == kind and prompt.label == label_start + prompt.sha256[:12]


def test_fields_are_filled_once_so_an_output_with_braces_stays_as_it_is():
    prompt = load_prompt("faithfulness")
    built = prompt.build({"source": "原文", "hypothesis": "a {source} b", "reference": "", "source_lang": "Chinese",
                          "target_lang": "English"})
    assert "Summary (English):\na {source} b\n" in built.messages[-1][1]
    assert built.messages[0] == ("system", prompt.system) and built.plain.endswith("\n\nAnswer:")


@pytest.mark.parametrize("body, message", [
    ("kind: mqm\nuser: 'only {source}'\n", "a mqm prompt needs {hypothesis}"),
    ("kind: mqm\nuser: '{source} {hypothesis} {hypothesys}'\n", "unknown placeholder {hypothesys}"),
    ("kind: rating\nuser: '{source} {hypothesis}'\n", "`field` is required for rating and pairwise prompts"),
    ("kind: verdict\nuser: '{source} {hypothesis}'\n", "kind"),
])
def test_bad_prompt_files_are_one_config_error_naming_the_file(tmp_path, body, message):
    path = tmp_path / "mine.yaml"
    path.write_text(f"name: mine\nversion: '1'\nmax_new_tokens: 8\n{body}", encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_prompt(str(path))
    assert str(path) in str(e.value) and message in str(e.value)


def test_unknown_prompt_names_suggest_the_builtin_ones():
    with pytest.raises(ConfigError, match="judge prompt 'mqn': not a built-in prompt .*did you mean 'mqm'"):
        load_prompt("mqn")


# --- judging through the session ---------------------------------------------------------------------


def session_for(cache, **settings):
    model = entry(**settings)
    return GenerationSession(load(model.settings), model, GenerationSettings(), cache)


MQM_ANSWERS = {"HYP-MAJOR": ONE_MAJOR, "HYP-MINOR": ONE_MINOR, "HYP-GARBLED": "The translation is fine."}
MQM_ITEMS = [JudgeItem("s1", "我们去银行。", "HYP-GOOD"), JudgeItem("s2", "他来了。", "HYP-MAJOR at the bank"),
             JudgeItem("s3", "天气很好。", "HYP-GARBLED"), JudgeItem("s4", "谢谢。", "HYP-MINOR, thanks")]


def test_mqm_judge_leaves_unparsed_answers_out_of_the_mean_and_names_itself(tmp_path):
    cache = GenerationCache(tmp_path)
    judge = Judge(load_prompt("mqm"), source_lang="zh", target_lang="en")
    outcome = judge.run(session_for(cache, answers=MQM_ANSWERS, default=NO_ERRORS), MQM_ITEMS)
    assert [j.value for j in outcome.judgements] == [100.0, 80.0, None, 96.0]
    assert outcome.judgements[2].problem == "text before the first severity: 'The translation is fine.'"
    score = judge_score(outcome, seed=0)
    assert (score.value, score.n, score.n_unparsed, score.unparsed_ids) == (92.0, 4, 1, ("s3",))  # (100+80+96)/3, not /4
    assert 80.0 <= score.ci_low <= 92.0 <= score.ci_high <= 100.0
    assert judge_score(outcome, seed=0) == score  # same seed, same numbers
    identity = {"engine": "scripted", "model": "scripted-judge", "weights": "w1"}
    prompt = load_prompt("mqm")
    assert score.signature == (f"judge:mqm|model:judge@{sha256_json(identity)[:12]}|prompt:mqm-v1@sha256="
                               f"{prompt.sha256[:12]}|scale:100-4*min(25,25*critical+5*major+1*minor)|parse:strict|"
                               "unparsed:1/4")
    cache.close()


def test_every_answer_unparsed_gives_no_value_rather_than_zero(tmp_path):
    cache = GenerationCache(tmp_path)
    outcome = Judge(load_prompt("mqm"), source_lang="zh", target_lang="en").run(
        session_for(cache, default="no idea"), MQM_ITEMS[:2])
    score = judge_score(outcome)
    assert (score.value, score.ci_low, score.n_unparsed) == (None, None, 2)
    assert score.signature.endswith("|unparsed:2/2")
    cache.close()


@pytest.mark.parametrize("change, regenerated", [
    ({}, 0),  # the same judge and prompt: every answer from the cache
    ({"weights": "w2"}, 4),  # another judge model
    ({"version": "2"}, 4),  # another prompt version
])
def test_judge_calls_are_cached_by_judge_identity_and_prompt(tmp_path, change, regenerated):
    cache = GenerationCache(tmp_path)
    prompt = load_prompt("mqm")
    Judge(prompt, source_lang="zh", target_lang="en").run(session_for(cache, answers=MQM_ANSWERS), MQM_ITEMS)
    if "version" in change:
        prompt = prompt.model_copy(update={"version": change["version"]})
    session = session_for(cache, answers=MQM_ANSWERS, weights=change.get("weights", "w1"))
    outcome = Judge(prompt, source_lang="zh", target_lang="en").run(session, MQM_ITEMS)
    assert (outcome.generated, outcome.cached, len(session.backend.generated)) == (regenerated, 4 - regenerated,
                                                                                    regenerated)
    cache.close()


def test_pairwise_asks_both_orders_and_cancels_position_bias(tmp_path):
    cache = GenerationCache(tmp_path)
    # a judge that prefers BETTER wherever it stands, and picks position A when it cannot tell
    answers = {r"Summary A \(English\):\nBETTER": "Preferred: A", r"Summary A \(English\):\nWORSE": "Preferred: B"}
    items = [JudgeItem("d1", "文章一。", "WORSE one", hypothesis_b="BETTER one"),
             JudgeItem("d2", "文章二。", "BETTER two", hypothesis_b="WORSE two"),
             JudgeItem("d3", "文章三。", "SAME a", hypothesis_b="SAME b")]
    session = session_for(cache, answers=answers, default="Preferred: A")
    outcome = Judge(load_prompt("pairwise"), source_lang="zh", target_lang="en").run(session, items)
    assert session.backend.generated == ["d1#ab", "d1#ba", "d2#ab", "d2#ba", "d3#ab", "d3#ba"]
    assert [(j.value, j.detail["consistent"]) for j in outcome.judgements] == [(100.0, True), (0.0, True), (50.0, False)]
    assert len(outcome.judgements[0].answers) == 2
    assert judge_score(outcome).value == 50.0
    cache.close()


def test_faithfulness_ratings(tmp_path):
    cache = GenerationCache(tmp_path)
    items = [JudgeItem("d1", "文章。", "HYP-INVENTED"), JudgeItem("d2", "文章。", "HYP-OK"),
             JudgeItem("d3", "文章。", "HYP-RAMBLE")]
    session = session_for(cache, answers={"HYP-INVENTED": "Faithfulness: 2", "HYP-RAMBLE": "It is faithful."},
                          default="Faithfulness: 5")
    outcome = Judge(load_prompt("faithfulness"), source_lang="zh", target_lang="zh").run(session, items)
    score = judge_score(outcome)
    assert [j.value for j in outcome.judgements] == [25.0, 100.0, None]
    assert (score.value, score.n_unparsed) == (62.5, 1)
    assert "|scale:(rating-1)*25,rating:1-5|" in score.signature
    cache.close()


def test_a_source_too_long_for_the_judge_is_cut_and_marked(tmp_path):
    cache = GenerationCache(tmp_path)
    prompt = load_prompt("faithfulness")
    source = "第一句很长很长很长。" * 40
    session = session_for(cache, default="Faithfulness: 4", context_length=len(prompt.user) + len(prompt.system) + 200)
    outcome = Judge(prompt, source_lang="zh", target_lang="zh").run(session, [JudgeItem("d1", source, "摘要")])
    assert outcome.judgements[0].truncated and outcome.judgements[0].value == 75.0
    cache.close()


@pytest.mark.parametrize("prompt, item, message", [
    ("pairwise", JudgeItem("x", "s", "h"),
     "judge prompt pairwise: a pairwise prompt needs a second system's output (item 1)"),
    ("mqm", JudgeItem("x", "s", "h", hypothesis_b="h2"),
     "judge prompt mqm: a mqm prompt takes no second system's output (item 1)"),
])
def test_items_that_do_not_fit_the_prompt_are_refused(prompt, item, message):
    with pytest.raises(HarnessError) as e:
        Judge(load_prompt(prompt), source_lang="zh", target_lang="en").queries([item])
    assert str(e.value) == message


def test_duplicate_item_ids_are_refused():
    with pytest.raises(HarnessError, match="id 'x' appears twice"):
        Judge(load_prompt("mqm"), source_lang="zh", target_lang="en").queries([JudgeItem("x", "s", "h")] * 2)


# --- the sensitivity check -----------------------------------------------------------------------------


@pytest.mark.parametrize("answer, accuracy, unparsed", [
    (NO_ERRORS, 0.0, 0),  # a judge that finds no error anywhere ties every pair: no error caught
    ("I am not sure.", None, 2),  # no answer parsed: no accuracy at all, every pair counted as unparsed
])
def test_judge_check_reports_the_accuracy_it_reaches(tmp_path, root, answer, accuracy, unparsed):
    cache = GenerationCache(tmp_path)
    cells = run_judge_check(session_for(cache, default=answer), load_prompt("mqm"), root / "data", per_type=2)
    assert [(c.lang, c.kind) for c in cells] == [(lang, kind) for lang in ("en", "zh")
                                                 for kind in ("number", "name", "negation", "drop", "shuffle", "term")]
    assert {(c.n, c.n_unparsed, c.accuracy) for c in cells} == {(2, unparsed, accuracy)}
    cache.close()


def test_a_judge_that_catches_negations_is_credited_for_them(tmp_path, root):
    # a scripted judge that sees a major error in every English translation containing "not", and none elsewhere
    cache = GenerationCache(tmp_path)
    session = session_for(cache, answers={r"English translation:\n```[^`]* not [^`]*```": 'Critical:\nno-error\nMajor:\naccuracy/mistranslation - "not"\n'
                                                    'Minor:\nno-error'}, default=NO_ERRORS)
    cells = run_judge_check(session, load_prompt("mqm"), root / "data", per_type=3)
    assert {(c.lang, c.kind): (c.n, c.n_unparsed, c.accuracy) for c in cells if c.accuracy} == {("en", "negation"): (3, 0, 100.0)}
    assert sum(c.accuracy == 0.0 for c in cells) == 11  # the 11 other cells (2 languages × 6 error types)
    cache.close()


def test_pairwise_prompts_have_no_check(tmp_path, root):
    with pytest.raises(HarnessError, match="the check takes mqm and rating prompts"):
        run_judge_check(session_for(GenerationCache(tmp_path)), load_prompt("pairwise"), root / "data")
