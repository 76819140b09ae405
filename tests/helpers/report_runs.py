"""Tiny results folders in the documented format (docs/architecture.md, "Results folder"), for the
report tests; tests/test_report_helpers.py checks that they really follow the contract.

Scores are real: computed with `harness.score` from the outputs and references given (and the
sources, for `numbers` and `terms`), so the signatures match what `harness.score.compare` recomputes.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from harness.cli import main
from harness.data.provenance import Agent, TextProvenance, provenance_record
from harness.score import get_metric, item_scores, score
from harness.score.neural import configure
from harness.score.text import off_target
from harness.tasks import TASKS

ZH_REFS = [
    ("大模型在过去一年快速发展，多家公司发布了新产品。", "过去一年大模型发展很快，许多公司推出新产品。"),
    ("专家认为算力和数据是中美差距的关键。", "专家指出中美大模型差距主要在算力与数据。"),
    ("作者提醒不要把大模型变成华丽的烟花秀。", "文章警告大模型热潮可能只是烟花秀。"),
    ("王延峰谈到人工智能在医疗领域的应用前景。", "王延峰介绍了人工智能在医疗中的前景。"),
    ("报告建议从战略高度重视新一轮人工智能革命。", "文章主张从战略层面看待人工智能革命。"),
    ("开源模型降低了企业使用大模型的门槛。", "开源大模型让企业更容易使用这项技术。"),
]
EN_REFS = [
    ("Large models developed quickly over the past year.",),
    ("Experts say computing power and data explain the gap.",),
    ("The author warns against a fireworks show of large models.",),
    ("Wang Yanfeng discussed medical applications of AI.",),
    ("The report urges a strategic view of the AI revolution.",),
    ("Open-source models lower the barrier for companies.",),
    ("Several companies released new products this year.",),
    ("Training data quality matters more than quantity.",),
]


@dataclass
class ModelSpec:
    role: str = "model"
    outputs: dict[str, list[str]] = field(default_factory=dict)  # task -> outputs in item order
    truncated: dict[str, list[bool]] = field(default_factory=dict)
    stop_reason: str = "eos"


TaskData = tuple[list[str], list[str], list[list[str]]]  # (ids, sources, references)


def task_items(task: str, data: dict[str, TaskData] | None = None) -> TaskData:
    """(ids, sources, references) of the tiny tasks used by the report tests (or of ``data``)."""
    if data is not None:
        return data[task]
    if task == "summarize_zh":
        ids = [f"{i:03d}" for i in range(len(ZH_REFS))]
        sources = [f"第{i}篇文章：" + a + b for i, (a, b) in enumerate(ZH_REFS)]
        return ids, sources, [list(r) for r in ZH_REFS]
    if task == "translate_zh_en":
        ids = [f"000-p01-s{i + 1:02d}" for i in range(len(EN_REFS))]
        return ids, [f"第{i}个源句子。" for i in range(len(EN_REFS))], [list(r) for r in EN_REFS]
    raise KeyError(task)


@dataclass(frozen=True)
class Item:
    id: str
    doc_id: str
    source: str
    references: tuple[str, ...]


def items_for(dataset_sha: str):
    """The `items_for` the report builders take, backed by task_items (any dataset version)."""

    def items(task: str, item_ids):
        ids, sources, refs = task_items(task)
        by_id = {i: Item(i, i[:3], s, tuple(r)) for i, s, r in zip(ids, sources, refs)}
        return [by_id[i] for i in item_ids]

    return items


def write_dataset(root: Path, version: str = "v1", data: dict[str, TaskData] | None = None) -> tuple[Path, str]:
    """A tiny built dataset in the documented configs (docs/architecture.md, "Dataset configs"),
    readable by `harness.tasks.load_items`; returns (folder, MANIFEST sha256)."""
    import pyarrow as pa  # heavy: only the tests that build a dataset need it
    import pyarrow.parquet as pq  # heavy: as above

    root.mkdir(parents=True, exist_ok=True)
    ids, sources, refs = task_items("summarize_zh", data)
    en_refs = [["An English summary.", "Another English summary."] for _ in ids]
    pq.write_table(
        pa.table(
            {
                "doc_id": ids,
                "title": ids,
                "script": ["Hans"] * len(ids),
                "text": sources,
                "text_simplified": sources,
                "summaries_zh": refs,
                "summaries_en": en_refs,
                "publisher_summary": [None] * len(ids),
            }
        ),
        root / "summarization.parquet",
    )
    seg_ids, zh, en = task_items("translate_zh_en", data if data and "translate_zh_en" in data else None)
    pq.write_table(
        pa.table({"segment_id": seg_ids, "doc_id": [i[:3] for i in seg_ids], "zh": zh, "zh_simplified": zh, "en": [r[0] for r in en]}),
        root / "translation.parquet",
    )
    files = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.glob("*.parquet"))}
    manifest = root / "MANIFEST.json"
    manifest.write_text(json.dumps({"dataset": "tiny", "version": version, "files": files}, indent=2) + "\n", encoding="utf-8")
    return root, hashlib.sha256(manifest.read_bytes()).hexdigest()


def write_run(
    root: Path,
    name: str,
    models: dict[str, ModelSpec],
    *,
    dataset_path: str = "data",
    dataset_sha: str = "0" * 64,
    started: str = "2025-01-02T03:04:05+00:00",
    metrics: dict[str, list[str]] | None = None,
    item_limit: dict[str, int] | None = None,
    config_path: str = "configs/tiny.yaml",
    data: dict[str, TaskData] | None = None,
    reference_provenance: dict | None = None,
    metric_settings: dict | None = None,
) -> Path:
    """Write results/<name>/ for these models (outputs per task) and return its path. Without
    ``reference_provenance`` the manifest is that of a run written before the field existed.
    ``metric_settings`` is the config's (e.g. a `terms` glossary), recorded and scored with."""
    run_dir = root / name
    (run_dir / "predictions").mkdir(parents=True, exist_ok=True)
    tasks = sorted({t for spec in models.values() for t in spec.outputs})
    metrics = metrics or {t: list(TASKS[t].metrics) for t in tasks}
    scores, summary, task_meta = [], [], {}
    for task in tasks:
        ids, sources, refs = task_items(task, data)
        limit = (item_limit or {}).get(task, len(ids))
        ids, sources, refs = ids[:limit], sources[:limit], refs[:limit]
        task_meta[task] = {"metrics": metrics[task], "n_items": len(ids), "prompt_sha256": "p" * 64}
        definition = TASKS[task]
        # as rescore sets them up: numbers and terms read the sources
        scorers = configure([get_metric(m, definition.target_lang) for m in metrics[task]], metric_settings, sources=sources,
                            source_lang=definition.source_lang, summary=definition.kind == "summarization")
        for model, spec in models.items():
            if task not in spec.outputs:
                continue
            hyps = spec.outputs[task][:limit]
            model_refs = [r[:1] for r in refs] if spec.role == "agreement" else refs
            per_item = item_scores(task, hyps, model_refs, scorers)
            truncated = spec.truncated.get(task, [False] * len(hyps))[:limit]
            lines = []
            for i, (item_id, hyp) in enumerate(zip(ids, hyps)):
                lines.append(
                    {
                        "id": item_id,
                        "prompt_sha256": "p" * 64,
                        "raw": hyp,
                        "output": hyp,
                        "input_tokens": 10,
                        "output_tokens": 5,
                        "truncated": truncated[i],
                        "stop_reason": "none" if spec.role != "model" else spec.stop_reason,
                        "latency_s": 0.0,
                        "scores": {m: v[i] for m, v in per_item.items()},
                    }
                )
            folder = run_dir / "predictions" / model
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{task}.jsonl").write_text(
                "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), encoding="utf-8"
            )
            for s in score(task, hyps, model_refs, scorers, seed=0, n_boot=200):
                scores.append({"model": model, "task": task, **s.to_dict()})
            summary.append(
                {
                    "model": model,
                    "task": task,
                    "n": len(hyps),
                    "truncated_share": sum(truncated) / len(hyps),
                    "max_tokens_share": (spec.stop_reason == "max_new_tokens") * 1.0 if spec.role == "model" else 0.0,
                    "off_target_share": sum(off_target(h, TASKS[task].target_lang) for h in hyps) / len(hyps),
                    "tokens_per_s": 0.0,
                    "wall_s": 0.0,
                }
            )
    manifest = {
        "run": name,
        "harness_version": "0.1.0",
        "git_commit": "abcdef1234567890",
        "config": {"run": name, "dataset": dataset_path, "path": config_path,
                   **({"metric_settings": metric_settings} if metric_settings else {})},
        "config_path": config_path,
        "dataset": {"path": dataset_path, "manifest_sha256": dataset_sha},
        "versions": {},
        "hardware": {},
        "started": started,
        "finished": started,
        "models": {m: {"backend": "baseline" if s.role != "model" else "file", "role": s.role, "identity": {}} for m, s in models.items()},
        "tasks": task_meta,
        "throughput": {},
        "cache": {},
        "postprocess_rules": [],
    }
    if reference_provenance is not None:
        manifest["reference_provenance"] = reference_provenance
    (run_dir / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    (run_dir / "scores.json").write_text(
        json.dumps(
            {
                "run": name,
                "dataset_manifest_sha256": dataset_sha,
                "harness_version": "0.1.0",
                "created": started,
                "scores": scores,
                "summary": summary,
            },
            ensure_ascii=False,
            indent=2,
        ),
        encoding="utf-8",
    )
    return run_dir


def read_sample_page(path: Path) -> dict:
    """The data of one per-sample page of a leaderboard site (samples/<table>/<model>/page-NNNN.js):
    the argument of its one `harnessSamples(...)` call."""
    text = path.read_text(encoding="utf-8")
    assert text.startswith("harnessSamples(") and text.endswith("});\n"), path
    return json.loads(text[len("harnessSamples("):-len(");\n")])


def run_smoke(root: Path) -> Path:
    """results/smoke written by the real `harness run configs/smoke.yaml` (baselines only, seconds),
    with its generation cache under root."""
    repo = Path(__file__).resolve().parents[2]
    old = os.environ.get("HARNESS_CACHE")
    os.environ["HARNESS_CACHE"] = str(root / "cache")
    try:
        main(["run", str(repo / "configs" / "smoke.yaml"), "--results", str(root / "results"), "--quiet", "--set", f"dataset={repo / 'data'}"])
    except SystemExit as e:
        assert e.code == 0, f"harness run exited {e.code}"
    finally:
        if old is None:
            os.environ.pop("HARNESS_CACHE", None)
        else:
            os.environ["HARNESS_CACHE"] = old
    return root / "results" / "smoke"


def standard_models() -> dict[str, ModelSpec]:
    """The rows the golden files show: on translation two models that differ by noise (each
    loses a word on every other item) and a clearly worse baseline; on summaries a perfect model,
    one slightly worse on every item, a truncating baseline and the reference-agreement row."""
    zh_ids, zh_src, zh_refs = task_items("summarize_zh")
    en_ids, en_src, en_refs = task_items("translate_zh_en")

    def drop_last_word(text: str) -> str:
        return text.rsplit(" ", 1)[0] + "."

    return {
        "alpha": ModelSpec(
            outputs={
                "summarize_zh": [r[0] for r in zh_refs],
                "translate_zh_en": [drop_last_word(r[0]) if i % 2 == 0 else r[0] for i, r in enumerate(en_refs)],
            }
        ),
        "beta": ModelSpec(
            outputs={
                "summarize_zh": [r[0][:-3] + "。" for r in zh_refs],
                "translate_zh_en": [drop_last_word(r[0]) if i % 2 == 1 else r[0] for i, r in enumerate(en_refs)],
            },
            stop_reason="max_new_tokens",
        ),
        "lead-1": ModelSpec(
            role="baseline",
            outputs={"summarize_zh": [s[:8] for s in zh_src], "translate_zh_en": ["The models." for _ in en_src]},
            truncated={"summarize_zh": [True, False, False, False, False, True]},
        ),
        "human": ModelSpec(role="agreement", outputs={"summarize_zh": [r[1] for r in zh_refs]}),
    }


def tiny_provenance() -> dict:
    """A `reference_provenance` record: summaries A by an AI model (one reviewed by a person), B by a person."""
    ai, person, reviewer = Agent("Claude", "ai-model"), Agent("Li Lei", "human"), Agent("Wang Fang", "human")
    zh = [TextProvenance(d, "A", f"summaries/zh/{d}.yaml", 1 + (d == "000"), ai, reviewer if d == "000" else None,
                         "2026-12-10" if d == "000" else "") for d in ("000", "001")]
    zh += [TextProvenance(d, "B", f"summaries/zh/{d}.yaml", 1, person, None, "") for d in ("000", "001")]
    en = [TextProvenance(d, "", f"translations/en/{d}.jsonl", 1, ai, None, "") for d in ("000", "001")]
    return provenance_record({"summaries_zh": zh, "en": en})
