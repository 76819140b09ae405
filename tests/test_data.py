"""The cleaned dataset, checked on the real seeds."""

import hashlib
import re
import unicodedata

import pytest

from harness.data.rules import SEEDS, SEEDS_BY_ID

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize("spec", SEEDS, ids=lambda s: s.doc_id)
def test_seeds_are_byte_identical_to_the_pinned_originals(root, spec):
    data = (root / "seeds" / spec.filename).read_bytes()
    assert hashlib.sha256(data).hexdigest() == spec.sha256
    shared = root.parent / "shared" / "seeds" / spec.filename
    if shared.exists():  # present in the development checkout and in CI
        assert shared.read_bytes() == data


@pytest.mark.parametrize(
    "doc_id, absent",
    [
        ("000", ["均视觉中国", "奥特曼(左)", "发展时间线", "孙钦祺", "制图", "张继", "上接第一版", "联影", "■", "**", "2015年"]),
        ("001", ["标题:", "链接:", "总结:", "文|", "举报/反馈", "关键词", "AI技术:", "行业:", "重大事件摘要"]),
        ("002", ["访客", "131", "作者:", "来源:", "·"]),
        ("004", ["首頁", "|最新資訊", "資料圖", "圖ChatGPT發展路徑", "表ChatGPT主要應用場景", "關鍵詞", "責任編輯", "Rex_23", "推薦閱讀", "?", "？"]),
    ],
)
def test_chrome_and_unrelated_text_are_gone(documents, doc_id, absent):
    text = documents[doc_id].text
    for piece in absent:
        assert piece not in text, piece


@pytest.mark.parametrize(
    "doc_id, sentence",
    [
        ("000", "业界认为,800亿参数是大模型得以涌现的“门槛”,这意味着全球有多个大模型可能涌现智能。"),
        ("000", "“与上半年的烈火烹油相比,下半年大家对大模型的态度务实了许多,"),
        ("000", "此前,这位母亲已经带着孩子求医3年,求助了17位医生,都没有诊断出原因。"),
        ("000", "“我们的算法非常简单。”"),
        ("004", "網頁爬取 (訓練GPT-3爬取了31億個網頁,約3000億詞)"),
        ("004", "一是在最具挑戰性的自然語言處理領域實現了革命性突破。"),
        ("004", "ChatGPT具有里程碑意義將引發新一輪人工智能革命"),
    ],
)
def test_broken_sentences_are_whole_and_repairs_applied(documents, doc_id, sentence):
    segments = [s.zh for s in documents[doc_id].segments]
    assert any(sentence in s for s in segments), sentence


def test_metadata(documents):
    m0, m1, m2, m4 = (documents[i].metadata for i in ("000", "001", "002", "004"))
    assert m0["title"] == "大模型爆火这一年" and m0["author"] == "沈滢莎"
    assert m0["sidebar"].startswith("- 2015年 12月11日 OpenAI由埃隆·马斯克") and "孙钦祺" not in m0["sidebar"]
    assert m1["url"].startswith("https://baijiahao.baidu.com/s?id=1770461794592856916")
    assert m1["keywords"] == ["大模型", "AI安全性", "技术发展"]
    assert m1["publisher_summary"].startswith("这篇文章中的重大事件包括")
    assert m2["publisher_summary"].count("\n") == 1 and m2["publisher_summary"].startswith("通用人工智能是人类历史上")
    assert m2["author"].startswith("肖仰华")
    assert m4["title"] == "從戰略高度重視ChatGPT引發的新一輪人工智能革命"
    assert documents["004"].script == "Hant" and {d.script for k, d in documents.items() if k != "004"} == {"Hans"}


def test_interview_turns_are_kept_as_paragraph_starts(documents):
    starts = [p[0].zh.split(":")[0] for p in documents["003"].paragraphs if ":" in p[0].zh[:6]]
    assert starts.count("机器之心") == 12 and starts.count("王延峰") == 12  # as in the seed (grep -c)
    turns = [p[0].zh[:5] for p in documents["001"].paragraphs[1:]]
    assert all(t.startswith(("白马商评：", "沈为：")) for t in turns)


PINYIN_SYLLABLE = re.compile(r"^(zh|ch|sh|[bpmfdtnlgkhjqxrzcsyw])?(i|u|ü|v)?[aeiouüv]{1,2}(ng|n|r)?$")


def strip_tones(s: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", s) if not unicodedata.combining(c)).replace("u\u0308", "ü")


def test_004_pinyin_annotations_removed_and_nothing_else(root):
    from harness.data.clean import apply_rule

    spec = SEEDS_BY_ID["004"]
    raw = (root / "seeds" / spec.filename).read_text(encoding="utf-8")
    rules = {r.name: r for r in spec.rules}
    repaired = raw
    for name in ("mojibake-crawl", "mojibake-realise"):
        repaired, _, _ = apply_rule(rules[name], repaired, "004")
    ours, result, _ = apply_rule(rules["pinyin-annotations"], repaired, "004")
    # An independent formulation: a parenthesised run of lower-case (accented) Latin letters.
    theirs = re.sub(r"\((?:(?![A-Z0-9 ])[^\W\d_\u4e00-\u9fff])+\)", "", repaired)
    assert ours == theirs
    assert CJK.findall(ours) == CJK.findall(repaired)  # no CJK character lost
    assert all(PINYIN_SYLLABLE.match(strip_tones(a.strip("()"))) for a in result.removed)
    assert not re.search(r"\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+\)", ours)


def test_004_clean_text_has_no_annotation_and_a_simplified_rendering(documents):
    doc = documents["004"]
    assert not re.search(r"\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+\)", doc.text)
    assert "國" in doc.text and "國" not in doc.text_simplified and "国" in doc.text_simplified
    assert len(doc.text_simplified) == len(doc.text)
    assert [s.zh_simplified for s in doc.segments][0].startswith("ChatGPT是一款由美国OpenAI公司开发")
    hans = documents["000"]
    assert hans.text_simplified == hans.text


@pytest.mark.parametrize("doc_id", [s.doc_id for s in SEEDS])
def test_segments_round_trip_to_the_cleaned_text(documents, doc_id):
    doc = documents[doc_id]
    assert "\n".join("".join(s.zh for s in p) for p in doc.paragraphs) == doc.text
    assert "\n".join("".join(s.zh_simplified for s in p) for p in doc.paragraphs) == doc.text_simplified
    for seg in doc.segments:
        assert seg.zh == seg.zh.strip() and seg.zh
        assert re.fullmatch(rf"{doc_id}-p\d\d-s\d\d", seg.id)
    assert len({s.id for s in doc.segments}) == len(doc.segments)


# Pinned: any change to cleaning or segmentation changes the ids references point at.
SEGMENTATION_DIGEST = "f73a839af15efcac70e6816df846cebf8dcfdf9e10f6ce457508819d3b73ca3c"
# The digest before the `figure-reference` rule (issue 11): with its one removal put back, every id
# and every other text is unchanged.
DIGEST_BEFORE_FIGURE_RULE = "d1b28f903dc4e5979c1a28039bc0c977f84072b67c481e2ce0aca80ba459ec71"


def _segmentation_digest(documents, restore: dict[str, tuple[str, str]] | None = None) -> str:
    def text(s):
        if restore and s.id in restore:
            before, after = restore[s.id]
            return s.zh.replace(before, after, 1)
        return s.zh

    lines = "\n".join(f"{s.id}\t{text(s)}" for d in documents.values() for s in d.segments)
    return hashlib.sha256(lines.encode()).hexdigest()


def test_segment_ids_and_texts_are_stable(documents):
    assert sum(len(d.segments) for d in documents.values()) == 511
    assert _segmentation_digest(documents) == SEGMENTATION_DIGEST
    assert documents["000"].segments[0].zh == "“太忙了。”"
    assert next(s for s in documents["000"].segments if s.id == "000-p12-s02").zh == "“我们的算法非常简单。”"


def test_figure_reference_rule_changes_only_004_p06_s01(documents):
    p06 = next(s for s in documents["004"].segments if s.id == "004-p06-s01")
    assert p06.zh.startswith("ChatGPT的發展經歷了3個階段,前期GPT-1") and "如下圖所示" not in documents["004"].text
    restored = _segmentation_digest(documents, {"004-p06-s01": ("3個階段,", "3個階段 (如下圖所示),")})
    assert restored == DIGEST_BEFORE_FIGURE_RULE
