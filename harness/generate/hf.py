"""The `hf` backend: transformers causal LMs and seq2seq models (Marian, T5/mT5, NLLB).

Config entry (`backend: hf`); everything but the common keys (name, backend, tasks) is validated
by `HFSettings`:

    - name: qwen2.5-0.5b-instruct
      backend: hf
      model: Qwen/Qwen2.5-0.5B-Instruct   # Hub id, or a local folder (must exist)
      revision: main                       # Hub branch, tag or commit; resolved to a commit
      dtype: auto                          # auto | float32 | bfloat16 | float16
      device: auto                         # auto | cpu | cuda
      chat_template: auto                  # auto | none | path/to/template.jinja
      batch_size: auto                     # an int, or auto: largest that fits, halved on OOM
      max_batch_size: 64                   # where batch_size: auto starts
      trust_remote_code: false             # passed to transformers explicitly
      context_length: null                 # override the model's context length
      input: auto                          # seq2seq: prompt | source (auto: source for Marian/NLLB/M2M/mBART)
      src_lang: null                       # seq2seq source language code (NLLB: zho_Hans)
      tgt_lang: null                       # seq2seq target language code (NLLB: eng_Latn)

Loading, and what identifies the model (the engine itself is `harness.generate.hf_backend`):

- `context_length`: the config's `context_length`, else the model's `max_position_embeddings` /
  `n_positions` / …, else the tokenizer's `model_max_length` (placeholders like 1e30 skipped).
  For seq2seq models it is the encoder's input limit.
- `identity()`: model id, revision and the resolved commit (Hub) or a sha256 over the folder's
  files (local; memoised by the files' stat in the harness cache dir, `harness.artifacts`),
  architecture, dtype, device, chat template sha256, input, context length, language codes, the
  decoding token ids, transformers and torch versions. Batch sizes are not in it: they do not
  change outputs.
- Weights load on the first `generate`: a run served entirely from the cache needs only the
  tokenizer and configs.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from harness.artifacts import VerifiedMemo, cache_dir, stat_key
from harness.errors import HarnessError
from harness.generate.hf_backend import HFBackend, HFSettings, LazyModel

# Config limits above this are placeholders (tokenizers use 1e30 for "no limit").
_MAX_SANE_CONTEXT = 10_000_000
_COMMIT = re.compile(r"[0-9a-f]{40}")
# Files that do not change what a local model computes.
_IGNORED_FILES = re.compile(r"(^|/)\.|(^|/)README[^/]*$|\.md$", re.IGNORECASE)  # dot paths (.cache/, .git/), docs
# Model types whose tokenizer needs language codes (NLLB, M2M100).
_LANG_CODE_MODEL_TYPES = {"m2m_100", "nllb_moe"}
#: The memo of local model folders' sha256 in the cache dir.
FOLDER_MEMO = "hf-folder-sha256.json"


def local_model_dir(model: str) -> Path | None:
    """The local folder `model` names, None for a Hub id; HarnessError for a missing local path.

    A Hub id is `name` or `org/name`; anything else (absolute, `./`, `~`, more than one slash)
    can only be a path, so it must exist.
    """
    path = Path(model).expanduser()
    if path.exists():
        if not path.is_dir():
            raise HarnessError(f"model: '{model}' is a file, not a model folder")
        return path
    looks_like_path = model.startswith(("/", ".", "~")) or "\\" in model or model.count("/") > 1
    if looks_like_path:
        raise HarnessError(f"model: local path '{model}' does not exist")
    return None


def commit_from_snapshot_path(path: str | Path) -> str | None:
    """The commit of a file or folder inside a Hugging Face cache snapshot (`…/snapshots/<sha>/…`)."""
    parts = Path(path).resolve().parts if Path(path).exists() else Path(path).parts
    for parent, child in zip(parts, parts[1:]):
        if parent == "snapshots" and _COMMIT.fullmatch(child):
            return child
    return None


def _model_files(folder: Path) -> list[tuple[str, Path]]:
    files = sorted((p.relative_to(folder).as_posix(), p) for p in folder.rglob("*") if p.is_file())
    return [(rel, path) for rel, path in files if not _IGNORED_FILES.search(rel)]


def folder_sha256(folder: Path, memo: Path | None = None) -> str:
    """sha256 over a model folder's files (weights, config, tokenizer, code), by relative path.

    Hashing gigabytes takes seconds, so with `memo` (a JSON file in the harness cache dir) the
    digest is reused while every file keeps its name and stat (`harness.artifacts.VerifiedMemo`).
    """
    files = _model_files(folder)
    stats = [[rel, *stat_key(path)] for rel, path in files]
    record = VerifiedMemo(memo, stats, key=str(folder.resolve())) if memo is not None else None
    if record is not None and record.current and "sha256" in record.record:
        return record.record["sha256"]
    digest = hashlib.sha256()
    for rel, path in files:
        digest.update(rel.encode() + b"\0")
        with path.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        digest.update(b"\0")
    if record is not None:
        record.save({"sha256": digest.hexdigest()}, keep=lambda known: Path(known).is_dir())  # forget deleted folders
    return digest.hexdigest()


def sane_context_length(config: Any, tokenizer: Any) -> int | None:
    """The context length the model declares: config positions first, then the tokenizer's limit."""
    text_config = config.get_text_config() if hasattr(config, "get_text_config") else config
    for attr in ("max_position_embeddings", "n_positions", "max_sequence_length", "seq_length", "n_ctx"):
        value = getattr(text_config, attr, None)
        if isinstance(value, int) and 0 < value < _MAX_SANE_CONTEXT:
            return value
    value = getattr(tokenizer, "model_max_length", None)
    if isinstance(value, int) and 0 < value < _MAX_SANE_CONTEXT:
        return value
    return None


# --------------------------------------------------------------------------- loading


def preflight(settings: HFSettings, items_by_task: Any = None) -> None:
    """Checks that need no model: the local model folder and chat template file exist.

    Called by `load`, and registered as the backend's preflight (`harness.generate.registry`), so
    a run stops with one line before any model loads. Relative paths are taken from the current
    directory, like every path in a config.
    """
    local_model_dir(settings.model)
    if settings.chat_template not in ("auto", "none") and not Path(settings.chat_template).expanduser().is_file():
        raise HarnessError(f"chat_template: file '{settings.chat_template}' does not exist (use auto, none or a .jinja path)")


def _resolve_device(setting: str) -> str:
    import torch  # heavy: only the hf engine needs it

    if setting == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if setting == "cuda" and not torch.cuda.is_available():
        raise HarnessError("device: cuda was asked for but torch sees no CUDA device")
    return setting


def _resolve_dtype(setting: str, device: str, config) -> str:
    """auto: float32 on CPU (half precision is slow there and changes outputs), else the checkpoint's."""
    if setting != "auto":
        return setting
    if device == "cpu":
        return "float32"
    checkpoint = getattr(config, "dtype", None) or getattr(config, "torch_dtype", None)
    name = str(checkpoint).removeprefix("torch.") if checkpoint is not None else "float32"
    return name if name in ("float32", "bfloat16", "float16") else "float32"


def _resolve_chat_template(setting: str, tokenizer, is_seq2seq: bool) -> str | None:
    if setting == "none" or (is_seq2seq and setting == "auto"):
        return None
    if is_seq2seq:
        raise HarnessError(f"chat_template: '{setting}' given, but seq2seq models take the plain prompt (use auto or none)")
    if setting == "auto":
        if tokenizer.chat_template is None:
            return None
        return tokenizer.get_chat_template()
    return Path(setting).expanduser().read_text(encoding="utf-8")


def _source_identity(settings: HFSettings, local: Path | None) -> tuple[dict, str, str | None]:
    """({"commit": sha} or {"local_sha256": sha}, the path/id to load from, the revision to load)."""
    if local is not None:
        commit = commit_from_snapshot_path(local)
        if commit is not None:
            return {"commit": commit}, str(local), None
        return {"local_sha256": folder_sha256(local, cache_dir() / FOLDER_MEMO)}, str(local), None
    from huggingface_hub import hf_hub_download  # heavy: only a Hub model needs it

    try:
        config_path = hf_hub_download(settings.model, "config.json", revision=settings.revision)
    except Exception as e:  # offline, unknown repo, gated, bad revision: one line for the user
        first_line = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise HarnessError(f"model: cannot fetch '{settings.model}' at revision '{settings.revision}': {first_line}") from None
    commit = commit_from_snapshot_path(config_path)
    if commit is None:
        raise HarnessError(f"model: could not resolve '{settings.model}' revision '{settings.revision}' to a commit")
    return {"commit": commit}, settings.model, commit


def load(settings: HFSettings) -> HFBackend:
    """Load the tokenizer and model named by `settings` (HarnessError for anything the user can fix)."""
    import torch  # heavy: only the hf engine needs it
    from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoTokenizer, GenerationConfig  # heavy: hf engine only
    from transformers.utils import logging as hf_logging  # heavy: hf engine only

    preflight(settings)
    local = local_model_dir(settings.model)
    source, load_from, revision = _source_identity(settings, local)
    common = {"revision": revision, "trust_remote_code": settings.trust_remote_code}
    try:
        config = AutoConfig.from_pretrained(load_from, **common)
        tokenizer = AutoTokenizer.from_pretrained(load_from, **common)
    except (OSError, ValueError) as e:
        raise HarnessError(f"model: cannot load '{settings.model}': {str(e).strip().splitlines()[0]}") from None
    is_seq2seq = bool(getattr(config, "is_encoder_decoder", False))
    if not is_seq2seq and (settings.src_lang or settings.tgt_lang):
        raise HarnessError(f"src_lang/tgt_lang: '{settings.model}' is a causal LM; language codes are for seq2seq models")
    if getattr(config, "model_type", None) in _LANG_CODE_MODEL_TYPES and not settings.tgt_lang:
        raise HarnessError(f"tgt_lang: '{settings.model}' ({config.model_type}) needs a target language code, e.g. eng_Latn")
    if settings.src_lang:
        if not hasattr(tokenizer, "src_lang"):
            raise HarnessError(f"src_lang: the tokenizer of '{settings.model}' takes no source language")
        tokenizer.src_lang = settings.src_lang

    device = _resolve_device(settings.device)
    dtype = _resolve_dtype(settings.dtype, device, config)
    auto_class = AutoModelForSeq2SeqLM if is_seq2seq else AutoModelForCausalLM
    try:
        generation_config = GenerationConfig.from_pretrained(load_from, **common)
    except OSError:  # no generation_config.json: transformers derives it from the config, as here
        generation_config = GenerationConfig.from_model_config(config)

    def load_weights():
        quiet = local is not None and hf_logging.is_progress_bar_enabled()
        if quiet:  # the harness draws its own progress; Hub downloads keep theirs
            hf_logging.disable_progress_bar()
        try:
            # device_map puts the weights straight on the GPU instead of staging them in CPU memory
            placement = {"device_map": device} if device != "cpu" else {}
            model = auto_class.from_pretrained(load_from, config=config, dtype=getattr(torch, dtype), **placement, **common)
        except (OSError, ValueError) as e:
            raise HarnessError(f"model: cannot load '{settings.model}': {str(e).strip().splitlines()[0]}") from None
        finally:
            if quiet:
                hf_logging.enable_progress_bar()
        return model.to(device).eval()

    context_length = settings.context_length or sane_context_length(config, tokenizer)
    if context_length is None:
        raise HarnessError(f"context_length: '{settings.model}' declares no usable context length; set context_length")
    return HFBackend(
        LazyModel(config, generation_config, load_weights),
        tokenizer,
        settings,
        source=source,
        device=device,
        dtype=dtype,
        chat_template=_resolve_chat_template(settings.chat_template, tokenizer, is_seq2seq),
        context_length=context_length,
    )
