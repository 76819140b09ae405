"""Reference agreement: each reference summary scored against the other one of its language with
the tasks' default metrics. The dataset card shows the rows (its ceiling table, and the ROUGE-2 of
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
    for language in ("zh", "en"):
        a = [refs.summaries[d.id, language].texts()[0] for d in docs]
        b = [refs.summaries[d.id, language].texts()[1] for d in docs]
        task = f"summarize_{language}"
        forward = score(task, a, [[x] for x in b], seed=seed)
        backward = {s.metric: s.value for s in score(task, b, [[x] for x in a], seed=seed)}
        rows += [AgreementRow(language, s.metric, s.value, s.ci_low, s.ci_high, backward[s.metric], s.signature)
                 for s in forward]
    return rows
