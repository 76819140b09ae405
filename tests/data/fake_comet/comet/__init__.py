"""A fake `comet` (unbabel-comet's API surface that harness/score/comet_driver.py uses), for the
protocol tests only: download_model, load_from_checkpoint, model.predict(...).scores,
model.hparams.input_segments and __version__.

A "checkpoint" is a JSON file {"reference_free": bool}; download_model knows two names and writes
theirs under $FAKE_COMET_HOME. A segment's score is the Jaccard overlap of the characters of mt
with those of ref (reference-based) or of src (reference-free). $FAKE_COMET_LOG, when set, receives
the samples predict() got; $FAKE_COMET_CRASH makes predict() raise.
"""

import json
import os
from types import SimpleNamespace

__version__ = "9.9.9-fake"

_KNOWN = {"Unbabel/wmt22-comet-da": False, "Unbabel/wmt22-cometkiwi-da": True}


def download_model(name):
    if name not in _KNOWN:
        raise KeyError(f"model {name} not available")
    path = os.path.join(os.environ["FAKE_COMET_HOME"], name.replace("/", "--"), "checkpoints", "model.ckpt")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump({"reference_free": _KNOWN[name]}, f)
    return path


def _jaccard(a, b):
    a, b = set(a), set(b)
    return len(a & b) / len(a | b) if a | b else 0.0


class _Model:
    def __init__(self, reference_free):
        segments = ["mt", "src"] if reference_free else ["mt", "src", "ref"]
        self.hparams = SimpleNamespace(input_segments=segments)

    def predict(self, samples, batch_size=16, gpus=1, progress_bar=True):
        if os.environ.get("FAKE_COMET_CRASH"):
            raise RuntimeError("CUDA out of memory (fake)")
        if os.environ.get("FAKE_COMET_LOG"):
            with open(os.environ["FAKE_COMET_LOG"], "a", encoding="utf-8") as f:
                f.write(json.dumps({"samples": samples, "batch_size": batch_size, "gpus": gpus}, ensure_ascii=False) + "\n")
        scores = [_jaccard(s["mt"], s["ref"] if "ref" in s else s["src"]) for s in samples]
        return SimpleNamespace(scores=scores, system_score=sum(scores) / len(scores))


def load_from_checkpoint(path):
    with open(path) as f:
        return _Model(json.load(f)["reference_free"])
