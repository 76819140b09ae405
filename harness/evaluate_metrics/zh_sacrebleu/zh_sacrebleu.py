"""BLEU, chrF, chrF++ and TER that are right for Chinese, as an `evaluate` module (a thin
wrapper around `harness.score.score`: same numbers, CIs and signatures as `harness score`)."""

import datasets
import evaluate

from harness.score import score
from harness.tasks import get_task

_DESCRIPTION = """\
sacrebleu's BLEU, chrF, chrF++ and TER with settings that are right for the target language:
tokenize="zh" for Chinese BLEU (13a for English), chrF++ word n-grams over zh tokens, TER with
asian_support; Traditional -> Simplified + NFKC on both sides for Chinese targets. Corpus-level
scores (0-100) with a 95% percentile bootstrap CI over segments and sacrebleu's signature.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions: list of texts.
    references: list of texts, or list of lists of texts (the same number for every item).
    task: translate_en_zh (default), translate_zh_en, translate_zh_en_doc or any harness task.
    metrics: subset of ["bleu", "chrf", "chrf++", "ter"] (default: the task's, BLEU + chrF++).
    seed: seed of numpy.random.default_rng for the bootstrap (default 0).
    n_boot: bootstrap resamples (default 1000).
Returns:
    {metric: value (0-100), ..., "scores": [{"metric", "value", "ci_low", "ci_high",
    "signature", "n"}, ...]}
Examples:
    >>> bleu = evaluate.load("harness/evaluate_metrics/zh_sacrebleu")
    >>> round(bleu.compute(predictions=["我爱北京天安门"], references=[["我爱北京天安门广场"]], metrics=["bleu"])["bleu"], 4)
    75.1477
"""

_CITATION = """\
@inproceedings{post-2018-call,
    title = "A Call for Clarity in Reporting {BLEU} Scores",
    author = "Post, Matt",
    booktitle = "Proceedings of the Third Conference on Machine Translation: Research Papers",
    year = "2018",
    pages = "186--191",
}
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class ZhSacrebleu(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=[
                datasets.Features(
                    {"predictions": datasets.Value("string"), "references": datasets.Sequence(datasets.Value("string"))}
                ),
                datasets.Features({"predictions": datasets.Value("string"), "references": datasets.Value("string")}),
            ],
            reference_urls=["https://github.com/mjpost/sacrebleu"],
        )

    def _compute(self, predictions, references, task="translate_en_zh", metrics=None, seed=0, n_boot=1000):
        refs = [[r] if isinstance(r, str) else list(r) for r in references]
        names = list(metrics) if metrics else list(get_task(task).metrics)
        scores = score(task, list(predictions), refs, names, seed=seed, n_boot=n_boot)
        return {**{s.metric: s.value for s in scores}, "scores": [s.to_dict() for s in scores]}
