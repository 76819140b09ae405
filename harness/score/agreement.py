"""Reference agreement: each reference summary scored against the other one of its language with
the tasks' default metrics. The dataset card shows the rows (its reference-agreement table, and the ROUGE-2 of
its independence figures) and `harness refs check` prints them; the data layer receives them from
here rather than scoring itself."""

from __future__ import annotations

from harness.data.card import AgreementRow
from harness.data.clean import Document
from harness.data.references import References
from harness.score.api import score


def reference_agreement(docs: list[Document], refs: References, *, seed: int = 0) -> list[AgreementRow]:
    """ROUGE between the two reference summaries of each language, with the scoring API of harness.score."""
    rows = []
    for scope in ("articles", "passages"):
        for language in ("zh", "en"):
            if scope == "articles":
                pairs = [refs.summaries[d.id, language].texts() for d in docs]
                task = f"summarize_{language}"
            else:
                pairs = [f.texts(p) for d in docs for f in [refs.passages[d.id, language]] for p in f.passages]
                task = f"summarize_passage_{language}"
            a, b = [p[0] for p in pairs], [p[1] for p in pairs]
            forward = score(task, a, [[x] for x in b], seed=seed)
            backward = {s.metric: s.value for s in score(task, b, [[x] for x in a], seed=seed)}
            rows += [AgreementRow(language, s.metric, s.value, s.ci_low, s.ci_high, backward[s.metric], s.signature,
                                  scope) for s in forward]
    return rows
