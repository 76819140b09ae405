"""The dataset card (data/README.md), generated so that it never disagrees with the data."""

from __future__ import annotations

from dataclasses import dataclass

from harness.data.clean import Document
from harness.data.references import RATIO_BOUNDS, SUMMARY_LENGTH, References

CONFIG_FILES = {
    "documents": "documents.parquet",
    "segments": "segments.parquet",
    "summarization": "summarization.parquet",
    "translation": "translation.parquet",
    "translation_paragraphs": "translation_paragraphs.parquet",
}


def _yaml_header(configs: dict[str, int]) -> str:
    lines = ["---", "language:", "- zh", "- en", "pretty_name: Chinese LLM news — summarisation and zh↔en translation", "configs:"]
    for name in configs:
        lines += [f"- config_name: {name}", "  data_files:", "  - split: test", f"    path: {CONFIG_FILES[name]}"]
    lines.append("---")
    return "\n".join(lines)


def _cleaning_table(docs: list[Document]) -> str:
    rows = ["| doc | rule | matches | why |", "|---|---|---|---|"]
    for d in docs:
        for r in d.applied:
            if r.rule.count is None:  # generic whitespace rules: listed once below
                continue
            rows.append(f"| {d.id} | `{r.rule.name}` | {r.count} | {r.rule.why} |")
    return "\n".join(rows)


def _provenance_table(refs: References) -> tuple[str, str]:
    """The per-file table and the numbered list of the `written_by` statements it refers to."""
    writers: list[str] = []

    def key(text: str) -> str:
        if text not in writers:
            writers.append(text)
        return f"[{writers.index(text) + 1}]"

    rows = ["| file | guideline | written by | written on | reviewed by |", "|---|---|---|---|---|"]
    files = [*(refs.summaries[k] for k in sorted(refs.summaries, key=lambda k: (k[1] != "zh", k[0]))),
             *(refs.translations[k] for k in sorted(refs.translations))]
    for f in files:
        p = f.provenance
        name = f.path.relative_to(refs.folder).as_posix()
        written_by = " ".join(key(w) for w in p.written_by)
        reviewed = p.reviewed_by or "not yet reviewed"
        rows.append(f"| `{name}` | {p.guideline_version} | {written_by} | {p.written_on} | {reviewed} |")
    notes = "\n".join(f"{i}. {w}" for i, w in enumerate(writers, start=1))
    return "\n".join(rows), notes


@dataclass(frozen=True)
class AgreementRow:
    """Reference A scored against reference B (and the reverse) over the five documents."""

    language: str
    metric: str
    a_vs_b: float
    ci_low: float
    ci_high: float
    b_vs_a: float
    signature: str


def human_agreement(docs: list[Document], refs: References, *, seed: int = 0) -> list[AgreementRow]:
    """ROUGE between the two human summaries of each language, with the scoring API of harness.score."""
    from harness.score import score

    rows = []
    for language in ("zh", "en"):
        a = [refs.summaries[d.id, language].texts()[0] for d in docs]
        b = [refs.summaries[d.id, language].texts()[1] for d in docs]
        task = f"summarize_{language}"
        forward = score(task, a, [[x] for x in b], seed=seed)
        backward = {s.metric: s.value for s in score(task, b, [[x] for x in a], seed=seed)}
        rows += [AgreementRow(language, s.metric, s.value, s.ci_low, s.ci_high, backward[s.metric], s.signature)
                 for s in forward]
    return rows


def _agreement_section(rows: list[AgreementRow], n_docs: int) -> str:
    table = ["| language | metric | A vs B | 95 % CI | B vs A | signature |", "|---|---|---|---|---|---|"]
    escaped = [r.signature.replace("|", "\\|") for r in rows]  # a bare | would end the table cell
    table += [
        f"| {r.language} | {r.metric} | {r.a_vs_b:.2f} | {r.ci_low:.2f}–{r.ci_high:.2f} | {r.b_vs_a:.2f} | `{sig}` |"
        for r, sig in zip(rows, escaped)
    ]
    return f"""### Human agreement (the ceiling row)

Each human summary scored against the other one of the same language (`harness.score.score`, the
tasks' default ROUGE, F-measure, mean over the {n_docs} documents; 95 % percentile bootstrap CI over
documents, 1000 resamples, seed 0). "A vs B" takes A as the hypothesis and B as the reference;
ROUGE-1/2/L are symmetric, ROUGE-Lsum nearly so. This is one human summary against one reference,
while a model is scored against both (the better of A and B per document), so the row understates
what a human summary would score in the models' setting: a model can pass it without writing better
than a human. With five documents the intervals are wide. There is one English translation per segment, so translation
has no human-agreement row.

{chr(10).join(table)}
"""


def _ratio_distribution(refs: References) -> str:
    import numpy as np

    from harness.data.references import length_ratio

    entries = [e for t in refs.translations.values() for e in t.entries]
    ratios = sorted((length_ratio(e.zh, e.en), e.segment_id, e.zh) for e in entries)
    values = np.array([r[0] for r in ratios])
    p1, p50, p99 = np.percentile(values, [1, 50, 99])
    (lo, lo_id, lo_zh), (hi, hi_id, hi_zh) = ratios[0], ratios[-1]
    return (f"over the {len(values)} segments the ratio runs from {lo:.2f} ({lo_id}, {lo_zh}) to {hi:.2f} "
            f"({hi_id}, {hi_zh}); 1st percentile {p1:.2f}, median {p50:.2f}, 99th percentile {p99:.2f}. "
            "The extremes are very short segments, where one word more or less moves the ratio most")


def _references_section(refs: References) -> str:
    table, writers = _provenance_table(refs)
    dates = sorted({f.provenance.written_on for f in [*refs.summaries.values(), *refs.translations.values()]})
    reviewed = [f for f in [*refs.summaries.values(), *refs.translations.values()] if f.provenance.reviewed_by]
    review = (
        "**No reference has been reviewed by a native speaker yet** (`reviewed_by` is empty in every file); "
        "`harness refs review DOC_ID` prints source, summaries and translation side by side for that review, "
        "which is recorded by filling `reviewed_by` without rewriting the texts."
        if not reviewed
        else f"{len(reviewed)} of {len(refs.summaries) + len(refs.translations)} files are signed off "
        "by a reviewer (`reviewed_by`, table above); the others are not yet reviewed."
    )
    zh_low, zh_high = SUMMARY_LENGTH["zh"]
    en_low, en_high = SUMMARY_LENGTH["en"]
    low, high = RATIO_BOUNDS
    n_segments = sum(len(t.entries) for t in refs.translations.values())
    n_summaries = sum(len(f.summaries) for f in refs.summaries.values())
    return f"""## References and their provenance

**Who wrote them and how.** Every reference text (the {n_summaries} summaries and the English translation of
all {n_segments} segments) was written by **Claude, an AI model made by Anthropic**, acting as writer
and translator sub-agents of this project's development team: two independent summary writers per
language (A and B, who did not see each other's text; the English summaries written from the
Chinese article, not from a Chinese summary) and a translator. They wrote directly from the
cleaned source text. No machine-translation system was used, no model was run
through this harness to produce or draft any of them, and nothing was post-edited from such
output. Because the references come from a language model, scores of models that write like it
may be flattered; keep that in mind until the native-speaker review below has been done.

**From which source.** The cleaned text of the sha256-pinned seeds (`harness data show DOC_ID`,
segment ids and texts pinned by a digest in `tests/test_data.py`). Each translation line carries
the Chinese segment it translates, and the build fails if it differs from the current cleaning.

**Which guidelines, when.** `references/GUIDELINES.md` version {refs.guideline_version}; written on
{", ".join(dates)}.

**Review.** {review}

{table}

What the files record in `written_by`:

{writers}

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
the number check and the human review cover.
"""


def render_card(docs: list[Document], refs: References, agreement: list[AgreementRow], configs: dict[str, int]) -> str:
    doc_rows = ["| id | script | title | paragraphs | segments | characters |", "|---|---|---|---|---|---|"]
    for d in docs:
        title = d.metadata.get("title") or "—"
        doc_rows.append(f"| {d.id} | {d.script} | {title} | {len(d.paragraphs)} | {len(d.segments)} | {len(d.text)} |")
    config_rows = "\n".join(f"| `{name}` | {n} |" for name, n in configs.items())
    return f"""{_yaml_header(configs)}

# Chinese LLM news: summarisation and Chinese↔English translation

Five Chinese articles about large language models (news, an opinion piece, two interviews and a
policy analysis in Traditional script), cleaned into running text with stable segment ids.
Generated by `harness data build` from `seeds/` and `references/`; do not edit by hand.

```python
from datasets import load_dataset
segments = load_dataset("data", "segments", split="test")   # works offline from a clone
pairs = load_dataset("data", "translation", split="test")
```

## Configs

| config | rows |
|---|---|
{config_rows}

- `documents`: `id`, `title`, `subtitle`, `author`, `source`, `url`, `publisher_summary` (a
  publisher's or machine summary shipped with the page; **never** a reference), `sidebar`
  (the timeline sidebar of 000, kept out of the text), `keywords`, `script` (`Hans`/`Hant`),
  `text` (paragraphs joined by `\\n`, original script), `text_simplified` (OpenCC `t2s` for
  `Hant`, identical to `text` for `Hans`), `paragraph_ids`, `segment_ids`, `source_file`,
  `source_sha256`, `extra` (other page metadata, JSON).
- `segments`: `id` (`<doc>-p<paragraph>-s<sentence>`), `doc_id`, `paragraph`, `sentence`
  (1-based), `zh`, `zh_simplified`. Joining a document's segments (paragraphs by `\\n`) gives
  its `text` exactly.
- `summarization`: one row per document: `doc_id`, `title`, `script`, `text`,
  `text_simplified`, `summaries_zh` and `summaries_en` (the human references `[A, B]`),
  `publisher_summary` (null unless the page had one; **not** a reference).
- `translation`: one row per segment: `segment_id`, `doc_id`, `zh`, `zh_simplified`, `en` (the
  English reference).
- `translation_paragraphs`: one row per paragraph, for document-level translation:
  `paragraph_id` (`000-p03`), `doc_id`, `segment_ids`, `zh` and `zh_simplified` (the segments
  concatenated: the paragraph's line of `text`), `en` (the segments' English joined by one space).

## Documents

{chr(10).join(doc_rows)}

## Cleaning

Every rule is code (`harness/data/rules.py`), pinned to the number of matches it must find in
its sha256-pinned seed; `harness data report` shows the removed text. Generic rules for every
document only touch whitespace (line endings, spaces at line edges, spaces after a
sentence-final mark, blank lines). Source typos are left as published.

{_cleaning_table(docs)}

## Segmentation

Paragraphs are lines of the cleaned text. A sentence ends after a run of `。！？!?…` and the
closing quotation marks that directly follow it, except inside a quotation that continues.

{_references_section(refs)}
{_agreement_section(agreement, len(docs))}
## Sources and licence

The articles are Chinese news and opinion pieces published online in 2023–2024; copyright
remains with their publishers and authors. They are included for research evaluation only.
The references are this project's own work.
"""
