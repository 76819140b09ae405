"""The llama.cpp engine of the `gguf` backend (`llama-cpp-python`), and its backend.

Greedy unless sampling is asked for. `parallel: 1` decodes one sequence at a time; `parallel` > 1
decodes that many per `llama_decode` (greedy; `harness.generate.llama_batch`: fixed order,
continuous batching, the prompt prefix shared by a task's items evaluated once). Batched answers
can differ from one-at-a-time ones in rounding, so the batch settings join the identity when
`parallel` > 1 (docs/models.md). Answers end by `harness.generate.decoding`'s rule, as on
transformers. Token counts come from the model's own tokenizer and are memoised on disk.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from harness.artifacts import cache_dir, open_store
from harness.generate.base import Backend, BackendInfo
from harness.generate.decoding import Answer, Finished, check_fits
from harness.generate.gguf_model import GGUFModel
from harness.generate.llama_batch import BatchedDecoder, batched_settings
from harness.io import sha256_text
from harness.request import Completion, GenerationSettings, Prompt, Rendered


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
        import llama_cpp  # heavy: only the llama.cpp engine needs it

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
                 prefix_reuse: bool = True, share_sources: bool = False):
        _silence_llama_cpp()
        self._vocab = None  # read on first use: a run whose token counts are memoised never reads it
        self.path = path
        self.n_ctx = n_ctx
        self.threads = threads
        self.add_bos = add_bos
        self.parallel = parallel
        self.prefix_reuse = prefix_reuse
        self.share_sources = share_sources and parallel > 1
        self.llm = None  # llama_cpp.Llama, on the first generate
        self.batched = None  # BatchedDecoder when parallel > 1, on the first generate

    @property
    def vocab(self):
        """The vocabulary alone (`vocab_only`), what Llama.tokenize uses; read on first use."""
        if self._vocab is None:
            import llama_cpp  # heavy: only the llama.cpp engine needs it
            from llama_cpp._internals import LlamaModel  # heavy: only the llama.cpp engine needs it

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
        return batched_settings(n_parallel=self.parallel, n_ctx_seq=self.n_ctx, n_batch=self.n_batch,
                                prefix_reuse=self.prefix_reuse, share_sources=self.share_sources)

    def load_weights(self) -> None:
        if self.llm is not None:
            return
        from llama_cpp import Llama  # heavy: only the llama.cpp engine needs it

        self.llm = Llama(model_path=str(self.path), n_ctx=self.n_ctx, n_threads=self.threads,
                         n_threads_batch=self.threads, n_batch=self.n_batch, seed=0, verbose=False)
        if self.parallel > 1:
            self.batched = BatchedDecoder(self.llm._model, n_parallel=self.parallel, n_ctx_seq=self.n_ctx,
                                          threads=self.threads, n_batch=self.n_batch, prefix_reuse=self.prefix_reuse,
                                          share_sources=self.share_sources)

    def version(self) -> str:
        import llama_cpp  # heavy: only the llama.cpp engine needs it

        return llama_cpp.__version__

    def encode(self, text: str) -> list[int]:
        return self.vocab.tokenize(text.encode("utf-8"), add_bos=self.add_bos, special=True)

    def detokenize(self, tokens: Sequence[int]) -> bytes:
        return self.vocab.detokenize(list(tokens))

    def is_end(self, token: int) -> bool:
        import llama_cpp  # heavy: only the llama.cpp engine needs it

        return bool(llama_cpp.llama_vocab_is_eog(self.vocab.vocab, token))

    def answer(self, max_new_tokens: int, settings: GenerationSettings) -> Answer:
        """Stop strings are searched in the text without incomplete characters; an answer's text
        shows one that is cut as U+FFFD."""
        return Answer(max_new_tokens, settings.stop, lambda ids: self.detokenize(ids).decode("utf-8", errors="ignore"),
                      self.is_end, decode_text=lambda ids: self.detokenize(ids).decode("utf-8", errors="replace"))

    def run(self, tokens: list[int], max_new_tokens: int, settings: GenerationSettings) -> Finished:
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
                    settings: GenerationSettings) -> Iterator[tuple[int, Finished]]:
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
        return open_store(cache_dir() / self.FILENAME, (
            "CREATE TABLE IF NOT EXISTS counts (tokenizer TEXT, text_sha256 TEXT, n INTEGER, "
            "PRIMARY KEY (tokenizer, text_sha256))"), what="token-count cache", timeout=30)

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


class LlamaCppBackend(Backend):
    """A catalogue model on llama.cpp: one sequence at a time, or batched when `parallel` > 1."""

    def __init__(self, model: GGUFModel, llama: LlamaCppEngine):
        self.model = model
        self.llama = llama
        self.context_length = model.n_ctx
        self._counts = TokenCounts(f"{model.entry.sha256}|add_bos:{model.meta.add_bos}|special:yes|"
                                   f"llama-cpp-python:{llama.version()}")

    @property
    def combines_tasks(self) -> bool:
        """The pipeline gives this backend every task of the model in one `generate` call, so
        prompts of different tasks that start with the same source share its evaluation."""
        return self.llama.share_sources

    def identity(self) -> dict:
        out = self.model.identity()
        out["engine_version"] = self.llama.version()
        out["n_batch"] = self.llama.n_batch
        batched = self.llama.batched_settings()
        if batched is not None:  # absent for parallel: 1, whose keys stay as they were
            out["batched"] = batched
        return out

    def render(self, prompt: Prompt) -> str:
        return self.model.render(prompt)

    def count_tokens(self, text: str) -> int:
        return self._counts.get(text, lambda: len(self.llama.encode(text)))

    def info(self) -> BackendInfo:
        details = self.model.details()
        batched = self.llama.batched_settings()
        details.update(llama_cpp_python=self.llama.version(), threads=self.llama.threads,
                       n_batch=self.llama.n_batch, parallel=self.llama.parallel,
                       weights_loaded=self.llama.weights_loaded,  # False when every completion was cached
                       vocab_loaded=self.llama.vocab_loaded)  # False when every token count was memoised too
        if batched is not None:
            details.update(batched=batched)
        if self.llama.batched is not None:  # what prefix sharing saved, over every call so far
            details.update(prompt_tokens=self.llama.batched.prompt_tokens,
                           prompt_tokens_evaluated=self.llama.batched.evaluated_tokens)
        return BackendInfo(engine=self.model.engine, details=details)

    def generate(self, batch: Sequence[Rendered], settings: GenerationSettings) -> Iterator[Completion]:
        settings = self.model.stops(settings, batch)
        prompts = [self._encode_fitting(rendered) for rendered in batch]
        self.llama.load_weights()  # now, before any latency is timed (a fully cached run never gets here)
        greedy = not (settings.do_sample and settings.temperature > 0)
        if self.llama.batched is not None and greedy:  # built by load_weights when parallel > 1
            last = time.perf_counter()
            limits = [r.request.max_new_tokens for r in batch]
            for index, (text, n_out, reason) in self.llama.run_batched(prompts, limits, settings):
                # the wall time since the previous answer ended: the latencies add up to the call's wall time
                now = time.perf_counter()
                yield Completion(id=batch[index].request.id, raw=text, output_tokens=n_out, stop_reason=reason,
                                 latency_s=now - last)
                last = now
            return
        for rendered, tokens in zip(batch, prompts):
            started = time.perf_counter()
            text, n_out, reason = self.llama.run(tokens, rendered.request.max_new_tokens, settings)
            yield Completion(id=rendered.request.id, raw=text, output_tokens=n_out, stop_reason=reason,
                             latency_s=time.perf_counter() - started)

    def _encode_fitting(self, rendered: Rendered) -> list[int]:
        tokens = self.llama.encode(rendered.text)
        check_fits(self.model.entry.name, rendered.request.id, len(tokens), rendered.request.max_new_tokens,
                   self.context_length, limit_name="n_ctx")
        return tokens

    def close(self) -> None:
        self._counts.save()
        self.llama.close()
