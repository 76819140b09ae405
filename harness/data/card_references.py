"""The references in the dataset card: its "References and their provenance" section and the
`reference_provenance` record of data/MANIFEST.json, both generated from the reference files'
provenance fields (labels from harness.data.provenance)."""

from __future__ import annotations

import numpy as np

from harness.data.provenance import TextProvenance, any_human, collapse, describe_agent, label, provenance_record
from harness.data.reference_checks import RATIO_BOUNDS, SUMMARY_LENGTH, length_ratio
from harness.data.references import References


def _files(refs: References) -> list:
    """Summary files, passage summary files (zh first), then translation files, in document order."""
    def zh_first(k):
        return k[1] != "zh", k[0]

    return [*(refs.summaries[k] for k in sorted(refs.summaries, key=zh_first)),
            *(refs.passages[k] for k in sorted(refs.passages, key=zh_first)),
            *(refs.translations[k] for k in sorted(refs.translations))]


def _provenance_table(refs: References) -> tuple[str, str]:
    """The review table (one row per file, labels from harness.data.provenance) and the numbered
    list of the writers' and reviewers' own descriptions it refers to."""
    notes: list[str] = []

    def key(agent) -> str:
        text = f"{describe_agent(agent)}: {agent.note}" if agent.note else describe_agent(agent)
        if text not in notes:
            notes.append(text)
        return f"{agent.name} [{notes.index(text) + 1}]"

    rows = ["| file | version | guideline | written by | written on | reviewed by | reviewed on | label |",
            "|---|---|---|---|---|---|---|---|"]
    for f in _files(refs):
        p = f.provenance
        name = f.path.relative_to(refs.folder).as_posix()
        written_by = ", ".join(dict.fromkeys(key(w) for w in p.written_by))
        reviewed = key(p.reviewed_by) if p.reviewed_by else "not yet reviewed"
        labels = collapse([label(w, p.reviewed_by, p.reviewed_on) for w in p.written_by])
        rows.append(f"| `{name}` | {p.version} | {p.guideline_version} | {written_by} | {p.written_on} | {reviewed} "
                    f"| {p.reviewed_on or '—'} | {labels} |")
    listed = "\n".join(f"{i}. {w}" for i, w in enumerate(notes, start=1))
    return "\n".join(rows), listed


def _review_history(refs: References) -> str:
    """One line per applied review sheet (file, version it produced, reviewer, date, verdicts), then
    one per text corrected by hand without a sheet (file, version, who, date, item, why)."""
    lines, corrections = [], []
    for f in _files(refs):
        name = f.path.relative_to(refs.folder).as_posix()
        for r in f.provenance.history:
            fixes = sum(1 for i in r.items if i.verdict == "fix")
            lines.append(f"- `{name}` version {r.version}: reviewed by "
                         f"{describe_agent(r.reviewed_by)} on {r.reviewed_on}, {len(r.items)} items "
                         f"({len(r.items) - fixes} ok, {fixes} corrected; sheet sha256 `{r.sheet_sha256[:12]}…`)")
        corrections += [f"- `{name}` version {c.version}, {c.id}: corrected by {describe_agent(c.by)} on {c.date} "
                        f"(no review sheet): {c.reason}" for c in f.provenance.corrections]
    sheets = "\n".join(lines) if lines else "No review sheet has been applied yet."
    if not corrections:
        return sheets
    return (f"{sheets}\n\nCorrections by hand (each file's `corrections`, with the text before; the file "
            "stays not reviewed until a review sheet signs it off):\n\n" + "\n".join(corrections))


def reference_provenance(refs: References) -> dict:
    """The `reference_provenance` record of data/MANIFEST.json: every reference text's writer,
    reviewer and file version, per dataset column (see harness.data.provenance)."""
    columns: dict[str, list[TextProvenance]] = {}
    for language in ("zh", "en"):
        for doc_id in sorted(d for d, lang in refs.summaries if lang == language):
            f = refs.summaries[doc_id, language]
            p = f.provenance
            for s in sorted(f.summaries, key=lambda s: s.reference):
                columns.setdefault(f"summaries_{language}", []).append(TextProvenance(
                    doc_id, s.reference, f.path.relative_to(refs.folder).as_posix(), p.version, s.written_by,
                    p.reviewed_by, p.reviewed_on))
    for language in ("zh", "en"):
        for doc_id in sorted(d for d, lang in refs.passages if lang == language):
            f = refs.passages[doc_id, language]
            p = f.provenance
            # One entry per file and reference: a writer writes all the passages of a file.
            writers = {s.reference: s.written_by for summaries in f.passages.values() for s in summaries}
            for reference in sorted(writers):
                columns.setdefault(f"passage_summaries_{language}", []).append(TextProvenance(
                    doc_id, reference, f.path.relative_to(refs.folder).as_posix(), p.version, writers[reference],
                    p.reviewed_by, p.reviewed_on))
    for doc_id in sorted(refs.translations):
        t = refs.translations[doc_id]
        p = t.provenance
        columns.setdefault("en", []).append(TextProvenance(
            doc_id, "", t.path.relative_to(refs.folder).as_posix(), p.version, p.written_by[0], p.reviewed_by,
            p.reviewed_on))
    return provenance_record(columns)


def _ratio_distribution(refs: References) -> str:
    entries = [e for t in refs.translations.values() for e in t.entries]
    ratios = sorted((length_ratio(e.zh, e.en), e.segment_id, e.zh) for e in entries)
    values = np.array([r[0] for r in ratios])
    p1, p50, p99 = np.percentile(values, [1, 50, 99])
    (lo, lo_id, lo_zh), (hi, hi_id, hi_zh) = ratios[0], ratios[-1]
    return (f"over the {len(values)} segments the ratio runs from {lo:.2f} ({lo_id}, {lo_zh}) to {hi:.2f} "
            f"({hi_id}, {hi_zh}); 1st percentile {p1:.2f}, median {p50:.2f}, 99th percentile {p99:.2f}. "
            "The extremes are very short segments, where one word more or less moves the ratio most")


def _writers_sentence(refs: References) -> str:
    """Who wrote the texts, generated from `written_by`: 'Claude (AI model): 20 summaries, 152 passage
    summaries and the translation of 511 segments'."""
    counts: dict[str, list[int]] = {}
    for f in refs.summaries.values():
        for s in f.summaries:
            counts.setdefault(describe_agent(s.written_by), [0, 0, 0])[0] += 1
    for f in refs.passages.values():
        for summaries in f.passages.values():
            for s in summaries:
                counts.setdefault(describe_agent(s.written_by), [0, 0, 0])[1] += 1
    for t in refs.translations.values():
        counts.setdefault(describe_agent(t.provenance.written_by[0]), [0, 0, 0])[2] += len(t.entries)
    return "; ".join(f"**{who}**: {n} summaries, {k} passage summaries and the translation of {m} segments"
                     for who, (n, k, m) in counts.items())


def references_section(refs: References, record: dict) -> str:
    """The card's "References and their provenance" section; ``record``: reference_provenance(refs)."""
    table, writers = _provenance_table(refs)
    files = _files(refs)
    dates = sorted({d for f in files for d in f.provenance.written_on.split(", ")})
    reviewed = [f for f in files if f.provenance.reviewed_by]
    review = (
        "**No reference has been reviewed yet** (`reviewed_by` is empty in every file). "
        "`harness refs review DOC_ID --out FILE` writes a review sheet for a bilingual reviewer and "
        "`harness refs apply FILE --reviewer NAME` records the review (`references/GUIDELINES.md` §4)."
        if not reviewed
        else f"{len(reviewed)} of {len(files)} files are signed off by a reviewer (`reviewed_by`, table below); "
        "the others are not yet reviewed."
    )
    caution = (
        "" if any_human(record) else
        " No text has a writer or a reviewer of kind `human`, and scores of models that write like their "
        "writer may be flattered."
    )
    zh_low, zh_high = SUMMARY_LENGTH["zh"]
    en_low, en_high = SUMMARY_LENGTH["en"]
    low, high = RATIO_BOUNDS
    return f"""## References and their provenance

**Who wrote them.** Generated from each file's `written_by` (`name`, `kind`: `human` or
`ai-model`): {_writers_sentence(refs)}. The writers' own statements of how they worked are listed
under the table.{caution}

**From which source.** The cleaned text of the sha256-pinned seeds (`harness data show DOC_ID`,
segment ids and texts pinned by a digest in `tests/test_data.py`). Each translation line carries
the Chinese segment it translates, and the build fails if it differs from the current cleaning.

**Which guidelines, when.** `references/GUIDELINES.md` version {refs.guideline_version}; written on
{", ".join(dates)}.

**Review.** {review} Every label ("AI-written (…), not reviewed", "…, reviewed by NAME (human),
DATE") is generated from these fields by `harness/data/provenance.py`, here and in results tables
and leaderboards.

{table}

What the files record about their writers and reviewers:

{writers}

Review history:

{_review_history(refs)}

### Validation (every build)

`harness data build` (and `harness refs check`) refuses the references, naming every offending
id, unless: every segment has exactly one translation, in order, whose `zh` equals the current
cleaned segment; no CJK character appears in English text; each segment's English/Chinese length
ratio (characters) lies in [{low}, {high}]; every number of a source segment is found in its
translation after normalisation (`harness/data/numbers.py`; the few numbers that legitimately have
no literal counterpart are listed with a reason in `references/number_exceptions.yaml`); Chinese
summaries have {zh_low}–{zh_high} characters (in Simplified script) and English ones
{en_low}–{en_high} words; A and B of a language differ; every file follows the current guideline
version.

The length-ratio bounds come from the data: {_ratio_distribution(refs)}. [{low}, {high}] leaves a
margin around the observed range; it catches gross errors (an empty or truncated entry, an entry
shifted onto its neighbour, two segments merged into one) rather than proving completeness, which
the number check and the review cover.
"""
