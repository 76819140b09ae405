"""ROUGE: rouge-score's published ROUGE-1.5.5 figures, Lin (2004)'s worked examples, hand-computed
Chinese cases, and equality with direct rouge-score calls using the same tokenizer."""

from __future__ import annotations

import random

import pytest
from rouge_score import rouge_scorer

from harness.errors import HarnessError
from harness.score import get_metric, item_scores, score
from harness.score.rouge import Rouge, lcs_length
from harness.score.text import CharTokenizer, EnglishTokenizer, JiebaTokenizer, ScoringError, normalize_zh, split_sentences

ROUGE_DATA = "tests/data/score/rouge"


def rouge_prf(name, lang, hyp, refs, **kw):
    """(F, P, R) on 0–1 of one item through our metric class."""
    metric = Rouge(name, lang, **kw)
    f, p, r = metric.item_stats([hyp], [refs])[0] / 100
    return f, p, r


def _lines(root, name):
    with open(root / ROUGE_DATA / name, encoding="utf-8") as f:
        return f.readlines()


# google-research rouge/rouge_scorer_test.py (commit 066e6a1): ROUGE-1.5.5 perl outputs for
# testdata/target.txt vs testdata/prediction.txt, lines 0 and 1: (type, stem, line, R, P, F).
ROUGE155 = [
    ("rouge1", False, 0, 0.40741, 0.68750, 0.51163),  # testRouge1AgainstRouge155
    ("rouge1", False, 1, 0.40476, 0.65385, 0.50000),
    ("rouge1", True, 0, 0.40741, 0.68750, 0.51163),  # testRouge1AgainstRouge155WithStemming
    ("rouge1", True, 1, 0.42857, 0.69231, 0.52941),
    ("rouge2", False, 0, 0.30769, 0.53333, 0.39024),  # testRouge2AgainstRouge155
    ("rouge2", False, 1, 0.29268, 0.48000, 0.36364),
    ("rouge2", True, 0, 0.30769, 0.53333, 0.39024),  # testRouge2AgainstRouge155WithStemming
    ("rouge2", True, 1, 0.29268, 0.48000, 0.36364),
    ("rougeL", False, 0, 0.40741, 0.68750, 0.51163),  # testRougeLAgainstRouge155
    ("rougeL", False, 1, 0.40476, 0.65385, 0.50000),
]


@pytest.mark.parametrize("rouge_type, stem, line, recall, precision, fmeasure", ROUGE155)
def test_against_rouge155(root, rouge_type, stem, line, recall, precision, fmeasure):
    target = _lines(root, "target.txt")[line]
    prediction = _lines(root, "prediction.txt")[line]
    f, p, r = rouge_prf(rouge_type, "en", prediction, [target], stem=stem)
    assert (r, p, f) == pytest.approx((recall, precision, fmeasure), abs=5e-6)


def test_rougelsum_against_rouge155_with_stemming(root):
    # testRougeLSumAgainstRouge155WithStemming: pyrouge_files/{target,prediction}_multi.0.txt
    target = (root / ROUGE_DATA / "target_multi.0.txt").read_text(encoding="utf-8")
    prediction = (root / ROUGE_DATA / "prediction_multi.0.txt").read_text(encoding="utf-8")
    f, p, r = rouge_prf("rougeLsum", "en", prediction, [target], stem=True)
    assert (r, p, f) == pytest.approx((0.36538, 0.66667, 0.47205), abs=5e-6)


# rouge_scorer_test.py's small cases: (type, target, prediction, P, R, F)
SMALL = [
    ("rouge1", "testing one two", "testing", 1, 1 / 3, 1 / 2),  # testRouge1
    ("rouge2", "testing one two", "testing one", 1, 1 / 2, 2 / 3),  # testRouge2
    ("rougeL", "testing one two", "testing one", 1, 2 / 3, 4 / 5),  # testRougeLConsecutive
    ("rougeL", "testing one two", "testing two", 1, 2 / 3, 4 / 5),  # testRougeLNonConsecutive
    ("rouge1", "testing one two", "", 0, 0, 0),  # testRougeEmpty
    ("rouge2", "testing one two", "", 0, 0, 0),
    ("rougeL", "testing one two", "", 0, 0, 0),
    ("rougeLsum", "testing one two", "", 0, 0, 0),
    # testRougeLsum = Lin (2004) §3.2's summary-level example: r = w1..w5, c1 = w1 w2 w6 w7 w8,
    # c2 = w1 w3 w8 w9 w5; union LCS = w1 w2 w3 w5 → R = 4/5, P = 4/10, F = 0.5333
    ("rougeLsum", "w1 w2 w3 w4 w5", "w1 w2 w6 w7 w8\nw1 w3 w8 w9 w5", 0.4, 0.8, 2 * 0.4 * 0.8 / 1.2),
    ("rougeLsum", "", "w1", 0, 0, 0),
    ("rougeLsum", "w1 w2 w3 w4 w5", "/", 0, 0, 0),
]


@pytest.mark.parametrize("rouge_type, target, prediction, precision, recall, fmeasure", SMALL)
def test_rouge_score_unit_cases(rouge_type, target, prediction, precision, recall, fmeasure):
    f, p, r = rouge_prf(rouge_type, "en", prediction, [target], stem=False)
    assert (p, r, f) == pytest.approx((precision, recall, fmeasure))


# Lin (2004) §3.1: reference S1 = "police killed the gunman";
# S2 "police kill the gunman": LCS = police the gunman (3/4); S3 "the gunman kill police": LCS =
# the gunman (2/4). ROUGE-2 cannot tell them apart: one shared bigram each ("the gunman") of 3.
LIN = [
    ("rougeL", "police kill the gunman", 3 / 4),
    ("rougeL", "the gunman kill police", 2 / 4),
    ("rouge2", "police kill the gunman", 1 / 3),
    ("rouge2", "the gunman kill police", 1 / 3),
]


@pytest.mark.parametrize("rouge_type, candidate, expected", LIN)
def test_lin_2004_examples(rouge_type, candidate, expected):
    f, p, r = rouge_prf(rouge_type, "en", candidate, ["police killed the gunman"], stem=False)
    assert (f, p, r) == pytest.approx((expected,) * 3)


def test_lin_example_with_stemming_matches_kill_killed():
    # Porter stemming maps "killed" → "kill": S2 then matches the reference entirely
    f, _, _ = rouge_prf("rougeL", "en", "police kill the gunman", ["police killed the gunman"])
    assert f == pytest.approx(1.0)


# Chinese, character level (tok:char), hand-computed.
ZH = [
    # repeated characters: hyp 哈×3, ref 哈×2 → clipped overlap 2: P = 2/3, R = 1, F = 2·(2/3)/(5/3) = 0.8
    ("rouge1", "哈哈哈", ["哈哈"], 0.8),
    # bigrams 哈哈×2 vs 哈哈×1 → overlap 1: P = 1/2, R = 1, F = 2/3
    ("rouge2", "哈哈哈", ["哈哈"], 2 / 3),
    ("rougeL", "哈哈哈", ["哈哈"], 0.8),  # LCS 哈哈 = 2: same P, R as ROUGE-1
    # two references, best F wins: vs 我爱上海 {我, 爱} = 2/4; vs 他爱北京 {爱, 北, 京} = 3/4 → 0.75
    ("rouge1", "我爱北京", ["我爱上海", "他爱北京"], 0.75),
    # bigrams 我爱 爱北 北京: 1/3 vs ref 1, 2/3 vs ref 2 (爱北, 北京) → 2/3
    ("rouge2", "我爱北京", ["我爱上海", "他爱北京"], 2 / 3),
    # sentence order: ROUGE-L over the whole text finds LCS 我们去公园 = 5 of 9 characters...
    ("rougeL", "天气很好。我们去公园。", ["我们去公园。天气很好。"], 5 / 9),
    # ...ROUGE-Lsum splits after 。 and takes each reference sentence's union LCS: 5 + 4 = 9 of 9
    ("rougeLsum", "天气很好。我们去公园。", ["我们去公园。天气很好。"], 1.0),
    # mixed Latin/CJK: tokens [gpt4 发 布 了] vs [gpt4 模 型 发 布]: 3 shared, P = 3/4, R = 3/5 → F = 2/3
    ("rouge1", "GPT4发布了", ["GPT4模型发布"], 2 / 3),
    # bigrams (gpt4 发)(发 布)(布 了) vs (gpt4 模)(模 型)(型 发)(发 布): 1 shared, P = 1/3, R = 1/4 → F = 2/7
    ("rouge2", "GPT4发布了", ["GPT4模型发布"], 2 / 7),
    # Traditional vs Simplified: after OpenCC t2s both are 今天天气很好 → 1.0
    ("rouge1", "今天天氣很好", ["今天天气很好"], 1.0),
    # full-width Latin/digits fold to ASCII under NFKC: ＧＰＴ４ = GPT4
    ("rouge1", "ＧＰＴ４发布", ["GPT4发布"], 1.0),
]


@pytest.mark.parametrize("rouge_type, hyp, refs, expected", ZH)
def test_chinese_hand_computed(rouge_type, hyp, refs, expected):
    f, _, _ = rouge_prf(rouge_type, "zh", hyp, refs)
    assert f == pytest.approx(expected)


def test_what_goes_wrong_without_chinese_handling():
    # rouge-score's default tokenizer keeps only [a-z0-9]: "GPT4发布了" vs "GPT4模型发布" is a
    # "perfect" 1.0 and pure Chinese is 0 — the failure this package exists to prevent
    default = rouge_scorer.RougeScorer(["rouge1"])
    assert default.score("GPT4模型发布", "GPT4发布了")["rouge1"].fmeasure == 1.0
    assert default.score("今天天气很好", "今天天气很好")["rouge1"].fmeasure == 0.0
    # without t2s the Traditional 氣 misses: 5 of 6 characters
    raw = rouge_scorer.RougeScorer(["rouge1"], tokenizer=CharTokenizer())
    assert raw.score("今天天气很好", "今天天氣很好")["rouge1"].fmeasure == pytest.approx(5 / 6)


def test_english_tokenizer_on_chinese_raises():
    with pytest.raises(ScoringError, match="reference 1 of item 1: tokenizer .rouge-default. would drop 4 of its 5"):
        score("summarize_en", ["GPT4发布了"], [["GPT4模型发布"]])
    # an off-target hypothesis is scored as it is (its Chinese earns nothing) and counted
    r1 = score("summarize_en", ["a fine day", "今天天气很好，我们去公园"], [["a fine day"], ["a nice day out"]], ["rouge1"])[0]
    assert r1.off_target == 1 and r1.value == pytest.approx((100 + 0) / 2)


# ---- equality with direct rouge-score calls (same tokenizer, same prepared text) ----

ZH_CHARS = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处理府研质"


def _random_zh(rng: random.Random) -> tuple[str, list[str]]:
    """A reference and a perturbed hypothesis, with sentence ends, Latin words and digits."""

    def sentence(k):
        parts = [rng.choice(ZH_CHARS) for _ in range(k)]
        if rng.random() < 0.3:
            parts.insert(rng.randrange(len(parts) + 1), rng.choice(["GPT4", "AI", "2024年", "OpenAI "]))
        return "".join(parts) + rng.choice(["。", "！", "？", "，", ""])

    ref = "".join(sentence(rng.randint(3, 12)) for _ in range(rng.randint(1, 4)))
    chars = list(ref)
    for _ in range(rng.randint(0, len(chars))):
        op = rng.random()
        i = rng.randrange(len(chars) + 1)
        if op < 0.4 and chars:
            chars.pop(min(i, len(chars) - 1))
        elif op < 0.7:
            chars.insert(i, rng.choice(ZH_CHARS))
        else:
            chars.insert(i, rng.choice("。！\n"))
    return "".join(chars), [ref, "".join(rng.sample(ref, len(ref)))]


def _random_en(rng: random.Random) -> tuple[str, list[str]]:
    words = "the police killed gunman running runs quickly market stocks fell rising rates bank said on Monday".split()

    def text():
        sents = []
        for _ in range(rng.randint(1, 3)):
            sents.append(" ".join(rng.choice(words) for _ in range(rng.randint(2, 9))).capitalize() + rng.choice([".", "!", "?"]))
        return " ".join(sents)

    return text(), [text(), text()]


@pytest.mark.parametrize(
    "lang, tokenizer, make",
    [("zh", "char", _random_zh), ("zh", "jieba", _random_zh), ("en", None, _random_en)],
)
def test_equals_direct_rouge_score(lang, tokenizer, make):
    """Our per-item (F, P, R) = rouge-score's ``score_multi`` with the same tokenizer on the same
    prepared text (normalised, one sentence per line)."""
    rng = random.Random(7)
    items = [make(rng) for _ in range(150)]
    hyps = [h for h, _ in items]
    refs = [r for _, r in items]
    metrics = [get_metric(name, lang, tokenizer=tokenizer) for name in ("rouge1", "rouge2", "rougeL", "rougeLsum")]
    ours = type(metrics[0]).stats_for(metrics, hyps, refs)
    tok = {"char": CharTokenizer, "jieba": JiebaTokenizer}[tokenizer]() if tokenizer else EnglishTokenizer(stem=True)
    direct = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL", "rougeLsum"], tokenizer=tok)
    prepare = metrics[0].prepare
    multi_sentence = 0
    for i, (hyp, item_refs) in enumerate(zip(hyps, refs)):
        expected = direct.score_multi([prepare(r) for r in item_refs], prepare(hyp))
        multi_sentence += "\n" in prepare(hyp)
        for metric, stats in zip(metrics, ours):
            s = expected[metric.name]
            assert tuple(stats[i] / 100) == pytest.approx((s.fmeasure, s.precision, s.recall), abs=1e-12), (metric.name, hyp, item_refs)
    assert multi_sentence > 20  # the summary-level (multi-sentence) path was exercised


def test_lcs_length_equals_rouge_score_table():
    rng = random.Random(3)
    for _ in range(500):
        a = [rng.choice("abcde") for _ in range(rng.randint(0, 40))]
        b = [rng.choice("abcde") for _ in range(rng.randint(0, 70))]
        expected = rouge_scorer._lcs_table(a, b)[-1][-1] if a and b else 0
        assert lcs_length(a, b) == expected


@pytest.mark.parametrize(
    "text, lang, sentences",
    [
        ("天气很好。我们去公园！真的吗？好", "zh", ["天气很好。", "我们去公园！", "真的吗？", "好"]),
        ("第一行\n第二行。第三句", "zh", ["第一行", "第二行。", "第三句"]),
        ("Stocks fell. Rates rose! Why? Mr. Smith said so.", "en", ["Stocks fell.", "Rates rose!", "Why?", "Mr.", "Smith said so."]),
        ("Version 2.0 shipped. \"Great,\" he said.", "en", ["Version 2.0 shipped.", "\"Great,\" he said."]),
    ],
)
def test_lsum_sentence_split(text, lang, sentences):
    assert split_sentences(text, lang) == sentences


def test_signature_and_precision_recall():
    [s] = score("summarize_zh", ["GPT4发布了"], [["GPT4模型发布", "GPT4发布"]], ["rouge2"])
    assert s.signature == "rouge2|lang:zh|tok:char|norm:t2s+nfkc|stem:no|refs:2|agg:mean-f|rouge-score:0.1.2"
    # best reference GPT4发布: bigrams (gpt4 发)(发 布) both in the hypothesis → P = 2/3, R = 1
    assert (s.value, s.precision, s.recall) == pytest.approx((80.0, 200 / 3, 100.0))
    [en] = score("summarize_en", ["The gunman was killed."], [["Police killed the gunman."]], ["rougeLsum"])
    assert en.signature == "rougeLsum|lang:en|tok:rouge-default|norm:none|stem:porter|split:nl+en-punct|refs:1|agg:mean-f|rouge-score:0.1.2"
    jieba = get_metric("rouge1", "zh", tokenizer="jieba")
    assert jieba.signature(1).startswith("rouge1|lang:zh|tok:jieba-0.42")


def test_corpus_value_is_mean_of_item_f():
    hyps, refs = ["哈哈哈", "我爱北京"], [["哈哈"], ["他爱北京"]]
    [s] = score("summarize_zh", hyps, refs, ["rouge1"])
    per_item = item_scores("summarize_zh", hyps, refs, ["rouge1"])["rouge1"]
    assert per_item == pytest.approx([80.0, 75.0])
    assert s.value == pytest.approx(77.5)


def test_unknown_tokenizer_is_an_error():
    with pytest.raises(HarnessError, match="unknown tokenizer 'words'"):
        get_metric("rouge1", "zh", tokenizer="words").signature(1)


def test_normalisation_is_t2s_and_nfkc():
    # t2s converts characters (軟體 → 软体), not regional vocabulary (软件 would need tw2sp)
    assert normalize_zh("臺灣的軟體，ＡＩ１２３") == "台湾的软体,AI123"
