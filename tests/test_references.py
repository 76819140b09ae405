"""The references: validation rules on broken copies, the number normaliser, the new configs, `refs`."""

import json
import shutil
from decimal import Decimal

import pytest
import yaml

from harness.data.numbers import missing_numbers, parse_chinese_numeral, source_numbers, target_numbers

# --- number normalisation ---------------------------------------------------------------------

# The examples of references/GUIDELINES.md §2 ("Numbers, dates, units, currencies"): each Chinese
# phrase and its prescribed English must agree, and the value is the one the guideline states.
GUIDELINE_PAIRS = [
    ("1万张", "10,000", ["10000"]),
    ("1万张", "10 thousand", ["10000"]),
    ("1750亿", "175 billion", ["175000000000"]),
    ("1.75万亿", "1.75 trillion", ["1750000000000"]),
    ("900亿美元", "$90 billion", ["90000000000"]),
    ("六七个亿", "600–700 million yuan", ["600000000", "700000000"]),
    ("六七万", "60,000–70,000 yuan", ["60000", "70000"]),
    ("3月", "March", ["3"]),
    ("11月30日", "30 November", ["11", "30"]),
    ("五天", "five days", ["5"]),
    ("两倍", "twice", ["2"]),
    ("百亿美元", "tens of billions of dollars", ["10000000000"]),
]


@pytest.mark.parametrize("zh, en, values", GUIDELINE_PAIRS, ids=[f"{z}->{e}" for z, e, _ in GUIDELINE_PAIRS])
def test_guideline_examples_are_preserved(zh, en, values):
    assert source_numbers(zh) == values
    assert set(values) <= target_numbers(en)
    assert missing_numbers(zh, en) == []


@pytest.mark.parametrize(
    "zh, en, missing",
    [
        ("1750亿参数", "17.5 billion parameters", ["175000000000"]),  # wrong power of ten
        ("1万张", "1,000 cards", ["10000"]),
        ("六七个亿", "600 million yuan", ["700000000"]),  # half of the range dropped
        ("11月30日", "30 October", ["11"]),  # wrong month
        ("五天", "four days", ["5"]),
        ("15个重点国家", "key countries", ["15"]),
        ("增长3.5%和1.8%", "grew by 3.5%", ["1.8"]),
    ],
)
def test_dropped_or_changed_numbers_are_found(zh, en, missing):
    assert missing_numbers(zh, en) == missing


@pytest.mark.parametrize(
    "zh, values",
    [
        ("一千二百三十四", ["1234"]),
        ("二〇二三年", ["2023"]),  # a year written digit by digit
        ("三亿五千万", ["350000000"]),
        ("一万亿", ["1000000000000"]),
        ("一个亿", ["100000000"]),  # 一 counts when it carries a multiplier
        ("十五六个", ["15", "16"]),
        ("两三分钟", ["2", "3"]),
        ("二十多年", ["20"]),
        ("300多万年前", ["3000000"]),
        ("60 万 H100", ["600000", "100"]),
        ("31億個網頁,約3000億詞", ["3100000000", "300000000000"]),  # Traditional script
        ("百分之三十", ["30"]),
        ("第十六届", ["16"]),
        ("一个模型、一种方法", []),  # 一 alone: "a", "one" or nothing
        ("十几个、数百家、几十种", []),  # approximate amounts
        ("百度百科十分零散", []),  # numeral characters inside words
        ("1个百分点", ["1"]),  # 百分点 = percentage point, not 100
        ("1,000元和2,500.5元", ["1000", "2500.5"]),
        ("GPT-3.5和GPT4", ["3.5", "4"]),
    ],
)
def test_source_numbers(zh, values):
    assert source_numbers(zh) == values


@pytest.mark.parametrize(
    "en, values",
    [
        ("more than 3 million years ago", {"3000000"}),
        ("twenty-five models and thirty one", {"25", "31"}),
        ("a battle of a hundred models", {"100"}),
        ("a trillion-parameter model", {"1000000000000"}),
        ("hundreds of millions of users", {"100000000"}),
        ("the 16th Congress, the second session", {"16", "2"}),
        ("over the past decade", {"10"}),
        ("between 60 and 70 thousand", {"60", "60000", "70000"}),
        ("3.5% and 1.8%", {"3.5", "1.8"}),
        ("On 26 January 2024", {"26", "1", "2024"}),
    ],
)
def test_target_numbers(en, values):
    assert target_numbers(en) == values


@pytest.mark.parametrize(
    "text, value",
    [("十", 10), ("十五", 15), ("二十", 20), ("一百零五", 105), ("两千", 2000), ("一万二千", 12000),
     ("五亿", 500_000_000), ("三亿五千万", 350_000_000)],
)
def test_parse_chinese_numeral(text, value):
    assert parse_chinese_numeral(text) == Decimal(value)


def test_parse_chinese_numeral_rejects_other_text():
    with pytest.raises(ValueError):
        parse_chinese_numeral("三个")


# --- validation on deliberately broken copies ----------------------------------------------------


@pytest.fixture
def copies(root, tmp_path):
    """Copies of seeds/ and references/; the real files are never touched."""
    shutil.copytree(root / "seeds", tmp_path / "seeds")
    shutil.copytree(root / "references", tmp_path / "references")
    return tmp_path / "seeds", tmp_path / "references"


def _edit_jsonl(refs, doc_id, edit):
    path = refs / "translations" / "en" / f"{doc_id}.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    rows = edit(rows)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def _set(rows, segment_id, **values):
    for r in rows:
        if r["segment_id"] == segment_id:
            r.update(values)
    return rows


def _en(rows, segment_id):
    return next(r["en"] for r in rows if r["segment_id"] == segment_id)


def _edit_yaml(path, edit):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _summary(refs, language, doc_id, reference, text):
    def edit(data):
        next(s for s in data["summaries"] if s["reference"] == reference)["text"] = text

    _edit_yaml(refs / "summaries" / language / f"{doc_id}.yaml", edit)


def _summary_text(refs, language, doc_id, reference):
    data = yaml.safe_load((refs / "summaries" / language / f"{doc_id}.yaml").read_text(encoding="utf-8"))
    return next(s["text"] for s in data["summaries"] if s["reference"] == reference)


DAMAGES = {
    "missing-segment": (
        lambda r: _edit_jsonl(r, "001", lambda rows: [x for x in rows if x["segment_id"] != "001-p01-s05"]),
        "segment without a translation: 001-p01-s05",
    ),
    "duplicate-segment": (
        lambda r: _edit_jsonl(r, "001", lambda rows: rows[:3] + rows[2:]),
        "segment translated more than once: 001-p01-s03",
    ),
    "unknown-segment": (
        lambda r: _edit_jsonl(r, "002", lambda rows: rows + [{"segment_id": "002-p99-s01", "zh": "无", "en": "None."}]),
        "translation of an unknown segment: 002-p99-s01",
    ),
    "out-of-order": (
        lambda r: _edit_jsonl(r, "003", lambda rows: [rows[1], rows[0], *rows[2:]]),
        "translations out of segment order: 003",
    ),
    "drifted-zh": (
        lambda r: _edit_jsonl(r, "000", lambda rows: _set(rows, "000-p02-s02", zh="在记者询问过的每一个人中,“忙”是出现频率最高的词。")),
        "zh differs from the cleaned segment: 000-p02-s02",
    ),
    "cjk-in-english": (
        lambda r: _edit_jsonl(r, "002", lambda rows: _set(rows, "002-p01-s01", en=_en(rows, "002-p01-s01") + " 大模型")),
        "CJK characters in English: 002-p01-s01",
    ),
    "cjk-in-english-summary": (
        lambda r: _summary(r, "en", "004", "B", _summary_text(r, "en", "004", "B").replace("ChatGPT", "ChatGPT（聊天）", 1)),
        "CJK characters in English: 004/en/B",
    ),
    "empty-english": (
        lambda r: _edit_jsonl(r, "004", lambda rows: _set(rows, "004-p01-s01", en="  ")),
        "empty English translation: 004-p01-s01",
    ),
    "truncated-english": (
        lambda r: _edit_jsonl(r, "004", lambda rows: _set(rows, "004-p01-s01", en="ChatGPT is an application.")),
        "en/zh length ratio outside [1.5, 7.0]: 004-p01-s01",
    ),
    "dropped-number": (
        lambda r: _edit_jsonl(r, "000", lambda rows: _set(rows, "000-p02-s01", en=_en(rows, "000-p02-s01").replace("On 30 November", "In November"))),
        "number of the source missing in the translation: 000-p02-s01 (30)",
    ),
    "wrong-multiplier": (
        lambda r: _edit_jsonl(r, "004", lambda rows: _set(rows, "004-p29-s05", en=_en(rows, "004-p29-s05").replace("1.75 trillion", "1.75 billion"))),
        "number of the source missing in the translation: 004-p29-s05 (1750000000000)",
    ),
    "stale-number-exception": (
        lambda r: _edit_yaml(r / "number_exceptions.yaml", lambda d: d["exceptions"].append(
            {"segment_id": "000-p01-s01", "number": "7", "why": "no such number"})),
        "number exception that matches nothing (stale): 000-p01-s01 (7)",
    ),
    "summary-too-short": (
        lambda r: _summary(r, "zh", "001", "A", _summary_text(r, "zh", "001", "A")[:60]),
        "zh summary length outside 120–220 characters: 001/zh/A (60)",
    ),
    "summary-too-long": (
        lambda r: _summary(r, "en", "002", "B", " ".join(["word"] * 131)),
        "en summary length outside 70–130 words: 002/en/B (131)",
    ),
    "traditional-summary": (
        lambda r: _summary(r, "zh", "004", "A", _summary_text(r, "zh", "004", "A").replace("国", "國")),
        "Chinese summary not in Simplified script: 004/zh/A",
    ),
    "a-equals-b": (  # 001, not 002: 002/en/A's "big models" is a glossary exception for A only
        lambda r: _summary(r, "en", "001", "B", _summary_text(r, "en", "001", "A")),
        "summaries A and B identical: 001/en",
    ),
    "bad-guideline-version": (
        lambda r: _edit_yaml(r / "translations" / "en" / "003.meta.yaml", lambda d: d.update(guideline_version="0.9")),
        "guideline_version differs from GUIDELINES.md (1.1): translations/en/003.meta.yaml (0.9)",
    ),
    "bad-summary-guideline-version": (
        lambda r: _edit_yaml(r / "summaries" / "zh" / "000.yaml", lambda d: d.update(guideline_version="2.0")),
        "guideline_version differs from GUIDELINES.md (1.1): summaries/zh/000.yaml (2.0)",
    ),
}


@pytest.mark.parametrize("name", DAMAGES)
def test_broken_references_fail_the_build_naming_the_offending_id(copies, tmp_path, run_cli, name):
    seeds, refs = copies
    damage, message = DAMAGES[name]
    damage(refs)
    out = tmp_path / "data"
    out.mkdir()
    (out / "keep.txt").write_text("previous build")
    code, stdout, stderr = run_cli("data", "build", "--seeds", str(seeds), "--references", str(refs), "--out", str(out))
    assert code == 2 and stdout == ""
    assert stderr.startswith(f"error: {refs}: 1 problem: ") and stderr.count("\n") == 1
    assert message in stderr, stderr
    assert [p.name for p in out.iterdir()] == ["keep.txt"]  # nothing partial written
    code, stdout, stderr_check = run_cli("refs", "check", "--seeds", str(seeds), "--references", str(refs))
    assert code == 2 and stderr_check == stderr


def test_every_problem_is_listed_in_one_line(copies, run_cli):
    seeds, refs = copies
    for name in ("missing-segment", "drifted-zh", "dropped-number", "a-equals-b"):
        DAMAGES[name][0](refs)
    code, _, stderr = run_cli("refs", "check", "--seeds", str(seeds), "--references", str(refs))
    assert code == 2 and stderr.count("\n") == 1
    assert stderr == (
        f"error: {refs}: 4 problems: zh differs from the cleaned segment: 000-p02-s02; "
        "segment without a translation: 001-p01-s05; "
        "number of the source missing in the translation: 000-p02-s01 (30); "
        "summaries A and B identical: 001/en\n"
    )


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda r: (r / "summaries" / "en" / "003.yaml").unlink(), "summaries/en/003.yaml: missing summary file"),
        (lambda r: (r / "translations" / "en" / "002.meta.yaml").unlink(), "translations/en/002.meta.yaml: missing"),
        (lambda r: (r / "translations" / "en" / "001.jsonl").write_text('{"segment_id": "001-p01-s01"\n'),
         "translations/en/001.jsonl:1: not valid JSON"),
        (lambda r: (r / "translations" / "en" / "001.jsonl").write_text('{"segment_id": "001-p01-s01", "zh": "x"}\n'),
         "translations/en/001.jsonl:1: missing key 'en'"),
        (lambda r: (r / "summaries" / "zh" / "005.yaml").write_text("doc_id: '005'\n"), "summaries/zh/005.yaml: no document with this id"),
        (lambda r: _edit_yaml(r / "summaries" / "zh" / "001.yaml", lambda d: d["summaries"].pop()),
         "summaries/zh/001.yaml: expected one summary per reference A/B, got ['A']"),
        (lambda r: _edit_yaml(r / "summaries" / "en" / "001.yaml", lambda d: d.update(doc_id="002")),
         "summaries/en/001.yaml: doc_id '002' does not match the file name (expected '001')"),
        (lambda r: (r / "GUIDELINES.md").write_text("# Reference guidelines\n"), "GUIDELINES.md: no '**Version X.Y**' line"),
        (lambda r: (r / "number_exceptions.yaml").write_text("exceptions:\n- segment_id: 000-p01-s01\n  number: '7'\n  why: ''\n"),
         "number_exceptions.yaml exceptions[0]: 'why' is empty"),
        # Provenance (GUIDELINES.md §3): writers and reviewers say whether they are a person or a model.
        (lambda r: _edit_yaml(r / "translations" / "en" / "002.meta.yaml", lambda d: d.update(written_by="Claude")),
         "translations/en/002.meta.yaml: 'written_by' must be a mapping {name, kind: human|ai-model}"),
        (lambda r: _edit_yaml(r / "summaries" / "zh" / "003.yaml",
                              lambda d: d["summaries"][1]["written_by"].update(kind="person")),
         "summaries/zh/003.yaml summaries[1]: 'written_by.kind' must be one of human, ai-model, got 'person'"),
        (lambda r: _edit_yaml(r / "summaries" / "en" / "000.yaml",
                              lambda d: d.update(reviewed_by={"name": "Li Lei", "kind": "human"})),
         "summaries/en/000.yaml: 'reviewed_on' is empty although 'reviewed_by' is set"),
        (lambda r: _edit_yaml(r / "translations" / "en" / "001.meta.yaml", lambda d: d.pop("version")),
         "translations/en/001.meta.yaml: missing key 'version'"),
        (lambda r: _edit_yaml(r / "translations" / "en" / "001.meta.yaml", lambda d: d.update(version=0)),
         "translations/en/001.meta.yaml: 'version' must be 1 or more, got 0"),
        # Corrections by hand (GUIDELINES.md §3): shape, the version they produced, an item of the file.
        (lambda r: _edit_yaml(r / "translations" / "en" / "000.meta.yaml", lambda d: d["corrections"][0].update(id="000-p99-s01")),
         "translations/en/000.meta.yaml corrections[0]: id '000-p99-s01' is not an item of this file"),
        (lambda r: _edit_yaml(r / "summaries" / "zh" / "004.yaml", lambda d: d["corrections"][0].update(id="004/en/A")),
         "summaries/zh/004.yaml corrections[0]: id '004/en/A' is not an item of this file"),
        (lambda r: _edit_yaml(r / "summaries" / "zh" / "001.yaml", lambda d: d["corrections"][0].update(version=4)),
         "summaries/zh/001.yaml corrections[0]: 'version' must be between 2 and the file's version 3, got 4"),
        (lambda r: _edit_yaml(r / "translations" / "en" / "003.meta.yaml", lambda d: d["corrections"][1].update(reason=" ")),
         "translations/en/003.meta.yaml corrections[1]: 'previous' and 'reason' must not be empty"),
        (lambda r: _edit_yaml(r / "translations" / "en" / "004.meta.yaml", lambda d: d["corrections"][0].update(date="7.12.2026")),
         "translations/en/004.meta.yaml corrections[0]: 'date' must be YYYY-MM-DD, got '7.12.2026'"),
        (lambda r: _edit_yaml(r / "translations" / "en" / "002.meta.yaml", lambda d: d["corrections"][0].pop("by")),
         "translations/en/002.meta.yaml corrections[0]: 'by' must be a mapping {name, kind: human|ai-model}"),
    ],
    ids=["missing-summary-file", "missing-meta", "bad-json", "missing-key", "unknown-doc", "one-summary",
         "doc-id-mismatch", "no-version", "exception-without-reason", "writer-as-string", "unknown-kind",
         "reviewer-without-date", "no-file-version", "file-version-0", "correction-unknown-segment",
         "correction-other-summary", "correction-future-version", "correction-without-reason",
         "correction-bad-date", "correction-without-agent"],
)
def test_malformed_reference_files(copies, run_cli, damage, message):
    seeds, refs = copies
    damage(refs)
    code, _, stderr = run_cli("refs", "check", "--seeds", str(seeds), "--references", str(refs))
    assert code == 2 and stderr.count("\n") == 1 and message in stderr, stderr


def test_the_real_references_pass(run_cli, root):
    code, out, err = run_cli("refs", "check", "--seeds", str(root / "seeds"), "--references", str(root / "references"))
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == ("OK: 5 documents, 511 segments translated, 10 zh + 10 en summaries, "
                        "76 zh + 76 en passage summaries, 2 number exceptions, guideline 1.1, 0 of 25 files reviewed")
    # Labels generated from the provenance fields: no reviewer yet, every text written by an AI model.
    assert "summaries/zh/000.yaml (version 2): AI-written (Claude), not reviewed" in lines
    assert "translations/en/004.jsonl (version 3): AI-written (Claude), not reviewed" in lines
    assert "passages/en/002.yaml (version 1): AI-written (Claude), not reviewed" in lines
    assert sum("AI-written (Claude), not reviewed" in line for line in lines) == 25
    assert [line.split(":")[0] for line in lines[-4:]] == ["independence zh", "independence en",
                                                           "independence zh passages", "independence en passages"]
    assert all(line.endswith(": met") for line in lines[-4:])
    lines = lines[:-2]  # the article summaries' lines, checked below
    assert "target ≤ 35" in lines[-2] and "target ≤ 15" in lines[-2] and "before the rewrite 48.47" in lines[-2]
    assert "target ≤ 22" in lines[-1] and "target ≤ 8" in lines[-1] and "before the rewrite 32.86" in lines[-1]


CORRECTED = {  # file -> ids corrected by hand in issue 19 (GUIDELINES §3 `corrections`)
    "summaries/zh/001.yaml": ["001/zh/B"],
    "summaries/zh/004.yaml": ["004/zh/A"],
    "translations/en/000.meta.yaml": ["000-p42-s04", "000-p22-s01", "000-p19-s01", "000-p42-s03"],
    "translations/en/001.meta.yaml": ["001-p24-s01"],
    "translations/en/002.meta.yaml": ["002-p01-s01", "002-p04-s09"],
    "translations/en/003.meta.yaml": ["003-p24-s01", "003-p31-s01", "003-p52-s02", "003-p39-s02", "003-p41-s02"],
    "translations/en/004.meta.yaml": ["004-p30-s03"],
}


def test_corrections_by_hand_are_recorded(root, fresh):
    """Every text replaced by hand keeps its previous text and reason, the file's version went up and
    its sign-off was cleared; the card lists each correction."""
    from harness.data.references import load_references
    from harness.data.seeds import load_documents

    refs = load_references(root / "references", [d.id for d in load_documents(root / "seeds")])
    files = [*refs.summaries.values(), *refs.translations.values()]
    found = {}
    for f in files:
        path = getattr(f, "meta_path", f.path).relative_to(root / "references").as_posix()
        current = ({e.segment_id: e.en for e in f.entries} if hasattr(f, "entries")
                   else {f"{f.doc_id}/{f.language}/{s.reference}": s.text for s in f.summaries})
        for c in f.provenance.corrections:
            found.setdefault(path, []).append(c.id)
            assert c.previous != current[c.id] and c.reason and c.by.kind == "ai-model"
            assert (c.version, f.provenance.version, f.provenance.reviewed_by) == (3, 3, None)
    assert found == CORRECTED
    card = (fresh / "README.md").read_text(encoding="utf-8")
    assert card.count("corrected by Claude (AI model) on 2026-12-07 (no review sheet)") == 15
    assert "- `translations/en/003.jsonl` version 3, 003-p52-s02: corrected by Claude (AI model)" in card


def test_every_source_number_is_in_its_translation_or_excepted(root):
    """The real references, checked directly: only the two listed exceptions are missing."""
    missing = {}
    for path in sorted((root / "references" / "translations" / "en").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            if m := missing_numbers(row["zh"], row["en"]):
                missing[row["segment_id"]] = m
    assert missing == {"000-p21-s02": ["1000000000000"], "003-p18-s02": ["2"]}


# --- the dataset configs -----------------------------------------------------------------------


def test_new_configs_load_offline(fresh, tmp_path, monkeypatch, documents):
    import datasets

    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    load = lambda name: datasets.load_dataset(str(fresh), name, split="test", cache_dir=str(tmp_path / "c"))  # noqa: E731

    summ = load("summarization")
    assert summ.column_names == ["doc_id", "title", "script", "text", "text_simplified", "summaries_zh",
                                 "summaries_en", "publisher_summary"]
    assert summ["doc_id"] == ["000", "001", "002", "003", "004"]
    assert summ[0]["summaries_zh"][0].startswith("ChatGPT问世一年来") and len(summ[0]["summaries_en"]) == 2
    assert summ[0]["summaries_en"][1].startswith("A year after OpenAI launched ChatGPT, the article finds")
    assert [r is None for r in summ["publisher_summary"]] == [True, False, False, True, True]
    assert summ[4]["script"] == "Hant" and summ[4]["text"] == documents["004"].text

    tr = load("translation")
    assert tr.column_names == ["segment_id", "doc_id", "zh", "zh_simplified", "en"]
    assert len(tr) == 511 and tr[0]["segment_id"] == "000-p01-s01" and tr[0]["en"] == '"Too busy."'
    assert tr["segment_id"] == [s.id for d in documents.values() for s in d.segments]

    par = load("translation_paragraphs")
    assert par.column_names == ["paragraph_id", "doc_id", "segment_ids", "zh", "zh_simplified", "en"]
    assert len(par) == sum(len(d.paragraphs) for d in documents.values()) == 192
    first = par[0]
    assert first["paragraph_id"] == "000-p01" and first["segment_ids"] == ["000-p01-s01", "000-p01-s02"]
    assert first["zh"] == documents["000"].text.split("\n")[0]
    assert first["en"] == '"Too busy." ' + tr[1]["en"]


@pytest.fixture(scope="module")
def fresh(root, tmp_path_factory):
    """A dataset built now from the working tree (the committed data/ is compared in test_build.py)."""
    from harness.data.build import build_dataset
    from harness.score.agreement import reference_agreement

    out = tmp_path_factory.mktemp("fresh") / "data"
    build_dataset(root / "seeds", out, root / "references", agreement=reference_agreement)
    return out


def test_card_states_provenance_and_configs(fresh):
    card = (fresh / "README.md").read_text(encoding="utf-8")
    header = card.split("---")[1]
    for name in ("summarization", "translation", "translation_paragraphs"):
        assert f"- config_name: {name}\n  data_files:\n  - split: test\n    path: {name}.parquet" in header
    assert "**Claude (AI model)**: 20 summaries, 152 passage summaries and the translation of 511 segments" in card
    assert "no machine-translation system" in card and "nothing was post-edited" in card
    assert "`references/GUIDELINES.md` version 1.1" in card and "2026-11-25" in card
    assert "**No reference has been reviewed yet**" in card
    assert card.count("| not yet reviewed | — | AI-written (Claude), not reviewed |") == 25
    assert "- 002: the text stops after the author's fourth factor, so the headline's 烟花秀" in card
    manifest = json.loads((fresh / "MANIFEST.json").read_text())
    assert manifest["references"]["guideline_version"] == "1.1"
    labels = manifest["reference_provenance"]["labels"]
    assert labels == {"summaries_zh": "A: AI-written (Claude), not reviewed; B: AI-written (Claude), not reviewed",
                      "summaries_en": "A: AI-written (Claude), not reviewed; B: AI-written (Claude), not reviewed",
                      "passage_summaries_zh": "A: AI-written (Claude), not reviewed; B: AI-written (Claude), not reviewed",
                      "passage_summaries_en": "A: AI-written (Claude), not reviewed; B: AI-written (Claude), not reviewed",
                      "en": "AI-written (Claude), not reviewed"}
    # guidelines, exceptions, summaries, passage summaries, translations + meta
    assert len(manifest["references"]["files"]) == 2 + 10 + 10 + 10
    assert {"summarization.parquet", "translation.parquet", "translation_paragraphs.parquet",
            "passages.parquet"} <= set(manifest["files"])


# --- harness refs review -----------------------------------------------------------------------


def test_review_prints_status_summaries_and_segments_side_by_side(run_cli, root):
    code, out, err = run_cli("refs", "review", "003", "--seeds", str(root / "seeds"),
                             "--references", str(root / "references"), "--width", "120")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == "# 003  (no title)"
    assert ("- translations/en/003.jsonl: guideline 1.1, written 2026-11-25, version 3, "
            "AI-written (Claude), not reviewed") in lines
    assert "- validation: OK" in lines
    assert ("- passages/en/003.yaml: guideline 1.1, written 2026-12-07, version 1, "
            "AI-written (Claude), not reviewed") in lines
    passages = "## Passage summaries (the passage's segments are in the translation below)"
    assert lines.index("## Summaries (zh)") < lines.index("## Summaries (en)") < lines.index(passages) < lines.index(
        "## Translation (segment id │ source │ English reference)")
    assert "[A] (195 characters)" in lines and "[B] (110 words)" in lines
    heads = [line for line in lines if line.startswith("-- 003-p") and " segments " in line]
    assert len(heads) == 11  # the 11 passages of 003, each followed by its zh A, zh B, en A, en B
    assert heads[0] == "-- 003-p01-p04: segments 003-p01-s01 to 003-p04-s01 (7 segments, 444 characters)"
    assert sum(line.startswith(("[zh A] (", "[zh B] (", "[en A] (", "[en B] (")) for line in lines) == 44
    row = next(line for line in lines if line.startswith("003-p08-s01"))
    assert row.startswith("003-p08-s01  机器之心:CES 刚刚落下帷幕") and "│ Synced: CES has just" in row
    assert all(len(line) <= 120 for line in lines)  # CJK cells counted double: still within width
    assert sum(line.startswith("003-p") for line in lines) == 126  # every segment, once


def test_review_shows_validation_problems_of_the_document(copies, run_cli):
    seeds, refs = copies
    DAMAGES["dropped-number"][0](refs)
    code, out, _ = run_cli("refs", "review", "000", "--seeds", str(seeds), "--references", str(refs), "--width", "100")
    assert code == 0
    assert "- validation: number of the source missing in the translation: 000-p02-s01 (30)" in out.splitlines()


@pytest.mark.parametrize("args, message", [
    (["review", "04"], "unknown document id '04' (did you mean '004'?)"),
    (["review", "000", "--width", "-1"], "--width: must be 0"),
])
def test_review_bad_input_exits_2(run_cli, root, args, message):
    code, out, err = run_cli("refs", *args, "--seeds", str(root / "seeds"), "--references", str(root / "references"))
    assert code == 2 and out == "" and message in err and err.count("\n") == 1


def test_wrap_cells_counts_cjk_double():
    from harness.data.review import cell_width, wrap_cells

    assert cell_width("大模型 AI") == 9
    assert wrap_cells("大模型爆火这一年", 6) == ["大模型", "爆火这", "一年"]
    assert wrap_cells("large models are everywhere", 12) == ["large models", "are", "everywhere"]


def test_help(run_cli):
    code, out, _ = run_cli("refs", "--help")
    assert code == 0 and "review" in out and "check" in out


def test_reference_agreement_in_the_card_matches_rouge_score(root, documents, fresh):
    """The English ROUGE-1/2 agreement row, recomputed with Google's rouge-score package directly."""
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2"], use_stemmer=True)
    files = {d: yaml.safe_load((root / "references" / "summaries" / "en" / f"{d}.yaml").read_text()) for d in documents}
    pairs = [[s["text"] for s in files[d]["summaries"]] for d in documents]
    expected = {m: sum(scorer.score(b, a)[m].fmeasure for a, b in pairs) / len(pairs) * 100 for m in ("rouge1", "rouge2")}
    card = (fresh / "README.md").read_text(encoding="utf-8")
    for metric, value in expected.items():
        row = next(line for line in card.splitlines() if line.startswith(f"| en | {metric} |"))
        assert row.split(" | ")[2] == f"{value:.2f}" == row.split(" | ")[4]
