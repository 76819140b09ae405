"""When an answer ends, and whether a prompt fits: the rules every local engine decodes by.

The end-of-answer rule, the same for transformers (`harness.generate.hf_backend`) and llama.cpp
(`harness.generate.llama_engine`, `harness.generate.llama_batch`):

- `stop` when a stop string appears in the answer's text: the text is cut before it, and the
  answer counts the fewest tokens whose text holds it (what the model had to generate);
- else `eos` when the model generates an end token: the text stops before it, the count includes it;
- else `max_new_tokens`, also for an answer that ended without any of these.

llama.cpp applies it token by token as it decodes (`Answer.accept`); transformers generates a
row in one go and the rule is applied to the row (`finish_sequence`), the same code either way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

from harness.errors import HarnessError


class Finished(NamedTuple):
    """One generated sequence after eos / stop-string handling."""

    text: str
    output_tokens: int
    stop_reason: str


def first_stop(text: str, stops: Sequence[str]) -> int | None:
    """Index of the earliest stop string in `text`, or None."""
    found = [i for i in (text.find(s) for s in stops if s) if i >= 0]
    return min(found) if found else None


class Answer:
    """One answer being decoded, ended by the rule above.

    `decode(ids)` is the text stop strings are searched in; `decode_text(ids)` (default: the same)
    the answer's text when no stop string ended it; `is_end(token)` says whether a token ends it."""

    def __init__(self, max_new_tokens: int, stop: Sequence[str], decode: Callable[[list[int]], str],
                 is_end: Callable[[int], bool], *, decode_text: Callable[[list[int]], str] | None = None):
        self.max_new_tokens = max_new_tokens
        self.stop = tuple(stop)
        self._decode = decode
        self._decode_text = decode_text or decode
        self._is_end = is_end
        self.tokens: list[int] = []
        self.reason: str | None = None  # set when the answer is finished
        self._text: str | None = None
        self._decoded: tuple[int, str] | None = None  # (tokens, text) last searched, reused as the text

    def accept(self, token: int) -> bool:
        """Add one generated token; True when the answer is finished."""
        return self.extend((token,))

    def extend(self, tokens: Sequence[int]) -> bool:
        """Add generated tokens (those after the end, padding included, are dropped); True when finished."""
        start = len(self.tokens)
        end = next((i for i, t in enumerate(tokens) if self._is_end(t)), None)
        body = self.tokens + list(tokens[:end] if end is not None else tokens[: self.max_new_tokens - start])
        self.tokens = body
        if self.stop and len(body) > start:  # text without a new token was searched already
            text = self._decode(body)
            cut = first_stop(text, self.stop)
            if cut is not None:
                self.tokens = body[: self._fewest_holding_a_stop(body, start)]
                self.reason, self._text = "stop", text[:cut]
                return True
            self._decoded = (len(body), text)
        if end is not None:
            self.tokens = body + [tokens[end]]
            self.reason = "eos"
            return True
        if len(body) >= self.max_new_tokens:
            self.reason = "max_new_tokens"
            return True
        return False

    def _fewest_holding_a_stop(self, body: list[int], start: int) -> int:
        """The fewest tokens whose text holds a stop string; those before `start` held none."""
        lo, hi = start + 1, len(body)
        while lo < hi:
            mid = (lo + hi) // 2
            if first_stop(self._decode(body[:mid]), self.stop) is not None:
                hi = mid
            else:
                lo = mid + 1
        return lo

    def result(self) -> Finished:
        """The answer; an unfinished one counts as cut by max_new_tokens."""
        if self.reason == "stop":
            return Finished(self._text, len(self.tokens), "stop")
        reason = self.reason or "max_new_tokens"
        body = self.tokens[:-1] if reason == "eos" else self.tokens
        if self._decode_text is self._decode and self._decoded is not None and self._decoded[0] == len(body):
            return Finished(self._decoded[1], len(self.tokens), reason)
        return Finished(self._decode_text(body), len(self.tokens), reason)


def finish_sequence(tokens: Sequence[int], eos_ids: frozenset[int], max_new_tokens: int,
                    decode: Callable[[list[int]], str], stops: Sequence[str]) -> Finished:
    """The rule applied to one row generated in one go: cut at eos and at the first stop string.

    `tokens` are the generated ids only (padding after the end included); `decode` turns ids into
    text without special tokens."""
    answer = Answer(max_new_tokens, stops, decode, eos_ids.__contains__)
    answer.extend(tokens)
    return answer.result()


def check_fits(model: str, item: str, n_input: int, max_new_tokens: int, limit: int, *,
               limit_name: str = "the context length", output_in_context: bool = True) -> None:
    """HarnessError when a prompt and its answer overflow the context.

    The pipeline fits every prompt into the context first; overflowing here would be a silent cut.
    `output_in_context` False: an encoder's limit, which holds only the input (seq2seq)."""
    need = n_input + max_new_tokens if output_in_context else n_input
    if need > limit:
        raise HarnessError(f"{model}: item '{item}' needs {need} tokens ({n_input} input) but {limit_name} is {limit}")
