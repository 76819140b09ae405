"""Passages (harness/data/passages.py, docs/data.md "Passages") and the checks of their reference
summaries (harness/data/reference_checks.py, GUIDELINES §1.1)."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import pytest

from harness.data.passages import Paragraph, document_passages, even_cuts, interviewer, is_heading, split_passages
from harness.data.reference_checks import problems, written_numbers
from harness.data.references import PassageFile, load_references
from harness.data.seeds import load_documents

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def docs():
    return load_documents(ROOT / "seeds")


@pytest.fixture(scope="module")
def passages(docs):
    return {d.id: document_passages(d) for d in docs}


@pytest.mark.parametrize(("text", "segments", "heading"), [
    ("前所未有的变革", 1, True),
    ("相關政策建議", 1, True),
    ("ChatGPT具有里程碑意義將引發新一輪人工智能革命", 1, True),
    ("缺少高質量訓練數據。", 1, False),  # ends in a full stop: a point, not a heading
    ("以下为专访问题:", 1, False),
    ("白马商评：研发大模型的核心壁垒是什么？", 1, False),
    ("前所未有的变革" * 5, 1, False),  # over 30 characters
    ("两句话的段落没有句号", 2, False),
])
def test_is_heading(text, segments, heading):
    assert is_heading(Paragraph("x-p01", text, tuple(f"x-p01-s{i}" for i in range(segments)))) is heading


@pytest.mark.parametrize(("texts", "asker"), [
    (["导语。", "白马商评：问？", "沈为：答。", "白马商评：又问？", "沈为：又答。"], "白马商评"),
    (["机器之心:问?", "王延峰:答。", "机器之心:再问?"], "机器之心"),
    (["一段。", "另一段。"], None),
    (["张三：只说了一次。", "正文。"], None),  # a label must open two paragraphs
])
def test_interviewer(texts, asker):
    assert interviewer([Paragraph(f"x-p{i:02d}", t, ("s",)) for i, t in enumerate(texts)]) == asker


@pytest.mark.parametrize(("lengths", "k", "cuts"), [
    ([100, 100, 100, 100], 2, [2]),
    ([300, 100, 100, 100], 2, [1]),
    ([100, 100, 100], 3, [1, 2]),
    ([100, 100, 100], 1, []),
    ([50, 50], 5, [1]),  # never more passages than units
])
def test_even_cuts(lengths, k, cuts):
    assert even_cuts(lengths, k) == cuts


def test_a_question_is_never_cut_from_its_answer():
    texts = ["白马商评：问一？", "沈为：" + "答" * 400, "补充。" * 50, "白马商评：问二？", "沈为：" + "答" * 400]
    paragraphs = [Paragraph(f"x-p{i:02d}", t, (f"x-p{i:02d}-s01",)) for i, t in enumerate(texts, 1)]
    assert [p.paragraph_ids for p in split_passages("x", paragraphs)] == [("x-p01", "x-p02", "x-p03"), ("x-p04", "x-p05")]


def test_the_dataset_has_38_passages_pinned(passages):
    counts = {doc: len(ps) for doc, ps in passages.items()}
    assert counts == {"000": 9, "001": 5, "002": 5, "003": 11, "004": 8}
    ids = "\n".join(p.id for ps in passages.values() for p in ps)
    assert hashlib.sha256(ids.encode()).hexdigest()[:16] == PASSAGE_IDS_SHA256
    lengths = [len(p.text) for ps in passages.values() for p in ps]
    assert (min(lengths), max(lengths), sorted(lengths)[18:20]) == (300, 921, [671, 676])


PASSAGE_IDS_SHA256 = hashlib.sha256("\n".join([
    "000-p01-p06", "000-p07-p11", "000-p12-p15", "000-p16-p20", "000-p21-p25", "000-p26-p30", "000-p31-p34",
    "000-p35-p40", "000-p41-p44", "001-p01-p03", "001-p04-p09", "001-p10-p17", "001-p18-p21", "001-p22-p29",
    "002-p01-p02", "002-p03-p04", "002-p05-p07", "002-p08", "002-p09", "003-p01-p04", "003-p05-p09", "003-p10-p14",
    "003-p15-p19", "003-p20-p25", "003-p26-p33", "003-p34-p39", "003-p40-p45", "003-p46-p50", "003-p51-p55",
    "003-p56-p61", "004-p01-p02", "004-p03-p09", "004-p10-p19", "004-p20-p27", "004-p28-p33", "004-p34-p37",
    "004-p38-p43", "004-p44-p49"]).encode()).hexdigest()[:16]


def test_passages_cover_every_segment_once_in_order_and_never_cross_a_section(docs, passages):
    for d in docs:
        ps = passages[d.id]
        assert [s for p in ps for s in p.segment_ids] == [s.id for s in d.segments]
        assert "\n".join(p.text for p in ps) == d.text
        assert "\n".join(p.text_simplified for p in ps) == d.text_simplified
        headings = {d.paragraph_id(i) for i, seg in enumerate(d.paragraphs, 1)
                    if is_heading(Paragraph("", "".join(s.zh for s in seg), tuple(s.id for s in seg)))}
        for p in ps:
            assert not headings & set(p.paragraph_ids[1:]), p.id  # a heading only ever opens a passage


# --- the passage reference checks ------------------------------------------------------------


@pytest.fixture(scope="module")
def refs(docs):
    return load_references(ROOT / "references", [d.id for d in docs])


def test_the_shipped_passage_references_pass(docs, refs):
    assert problems(refs, docs) == []
    assert sum(len(f.passages) for f in refs.passages.values()) == 2 * 38


def _with_text(refs, doc_id, language, passage_id, reference, text):
    f = refs.passages[doc_id, language]
    summaries = tuple(dataclasses.replace(s, text=text) if s.reference == reference else s
                      for s in f.passages[passage_id])
    changed = PassageFile(f.path, f.doc_id, f.language, f.provenance, {**f.passages, passage_id: summaries})
    return dataclasses.replace(refs, passages={**refs.passages, (doc_id, language): changed})


@pytest.mark.parametrize(("language", "text", "rule"), [
    ("zh", "短。", "zh passage summary length outside 50–110 characters"),
    ("zh", "据报道，" + "大模型" * 40, "zh passage summary length outside 50–110 characters"),
    ("zh", "梁正說大模型的發展速度超出預期，" * 4, "Chinese summary not in Simplified script"),
    ("zh", "梁正说，国内已有大模型12345个，发展速度远超预期，而且各行各业都在积极布局，应用前景广阔，值得期待。", "number in a summary that is not in its article"),
    ("en", "Too short.", "en passage summary length outside 30–65 words"),
    ("en", "Liang Zheng says China already has 4,321 large models and that the pace of development " * 1
           + "has surprised everyone in the industry, with applications spreading across every sector of the economy.",
     "number in a summary that is not in its article"),
    ("en", "Liang Zheng 说 that large models are spreading fast across industries, with many firms racing to "
           "launch their own and experts warning that the boom needs sober thinking about costs and risks.",
     "CJK characters in English"),
])
def test_a_bad_passage_summary_is_named(docs, refs, language, text, rule):
    changed = _with_text(refs, "000", language, "000-p01-p06", "A", text)
    found = problems(changed, docs)
    assert [p.rule for p in found] == [rule]
    assert found[0].id.startswith("000-p01-p06/" + language + "/A")


def test_a_missing_passage_is_named(docs, refs):
    f = refs.passages["002", "en"]
    kept = {k: v for k, v in f.passages.items() if k != "002-p08"}
    changed = dataclasses.replace(refs, passages={**refs.passages, ("002", "en"): dataclasses.replace(f, passages=kept)})
    assert [(p.rule, p.id) for p in problems(changed, docs)] == [("passage without summaries", "002-p08/en")]


@pytest.mark.parametrize(("text", "language", "numbers"), [
    ("GPT-3 has 175 billion parameters and cost $4.6 million", "en", {"3", "175000000000", "4600000"}),
    ("60,000–70,000 yuan each, 600–700 million yuan in all", "en", {"60000", "70000", "600000000", "700000000"}),
    ("a 137-billion-parameter model", "en", {"137000000000"}),
    ("both models, first of three", "en", set()),  # numbers in words are not checked
    ("参数规模达1750亿，2026年八成企业使用", "zh", {"175000000000", "2026"}),
    ("1.75万亿参数", "zh", {"1750000000000"}),
])
def test_written_numbers(text, language, numbers):
    assert written_numbers(text, language) == numbers
