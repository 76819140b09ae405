"""The example user dataset of configs/custom-task.yaml, written from the project's own data.

    python -m harness.data.example [--data data] [--out examples/custom]

writes the first SEGMENTS_PER_DOC segments of every article of the built dataset's `translation`
config in two file shapes a team's own test set typically has:

- news_zh_en.jsonl: one JSON object per line, `{"id", "doc", "zh", "references": [en]}` (a list column)
- news_zh_en.csv: a header row and `id,doc,zh,en` (one column per reference)
- README.md: where the rows and their references come from

The output depends only on the dataset, so re-running it gives the same bytes (tested).
"""

from __future__ import annotations

import argparse
from pathlib import Path

SEGMENTS_PER_DOC = 6
NAME = "news_zh_en"


def rows(data_dir: Path) -> list[dict]:
    from harness.tasks import TASKS, load_items, select_items

    items = select_items(load_items(TASKS["translate_zh_en"], data_dir), per_doc=SEGMENTS_PER_DOC)
    return [{"id": i.id, "doc": i.doc_id, "zh": i.source, "en": i.references[0]} for i in items]


def render(data_dir: Path) -> dict[str, str]:
    """File name → text of every file the example consists of."""
    from harness.io import csv_text, jsonl_text, sha256_file

    table = rows(data_dir)
    jsonl = jsonl_text({"id": r["id"], "doc": r["doc"], "zh": r["zh"], "references": [r["en"]]} for r in table)
    csv_file = csv_text(["id", "doc", "zh", "en"], ([r["id"], r["doc"], r["zh"], r["en"]] for r in table))
    manifest = sha256_file(Path(data_dir) / "MANIFEST.json")
    readme = f"""# Example user dataset (configs/custom-task.yaml)

Written by `python -m harness.data.example` from the project's built dataset
(MANIFEST sha256 `{manifest}`):
the first {SEGMENTS_PER_DOC} segments of each of its {len({r['doc'] for r in table})} articles, {len(table)} Chinese/English segment pairs, in two
file shapes:

- `{NAME}.jsonl`: `{{"id", "doc", "zh", "references": [<English>]}}`, one object per line
- `{NAME}.csv`: columns `id, doc, zh, en`

The English references are the dataset's own translations; who wrote and reviewed them is in
data/README.md ("References and their provenance"). Do not edit these files by hand: rerun the
writer (a test checks that it reproduces them byte for byte).
"""
    return {f"{NAME}.jsonl": jsonl, f"{NAME}.csv": csv_file, "README.md": readme}


def write(data_dir: Path, out_dir: Path) -> list[Path]:
    from harness.io import write_text

    written = []
    for name, text in render(data_dir).items():
        write_text(Path(out_dir) / name, text)
        written.append(Path(out_dir) / name)
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("data"), help="the built dataset folder")
    parser.add_argument("--out", type=Path, default=Path("examples/custom"), help="where the files go")
    args = parser.parse_args(argv)
    for path in write(args.data, args.out):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
