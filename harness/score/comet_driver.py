"""The COMET driver: runs in the user's own Python environment, never imported by the harness.

    /path/to/venv/bin/python comet_driver.py REQUEST.json RESPONSE.json

unbabel-comet pins numpy<2 and transformers<5, which this project's environment cannot satisfy,
so `harness.score.comet` writes a request and runs this file with the user's interpreter. It uses
the standard library and `comet` only, and must keep working on the Python versions COMET supports.

Request:  {"model": "Unbabel/wmt22-comet-da" | "/path/to/checkpoints/model.ckpt",
           "src": [...], "mt": [...], "ref": [...] | null, "batch_size": 16, "gpus": null | 0 | 1}
Response: {"scores": [...], "model": ..., "comet_version": ..., "uses_reference": true | false}
          or {"error": "one line"} with exit code 3.
"""

import json
import os
import sys
from importlib.metadata import version as dist_version  # stdlib since 3.8, as every COMET release needs


def _fail(response_path, message):
    with open(response_path, "w", encoding="utf-8") as f:
        json.dump({"error": message}, f)
    sys.exit(3)


def _comet_version(comet):
    version = getattr(comet, "__version__", None)
    if version:
        return str(version)
    try:
        return dist_version("unbabel-comet")
    except Exception:  # noqa: BLE001
        return "unknown"


def _uses_reference(model):
    """UnifiedMetric (CometKiwi, XCOMET) lists its input segments; the older reference-free class
    is ReferencelessRegression; every other COMET model reads the reference."""
    hparams = getattr(model, "hparams", None)
    segments = getattr(hparams, "input_segments", None)
    if segments is None and isinstance(hparams, dict):
        segments = hparams.get("input_segments")
    if segments is not None:
        return "ref" in list(segments)
    return "Referenceless" not in type(model).__name__


def main(argv):
    if len(argv) != 3:
        sys.stderr.write("usage: python comet_driver.py REQUEST.json RESPONSE.json\n")
        return 2
    request_path, response_path = argv[1], argv[2]
    with open(request_path, encoding="utf-8") as f:
        request = json.load(f)
    try:
        import comet  # heavy, and installed only in the user's interpreter: imported where it is checked
        from comet import download_model, load_from_checkpoint  # heavy: as above
    except ImportError as e:
        _fail(response_path, f"cannot import comet in {sys.executable} ({e}); install it there: pip install unbabel-comet")
    spec = request["model"]
    # a checkpoint path (ends in .ckpt, is absolute or relative, or exists), else a Hub model name
    if spec.endswith(".ckpt") or spec.startswith(("/", ".", "~")) or os.path.exists(spec):
        spec = os.path.expanduser(spec)
        if not os.path.isfile(spec):
            _fail(response_path, f"COMET checkpoint {spec} not found")
        checkpoint = spec
    else:
        try:
            checkpoint = download_model(spec)  # the Hub cache: works offline once downloaded
        except Exception as e:  # noqa: BLE001 - offline, unknown, gated: one line
            _fail(response_path, f"cannot get COMET model '{spec}' ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})")
    try:
        model = load_from_checkpoint(checkpoint)
    except Exception as e:  # noqa: BLE001
        _fail(response_path, f"cannot load COMET checkpoint {checkpoint} ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})")
    uses_reference = _uses_reference(model)
    if uses_reference and request.get("ref") is None:
        _fail(response_path, f"COMET model '{spec}' needs references")
    samples = []
    for i, (src, mt) in enumerate(zip(request["src"], request["mt"])):
        sample = {"src": src, "mt": mt}
        if uses_reference:
            sample["ref"] = request["ref"][i]
        samples.append(sample)
    gpus = request.get("gpus")
    if gpus is None:
        try:
            import torch  # heavy: comet brings it; only asked when the request leaves gpus open

            gpus = 1 if torch.cuda.is_available() else 0
        except ImportError:
            gpus = 0
    output = model.predict(samples, batch_size=int(request.get("batch_size") or 16), gpus=gpus, progress_bar=False)
    scores = output.scores if hasattr(output, "scores") else output[0]  # comet >= 2.0 / 1.x
    with open(response_path, "w", encoding="utf-8") as f:
        json.dump({"scores": [float(s) for s in scores], "model": spec, "comet_version": _comet_version(comet),
                   "uses_reference": uses_reference}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
