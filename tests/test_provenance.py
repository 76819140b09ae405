"""Provenance labels (harness.data.provenance), the independence figures of the card, and a search
of every shipped text for "human" wording that the references' provenance does not support."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.data.provenance import (NOT_RECORDED, USER_DATASET, Agent, TextProvenance, agreement_label, collapse, is_human, label,
                                     provenance_record, set_label, task_references_label)

AI = Agent("Claude", "ai-model")
PERSON = Agent("Li Lei", "human")
REVIEWER = Agent("Wang Fang", "human")
AI_REVIEWER = Agent("GPT-5", "ai-model")


@pytest.mark.parametrize(
    "written_by, reviewed_by, reviewed_on, expected, human",
    [
        (AI, None, "", "AI-written (Claude), not reviewed", False),
        (AI, REVIEWER, "2026-12-10", "AI-written (Claude), reviewed by Wang Fang (human), 2026-12-10", True),
        (AI, AI_REVIEWER, "2026-12-10", "AI-written (Claude), reviewed by GPT-5 (AI model), 2026-12-10", False),
        (PERSON, None, "", "human-written (Li Lei), not reviewed", True),
        (PERSON, REVIEWER, "2026-12-11", "human-written (Li Lei), reviewed by Wang Fang (human), 2026-12-11", True),
    ],
    ids=["ai-unreviewed", "ai-human-reviewed", "ai-ai-reviewed", "human-unreviewed", "human-reviewed"],
)
def test_label(written_by, reviewed_by, reviewed_on, expected, human):
    assert label(written_by, reviewed_by, reviewed_on) == expected
    assert is_human(written_by, reviewed_by) is human


def test_agent_kind_is_checked():
    with pytest.raises(ValueError, match="kind must be one of human, ai-model"):
        Agent("Claude", "model")
    with pytest.raises(ValueError, match="name is empty"):
        Agent(" ", "human")


def _texts(reviewed: set[str]) -> list[TextProvenance]:
    out = []
    for ref, writer in (("A", AI), ("B", PERSON)):
        for d in ("000", "001", "002"):
            r = REVIEWER if d in reviewed else None
            out.append(TextProvenance(d, ref, f"summaries/zh/{d}.yaml", 2 if r else 1, writer, r,
                                      "2026-12-10" if r else ""))
    return out


def test_set_and_task_labels_follow_the_record():
    assert collapse(["x", "x"]) == "x" and collapse(["x", "y", "x"]) == "x (2 of 3); y (1 of 3)"
    assert set_label(_texts(set())) == "A: AI-written (Claude), not reviewed; B: human-written (Li Lei), not reviewed"
    record = provenance_record({"summaries_zh": _texts({"001"})})
    assert task_references_label(record, "summaries_zh") == (
        "A: AI-written (Claude), not reviewed (2 of 3); AI-written (Claude), reviewed by Wang Fang (human), 2026-12-10 "
        "(1 of 3); B: human-written (Li Lei), not reviewed (2 of 3); human-written (Li Lei), reviewed by Wang Fang "
        "(human), 2026-12-10 (1 of 3)")
    assert agreement_label(record, "summaries_zh").startswith("reference agreement (B vs A): A: AI-written (Claude)")
    # A record round-trips through JSON-ready dicts, as it does through manifests.
    assert [TextProvenance.from_dict(t) for t in record["columns"]["summaries_zh"]] == _texts({"001"})
    # Runs written before the field existed, and columns the record does not hold.
    assert task_references_label(None, "summaries_zh") == NOT_RECORDED
    assert task_references_label(record, "en") == NOT_RECORDED
    assert task_references_label(record, "zh").startswith("the published Chinese article")
    assert task_references_label(record, None) == USER_DATASET  # a config's own task


# --- independence of A and B -------------------------------------------------------------------


@pytest.mark.parametrize(
    "a, b, language, expected",
    [
        ("大模型爆火这一年", "这一年大模型爆火", "zh", (5, "大模型爆火")),
        ("梁正认为，大模型将改变一切。", "专家认为，大模型将改变世界。", "zh", (9, "认为，大模型将改变")),  # punctuation counts
        ("The model, they say, is large.", "they say the model is LARGE", "en", (2, "the model")),
        ("A large-model innovation cluster in Shanghai", "a Large-Model innovation cluster", "en",
         (4, "a large-model innovation cluster")),
        ("完全不同", "毫无关系", "zh", (0, "")),
    ],
)
def test_longest_shared_span(a, b, language, expected):
    from harness.data.card import longest_shared_span

    assert longest_shared_span(a, b, language) == expected
    assert longest_shared_span(b, a, language)[0] == expected[0]


def test_independence_of_the_real_references(root, documents):
    """What the card and `harness refs check` print, recomputed: the guideline 1.0 texts' spans
    are the ones the card quotes as 'before the rewrite' as long as those texts are in place."""
    from harness.data.card import independence, independence_figures, independence_lines
    from harness.data.references import load_references
    from harness.score.agreement import reference_agreement

    docs = list(documents.values())
    refs = load_references(root / "references", [d.id for d in docs])
    rows = independence(docs, refs, reference_agreement(docs, refs))
    assert [r.language for r in rows] == ["zh", "en"]
    for r, line in zip(rows, independence_lines(rows)):
        figures = independence_figures()[r.language]
        rouge_max, span_max = figures.target_rouge2, figures.target_span
        assert r.met == (round(r.rouge2, 2) <= rouge_max and r.longest <= span_max)
        assert line.startswith(f"independence {r.language}: mean A-vs-B ROUGE-2 {r.rouge2:.2f} (target ≤ {rouge_max:g}")
        assert line.endswith(": NOT MET" if not r.met else ": met")
        if abs(r.rouge2 - float(figures.before_rouge2)) < 0.005:  # the old texts: figures as quoted
            assert tuple(n for _, n, _ in r.spans) == figures.before_spans_measured


# --- no "human" label unless the provenance says so ----------------------------------------------

# Wording that calls a reference, its agreement row or its writers human.
HUMAN_WORDING = re.compile(
    r"human[- ]reference|human[- ]agreement|written by hand|hand[- ]?written|human[- ]summar"
    r"|human[- ]translat|human[- ]writers?\b|two (careful )?human|by a human writer",
    re.IGNORECASE,
)


def shipped_texts(root: Path) -> list[Path]:
    """Every text the project ships that can describe the references."""
    paths = [root / "README.md", root / "references" / "GUIDELINES.md", root / "data" / "README.md"]
    paths += sorted((root / "docs").glob("*.md"))
    paths += sorted((root / "configs").glob("*"))
    paths += sorted(p for p in (root / "harness").rglob("*") if p.suffix in {".py", ".yaml", ".md", ".html", ".j2",
                                                                               ".jinja", ".txt", ".css", ".js"})
    paths += sorted((root / "results").glob("**/*.md"))
    return [p for p in paths if p.is_file()]


def _human_provenance(root: Path) -> bool:
    """True only when every reference text has a human writer or a human reviewer."""
    from harness.data.references import load_references
    from harness.data.seeds import load_documents

    refs = load_references(root / "references", [d.id for d in load_documents(root / "seeds")])
    files = [*refs.summaries.values(), *refs.passages.values(), *refs.translations.values()]
    return all(is_human(w, f.provenance.reviewed_by) for f in files for w in f.provenance.written_by)


def test_the_scan_catches_human_wording(tmp_path):
    for bad in ("with human reference summaries", "the human-reference row", "reference agreement (human agreement)",
                "the human-agreement row", "written by hand", "hand-written references", "human summaries",
                "two careful human writers agree"):
        assert HUMAN_WORDING.search(bad), bad
    for fine in ("repaired by hand", "do not edit by hand", "a human reviewer signs the file off",
                 "reviewed by Wang Fang (human)", "nothing is called human unless"):
        assert not HUMAN_WORDING.search(fine), fine


@pytest.mark.parametrize("path", shipped_texts(Path(__file__).resolve().parents[1]),
                         ids=lambda p: p.relative_to(Path(__file__).resolve().parents[1]).as_posix())
def test_no_human_label_without_human_provenance(root, path):
    hits = [f"{n}: {m.group(0)}" for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
            for m in [HUMAN_WORDING.search(line)] if m]
    # The wording is allowed only once every reference has a human writer or a human reviewer.
    assert hits == [] or _human_provenance(root), f"{path.relative_to(root)} calls references human: {hits}"


# The reference-agreement row was called `ceiling` before; it is no upper bound (a model can pass
# it), so the old name stays only where the rename is explained and read back.
RENAME_EXPLAINED = {"harness/record.py", "docs/run.md"}


def test_the_agreement_row_is_not_called_a_ceiling(root):
    results = [p for p in sorted((root / "results").glob("*/*")) if p.name in {"manifest.json", "results.csv"}]
    hits = [f"{p.relative_to(root).as_posix()}:{n}" for p in [*shipped_texts(root), *results]
            if p.relative_to(root).as_posix() not in RENAME_EXPLAINED
            for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if "ceiling" in line.lower()]
    assert hits == []
