"""How often a metric delta of a given size agrees with human judgements: the published table.

Kocmi, Zouhar, Federmann and Post (2024), "Navigating the Metrics Maze: Reconciling Score
Magnitudes and Accuracies", ACL 2024, appendix table `main_thresholds`
(github.com/kocmitom/MT-Thresholds, appendix/main_thresholds.tex): the system-level delta at which
a metric's pairwise ranking of two MT systems agrees with human judgements with the given
estimated accuracy (ToShip23 + WMT). A level the metric never reaches is absent.

Only the rows for metrics the harness scores are kept, with the paper's figures unchanged:
- chrF++ was not measured; its deltas are read on chrF's row, and the report says so;
- COMET-22 is Unbabel/wmt22-comet-da: the row applies only when that model scored the delta;
- the harness's BERTScore (bundled multilingual-e5-small) is not the paper's configuration, and
  ROUGE and TER are not in the table: for them no such figure is published.
The scale is the harness's: BLEU and chrF 0–100, COMET × 100.
"""

from __future__ import annotations

from dataclasses import dataclass

SOURCE = "Kocmi et al. (2024), Navigating the Metrics Maze, appendix table main_thresholds"

_LEVELS = (50, 55, 60, 65, 70, 75, 80, 85, 90, 95)  # estimated accuracy, %
# paper row → the delta for each level above (None: never reached)
THRESHOLDS: dict[str, tuple[float | None, ...]] = {
    "BLEU": (0.27, 0.52, 0.78, 1.06, 1.39, 1.79, 2.34, 3.35, None, None),
    "chrF": (0.14, 0.33, 0.54, 0.76, 1.00, 1.28, 1.63, 2.12, 3.05, None),
    "COMET-22": (0.03, 0.10, 0.18, 0.26, 0.35, 0.45, 0.56, 0.71, 0.94, 1.53),
}
COMET_22_MODEL = "Unbabel/wmt22-comet-da"


@dataclass(frozen=True)
class Agreement:
    """What the table says about one delta: the highest accuracy level its size reaches."""

    row: str | None  # the paper's row read; None when no figure is published for the metric
    level: int | None  # %, None below the 50 % (coin-toss) threshold or without a row
    note: str  # how to read it, for reports

    @property
    def label(self) -> str:
        if self.row is None:
            return "not published"
        if self.level is None:
            return "below 50 %"
        return "50 % (coin toss)" if self.level == 50 else f"{self.level} %"


def paper_row(metric: str, signature: str = "") -> tuple[str | None, str]:
    """(the paper's row for the harness metric, why); the row is None when there is none.
    ``signature`` (the delta's) tells which COMET model scored it."""
    if metric == "bleu":
        return "BLEU", "BLEU row"
    if metric == "chrf":
        return "chrF", "chrF row"
    if metric == "chrf++":
        return "chrF", "chrF row (chrF++ was not measured; read on chrF's)"
    if metric == "comet":
        if f"model:{COMET_22_MODEL}|" in signature + "|":
            return "COMET-22", f"COMET-22 row (applies to {COMET_22_MODEL})"
        return None, f"no published figure for this COMET model (the COMET-22 row applies to {COMET_22_MODEL} only)"
    return None, f"no published figure for {metric}"


def agreement(metric: str, delta: float, signature: str = "") -> Agreement:
    """The estimated accuracy a delta of this size reaches on the metric's row, e.g. BLEU
    ±2.5 → 80 %: the highest level whose threshold |delta| meets."""
    row, note = paper_row(metric, signature)
    if row is None:
        return Agreement(None, None, note)
    reached = [level for level, threshold in zip(_LEVELS, THRESHOLDS[row]) if threshold is not None and abs(delta) >= threshold]
    return Agreement(row, reached[-1] if reached else None, note)
