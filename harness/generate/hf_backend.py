"""The `hf` backend's engine: a transformers model and its tokenizer, batched generation.

Loading, the model's identity source and the config entry are in `harness.generate.hf`. Rules the
results depend on:

- Causal models get the chat template (rendered with `add_generation_prompt=True`) when the
  tokenizer has one and `chat_template` is not `none`; base models get `Prompt.plain`. Seq2seq
  models get `Prompt.plain` (`input: prompt`, T5-style models that take instructions) or the bare
  source text `Prompt.source` (`input: source`, translation-only models: Marian, NLLB, M2M100,
  mBART, which would translate an instruction too). Chat-rendered text is tokenized without
  adding special tokens (the template writes them); plain text with them (e.g. a BOS).
- Requests are sorted longest first and grouped by `max_new_tokens`; causal inputs are left-padded
  with an attention mask (transformers derives position ids from it), so greedy output does not
  depend on the batch size (`tests/test_hf_backend.py` checks 1 vs 4, token for token).
- Decoding uses only the harness's `GenerationSettings`: the model's `generation_config`
  contributes token ids (eos, pad, decoder start, forced BOS, banned words) but none of its
  sampling, beam or penalty defaults, so every model decodes the same way and says so in `info()`.
- Answers end by `harness.generate.decoding`'s rule: `stop` when a stop string appears (the text is
  cut before it), else `eos`, else `max_new_tokens`. `output_tokens` counts the tokens the model
  generated, including the token that ended it (eos or the one completing a stop string), never padding.
- Weights load on the first `generate`: a run served entirely from the cache needs only the
  tokenizer and configs.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from harness.errors import HarnessError
from harness.generate.base import Backend, BackendInfo
from harness.generate.decoding import Finished, check_fits, finish_sequence
from harness.io import sha256_text
from harness.request import Completion, GenerationSettings, Prompt, Rendered, with_plain_stops

ENGINE = "transformers"
DEFAULT_MAX_BATCH_SIZE = 64
# Translation-only seq2seq models: they read the bare source, never an instruction.
_SOURCE_ONLY_MODEL_TYPES = {"marian", "m2m_100", "nllb_moe", "mbart", "fsmt"}


def _positive_batch(value: int | str) -> int | str:
    if isinstance(value, int) and not 1 <= value <= 4096:
        raise ValueError("must be a positive integer or 'auto' (at most 4096)")
    return value


#: A batch size setting: a positive int, or "auto" (largest that fits, halved on out-of-memory).
BatchSize = Annotated[int | Literal["auto"], AfterValidator(_positive_batch)]


class HFSettings(BaseModel):
    """One `backend: hf` model entry of a run config."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str = Field(min_length=1, description="Hub id (org/name) or a local model folder")
    revision: str = "main"
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"
    device: Literal["auto", "cpu", "cuda"] = "auto"
    chat_template: str = Field("auto", min_length=1, description="auto | none | path to a .jinja file")
    batch_size: BatchSize = "auto"
    max_batch_size: int = Field(DEFAULT_MAX_BATCH_SIZE, ge=1, le=4096, description="where batch_size: auto starts halving")
    trust_remote_code: bool = False
    context_length: int | None = Field(None, ge=1, le=10_000_000, description="override the context length read from the model")
    input: Literal["auto", "prompt", "source"] = Field("auto", description="what a seq2seq model reads")
    src_lang: str | None = None
    tgt_lang: str | None = None


# --------------------------------------------------------------------------- pure helpers


def resolve_input(setting: str, config: Any) -> str:
    """What the model reads: "prompt" (the task's plain or chat prompt) or "source" (the bare text)."""
    if not getattr(config, "is_encoder_decoder", False):
        if setting == "source":
            raise HarnessError("input: 'source' is for seq2seq translation models; causal LMs read the prompt")
        return "prompt"
    if setting != "auto":
        return setting
    return "source" if getattr(config, "model_type", None) in _SOURCE_ONLY_MODEL_TYPES else "prompt"


def architecture(config: Any) -> str:
    architectures = getattr(config, "architectures", None) or []
    return architectures[0] if architectures else str(getattr(config, "model_type", "unknown"))


def left_pad(sequences: Sequence[Sequence[int]], pad_id: int) -> tuple[list[list[int]], list[list[int]]]:
    """Left-pad token id lists to one length; returns (input_ids, attention_mask)."""
    width = max(len(s) for s in sequences)
    ids = [[pad_id] * (width - len(s)) + list(s) for s in sequences]
    mask = [[0] * (width - len(s)) + [1] * len(s) for s in sequences]
    return ids, mask


def right_pad(sequences: Sequence[Sequence[int]], pad_id: int) -> tuple[list[list[int]], list[list[int]]]:
    """Right-pad (for encoders, whose positions do not move with padding)."""
    width = max(len(s) for s in sequences)
    ids = [list(s) + [pad_id] * (width - len(s)) for s in sequences]
    mask = [[1] * len(s) + [0] * (width - len(s)) for s in sequences]
    return ids, mask


def batch_plan(lengths: Sequence[int], max_new_tokens: Sequence[int]) -> list[list[int]]:
    """Request indices grouped by max_new_tokens, each group longest first (ties by position)."""
    groups: dict[int, list[int]] = {}
    for index in sorted(range(len(lengths)), key=lambda i: (-lengths[i], i)):
        groups.setdefault(max_new_tokens[index], []).append(index)
    return [groups[key] for key in sorted(groups)]


def is_out_of_memory(error: BaseException) -> bool:
    """CUDA OOM, a CPU MemoryError, or torch's CPU allocator giving up."""
    import torch  # heavy: only the hf engine needs it

    if isinstance(error, (MemoryError, torch.OutOfMemoryError)):
        return True
    return isinstance(error, RuntimeError) and (
        "out of memory" in str(error).lower() or "can't allocate memory" in str(error).lower()
    )


# --------------------------------------------------------------------------- the backend


@dataclass(frozen=True)
class LazyModel:
    """A model's config and generation config now, its weights when first needed.

    Rendering, token counting and identity need only the tokenizer and configs, so a run whose
    completions all come from the cache never loads the weights.
    """

    config: Any
    generation_config: Any
    load: Callable[[], Any]


class HFBackend(Backend):
    """A transformers model and its tokenizer. Build it with `load(settings)`.

    `model` is a loaded model, or a `LazyModel` whose weights load on the first `generate`.
    """

    def __init__(self, model, tokenizer, settings: HFSettings, *, source: dict, device: str, dtype: str,
                 chat_template: str | None, context_length: int):
        if isinstance(model, LazyModel):
            self._lazy, self._model = model, None
            self.config, self.generation_config = model.config, model.generation_config
        else:
            self._lazy, self._model = None, model
            self.config, self.generation_config = model.config, model.generation_config
        self.tokenizer = tokenizer
        self.settings = settings
        self.is_seq2seq = bool(getattr(self.config, "is_encoder_decoder", False))
        self.device = device
        self.dtype = dtype
        self.chat_template = chat_template
        self.input = resolve_input(settings.input, self.config)
        self.context_length = context_length
        self._source = source  # commit or local_sha256
        self._add_special_tokens = chat_template is None
        self._auto_batch = settings.batch_size == "auto"
        self._batch_size = settings.max_batch_size if self._auto_batch else int(settings.batch_size)
        self._oom_halvings = 0
        self._largest_batch_run = 0
        self._stopping_cache: dict[tuple[str, ...], Any] = {}
        self._token_ids = self._special_token_ids()

    @property
    def model(self):
        self.load_weights()
        return self._model

    def load_weights(self) -> None:
        """Load the weights now, if a LazyModel has not yet."""
        if self._model is None:
            if self._lazy is None:
                raise RuntimeError("the model was closed")
            self._model = self._lazy.load()

    @property
    def weights_loaded(self) -> bool:
        return self._model is not None

    # ----------------------------------------------------------------- interface

    def identity(self) -> dict:
        import torch  # heavy: only the hf engine needs it
        import transformers  # heavy: only the hf engine needs it

        s = self.settings
        return {
            "backend": "hf",
            "model": s.model,
            "revision": None if "local_sha256" in self._source else s.revision,
            **self._source,
            "architecture": architecture(self.config),
            "kind": "seq2seq" if self.is_seq2seq else "causal",
            "dtype": self.dtype,
            "device": self.device,
            "chat_template_sha256": sha256_text(self.chat_template) if self.chat_template is not None else None,
            "input": self.input,
            "context_length": self.context_length,
            "src_lang": s.src_lang,
            "tgt_lang": s.tgt_lang,
            "trust_remote_code": s.trust_remote_code,
            "generation_token_ids": self._token_ids,
            "engine": ENGINE,
            "engine_version": transformers.__version__,
            "torch_version": torch.__version__,
        }

    def render(self, prompt: Prompt) -> str:
        if self.input == "source":
            if not prompt.source:  # a hand-made Prompt without it: an empty input would be a silent failure
                raise HarnessError(f"input: '{self.settings.model}' reads the bare source, but the prompt does not carry it")
            return prompt.source
        if self.chat_template is None:
            return prompt.plain
        messages = [{"role": role, "content": content} for role, content in prompt.messages]
        try:
            return self.tokenizer.apply_chat_template(
                messages, chat_template=self.chat_template, add_generation_prompt=True, tokenize=False
            )
        except Exception as e:  # a jinja error or a template refusing a role is the config's problem
            raise HarnessError(f"chat_template: cannot render a prompt for '{self.settings.model}': {e}") from None

    def count_tokens(self, text: str) -> int:
        return len(self._encode([text])[0])

    def info(self) -> BackendInfo:
        import transformers  # heavy: only the hf engine needs it

        return BackendInfo(
            engine=ENGINE,
            details={
                "transformers": transformers.__version__,
                "kind": "seq2seq" if self.is_seq2seq else "causal",
                "device": self.device,
                "dtype": self.dtype,
                "chat_template": "none" if self.chat_template is None else self.settings.chat_template,
                "input": self.input,
                "batch_size": self.settings.batch_size,
                "resolved_batch_size": self._batch_size,
                "largest_batch_run": self._largest_batch_run,
                "oom_halvings": self._oom_halvings,
                "context_length": self.context_length,
                "generation_token_ids": self._token_ids,
                "padding": "right (encoder)" if self.is_seq2seq else "left",
                "weights_loaded": self.weights_loaded,  # False when every completion came from the cache
            },
        )

    def close(self) -> None:
        import torch  # heavy: only the hf engine needs it

        loaded = self._model is not None
        self._model, self._lazy = None, None
        if loaded:  # a full collection costs ~0.3 s; only worth it when there are weights to free
            gc.collect()
            if torch.cuda.is_available():
                torch.cuda.empty_cache()

    def generate(self, batch: Sequence[Rendered], settings: GenerationSettings) -> Iterator[Completion]:
        if not batch:
            return
        if self.chat_template is None and self.input != "source":
            settings = with_plain_stops(settings, batch)
        encoded = self._encode([r.text for r in batch])
        for rendered, ids in zip(batch, encoded):
            check_fits(self.settings.model, rendered.request.id, len(ids), rendered.request.max_new_tokens,
                       self.context_length, output_in_context=not self.is_seq2seq)
        self.load_weights()  # now: not timed as generation, and not mistaken for a batch's OOM
        for group in batch_plan([len(ids) for ids in encoded], [r.request.max_new_tokens for r in batch]):
            start = 0
            while start < len(group):
                chunk = group[start : start + self._batch_size]
                started = time.perf_counter()
                out_of_memory = None
                try:
                    finished = self._generate_micro_batch([encoded[i] for i in chunk], batch[chunk[0]].request.max_new_tokens, settings)
                except Exception as e:
                    if not is_out_of_memory(e):
                        raise
                    out_of_memory = type(e).__name__
                if out_of_memory is not None:
                    # outside the except block, so the failed batch's tensors (held by the traceback) can be freed
                    self._after_out_of_memory(len(chunk), out_of_memory)
                    continue
                self._largest_batch_run = max(self._largest_batch_run, len(chunk))
                latency = (time.perf_counter() - started) / len(chunk)
                for index, result in zip(chunk, finished):
                    yield Completion(
                        id=batch[index].request.id,
                        raw=result.text,
                        output_tokens=result.output_tokens,
                        stop_reason=result.stop_reason,
                        latency_s=latency,
                    )
                start += len(chunk)

    # ----------------------------------------------------------------- internals

    def _encode(self, texts: Sequence[str]) -> list[list[int]]:
        # verbose=False: an over-long prompt is the pipeline's to truncate, not transformers' to warn about
        return self.tokenizer(list(texts), add_special_tokens=self._add_special_tokens, verbose=False)["input_ids"]

    def _after_out_of_memory(self, size: int, error: str) -> None:
        import torch  # heavy: only the hf engine needs it

        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        if not self._auto_batch:
            raise HarnessError(
                f"batch_size: {self.settings.model} ran out of memory at batch size {size}; "
                "use a smaller batch_size or batch_size: auto"
            ) from None
        if size == 1:
            raise HarnessError(f"{self.settings.model}: out of memory at batch size 1 ({error})") from None
        self._batch_size = max(1, min(self._batch_size, size) // 2)
        self._oom_halvings += 1

    def _special_token_ids(self) -> dict:
        """Token ids the decoding needs, from the model's generation config, its config and tokenizer."""
        gen, config = self.generation_config, self.config
        eos = gen.eos_token_id if gen.eos_token_id is not None else config.eos_token_id
        if eos is None:
            eos = self.tokenizer.eos_token_id
        eos_ids = sorted({eos} if isinstance(eos, int) else set(eos or ()))
        if not eos_ids:
            raise HarnessError(f"model: '{self.settings.model}' declares no end-of-sequence token")
        pad = self.tokenizer.pad_token_id
        if pad is None:
            pad = gen.pad_token_id if gen.pad_token_id is not None else eos_ids[0]
        ids: dict[str, Any] = {"eos_token_id": eos_ids, "pad_token_id": pad}
        if self.is_seq2seq:
            start = gen.decoder_start_token_id if gen.decoder_start_token_id is not None else config.decoder_start_token_id
            ids["decoder_start_token_id"] = start
            ids["forced_bos_token_id"] = self._forced_bos(gen)
        if getattr(gen, "bad_words_ids", None):
            ids["bad_words_ids"] = [list(words) for words in gen.bad_words_ids]
        return ids

    def _forced_bos(self, gen) -> int | None:
        tgt = self.settings.tgt_lang
        if tgt is None:
            return gen.forced_bos_token_id
        token_id = self.tokenizer.convert_tokens_to_ids(tgt)
        if token_id is None or token_id == self.tokenizer.unk_token_id:
            raise HarnessError(f"tgt_lang: '{tgt}' is not a token of the tokenizer of '{self.settings.model}'")
        return token_id

    def _generation_config(self, max_new_tokens: int, settings: GenerationSettings):
        from transformers import GenerationConfig  # heavy: only the hf engine needs it

        sample = settings.do_sample and settings.temperature > 0
        sampling = {"do_sample": True, "temperature": settings.temperature, "top_p": settings.top_p, "top_k": 0} if sample else {"do_sample": False}
        return GenerationConfig(max_new_tokens=max_new_tokens, num_beams=1, **sampling, **self._token_ids)

    def _stopping_criteria(self, stops: tuple[str, ...]):
        from transformers import StopStringCriteria, StoppingCriteriaList  # heavy: only the hf engine needs it

        if not stops:
            return None
        if stops not in self._stopping_cache:
            self._stopping_cache[stops] = StoppingCriteriaList([StopStringCriteria(self.tokenizer, list(stops))])
        return self._stopping_cache[stops]

    def _decode(self, ids: Sequence[int]) -> str:
        return self.tokenizer.decode(list(ids), skip_special_tokens=True)

    def _generate_micro_batch(self, sequences: list[list[int]], max_new_tokens: int, settings: GenerationSettings) -> list[Finished]:
        import torch  # heavy: only the hf engine needs it

        pad = self._token_ids["pad_token_id"]
        ids, mask = (right_pad if self.is_seq2seq else left_pad)(sequences, pad)
        input_ids = torch.tensor(ids, dtype=torch.long, device=self.device)
        attention_mask = torch.tensor(mask, dtype=torch.long, device=self.device)
        if settings.do_sample:
            torch.manual_seed(settings.seed)  # sampled outputs then depend on the batching; greedy ones do not
        with torch.inference_mode():
            out = self.model.generate(
                input_ids=input_ids,
                attention_mask=attention_mask,
                generation_config=self._generation_config(max_new_tokens, settings),
                stopping_criteria=self._stopping_criteria(tuple(settings.stop)),
            )
        # Causal output repeats the (padded) input; seq2seq output starts with the decoder start token.
        generated = out[:, 1:] if self.is_seq2seq else out[:, input_ids.shape[1] :]
        eos = frozenset(self._token_ids["eos_token_id"])
        return [finish_sequence(row, eos, max_new_tokens, self._decode, settings.stop) for row in generated.tolist()]
