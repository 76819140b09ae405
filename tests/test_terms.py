"""The glossary (harness/data/glossary.py, glossary.yaml), the `terms` metric (harness/score/terms.py),
its CLI and config wiring, the glossary rule of the reference check and the "term" perturbation."""

from __future__ import annotations

import json
import re
import shutil

import numpy as np
import pytest
import yaml

from harness.data.glossary import PROJECT_GLOSSARY, Matcher, load_glossary
from harness.data.glossary_checks import glossary_problems
from harness.data.references import load_references
from harness.data.seeds import load_documents
from harness.errors import HarnessError
from harness.io import sha256_file
from harness.score import score_with_items
from harness.score import perturb as pert
from harness.score.neural import configure
from harness.score.terms import Terms, term_details

GLOSSARY = load_glossary()
SHORT = f"project@sha256:{sha256_file(PROJECT_GLOSSARY)[:12]}"


def _found(text: str, lang: str) -> list[tuple[str, str]]:
    """(matched text, the entry's zh) of every match."""
    matcher = Matcher(GLOSSARY.forms(lang), lang)
    return [(m.text, GLOSSARY.terms[m.entry].zh) for m in matcher.find(text)]


@pytest.mark.parametrize("text, lang, expected", [
    # longest form first: 生成式人工智能 is one term, 百度百科 is not also 百度
    ("生成式人工智能和大模型", "zh", [("生成式人工智能", "生成式人工智能"), ("大模型", "大模型")]),
    ("百度百科与百度", "zh", [("百度百科", "百度百科"), ("百度", "百度")]),
    # Traditional script and the katakana middle dot are folded first
    ("英偉達的大模型", "zh", [("英伟达", "英伟达"), ("大模型", "大模型")]),
    ("埃隆・马斯克说", "zh", [("埃隆·马斯克", "埃隆·马斯克")]),
    ("马斯克", "zh", [("马斯克", "埃隆·马斯克")]),
    # a form made of digits does not match inside a longer number; 360智脑 is its own term
    ("共3600台", "zh", []),
    ("360的周鸿祎", "zh", [("360", "360"), ("周鸿祎", "周鸿祎")]),
    ("360智脑", "zh", [("360智脑", "360智脑")]),
    ("大模型浪潮", "zh", [("大模型", "大模型")]),  # 浪潮 alone ("wave") is not in the glossary
    # English: whole words, any case, a space matches a hyphen, plural -s/-es
    ("Large-model users", "en", [("Large-model", "大模型")]),
    ("large  language models", "en", [("large  language models", "大模型")]),
    ("Nvidia's GPUs", "en", [("Nvidia", "英伟达")]),
    ("NVIDIA", "en", [("NVIDIA", "英伟达")]),
    ("Nvidias", "en", [("Nvidias", "英伟达")]),
    ("Baiduism", "en", []),
    ("Baidu Baike and Baidu", "en", [("Baidu Baike", "百度百科"), ("Baidu", "百度")]),
    # a last word in capitals matches only in capitals, plural -s only: CAS is not "cases"
    ("cases at CAS", "en", [("CAS", "中科院")]),
    ("Generative AI, generative ai", "en", [("Generative AI", "生成式人工智能")]),
    ("LLMs", "en", [("LLMs", "大模型")]),
    # Chinese text may keep the acronym; 大语言模型 is a form of 大模型
    ("通用人工智能（AGI）与大语言模型", "zh", [("通用人工智能", "通用人工智能"), ("AGI", "通用人工智能"), ("大语言模型", "大模型")]),
    # case: exact
    ("Synced: hello", "en", [("Synced", "机器之心")]),
    ("files synced", "en", []),
])
def test_matching(text, lang, expected):
    assert _found(text, lang) == expected


@pytest.mark.parametrize("source, output, lang, terms, rendered, misses", [
    ("清华大学的大模型需要算力。", "Tsinghua's large models need compute.", "en", 3, 2, ["算力"]),
    ("大模型、大模型和大模型", "Large models.", "en", 1, 1, []),  # a term counts once per item
    ("今天天气很好。", "Nice weather.", "en", 0, 0, []),
    ("英伟达", "Yingweida", "en", 1, 0, ["英伟达"]),
    # English → Chinese: the English forms are found in the source, the Chinese ones in the output
    ("Nvidia and large language models", "英伟达的大模型", "zh", 2, 2, []),
    ("Nvidia chips", "輝達晶片", "zh", 1, 0, ["Nvidia"]),
    ("Nvidia chips", "英偉達晶片", "zh", 1, 1, []),
])
def test_term_details(source, output, lang, terms, rendered, misses):
    details = term_details(source, output, target_lang=lang)
    assert (details["terms"], details["rendered"]) == (terms, rendered)
    assert [m["term"] for m in details["misses"]] == misses


def test_term_details_name_the_expected_renderings():
    [miss] = term_details("算力不足", "not enough compute", target_lang="en")["misses"]
    assert miss == {"term": "算力", "source": ["算力"], "expected": ["computing power"]}


SOURCES = ["清华大学的大模型需要算力。", "今天天气很好。", "英伟达与百度", "生成式人工智能"]
OUTPUTS = ["Tsinghua large models need compute.", "Nice weather.", "Nvidia and Baidu", "generative AI"]


@pytest.mark.parametrize("outputs, items, corpus", [
    # items: 2 of 3, none, 2 of 2, 1 of 1 → corpus 5 of 6 (micro), not the mean of the items
    (OUTPUTS, [200 / 3, None, 100.0, 100.0], 500 / 6),
    (["x", "Nice weather.", "Nvidia", "x"], [0.0, None, 50.0, 0.0], 100 / 6),
])
def test_item_and_corpus_values(outputs, items, corpus):
    [metric] = configure([Terms("en")], None, sources=SOURCES)
    scores, per_item = score_with_items("translate_zh_en", outputs, [["ref"]] * 4, [metric], seed=0, n_boot=200)
    assert per_item["terms"] == pytest.approx(items)
    assert scores[0].value == pytest.approx(corpus)
    again, _ = score_with_items("translate_zh_en", outputs, [["ref"]] * 4, [metric], seed=0, n_boot=200)
    assert (again[0].ci_low, again[0].ci_high) == (scores[0].ci_low, scores[0].ci_high)  # same seed, same CI


def test_no_term_at_all_is_a_vacuous_100():
    metric = Terms("en", sources=["今天", "明天"])
    stats = metric.item_stats(["a", "b"], [["r"], ["r"]])
    assert stats.tolist() == [[0, 0], [0, 0]]
    assert metric.values(stats.sum(axis=0), 2).tolist() == [100.0]
    assert np.isnan(metric.item_values(stats)).all()


@pytest.mark.parametrize("lang, signature", [
    ("en", f"terms|glossary:{SHORT}|src:zh|tgt:en|match:word-ci+plural|unit:term-per-item|agg:micro|refs:none|v:1"),
    ("zh", f"terms|glossary:{SHORT}|src:en|tgt:zh|match:t2s-substring|unit:term-per-item|agg:micro|refs:none|v:1"),
])
def test_signature_names_the_glossary(lang, signature):
    assert Terms(lang).signature(1) == signature


def test_needs_sources():
    with pytest.raises(HarnessError, match=r"terms: needs the source texts \(--src FILE"):
        Terms("en").item_stats(["a"], [["b"]])
    with pytest.raises(HarnessError, match="terms: 2 sources but 1 hypotheses"):
        Terms("en", sources=["a", "b"]).item_stats(["a"], [["b"]])


GOOD = "name: mine\nterms:\n  - zh: 大模型\n    en: [large model]\n"


@pytest.mark.parametrize("text, message", [
    ("name: mine\nterms:\n  - zh: 大模型\n    en: [large model]\n    cas: exact\n",
     ":5: terms.0.cas: unknown key (did you mean 'case'?)"),
    ("name: mine\nterms:\n  - zh: 大模型\n", ":3: terms.0.en: missing required key"),
    ("name: mine\nterms:\n  - zh: 英偉達\n    en: [Nvidia]\n", ":3: terms.0.zh: '英偉達' is not folded Simplified Chinese"),
    ("name: mine\nterms:\n  - zh: 大模型\n    en: [大 model]\n", ":4: terms.0.en: '大 model' has Chinese characters"),
    ("name: mine\nterms:\n  - zh: 大模型\n    en: [large model]\n  - zh: 算力\n    en: [Large Model]\n",
     ":2: terms: terms.1: 'Large Model' is also a form of terms.0 (大模型)"),
    ("name: mine\nterms:\n  - zh: 大模型\n    en: [large model]\n  - zh: 算力\n    en: [computing power]\n"
     "    en_wrong: [Large model]\n", ":2: terms: terms.1: wrong rendering 'Large model' is an allowed form of terms.0 (大模型)"),
    ("name: mine\nterms:\n  - zh: 大模型\n    en: [' large model']\n", ":4: terms.0.en: ' large model' has leading or trailing spaces"),
    ("name: mine\nterms:\n  - zh: 360\n    en: ['360']\n", ":3: terms.0.zh: Input should be a valid string"),
    ("name: my glossary\nterms:\n  - zh: 大模型\n    en: [large model]\n", ":1: name: String should match pattern"),
    ("name: mine\nterms: [\n", ":3: invalid YAML: expected the node content"),
    ("name: mine\nterms: []\n", ":2: terms: List should have at least 1 item"),
])
def test_bad_glossary_files_are_one_line_errors(tmp_path, text, message):
    path = tmp_path / "g.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(HarnessError) as e:
        load_glossary(path)
    assert str(e.value).startswith(str(path)) and message in str(e.value)
    assert "\n" not in str(e.value)


def test_a_hostile_glossary_is_refused_by_the_bounded_loader(tmp_path):
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, 10)]
    path = tmp_path / "g.yaml"
    path.write_text("\n".join(lines) + "\n" + GOOD, encoding="utf-8")
    with pytest.raises(HarnessError, match=re.escape(str(path))):
        load_glossary(path)


def test_a_user_glossary(tmp_path):
    path = tmp_path / "g.yaml"
    path.write_text(GOOD, encoding="utf-8")
    metric = Terms("en", glossary=str(path), sources=["大模型和算力"])
    assert metric.item_stats(["large models"], [["r"]]).tolist() == [[1, 1]]  # 算力 is not in this glossary
    assert f"glossary:mine@sha256:{sha256_file(path)[:12]}|" in metric.signature(1)


def _guideline_terms(root) -> set[str]:
    text = (root / "references" / "GUIDELINES.md").read_text(encoding="utf-8")
    table = text.split("### Shared glossary", 1)[1].split("\n## ", 1)[0]
    terms = set()
    for line in table.splitlines()[4:]:
        if line.startswith("|"):
            cell = re.sub(r"\s*\(.*?\)", "", line.split("|")[1])
            terms |= {t.strip() for t in re.split(r" / | · ", cell) if t.strip()}
    return terms


def test_the_glossary_holds_every_term_of_the_guidelines(root):
    forms = {f for f, _, _ in GLOSSARY.forms("zh")}
    # 浪潮 alone also means "wave"; the glossary keeps its unambiguous forms (浪潮信息, 浪潮集团)
    assert _guideline_terms(root) - forms == {"浪潮"}
    assert len(_guideline_terms(root)) == 65


# --- CLI and config -------------------------------------------------------------------------------


@pytest.fixture
def files(tmp_path):
    (tmp_path / "src.txt").write_text("\n".join(SOURCES) + "\n", encoding="utf-8")
    (tmp_path / "hyp.txt").write_text("\n".join(OUTPUTS) + "\n", encoding="utf-8")
    return tmp_path


def test_cli_json_items_lists_values_and_misses(files, run_cli):
    code, out, err = run_cli("score", "--task", "translate_zh_en", "--src", str(files / "src.txt"),
                             "--hyp", str(files / "hyp.txt"), "--ref", str(files / "hyp.txt"),
                             "--metric", "terms", "--json", "--items")
    assert code == 0, err
    [entry] = json.loads(out)["scores"]
    assert entry["value"] == pytest.approx(500 / 6)
    assert entry["items"] == pytest.approx([200 / 3, None, 100.0, 100.0])
    assert entry["signature"].startswith(f"terms|glossary:{SHORT}|")
    assert entry["misses"] == [[{"term": "算力", "source": ["算力"], "expected": ["computing power"]}], [], [], []]


@pytest.mark.parametrize("extra, message", [
    (["--metric", "terms", "--glossary", "nope.yaml"], "terms.glossary: nope.yaml: glossary file not found"),
    (["--metric", "bleu", "--glossary", "nope.yaml"], "--glossary: only the terms metric reads a glossary"),
])
def test_cli_bad_glossary_input(files, run_cli, extra, message):
    code, out, err = run_cli("score", "--task", "translate_zh_en", "--src", str(files / "src.txt"),
                             "--hyp", str(files / "hyp.txt"), "--ref", str(files / "hyp.txt"), *extra)
    assert code == 2 and message in err and out == ""
    assert len(err.strip().splitlines()) == 1


def test_cli_without_sources(files, run_cli):
    code, _, err = run_cli("score", "--task", "translate_zh_en", "--hyp", str(files / "hyp.txt"),
                           "--ref", str(files / "hyp.txt"), "--metric", "terms")
    assert code == 2 and "terms: needs the source texts (--src FILE for harness score)" in err


def test_cli_warns_when_no_source_names_a_term(tmp_path, run_cli):
    (tmp_path / "s.txt").write_text("今天\n", encoding="utf-8")
    (tmp_path / "h.txt").write_text("today\n", encoding="utf-8")
    code, out, err = run_cli("score", "--task", "translate_zh_en", "--src", str(tmp_path / "s.txt"),
                             "--hyp", str(tmp_path / "h.txt"), "--ref", str(tmp_path / "h.txt"), "--metric", "terms")
    assert code == 0 and "terms   100.00  [100.00, 100.00]" in out
    assert "warning: terms: no source names a term of glossary" in err


def test_config_glossary_is_checked_when_the_config_is_read(tmp_path):
    from harness.config import load_config

    config = tmp_path / "run.yaml"
    config.write_text("run: t\ntasks: [{task: translate_zh_en, metrics: [terms]}]\n"
                      "models: [{name: copy, backend: baseline, kind: copy}]\n"
                      f"metric_settings:\n  terms: {{glossary: {tmp_path / 'missing.yaml'}}}\n", encoding="utf-8")
    with pytest.raises(HarnessError, match=r"run.yaml:5: metric_settings.terms.glossary: .*missing.yaml: glossary file not found"):
        load_config(config)


def test_a_run_scores_terms_with_the_configured_glossary(tmp_path, root):
    from harness.config import parse_config
    from harness.pipeline.rescore import rescore
    from harness.pipeline.run import evaluate
    from harness.tasks import load_items

    glossary = tmp_path / "g.yaml"
    glossary.write_text(GOOD, encoding="utf-8")
    items = load_items("translate_zh_en", root / "data")
    ids = [it.id for it in items if "大模型" in it.source][:2] + [items[0].id]
    config = parse_config({
        "run": "terms", "dataset": str(root / "data"),
        "tasks": [{"task": "translate_zh_en", "ids": ids, "metrics": ["terms", "chrf"]}],
        "models": [{"name": "copy", "backend": "baseline", "kind": "copy"}],
        "metric_settings": {"terms": {"glossary": str(glossary)}},
    })
    folder = evaluate(config, results_root=tmp_path / "results")
    rows = {s["metric"]: s for s in json.loads((folder / "scores.json").read_text())["scores"]}
    # the copy baseline outputs the Chinese source: no English rendering, 0 of 2 terms
    assert rows["terms"]["value"] == 0.0
    assert rows["terms"]["signature"].startswith(f"terms|glossary:mine@sha256:{sha256_file(glossary)[:12]}|")
    predictions = [json.loads(line) for line in (folder / "predictions" / "copy" / "translate_zh_en.jsonl").open()]
    assert [p["id"] for p in predictions][0] == items[0].id  # dataset order: 太忙了 names no term
    assert [p["scores"]["terms"] for p in predictions] == [None, 0.0, 0.0]
    again = {s.metric: s for s in rescore(folder).scores}  # rescore reads the recorded metric_settings
    assert again["terms"].signature == rows["terms"]["signature"] and again["terms"].value == 0.0


def test_compare_recomputes_terms_from_the_sources(tmp_path, root, run_cli):
    from harness.config import parse_config
    from harness.pipeline.run import evaluate
    from harness.tasks import load_items

    items = [it for it in load_items("translate_zh_en", root / "data") if "大模型" in it.source][:3]
    folders = []
    for name, output in (("a", lambda it: it.references[0]), ("b", lambda it: "Something else entirely.")):
        path = tmp_path / name / "translate_zh_en.jsonl"
        path.parent.mkdir()
        path.write_text("".join(json.dumps({"id": it.id, "output": output(it)}) + "\n" for it in items), encoding="utf-8")
        config = parse_config({
            "run": name, "dataset": str(root / "data"),
            "tasks": [{"task": "translate_zh_en", "ids": [it.id for it in items], "metrics": ["terms"]}],
            "models": [{"name": "sys", "backend": "file", "path": str(path)}],
        })
        folders.append(evaluate(config, results_root=tmp_path / "results"))
    code, out, err = run_cli("compare", str(folders[0]), str(folders[1]), "--out", str(tmp_path / "cmp"))
    assert code == 0, err
    [delta] = json.loads((tmp_path / "cmp" / "compare.json").read_text())["comparisons"]
    # A: the references render 大模型 in each of the 3 items (they pass the glossary check); B: none
    assert (delta["metric"], delta["value_a"], delta["value_b"], delta["delta"]) == ("terms", 100.0, 0.0, -100.0)


# --- the reference check ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def docs(root):
    return load_documents(root / "seeds")


@pytest.fixture
def refs_copy(root, tmp_path):
    shutil.copytree(root / "references", tmp_path / "references")
    return tmp_path / "references"


def _problems(folder, docs):
    return [(p.rule, p.id) for p in glossary_problems(load_references(folder, [d.id for d in docs]), docs)]


def test_the_real_references_pass_with_their_exceptions(root, docs):
    assert _problems(root / "references", docs) == []
    listed = yaml.safe_load((root / "references" / "glossary_exceptions.yaml").read_text(encoding="utf-8"))
    assert [(x["id"], x["term"]) for x in listed["exceptions"]] == [
        ("002-p04-s10", "大模型"), ("002-p06-s03", "大模型"), ("003-p32-s01", "算力"), ("003-p39-s01", "大模型"),
        ("004-p10-s02", "算力"), ("004-p19-s01", "大模型"), ("004-p35-s01", "算力"), ("004-p35-s05", "算力"),
        ("002/en/A", "大模型"),
    ]


def _edit_translation(folder, doc_id, segment_id, old, new):
    path = folder / "translations" / "en" / f"{doc_id}.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    for r in rows:
        if r["segment_id"] == segment_id:
            assert old in r["en"]
            r["en"] = r["en"].replace(old, new)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def _edit_passage(folder, doc_id, passage_id, reference, old, new):
    path = folder / "passages" / "en" / f"{doc_id}.yaml"
    text = path.read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    entry = next(p for p in data["passages"] if p["passage_id"] == passage_id)
    summary = next(s for s in entry["summaries"] if s["reference"] == reference)
    assert old in summary["text"]
    summary["text"] = summary["text"].replace(old, new)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


NOT_RENDERED = "glossary term of the source not rendered as the glossary says"
WRONG = "known wrong rendering of a glossary term"


@pytest.mark.parametrize("damage, expected", [
    (lambda r: _edit_translation(r, "000", "000-p01-s02", "Tsinghua University", "Qinghua University"),
     [(NOT_RENDERED, "000-p01-s02 (清华大学)"), (WRONG, "000-p01-s02 (Qinghua University)")]),
    (lambda r: _edit_passage(r, "002", "002-p05-p07", "B", "lacks computing power", "lacks computational power"),
     [(WRONG, "002-p05-p07/en/B (computational power)")]),
    # the summary may drop the term: no problem
    (lambda r: _edit_passage(r, "002", "002-p05-p07", "B", "lacks computing power", "lacks chips"), []),
    (lambda r: (r / "glossary_exceptions.yaml").write_text(
        "exceptions:\n- id: 000-p01-s01\n  term: 大模型\n  why: none\n", encoding="utf-8"),
     [(NOT_RENDERED, f"{seg} ({term})") for seg, term in [
         ("002-p04-s10", "大模型"), ("002-p06-s03", "大模型"), ("003-p32-s01", "算力"), ("003-p39-s01", "大模型"),
         ("004-p10-s02", "算力"), ("004-p19-s01", "大模型"), ("004-p35-s01", "算力"), ("004-p35-s05", "算力")]]
     + [(WRONG, "002/en/A (big models)"), ("glossary exception that matches nothing (stale)", "000-p01-s01 (大模型)")]),
])
def test_glossary_damages_are_found(refs_copy, docs, damage, expected):
    damage(refs_copy)
    assert _problems(refs_copy, docs) == expected


@pytest.mark.parametrize("text, message", [
    ("exceptions:\n- id: x\n  term: 大模型\n  why: ''\n", ":4: exceptions.0.why: String should match pattern"),
    ("exceptions:\n- segment_id: x\n  term: 大模型\n  why: y\n", ":2: exceptions.0.segment_id: unknown key"),
])
def test_bad_exception_files(refs_copy, docs, text, message):
    (refs_copy / "glossary_exceptions.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(HarnessError, match=re.escape(message)):
        _problems(refs_copy, docs)


def test_refs_check_runs_the_glossary_rule(root, tmp_path, run_cli, refs_copy):
    _edit_translation(refs_copy, "000", "000-p01-s02", "Tsinghua University", "Qinghua University")
    code, _, err = run_cli("refs", "check", "--seeds", str(root / "seeds"), "--references", str(refs_copy))
    assert code == 2
    assert f"{NOT_RENDERED}: 000-p01-s02 (清华大学); {WRONG}: 000-p01-s02 (Qinghua University)" in err


# --- the "term" perturbation of `harness metrics check` ----------------------------------------------


@pytest.mark.parametrize("reference, lang, source, expected", [
    # one term the source names, every rendering of it replaced, capital and plural kept
    ("Large models need large models.", "en", "大模型需要大模型。", {"Big models need big models."}),
    ("Synced: hello", "en", "机器之心：你好", {"Heart of the Machine: hello", "Machine Heart: hello"}),
    ("英伟达的芯片", "zh", "Nvidia chips", {"辉达的芯片"}),
    ("Large models.", "en", "今天", None),            # the source names no term
    ("Baidu is big.", "en", "百度很大。", None),         # 百度 has no known wrong rendering
])
def test_term_perturbation(reference, lang, source, expected):
    out = pert.perturb(pert.Sample(lang, "segment", "x", reference, source), "term", 0, {})
    assert out is None if expected is None else out in expected


def test_term_perturbation_lowers_terms_only_where_it_applies():
    sample = pert.Sample("en", "segment", "x", "Large models need computing power.", "大模型需要算力。")
    out = pert.perturb(sample, "term", 0, {})
    assert out in {"Big models need computing power.", "Large models need computational power.",
                   "Large models need compute power.", "Large models need calculation power."}
    metric = Terms("en", sources=[sample.source] * 2)
    assert metric.item_values(metric.item_stats([sample.reference, out], [["r"]] * 2)).tolist() == [100.0, 50.0]
