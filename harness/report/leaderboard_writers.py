"""The leaderboard's files: Markdown, CSV (long format) and JSON (harness.report.html writes the
HTML page). Each renders a built Leaderboard (harness.report.leaderboard) to text, in memory."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict
from pathlib import Path

from harness.data.provenance import AGREEMENT_NAME
from harness.errors import HarnessError
from harness.io import Markdown, csv_text, json_text, markdown_table, md_code, md_text, sha256_text, write_text
from harness.report.leaderboard import Leaderboard, LeaderboardTable, Row, ScoreCell, Source
from harness.score.power import POWER
from harness.tasks import TASKS


def _share(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.0f} %"


def folder_note(src: Source, code: Callable[[str], str]) -> str:
    """' (folder `x`)' when the results folder is not named after the run."""
    return "" if src.path == src.run else f" (folder {code(src.path)})"


def short_commit(commit: str) -> str:
    """'0123456789abcdef… (with local changes)' → '0123456789ab (with local changes)'."""
    sha, _, rest = commit.partition(" ")
    return sha[:12] + (f" {rest}" if rest else "")


def role_tag(role: str) -> str:
    return {"agreement": AGREEMENT_NAME, "baseline": "baseline", "model": "model"}[role]


def to_markdown(board: Leaderboard) -> str:
    s = board.settings
    lines = [
        "# Leaderboard",
        "",
        f"Ranks are bands: rows whose difference from the band's best row on the main metric is not significant "
        f"(paired {'approximate randomisation' if s.test == 'ar' else 'bootstrap'} test, α = {s.alpha}, same items, "
        f"seed {s.seed}) share its rank. Values are 0–100 with 95 % bootstrap CIs. The agreement row, {AGREEMENT_NAME} "
        "(reference B scored against reference A), is not ranked; baselines are ranked with the models and listed "
        "after them. Each table names who wrote and reviewed its references. " + mde_sentence(board),
        "",
    ]
    for note in board.notes:
        lines += [f"> **Note:** {md_text(note)}", ""]
    for t in board.tables:
        lines += [f"## {md_code(t.task)} — {t.n_items} items, sorted by {md_code(t.main_metric)}", ""]
        what = "MANIFEST sha256" if _builtin(t) else "sha256"
        lines.append(f"Dataset version ({what}): {md_code(t.dataset_sha256)}")
        lines.append("")
        for src in t.sources:
            commit = f", commit {md_code(short_commit(src.git_commit))}" if src.git_commit else ""
            lines.append(
                f"- run {md_code(src.run)}{folder_note(src, md_code)} on {src.started[:10]}: config {md_code(src.config)} "
                f"(sha256 {md_code(src.config_sha256[:12])}), harness {md_code(src.harness_version)}{commit}"
            )
        lines.append("")
        header = ["rank", "model", "role", *t.metrics, "n", "MDE vs next", "truncated", "max tokens", "off-target"]
        rows = []
        for r in t.rows:
            name = md_text(r.label)
            name = Markdown(f"**{name}**" if r.role == "model" else f"*{name}*")
            cells = [_cell_md(r.cells.get(m), bold=m == t.main_metric) for m in t.metrics]
            rank = "—" if r.rank is None else str(r.rank)
            rows.append([rank, name, role_tag(r.role), *cells, str(r.n), mde_text(r), _share(r.truncated_share),
                         _share(r.max_tokens_share), _share(r.off_target_share)])
        lines += markdown_table(header, rows, "rll" + "r" * (len(header) - 3))
        lines.append("")
        lines.append("Signatures:")
        lines.append("")
        for m in t.metrics:
            lines.append(f"- {md_text(m)}: {md_code(t.signatures[m])}")
        for note in t.notes:
            lines += ["", f"> **Note:** {md_text(note)}"]
        lines.append("")
    return "\n".join(lines)


def mde_sentence(board: Leaderboard) -> str:
    """What the "MDE vs next" column means (the Markdown and the HTML page say it alike)."""
    return (f"MDE vs next: the smallest difference on the main metric that a paired test at α = {board.settings.alpha} "
            f"detects with {POWER * 100:.0f} % power on the table's items, for the row against the row ranked just below "
            "it, from that pair's per-item differences (— where there is no such row or the differences have no spread).")


def mde_text(row: Row) -> str:
    """'3.2 vs lead-3': the row's MDE against the next-ranked row; '—' for the last or unranked row."""
    if row.next_ranked is None:
        return "—"
    return f"{'—' if row.mde_vs_next is None else f'{row.mde_vs_next:.1f}'} vs {row.next_ranked}"


def _builtin(table: LeaderboardTable) -> bool:
    return table.task in TASKS


def _cell_md(cell: ScoreCell | None, bold: bool) -> str:
    if cell is None:
        return "—"
    value = f"{cell.value:.1f}"
    return Markdown(f"{'**' + value + '**' if bold else value} [{cell.ci_low:.1f}, {cell.ci_high:.1f}]")


CSV_COLUMNS = (
    "table",
    "task",
    "dataset_manifest_sha256",
    "main_metric",
    "rank",
    "model",
    "run",
    "role",
    "metric",
    "value",
    "ci_low",
    "ci_high",
    "signature",
    "n",
    "truncated_share",
    "max_tokens_share",
    "off_target_share",
    "references",
)


def to_csv(board: Leaderboard) -> str:
    """Long format: one line per table × row × metric."""
    rows = []
    for t in board.tables:
        for r in t.rows:
            for m in t.metrics:
                cell = r.cells.get(m)
                if cell is None:
                    continue
                rows.append(
                    [
                        t.id,
                        t.task,
                        t.dataset_sha256,
                        t.main_metric,
                        r.rank,
                        r.model,
                        r.run,
                        r.role,
                        m,
                        _round(cell.value),
                        _round(cell.ci_low),
                        _round(cell.ci_high),
                        r.signatures.get(m, ""),
                        r.n,
                        None if r.truncated_share is None else _round(r.truncated_share),
                        None if r.max_tokens_share is None else _round(r.max_tokens_share),
                        None if r.off_target_share is None else _round(r.off_target_share),
                        t.references,
                    ]
                )
    return csv_text(CSV_COLUMNS, rows)


def _round(x: float) -> float:
    return round(float(x), 4)


def to_dict(board: Leaderboard) -> dict:
    def table(t: LeaderboardTable) -> dict:
        return {
            "id": t.id,
            "task": t.task,
            "main_metric": t.main_metric,
            "metrics": list(t.metrics),
            "signatures": dict(t.signatures),
            "dataset_manifest_sha256": t.dataset_sha256,
            "n_items": t.n_items,
            "item_ids_sha256": sha256_text("\n".join(t.item_ids)),
            "sources": [asdict(s) for s in t.sources],
            "references": t.references,
            "rows": [
                {
                    "rank": r.rank,
                    "label": r.label,
                    "model": r.model,
                    "run": r.run,
                    "role": r.role,
                    "n": r.n,
                    "scores": {m: {k: _round(v) for k, v in asdict(c).items()} for m, c in r.cells.items()},
                    "signatures": dict(r.signatures),
                    "truncated_share": r.truncated_share,
                    "max_tokens_share": r.max_tokens_share,
                    "off_target_share": r.off_target_share,
                    "band_leader": r.band_leader,
                    "delta_vs_band_leader": None if r.delta_vs_leader is None else _round(r.delta_vs_leader),
                    "p_vs_band_leader": None if r.p_vs_leader is None else _round(r.p_vs_leader),
                    "next_ranked": r.next_ranked,
                    "mde_vs_next": None if r.mde_vs_next is None else _round(r.mde_vs_next),
                }
                for r in t.rows
            ],
            "notes": list(t.notes),
        }

    return {
        "harness_version": board.harness_version,
        "significance": asdict(board.settings),
        "power": POWER,  # of each row's mde_vs_next (at the significance alpha)
        "notes": list(board.notes),
        "tables": [table(t) for t in board.tables],
    }


def to_json(board: Leaderboard) -> str:
    return json_text(to_dict(board))


def write_files(out_dir: Path, files: Mapping[str, str]) -> list[Path]:
    """Write every file (all already rendered in memory) atomically into out_dir."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise HarnessError(f"--out: {out_dir} exists and is not a folder")
    written = []
    for name, text in files.items():
        write_text(out_dir / name, text)
        written.append(out_dir / name)
    return written
