"""The `actions/cache` key of a run config, for scripts/ci_eval.sh.

`python -m harness.report.cache_key cache-key CONFIG` prints a key that changes when the config
file or the identity of any model in it changes (a bundled GGUF's pinned sha256, or a model
entry's settings), so `actions/cache` restores generations only for the same models and settings. The
harness's own cache key (per generation) still decides what is reused; this key only picks which
snapshot of the cache folder to restore.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from harness.config import load_config
from harness.errors import HarnessError
from harness.generate.catalogue import CATALOGUE
from harness.io import sha256_file, sha256_text


def model_identities(config_file: Path) -> list[str]:
    """One identity string per model entry: `gguf:<name>:<sha256>`, else backend + settings."""
    config = load_config(config_file)
    out = []
    for model in config.models:
        entry = model.to_dict()
        if model.backend == "gguf":
            out.append(f"gguf:{entry['model']}:{CATALOGUE[entry['model']].sha256}")
        else:
            out.append(f"{model.backend}:" + json.dumps(entry, sort_keys=True, ensure_ascii=False))
    return out


def cache_key(config_file: Path) -> str:
    config_file = Path(config_file)
    if not config_file.is_file():
        raise HarnessError(f"{config_file}: config file not found")
    config_sha = sha256_file(config_file)
    models_sha = sha256_text("\n".join(model_identities(config_file)))
    return f"{config_file.stem}-config-{config_sha[:16]}-models-{models_sha[:16]}"


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] != "cache-key":
        print("usage: python -m harness.report.cache_key cache-key CONFIG", file=sys.stderr)
        return 2
    try:
        print(cache_key(Path(argv[1])))
    except HarnessError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
