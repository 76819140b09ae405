"""The dataset card (data/README.md), generated so that it never disagrees with the data."""

from __future__ import annotations

import re
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


def _files(refs: References) -> list:
    """Summary files (zh first) then translation files, each in document order."""
    return [*(refs.summaries[k] for k in sorted(refs.summaries, key=lambda k: (k[1] != "zh", k[0]))),
            *(refs.translations[k] for k in sorted(refs.translations))]


def _provenance_table(refs: References) -> tuple[str, str]:
    """The review table (one row per file, labels from harness.data.provenance) and the numbered
    list of the writers' and reviewers' own descriptions it refers to."""
    from harness.data.provenance import collapse, describe_agent, label

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
    """One line per applied review sheet: file, version it produced, reviewer, date, verdicts."""
    from harness.data.provenance import describe_agent

    lines = []
    for f in _files(refs):
        for r in f.provenance.history:
            fixes = sum(1 for i in r.items if i.verdict == "fix")
            lines.append(f"- `{f.path.relative_to(refs.folder).as_posix()}` version {r.version}: reviewed by "
                         f"{describe_agent(r.reviewed_by)} on {r.reviewed_on}, {len(r.items)} items "
                         f"({len(r.items) - fixes} ok, {fixes} corrected; sheet sha256 `{r.sheet_sha256[:12]}…`)")
    return "\n".join(lines) if lines else "No review sheet has been applied yet."


def reference_provenance(refs: References) -> dict:
    """The `reference_provenance` record of data/MANIFEST.json: every reference text's writer,
    reviewer and file version, per dataset column (see harness.data.provenance)."""
    from harness.data.provenance import TextProvenance, provenance_record

    columns: dict[str, list[TextProvenance]] = {}
    for language in ("zh", "en"):
        for doc_id in sorted(d for d, lang in refs.summaries if lang == language):
            f = refs.summaries[doc_id, language]
            p = f.provenance
            for s in sorted(f.summaries, key=lambda s: s.reference):
                columns.setdefault(f"summaries_{language}", []).append(TextProvenance(
                    doc_id, s.reference, f.path.relative_to(refs.folder).as_posix(), p.version, s.written_by,
                    p.reviewed_by, p.reviewed_on))
    for doc_id in sorted(refs.translations):
        t = refs.translations[doc_id]
        p = t.provenance
        columns.setdefault("en", []).append(TextProvenance(
            doc_id, "", t.path.relative_to(refs.folder).as_posix(), p.version, p.written_by[0], p.reviewed_by,
            p.reviewed_on))
    return provenance_record(columns)


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


def reference_agreement(docs: list[Document], refs: References, *, seed: int = 0) -> list[AgreementRow]:
    """ROUGE between the two reference summaries of each language, with the scoring API of harness.score."""
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


def _agreement_section(rows: list[AgreementRow], n_docs: int, record: dict) -> str:
    from harness.data.provenance import CEILING_NAME, column_label

    table = ["| language | metric | A vs B | 95 % CI | B vs A | signature |", "|---|---|---|---|---|---|"]
    escaped = [r.signature.replace("|", "\\|") for r in rows]  # a bare | would end the table cell
    table += [
        f"| {r.language} | {r.metric} | {r.a_vs_b:.2f} | {r.ci_low:.2f}–{r.ci_high:.2f} | {r.b_vs_a:.2f} | `{sig}` |"
        for r, sig in zip(rows, escaped)
    ]
    writers = "\n".join(f"- {language}: {column_label(record, f'summaries_{language}')}" for language in ("zh", "en"))
    return f"""### {CEILING_NAME[0].upper() + CEILING_NAME[1:]}: the `ceiling` row

Each reference summary scored against the other one of the same language (`harness.score.score`, the
tasks' default ROUGE, F-measure, mean over the {n_docs} documents; 95 % percentile bootstrap CI over
documents, 1000 resamples, seed 0). "A vs B" takes A as the hypothesis and B as the reference;
ROUGE-1/2/L are symmetric, ROUGE-Lsum nearly so. It measures how far the two references agree, and
it is only as meaningful as they are independent (above). Who wrote them:

{writers}

This is one reference against one reference, while a model is scored against both (the better of A
and B per document), so a model can pass this row without writing better than the references'
writers. With five documents the intervals are wide. There is one English translation per segment,
so translation has no agreement row.

{chr(10).join(table)}
"""


# Independence of A and B (references/GUIDELINES.md §1): targets, and the figures of the guideline
# 1.0 summaries that issue 11 measured before B and the English summaries were rewritten.
INDEPENDENCE_TARGETS = {"zh": (35.0, 15), "en": (22.0, 8)}  # mean ROUGE-2 at most, longest shared span at most
OLD_INDEPENDENCE = {"zh": ("48.47", "17–33"), "en": ("32.86", "8–12")}
# The same guideline 1.0 texts measured with longest_shared_span (per document 000–004).
OLD_SPANS_MEASURED = {"zh": (22, 17, 20, 33, 12), "en": (9, 10, 8, 11, 8)}
SPAN_UNIT = {"zh": "characters", "en": "words"}
_WORD = re.compile(r"[a-z0-9]+(?:['’.-][a-z0-9]+)*")


def span_units(text: str, language: str) -> list[str]:
    """Chinese: every character (punctuation included, as the length rule counts); English:
    lower-cased words with surrounding punctuation dropped."""
    return list(text) if language == "zh" else _WORD.findall(text.lower())


def longest_shared_span(a: str, b: str, language: str) -> tuple[int, str]:
    """Length (in span_units) and text of the longest run of units that ``a`` and ``b`` share.
    Names and titles are not excepted: the figure is an upper bound of the guideline's."""
    x, y = span_units(a, language), span_units(b, language)
    best, end = 0, 0
    previous = [0] * (len(y) + 1)
    for i in range(1, len(x) + 1):
        current = [0] * (len(y) + 1)
        for j in range(1, len(y) + 1):
            if x[i - 1] == y[j - 1]:
                current[j] = previous[j - 1] + 1
                if current[j] > best:
                    best, end = current[j], i
        previous = current
    return best, ("" if language == "zh" else " ").join(x[end - best:end])


@dataclass(frozen=True)
class Independence:
    """How independent summaries A and B of one language are."""

    language: str
    rouge2: float  # mean A-vs-B ROUGE-2 F over the documents
    signature: str
    spans: tuple[tuple[str, int, str], ...]  # (doc_id, length, span) per document

    @property
    def longest(self) -> int:
        return max(n for _, n, _ in self.spans)

    @property
    def met(self) -> bool:
        rouge_max, span_max = INDEPENDENCE_TARGETS[self.language]
        return round(self.rouge2, 2) <= rouge_max and self.longest <= span_max


def independence(docs: list[Document], refs: References, agreement: list[AgreementRow]) -> list[Independence]:
    """A-vs-B ROUGE-2 (from the agreement rows) and the longest shared span per document."""
    out = []
    for language in ("zh", "en"):
        row = next(r for r in agreement if r.language == language and r.metric == "rouge2")
        spans = []
        for d in docs:
            a, b = refs.summaries[d.id, language].texts()
            n, span = longest_shared_span(a, b, language)
            spans.append((d.id, n, span))
        out.append(Independence(language, row.a_vs_b, row.signature, tuple(spans)))
    return out


def independence_lines(rows: list[Independence]) -> list[str]:
    """Plain-text figures and targets (printed by `harness refs check`)."""
    lines = []
    for r in rows:
        rouge_max, span_max = INDEPENDENCE_TARGETS[r.language]
        old_rouge, old_spans = OLD_INDEPENDENCE[r.language]
        worst = max(r.spans, key=lambda s: s[1])
        lines.append(
            f"independence {r.language}: mean A-vs-B ROUGE-2 {r.rouge2:.2f} (target ≤ {rouge_max:g}, before the "
            f"rewrite {old_rouge}); longest shared span {r.longest} {SPAN_UNIT[r.language]} ({worst[0]}: "
            f"'{worst[2]}'; target ≤ {span_max}, before {old_spans}): {'met' if r.met else 'NOT MET'}"
        )
    return lines


def _independence_section(rows: list[Independence]) -> str:
    table = ["| language | mean A-vs-B ROUGE-2 | target | before the rewrite | longest shared span | per document "
             "| target | before the rewrite | targets |", "|---|---|---|---|---|---|---|---|---|"]
    signatures = []
    for r in rows:
        rouge_max, span_max = INDEPENDENCE_TARGETS[r.language]
        old_rouge, old_spans = OLD_INDEPENDENCE[r.language]
        unit = SPAN_UNIT[r.language]
        per_doc = ", ".join(f"{d} {n}" for d, n, _ in r.spans)
        table.append(f"| {r.language} | {r.rouge2:.2f} | ≤ {rouge_max:g} | {old_rouge} | {r.longest} {unit} | {per_doc} "
                     f"| ≤ {span_max} {unit} | {old_spans} {unit} | {'met' if r.met else '**not met**'} |")
        signatures.append(f"- {r.language} ROUGE-2: `{r.signature}`")
    spans = "\n".join(f"- {r.language} {d}: {n} {SPAN_UNIT[r.language]}: {span}" for r in rows
                      for d, n, span in r.spans if n == r.longest)
    measured = "; ".join(f"{language}: {', '.join(map(str, v))}" for language, v in OLD_SPANS_MEASURED.items())
    return f"""### Independence of A and B

Summaries A and B of a language must be written separately (`references/GUIDELINES.md` §1). The
build measures, per language, the mean A-vs-B ROUGE-2 (the `rouge2` agreement row below) and the
longest span A and B share in a document (`harness.data.card.longest_shared_span`: Chinese in
characters, punctuation included; English in lower-cased words; names and titles are not excepted,
so the figure can only overstate the guideline's). `harness refs check` prints the same figures.
"Before the rewrite" are the guideline 1.0 summaries as measured in issue 11 (this function gives
per document {measured} on those texts).

{chr(10).join(table)}

{chr(10).join(signatures)}

Longest shared spans:

{spans}
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


def _writers_sentence(refs: References) -> str:
    """Who wrote the texts, generated from `written_by`: 'Claude (AI model): 20 summaries, 511 segments'."""
    from harness.data.provenance import describe_agent

    counts: dict[str, list[int]] = {}
    for f in refs.summaries.values():
        for s in f.summaries:
            counts.setdefault(describe_agent(s.written_by), [0, 0])[0] += 1
    for t in refs.translations.values():
        counts.setdefault(describe_agent(t.provenance.written_by[0]), [0, 0])[1] += len(t.entries)
    return "; ".join(f"**{who}**: {n} summaries and the translation of {m} segments" for who, (n, m) in counts.items())


def _references_section(refs: References, record: dict) -> str:
    from harness.data.provenance import any_human

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


# Facts about a seed that a reader of a score needs (the text, not its headline, is summarised).
DOCUMENT_NOTES = {
    "002": "the text stops after the author's fourth factor, so the headline's 烟花秀 (fireworks show) argument "
           "is not in the text; the summaries cover the body only (`references/GUIDELINES.md` §1).",
}


def render_card(docs: list[Document], refs: References, agreement: list[AgreementRow], configs: dict[str, int]) -> str:
    record = reference_provenance(refs)
    doc_rows = ["| id | script | title | paragraphs | segments | characters |", "|---|---|---|---|---|---|"]
    for d in docs:
        title = d.metadata.get("title") or "—"
        doc_rows.append(f"| {d.id} | {d.script} | {title} | {len(d.paragraphs)} | {len(d.segments)} | {len(d.text)} |")
    config_rows = "\n".join(f"| `{name}` | {n} |" for name, n in configs.items())
    doc_notes = "\n".join(f"- {d.id}: {DOCUMENT_NOTES[d.id]}" for d in docs if d.id in DOCUMENT_NOTES)
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
  `text_simplified`, `summaries_zh` and `summaries_en` (the reference summaries `[A, B]`),
  `publisher_summary` (null unless the page had one; **not** a reference).
- `translation`: one row per segment: `segment_id`, `doc_id`, `zh`, `zh_simplified`, `en` (the
  English reference).
- `translation_paragraphs`: one row per paragraph, for document-level translation:
  `paragraph_id` (`000-p03`), `doc_id`, `segment_ids`, `zh` and `zh_simplified` (the segments
  concatenated: the paragraph's line of `text`), `en` (the segments' English joined by one space).

## Documents

{chr(10).join(doc_rows)}

{doc_notes}

## Cleaning

Every rule is code (`harness/data/rules.py`), pinned to the number of matches it must find in
its sha256-pinned seed; `harness data report` shows the removed text. Generic rules for every
document only touch whitespace (line endings, spaces at line edges, spaces after a
sentence-final mark, blank lines). Source typos are left as published.

{_cleaning_table(docs)}

## Segmentation

Paragraphs are lines of the cleaned text. A sentence ends after a run of `。！？!?…` and the
closing quotation marks that directly follow it, except inside a quotation that continues.

{_references_section(refs, record)}
{_independence_section(independence(docs, refs, agreement))}
{_agreement_section(agreement, len(docs), record)}
## Sources and licence

The articles are Chinese news and opinion pieces published online in 2023–2024; copyright
remains with their publishers and authors. They are included for research evaluation only.
The references are this project's own work.
"""
