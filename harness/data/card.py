"""The dataset card (data/README.md), generated so that it never disagrees with the data.

The card does not score: the reference agreement rows come from the caller (the build passes
those of harness.score.agreement). The independence targets and the figures measured before the
rewrite are read from independence.yaml beside this module."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

from harness.data.card_references import reference_provenance, references_section
from harness.data.clean import Document
from harness.data.provenance import AGREEMENT_NAME, column_label
from harness.data.references import References
from harness.safe_yaml import safe_load

CONFIG_FILES = {
    "documents": "documents.parquet",
    "segments": "segments.parquet",
    "summarization": "summarization.parquet",
    "translation": "translation.parquet",
    "translation_paragraphs": "translation_paragraphs.parquet",
    "passages": "passages.parquet",
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


@dataclass(frozen=True)
class AgreementRow:
    """Reference A scored against reference B (and the reverse) over the five documents
    (computed by harness.score.agreement.reference_agreement)."""

    language: str
    metric: str
    a_vs_b: float
    ci_low: float
    ci_high: float
    b_vs_a: float
    signature: str
    scope: str = "articles"  # or "passages": the passage summaries (GUIDELINES §1.1)


def _agreement_section(rows: list[AgreementRow], n_docs: int, record: dict) -> str:
    rows = [r for r in rows if r.scope == "articles"]
    table = ["| language | metric | A vs B | 95 % CI | B vs A | signature |", "|---|---|---|---|---|---|"]
    escaped = [r.signature.replace("|", "\\|") for r in rows]  # a bare | would end the table cell
    table += [
        f"| {r.language} | {r.metric} | {r.a_vs_b:.2f} | {r.ci_low:.2f}–{r.ci_high:.2f} | {r.b_vs_a:.2f} | `{sig}` |"
        for r, sig in zip(rows, escaped)
    ]
    writers = "\n".join(f"- {language}: {column_label(record, f'summaries_{language}')}" for language in ("zh", "en"))
    return f"""### {AGREEMENT_NAME[0].upper() + AGREEMENT_NAME[1:]}: the `agreement` row

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


FIGURES_FILE = Path(__file__).with_name("independence.yaml")


@dataclass(frozen=True)
class IndependenceFigures:
    """One language's independence targets and its figures before the rewrite (see FIGURES_FILE)."""

    target_rouge2: float  # mean A-vs-B ROUGE-2 at most
    target_span: int  # longest shared span at most
    before_rouge2: str  # as issue 11 published them
    before_spans: str
    before_spans_measured: tuple[int, ...]  # longest_shared_span per document on the same texts


@functools.cache
def independence_figures() -> dict[str, IndependenceFigures]:
    """Per language, from FIGURES_FILE."""
    data = safe_load(FIGURES_FILE, "independence figures")
    return {language: IndependenceFigures(float(f["target_rouge2"]), int(f["target_span"]), str(f["before_rouge2"]),
                                          str(f["before_spans"]), tuple(int(n) for n in f["before_spans_measured"]))
            for language, f in data.items()}


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
    spans: tuple[tuple[str, int, str], ...]  # (doc_id or passage_id, length, span) per item

    @property
    def longest(self) -> int:
        return max(n for _, n, _ in self.spans)

    @property
    def met(self) -> bool:
        figures = independence_figures()[self.language]
        return round(self.rouge2, 2) <= figures.target_rouge2 and self.longest <= figures.target_span


def independence(docs: list[Document], refs: References, agreement: list[AgreementRow],
                 scope: str = "articles") -> list[Independence]:
    """A-vs-B ROUGE-2 (from the agreement rows) and the longest shared span per document (or per
    passage, for the passage summaries)."""
    out = []
    for language in ("zh", "en"):
        row = next(r for r in agreement if r.language == language and r.metric == "rouge2" and r.scope == scope)
        if scope == "articles":
            pairs = [(d.id, refs.summaries[d.id, language].texts()) for d in docs]
        else:
            pairs = [(pid, f.texts(pid)) for d in docs for f in [refs.passages[d.id, language]] for pid in f.passages]
        spans = [(item, *longest_shared_span(a, b, language)) for item, (a, b) in pairs]
        out.append(Independence(language, row.a_vs_b, row.signature, tuple(spans)))
    return out


def independence_lines(rows: list[Independence], scope: str = "articles") -> list[str]:
    """Plain-text figures and targets (printed by `harness refs check`)."""
    lines = []
    for r in rows:
        f = independence_figures()[r.language]
        rouge_max, span_max, old_rouge, old_spans = f.target_rouge2, f.target_span, f.before_rouge2, f.before_spans
        worst = max(r.spans, key=lambda s: s[1])
        before = (f", before the rewrite {old_rouge}", f", before {old_spans}") if scope == "articles" else ("", "")
        lines.append(
            f"independence {r.language}{' passages' if scope == 'passages' else ''}: mean A-vs-B ROUGE-2 "
            f"{r.rouge2:.2f} (target ≤ {rouge_max:g}{before[0]}); longest shared span {r.longest} "
            f"{SPAN_UNIT[r.language]} ({worst[0]}: '{worst[2]}'; target ≤ {span_max}{before[1]}): "
            f"{'met' if r.met else 'NOT MET'}"
        )
    return lines


def _independence_section(rows: list[Independence]) -> str:
    table = ["| language | mean A-vs-B ROUGE-2 | target | before the rewrite | longest shared span | per document "
             "| target | before the rewrite | targets |", "|---|---|---|---|---|---|---|---|---|"]
    signatures = []
    for r in rows:
        f = independence_figures()[r.language]
        rouge_max, span_max, old_rouge, old_spans = f.target_rouge2, f.target_span, f.before_rouge2, f.before_spans
        unit = SPAN_UNIT[r.language]
        per_doc = ", ".join(f"{d} {n}" for d, n, _ in r.spans)
        table.append(f"| {r.language} | {r.rouge2:.2f} | ≤ {rouge_max:g} | {old_rouge} | {r.longest} {unit} | {per_doc} "
                     f"| ≤ {span_max} {unit} | {old_spans} {unit} | {'met' if r.met else '**not met**'} |")
        signatures.append(f"- {r.language} ROUGE-2: `{r.signature}`")
    spans = "\n".join(f"- {r.language} {d}: {n} {SPAN_UNIT[r.language]}: {span}" for r in rows
                      for d, n, span in r.spans if n == r.longest)
    measured = "; ".join(f"{language}: {', '.join(map(str, f.before_spans_measured))}"
                         for language, f in independence_figures().items())
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


def _passage_independence_section(rows: list[Independence], agreement: list[AgreementRow], n_passages: int) -> str:
    table = ["| language | mean A-vs-B ROUGE-2 | target | longest shared span | in | target | targets |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        f = independence_figures()[r.language]
        worst = max(r.spans, key=lambda s: s[1])
        table.append(f"| {r.language} | {r.rouge2:.2f} | ≤ {f.target_rouge2:g} | {r.longest} {SPAN_UNIT[r.language]} "
                     f"| {worst[0]}: {worst[2]} | ≤ {f.target_span} | {'met' if r.met else '**not met**'} |")
    scores = ["| language | metric | A vs B | 95 % CI | B vs A |", "|---|---|---|---|---|"]
    scores += [f"| {a.language} | {a.metric} | {a.a_vs_b:.2f} | {a.ci_low:.2f}–{a.ci_high:.2f} | {a.b_vs_a:.2f} |"
               for a in agreement if a.scope == "passages"]
    return f"""### Passage summaries: independence and agreement of A and B

The passage summaries (GUIDELINES §1.1) measured as the article summaries above, over the
{n_passages} passages: mean A-vs-B ROUGE-2 with the same targets, and the longest span A and B
share in a passage (names and titles not excepted).

{chr(10).join(table)}

Each passage summary scored against the other one of its language (the tasks' default ROUGE, mean
over the passages, 95 % bootstrap CI, seed 0): the agreement row of the passage tasks.

{chr(10).join(scores)}
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
- `passages`: one row per passage, for passage summarisation: `passage_id` (`000-p07-p11`: the
  document and its first and last paragraph), `doc_id`, `paragraph_ids`, `segment_ids`, `script`,
  `text` and `text_simplified` (the paragraphs joined by `\\n`), `translation_en` (the English
  reference translation of its segments, paragraphs joined by `\\n`: what summarize_passage_en's
  lead baseline reads), `passage_summaries_zh` and
  `passage_summaries_en` (the reference summaries `[A, B]`, GUIDELINES §1.1). Each article is cut
  into runs of whole paragraphs of roughly 400–900 characters by the rule of
  `harness/data/passages.py` (a section heading starts a new section, a question in an interview
  is never cut from its answer, no passage crosses a section, the cuts as even as possible).

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

{references_section(refs, record)}
{_independence_section(independence(docs, refs, agreement))}
{_agreement_section(agreement, len(docs), record)}
{_passage_independence_section(independence(docs, refs, agreement, "passages"), agreement, configs["passages"])}
## Sources and licence

The articles are Chinese news and opinion pieces published online in 2023–2024; copyright
remains with their publishers and authors. They are included for research evaluation only.
The references are this project's own work.
"""
