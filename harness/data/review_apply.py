"""`harness refs apply FILE`: record a checked review sheet (`review_check.py`) in the reference files.

`apply_sheet` writes the corrected texts, signs every file of the document off (its two article
summary files, its two passage summary files and its translation: `reviewed_by` the reviewer, a
human; `reviewed_on`; `version` + 1; a `review_history` entry with each item's verdict, comment
and previous text) and rebuilds the dataset, all prepared and built in a staging copy first and
swapped in only when complete (references/GUIDELINES.md §4).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import yaml

from harness.data.build import Agreement, atomic_write_dir, build_dataset
from harness.data.provenance import Agent
from harness.data.references import DATE, SUMMARY_LANGUAGES, References, load_references
from harness.data.review_check import CheckedSheet, Verdict, check_sheet
from harness.data.review_sheet import summary_id
from harness.data.seeds import load_documents
from harness.errors import HarnessError
from harness.io import scratch_folder, write_bytes


def dump_yaml(data) -> str:
    """YAML as the reference files are written: keys in the given order, Unicode as is, lines folded."""
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100, default_flow_style=False)


def _review_entry(version: int, reviewer: Agent, date: str, sheet: CheckedSheet, verdicts: list[Verdict]) -> dict:
    items = []
    for v in verdicts:
        item = {"id": v.id, "verdict": v.verdict}
        if v.comment:
            item["comment"] = v.comment
        if v.verdict == "fix":
            item["previous"] = v.previous
        items.append(item)
    return {"version": version, "reviewed_by": reviewer.to_dict(), "reviewed_on": date,
            "sheet_sha256": sheet.sha256, "items": items}


def _sign_off(meta: dict, reviewer: Agent, date: str, sheet: CheckedSheet, verdicts: list[Verdict]) -> None:
    meta["version"] = int(meta["version"]) + 1
    meta["reviewed_by"] = reviewer.to_dict()
    meta["reviewed_on"] = date
    meta["review_history"] = [*(meta.get("review_history") or []),
                              _review_entry(meta["version"], reviewer, date, sheet, verdicts)]


def _on_sheet(by_id: dict[str, Verdict], item_id: str, file: str) -> Verdict:
    """The verdict on one text of a file. The sheet lists every text of the document's current
    passages and segments; a text of the file that is not among them cannot be signed off."""
    if item_id not in by_id:
        raise HarnessError(f"{file}: {item_id} has no row on the sheet (not a passage or segment of the current "
                           "document; `harness refs check` names the problem)")
    return by_id[item_id]


def _fix_summaries(summaries: list[dict], owner_id: str, language: str, by_id: dict[str, Verdict],
                   file: str) -> list[Verdict]:
    """Apply the verdicts on a list of `{reference, text, ...}` in place; returns them in file order."""
    verdicts = []
    for item in summaries:
        v = _on_sheet(by_id, summary_id(owner_id, language, item["reference"]), file)
        verdicts.append(v)
        if v.verdict == "fix":
            item["text"] = v.correction
    return verdicts


def planned_changes(sheet: CheckedSheet, refs: References, reviewer: Agent, date: str) -> dict[str, str]:
    """New contents of every reference file the sheet touches, keyed by path inside references/."""
    by_id = {v.id: v for v in sheet.verdicts}
    out: dict[str, str] = {}
    for language in SUMMARY_LANGUAGES:
        f = refs.summaries[sheet.doc_id, language]
        rel = f.path.relative_to(refs.folder).as_posix()
        meta = yaml.safe_load(f.path.read_text(encoding="utf-8"))
        verdicts = _fix_summaries(meta["summaries"], sheet.doc_id, language, by_id, rel)
        _sign_off(meta, reviewer, date, sheet, verdicts)
        out[rel] = dump_yaml(meta)
    for language in SUMMARY_LANGUAGES:
        f = refs.passages[sheet.doc_id, language]
        rel = f.path.relative_to(refs.folder).as_posix()
        meta = yaml.safe_load(f.path.read_text(encoding="utf-8"))
        verdicts = [v for passage in meta["passages"]
                    for v in _fix_summaries(passage["summaries"], passage["passage_id"], language, by_id, rel)]
        _sign_off(meta, reviewer, date, sheet, verdicts)
        out[rel] = dump_yaml(meta)
    t = refs.translations[sheet.doc_id]
    rel = t.path.relative_to(refs.folder).as_posix()
    lines = t.path.read_text(encoding="utf-8").split("\n")
    verdicts = []
    for n, line in enumerate(lines):
        if not line.strip():
            continue
        entry = json.loads(line)
        v = _on_sheet(by_id, entry["segment_id"], rel)
        verdicts.append(v)
        if v.verdict == "fix":  # only corrected lines are rewritten; the others stay byte for byte
            entry["en"] = v.correction
            lines[n] = json.dumps(entry, ensure_ascii=False)
    out[rel] = "\n".join(lines)
    meta = yaml.safe_load(t.meta_path.read_text(encoding="utf-8"))
    _sign_off(meta, reviewer, date, sheet, verdicts)
    out[t.meta_path.relative_to(refs.folder).as_posix()] = dump_yaml(meta)
    return out


@dataclass(frozen=True)
class Applied:
    doc_id: str
    files: tuple[str, ...]  # reference files rewritten, inside references/
    ok: int
    fixed: int
    versions: dict[str, int]  # file -> its new version


def apply_sheet(sheet_path: Path, reviewer_name: str, date: str, *, seeds: Path, references: Path,
                data: Path, agreement: Agreement) -> Applied:
    """Check the sheet, write the corrected and signed-off reference files and rebuild ``data``
    (``agreement``: as for build_dataset).

    Everything is first written to a staging copy (references and a full dataset build, which
    validates the corrected texts); the real files are replaced only when that succeeded, and put
    back if replacing them fails half-way."""
    name = " ".join(reviewer_name.split())
    if not name:
        raise HarnessError("--reviewer: give the reviewer's name")
    if not DATE.match(date):
        raise HarnessError(f"--date: '{date}' is not YYYY-MM-DD")
    docs = load_documents(seeds)
    refs = load_references(references, [d.id for d in docs])
    sheet = check_sheet(sheet_path, docs, refs)
    try:
        changes = planned_changes(sheet, refs, Agent(name, "human"), date)
    except HarnessError as err:
        raise HarnessError(f"{sheet_path}: {err}") from None

    with scratch_folder(references, ".refs-apply-") as staging:
        staged_refs = staging / "references"
        shutil.copytree(references, staged_refs)
        for rel, text in changes.items():
            (staged_refs / rel).write_text(text, encoding="utf-8")
        try:
            build_dataset(seeds, staging / "data", staged_refs, agreement=agreement)
        except HarnessError as err:
            raise HarnessError(f"{sheet_path}: the corrected references do not pass the build: "
                               f"{str(err).replace(str(staged_refs), str(references))}") from None
        originals = _replace_files(references, changes)
        try:
            atomic_write_dir(data, lambda folder: _copy_files(staging / "data", folder))
        except BaseException:
            _restore(references, originals)
            raise
    versions = {rel: yaml.safe_load(text)["version"] for rel, text in changes.items() if rel.endswith(".yaml")}
    fixed = sum(1 for v in sheet.verdicts if v.verdict == "fix")
    return Applied(sheet.doc_id, tuple(changes), len(sheet.verdicts) - fixed, fixed, versions)


def _copy_files(src: Path, dst: Path) -> None:
    for p in sorted(src.iterdir()):
        shutil.copy2(p, dst / p.name)


def _replace_files(folder: Path, changes: dict[str, str]) -> dict[str, bytes]:
    """Replace every file, each by a rename; on a failure put back those already replaced.
    Returns the original bytes, for a rollback by the caller."""
    originals = {rel: (folder / rel).read_bytes() for rel in changes}
    done = []
    try:
        for rel, text in changes.items():
            write_bytes(folder / rel, text.encode("utf-8"))
            done.append(rel)
    except BaseException:
        _restore(folder, {rel: originals[rel] for rel in done})
        raise
    return originals


def _restore(folder: Path, originals: dict[str, bytes]) -> None:
    for rel, data in originals.items():
        write_bytes(folder / rel, data)
