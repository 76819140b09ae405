"""`harness score`: score any system's outputs against references, with CIs and signatures."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import typer

from harness.errors import HarnessError
from harness.metric_table import METRICS
from harness.options import MAX_ITEM_CHARS, MAX_ITEM_CHARS_MAX, N_BOOT_MAX, check_range, check_seed
from harness.registry import did_you_mean
from harness.score import get_metric, score_with_items
from harness.score.neural import configure
from harness.score.rouge import ZH_TOKENIZERS
from harness.score.terms import Terms
from harness.score.text import ScoringError
from harness.tasks import TASKS


_ESCAPE = re.compile(r"\\([\\n])")


_BLOCK = 1 << 20  # bytes read at a time past the limit, to count an over-long line's characters


def read_items(path: Path, option: str, max_chars: int = MAX_ITEM_CHARS) -> list[str]:
    """One item per line; ``\\n`` inside a line is a newline in the item, ``\\\\`` a backslash.

    Read line by line (never the whole file as one string); a line of more than ``max_chars``
    characters is refused with its line number and length, without decoding it whole."""
    try:
        with path.open("rb") as f:
            return _read_lines(f, path, option, max_chars)
    except FileNotFoundError:
        raise HarnessError(f"{option} {path}: no such file") from None
    except IsADirectoryError:
        raise HarnessError(f"{option} {path}: is a directory, expected a text file") from None
    except OSError as e:
        raise HarnessError(f"{option} {path}: cannot read ({e.strerror})") from None


def _read_lines(f, path: Path, option: str, max_chars: int) -> list[str]:
    cap = 4 * max_chars + 2  # UTF-8 has at most 4 bytes a character, plus "\r\n"
    items: list[str] = []
    while True:
        data = f.readline(cap)
        if not items and data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
            if not data:  # a file of only a byte-order mark is empty
                break
        if not data:
            break
        line_no = len(items) + 1
        if len(data) == cap and not data.endswith(b"\n"):
            n_chars = _utf8_chars(data) + sum(_utf8_chars(block) for block in _rest_of_line(f))
            raise HarnessError(f"{option} {path}: line {line_no}: item of {n_chars} characters is over the limit of {max_chars} (--max-item-chars)")
        try:
            text = data.decode("utf-8").removesuffix("\n").removesuffix("\r")
        except UnicodeDecodeError as e:
            raise HarnessError(f"{option} {path}: not UTF-8 (byte 0x{data[e.start]:02x} on line {line_no})") from None
        if len(text) > max_chars:
            raise HarnessError(f"{option} {path}: line {line_no}: item of {len(text)} characters is over the limit of {max_chars} (--max-item-chars)")
        items.append(_ESCAPE.sub(lambda m: "\n" if m.group(1) == "n" else "\\", text) if "\\" in text else text)
    if not items:  # blank lines are items (an empty output scores 0); no line at all is not
        raise HarnessError(f"{option} {path}: empty file")
    return items


def _rest_of_line(f):
    """The blocks of the current line after what was read, up to its newline."""
    while True:
        block = f.readline(_BLOCK)
        if not block:
            return
        yield block.removesuffix(b"\n")
        if block.endswith(b"\n"):
            return


def _utf8_chars(data: bytes) -> int:
    """Characters in UTF-8 bytes: every byte but the continuation bytes (0b10xxxxxx)."""
    return len(data) - int(np.count_nonzero((np.frombuffer(data, np.uint8) & 0xC0) == 0x80))


def _format_table(task: str, n: int, n_refs: int, seed: int, n_boot: int, scores) -> str:
    header = ("metric", "value", "95% CI", "P", "R", "signature")
    rows = [header]
    for s in scores:
        rows.append(
            (
                s.metric,
                f"{s.value:.2f}",
                f"[{s.ci_low:.2f}, {s.ci_high:.2f}]",
                "-" if s.precision is None else f"{s.precision:.2f}",
                "-" if s.recall is None else f"{s.recall:.2f}",
                s.signature,
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(header) - 1)]
    lines = [f"{task}: {n} items, {n_refs} reference{'s' if n_refs > 1 else ''} each; 95% percentile bootstrap CI ({n_boot} samples, seed {seed})"]
    for r in rows:
        cells = [r[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(r[1:-1], widths[1:])]
        lines.append("  ".join(cells + [r[-1]]))
    return "\n".join(lines)


def score_command(
    task: str = typer.Option(..., "--task", metavar="TASK", help="summarize_zh, summarize_en, translate_zh_en, translate_zh_en_doc or translate_en_zh (sets the target language)."),
    hyp: Path = typer.Option(..., "--hyp", metavar="FILE", help="System outputs: UTF-8, one item per line, newlines inside an item written as \\n."),
    ref: list[Path] = typer.Option(..., "--ref", metavar="FILE", help="References, same format and line count as --hyp; repeat for several references per item."),
    metric: list[str] = typer.Option(None, "--metric", metavar="NAME", help="rouge1, rouge2, rougeL, rougeLsum, bleu, chrf, chrf++, ter, bertscore, comet, numbers, terms (harness/metric_table.py); repeatable. Default: the task's metrics (ROUGE-1/2/L/Lsum for summaries, BLEU + chrF++ for translation)."),
    seed: int = typer.Option(0, "--seed", help="Seed of numpy.random.default_rng for the bootstrap resamples."),
    n_boot: int = typer.Option(1000, "--n-boot", help="Bootstrap resamples for the 95% CI."),
    zh_tokenizer: str = typer.Option(None, "--zh-tokenizer", help="Chinese ROUGE tokens: char (default) or jieba words."),
    as_json: bool = typer.Option(False, "--json", help='Print one JSON object: {"task", "n", "scores": [{"metric", "value", "ci_low", "ci_high", "signature"}, ...]}.'),
    items: bool = typer.Option(False, "--items", help="With --json: add to each score its per-item values (\"items\"), in input order; numbers also adds \"details\" (kept, dropped, changed, added numbers), terms each item's missed terms (\"misses\")."),
    src: Path = typer.Option(None, "--src", metavar="FILE", help="Sources, same format and line count as --hyp (comet, numbers and terms need them)."),
    glossary: Path = typer.Option(None, "--glossary", metavar="FILE", help="terms: a glossary YAML file (default: the project glossary, harness/data/glossary.yaml)."),
    bertscore_model: str = typer.Option(None, "--bertscore-model", metavar="MODEL", help="bertscore encoder: a local transformers folder or a Hub id (default: the bundled multilingual-e5-small)."),
    bertscore_layer: int = typer.Option(None, "--bertscore-layer", metavar="N", help="bertscore layer (default: the encoder's standard layer)."),
    comet_python: Path = typer.Option(None, "--comet-python", metavar="PYTHON", help="comet: a Python interpreter that has unbabel-comet installed."),
    comet_model: str = typer.Option(None, "--comet-model", metavar="MODEL", help="comet: a model name (Unbabel/wmt22-comet-da) or a .ckpt path."),
    max_item_chars: int = typer.Option(MAX_ITEM_CHARS, "--max-item-chars", metavar="N", help="Refuse a line (item) of more than N characters in any input file (one error line naming the file and line)."),
) -> None:
    """Score outputs against references with Chinese-aware ROUGE / BLEU / chrF(++) / TER.

    Every number comes with a 95% bootstrap confidence interval over items and a signature that says how it was computed (tokenizer, normalisation, references, library version). Chinese targets are scored per character after Traditional→Simplified and NFKC folding.
    """
    if task not in TASKS:
        raise HarnessError(f"--task: unknown task '{task}'{did_you_mean(task, TASKS)}")
    definition = TASKS[task]
    for name in metric or ():
        if name not in METRICS:
            raise HarnessError(f"--metric: unknown metric '{name}'{did_you_mean(name, METRICS)}")
    if zh_tokenizer is not None and zh_tokenizer not in ZH_TOKENIZERS:  # checked even when no ROUGE metric runs
        raise HarnessError(f"--zh-tokenizer: unknown tokenizer '{zh_tokenizer}' (known: {', '.join(ZH_TOKENIZERS)})")
    if zh_tokenizer is not None and definition.target_lang != "zh":
        raise HarnessError(f"--zh-tokenizer: task {task} has an English target")
    check_seed(seed)
    check_range("--n-boot", n_boot, 1, N_BOOT_MAX)
    check_range("--max-item-chars", max_item_chars, 1, MAX_ITEM_CHARS_MAX)
    if items and not as_json:
        raise HarnessError("--items: only with --json")
    if glossary is not None and "terms" not in (metric or definition.metrics):
        raise HarnessError("--glossary: only the terms metric reads a glossary (add --metric terms)")

    hypotheses = read_items(hyp, "--hyp", max_item_chars)
    ref_columns = [read_items(path, "--ref", max_item_chars) for path in ref]
    for path, column in zip(ref, ref_columns):
        if len(column) != len(hypotheses):
            raise HarnessError(f"--ref {path}: {len(column)} lines but --hyp {hyp} has {len(hypotheses)}")
    references = [list(refs) for refs in zip(*ref_columns)]

    names = list(metric) if metric else list(definition.metrics)
    metrics = [
        get_metric(name, task, tokenizer=zh_tokenizer if "tokenizer" in METRICS[name].options else None)
        for name in names
    ]
    sources = None
    if src is not None:
        sources = read_items(src, "--src", max_item_chars)
        if len(sources) != len(hypotheses):
            raise HarnessError(f"--src {src}: {len(sources)} lines but --hyp {hyp} has {len(hypotheses)}")
    # settings of the neural metrics (the encoder, the COMET interpreter and model; harness.score.neural)
    settings = {"bertscore": {"model": bertscore_model, "layer": bertscore_layer},
                "comet": {"python": None if comet_python is None else str(comet_python), "model": comet_model},
                "terms": {"glossary": None if glossary is None else str(glossary)}}
    metrics = configure(metrics, settings, sources=sources, source_lang=definition.source_lang,
                        summary=definition.kind == "summarization")
    try:
        scores, per_item = score_with_items(task, hypotheses, references, metrics, seed=seed, n_boot=n_boot)
    except ScoringError as e:  # name the file and line instead of "reference J of item I"
        where = f"--hyp {hyp}" if e.role.startswith("hypothesis") else f"--ref {ref[int(e.role.split()[1]) - 1]}"
        raise HarnessError(f"{where}: line {e.item}: {e.detail} (task {task})") from None
    except MemoryError:  # e.g. under `ulimit -v`: say which item is the big one, not a traceback
        size, path, line = max((len(text), path, i + 1) for path, column in [(hyp, hypotheses), *zip(ref, ref_columns)]
                               for i, text in enumerate(column))
        raise HarnessError(f"out of memory scoring task {task}: the longest item is line {line} of {path} ({size} characters); "
                           f"--max-item-chars refuses such lines before scoring") from None

    if scores and scores[0].off_target:
        typer.echo(f"warning: --hyp {hyp}: {scores[0].off_target} of {len(hypotheses)} lines are mostly Chinese for "
                   f"an English target; scored as they are (task {task})", err=True)
    terms = next((m for m in metrics if isinstance(m, Terms)), None)
    if terms is not None and all(v is None for v in per_item["terms"]):
        typer.echo(f"warning: terms: no source names a term of glossary {terms.matcher.glossary.short_id}; "
                   f"its 100 means nothing was there to render (task {task})", err=True)
    if as_json:
        keys = ("metric", "value", "ci_low", "ci_high", "signature", "precision", "recall", "off_target")
        entries = [{k: v for k, v in s.to_dict().items() if k in keys} for s in scores]
        if items:
            for entry in entries:
                entry["items"] = per_item[entry["metric"]]
            for entry, m in zip(entries, metrics):  # numbers: what happened to each number; terms: the misses
                if (details := m.item_details(hypotheses, references)) is not None:
                    entry["details"] = details
                    if entry["metric"] == "terms":  # which terms each item missed (harness.score.terms.term_details)
                        entry["misses"] = [d["misses"] for d in details]
        typer.echo(json.dumps({"task": task, "n": len(hypotheses), "scores": entries}, ensure_ascii=False))
    else:
        typer.echo(_format_table(task, len(hypotheses), len(ref), seed, n_boot, scores))


def register(app: typer.Typer) -> None:
    app.command("score")(score_command)
