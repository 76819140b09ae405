"""The harness metrics as local Hugging Face `evaluate` modules (they work offline):

    import evaluate
    from harness.evaluate_metrics import module_path

    rouge = evaluate.load(module_path("zh_rouge"))        # or the folder path itself
    rouge.compute(predictions=[...], references=[[...], ...], task="summarize_zh")

Both modules call `harness.score.score`, so numbers, CIs and signatures are those of
`harness score`.
"""

from __future__ import annotations

from pathlib import Path

from harness.registry import lookup

MODULES = ("zh_rouge", "zh_sacrebleu")


def module_path(name: str) -> str:
    """Path of a module folder, for ``evaluate.load``."""
    lookup("evaluate module", name, {m: m for m in MODULES})
    return str(Path(__file__).parent / name)
