"""ROUGE-1/2/L/Lsum that is right for Chinese, as an `evaluate` module (a thin wrapper around
`harness.score.score`: same numbers, CIs and signatures as `harness score`)."""

import datasets
import evaluate

from harness.score import get_metric, score
from harness.tasks import TASKS

_DESCRIPTION = """\
ROUGE on rouge-score with tokenizers that are right for the target language. Chinese: every CJK
character is a token (or jieba words with tokenizer="jieba"), Latin/digit runs are lower-cased
words, Traditional -> Simplified + NFKC on both sides. English: rouge-score's tokenizer with
Porter stemming. Several references: the best F per item. Corpus value: mean of per-item F
(0-100), with a 95% percentile bootstrap CI over items and a signature.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions: list of texts.
    references: list of texts, or list of lists of texts (the same number for every item).
    task: summarize_zh (default), summarize_en or any harness task; sets the target language.
    rouge_types: subset of ["rouge1", "rouge2", "rougeL", "rougeLsum"] (default: all four).
    tokenizer: Chinese tokens, "char" (default) or "jieba".
    seed: seed of numpy.random.default_rng for the bootstrap (default 0).
    n_boot: bootstrap resamples (default 1000).
Returns:
    {rouge_type: value (0-100), ..., "scores": [{"metric", "value", "ci_low", "ci_high",
    "signature", "n", "precision", "recall"}, ...]}
Examples:
    >>> rouge = evaluate.load("harness/evaluate_metrics/zh_rouge")
    >>> rouge.compute(predictions=["GPT4发布了"], references=[["GPT4模型发布"]], rouge_types=["rouge1"])["rouge1"]
    66.66666666666666
"""

_CITATION = """\
@inproceedings{lin-2004-rouge,
    title = "{ROUGE}: A Package for Automatic Evaluation of Summaries",
    author = "Lin, Chin-Yew",
    booktitle = "Text Summarization Branches Out",
    year = "2004",
    pages = "74--81",
}
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class ZhRouge(evaluate.Metric):
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
            reference_urls=["https://github.com/google-research/google-research/tree/master/rouge"],
        )

    def _compute(self, predictions, references, task="summarize_zh", rouge_types=None, tokenizer=None, seed=0, n_boot=1000):
        refs = [[r] if isinstance(r, str) else list(r) for r in references]
        names = list(rouge_types) if rouge_types else list(TASKS["summarize_zh"].metrics)
        metrics = [get_metric(name, task, tokenizer=tokenizer) for name in names]
        scores = score(task, list(predictions), refs, metrics, seed=seed, n_boot=n_boot)
        return {**{s.metric: s.value for s in scores}, "scores": [s.to_dict() for s in scores]}
