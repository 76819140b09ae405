"""A leaderboard of any size without scoring anything: one table of `n` items and a few systems,
built from the real report dataclasses, with predictions made in memory. For the size tests of the
leaderboard site (tests/test_report_samples.py) and bench/page_size.py, where scoring and ranking
100,000 items would take minutes and test nothing about the pages."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.report.leaderboard import Leaderboard, LeaderboardTable, Row, ScoreCell, Source
from harness.report.significance import Settings

METRICS = ("rouge1", "rougeL")


@dataclass(frozen=True)
class SyntheticItem:
    id: str
    doc_id: str
    source: str
    references: tuple[str, ...]


@dataclass(frozen=True)
class SyntheticPrediction:
    """The fields of harness.record.Prediction that the pages show (a pydantic model per item would
    take seconds at 100,000 items)."""

    id: str
    output: str
    truncated: bool
    stop_reason: str
    scores: dict


@dataclass(frozen=True)
class SyntheticRun:
    """What the page writer reads of a harness.report.runs.Run: its folder and its predictions."""

    path: Path
    predictions: dict


def item_text(kind: str, i: int, length: int) -> str:
    """A deterministic text of `length` characters for item i: a short ASCII label, then Chinese
    (3 bytes a character in UTF-8)."""
    head = f"{kind}{i}："
    return (head + "大模型在过去一年快速发展。" * (length // 13 + 1))[:length]


def synthetic_board(n: int, models: Sequence[str] = ("alpha", "beta"), text_chars: int = 20,
                    output_chars: dict[str, int] | None = None) -> tuple[Leaderboard, list[SyntheticRun], object]:
    """(board, runs, items_for) for one summarize_zh table of n items. Every text has `text_chars`
    characters, except the outputs of the models named in `output_chars`, which have that many."""
    ids = tuple(f"{i:06d}" for i in range(n))
    predictions = {}
    for k, model in enumerate(models):
        length = (output_chars or {}).get(model, text_chars)
        predictions[(model, "summarize_zh")] = tuple(
            SyntheticPrediction(id=item_id, output=item_text(model, i, length), truncated=i % 7 == 0, stop_reason="eos",
                                scores={m: float((i * (k + 3)) % 101) for m in METRICS})
            for i, item_id in enumerate(ids)
        )
    run = SyntheticRun(path=Path("results/synthetic"), predictions=predictions)
    cell = ScoreCell(50.0, 45.0, 55.0)
    rows = tuple(
        Row(label=model, model=model, run="synthetic", role="model", rank=1, cells={m: cell for m in METRICS},
            signatures={m: f"{m}|synthetic" for m in METRICS}, n=n, truncated_share=0.0, max_tokens_share=0.0,
            off_target_share=0.0)
        for model in models
    )
    source = Source(run="synthetic", path="synthetic", started="2026-01-01T00:00:00+00:00", config="configs/synthetic.yaml",
                    config_sha256="0" * 64, harness_version="0.1.0", git_commit=None)
    table = LeaderboardTable(id="summarize_zh", task="summarize_zh", main_metric="rougeL", metrics=METRICS,
                             signatures={m: f"{m}|synthetic" for m in METRICS}, dataset_sha256="d" * 64, item_ids=ids,
                             sources=(source,), rows=rows)
    items = [SyntheticItem(item_id, item_id, item_text("source", i, text_chars),
                           (item_text("A", i, text_chars), item_text("B", i, text_chars))) for i, item_id in enumerate(ids)]

    def items_for(dataset_sha: str):
        def lookup(task: str, item_ids):
            assert (task, tuple(item_ids)) == ("summarize_zh", ids)
            return items
        return lookup

    return Leaderboard(tables=(table,), settings=Settings()), [run], items_for
