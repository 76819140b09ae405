"""Batched greedy decoding on llama.cpp: several sequences per `llama_decode`, one shared prefix.

Used by the llama.cpp engine when `parallel` > 1 (harness/generate/llama_engine.py). Why it is faster on a
CPU: decoding one token of one sequence reads every weight from memory for a single row of
activations; with P sequences in the same `llama_decode` the same read serves P rows.

How it runs, and why each rule is there:

- **Fixed order.** The prompts of one `generate` call are sorted by a key of their own (longest
  prompt first, then the token ids), never by submission or arrival, and the slots are refilled in
  that order as sequences finish. Which prompts share a `llama_decode` is then a function of the
  set of prompts alone, so greedy outputs are identical from run to run and for any order the
  items are submitted in.
- **Continuous batching.** P slots (llama.cpp sequences 1..P). A slot whose answer ends is
  refilled from the queue at the next step, so short answers do not wait for long ones.
- **Shared prefix.** The longest token prefix common to every prompt of the call (the chat
  template's system turn and the task instruction; the shots too when they are the same for every
  item) is evaluated once into sequence 0, and each new sequence starts from a copy of its KV cache
  (`llama_memory_seq_cp`) instead of recomputing it.
- **Prompt groups** (`share_sources`, off unless the model entry turns it on). Prompts that start
  with the same long token run beyond the shared prefix (the same passage read by two tasks whose
  prompts put the source first, run in one call by the pipeline) form a group. A slot runs a
  group's prompts one after the other: when one answer ends, the slot keeps the KV cells of the
  group's common prefix (`llama_memory_seq_rm` from there on) and evaluates only the next prompt's
  remaining tokens. No KV is copied and no slot waits for another. Groups are formed by a rule on
  the token ids alone (adjacent in sorted order, common run of at least `minimum` tokens beyond
  the shared prefix), so the schedule is still a function of the set of prompts. Off, every prompt
  is its own group and the order is the one above.
- **One KV stream per sequence** (`kv_unified` off): each sequence attends over its own
  `n_ctx` cells only, so a long article in one slot does not slow the others down. Flash
  attention is off, as in the one-at-a-time engine, and set explicitly (llama.cpp's "auto" turns
  it on on CPU and could resolve differently elsewhere).

Outputs can differ from one-at-a-time decoding in the last bits of the logits: llama.cpp's CPU
kernels are not batch-invariant (a many-row `llama_decode` rounds differently from a one-row
call; measured on Qwen2.5-0.5B with flash attention and weight repacking each on and off, some
answers still differed), which sometimes flips a greedy choice late in an answer. Which prompts
share a `llama_decode` is fixed by the rules above, so outputs are reproducible; the batch
settings are part of the model's identity and so of the cache key (docs/models.md).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from harness.generate.decoding import Answer

#: Bumped whenever a change here can change an output (it is part of the cache key).
DECODER_VERSION = 1


def batched_settings(*, n_parallel: int, n_ctx_seq: int, n_batch: int, prefix_reuse: bool,
                     share_sources: bool = False) -> dict:
    """What changes a batched answer: goes into the model identity (and so the cache key). Known
    before the decoder is built, so a fully cached run computes its keys without loading weights."""
    out = {"decoder": f"batched-v{DECODER_VERSION}", "n_parallel": n_parallel, "n_ctx_seq": n_ctx_seq,
           "n_batch": n_batch, "kv_unified": False, "flash_attn": False, "prefix_reuse": prefix_reuse,
           "order": "longest prompt first"}
    if share_sources:  # absent when off, so the keys of every existing cache stay as they were
        out.update(share_sources=True, groups=f"common run >= {GROUP_MINIMUM} tokens, one slot per group")
    return out


def common_prefix_length(sequences: Sequence[Sequence[int]]) -> int:
    """Length of the longest prefix every sequence starts with (0 for no sequences)."""
    if not sequences:
        return 0
    first, n = sequences[0], min(len(s) for s in sequences)
    for s in sequences[1:]:
        i = 0
        while i < n and s[i] == first[i]:
            i += 1
        n = i
    return n


def shared_prefix_length(prompts: Sequence[Sequence[int]], minimum: int = 16) -> int:
    """Tokens of the prefix that is evaluated once for every prompt of a call.

    At most one less than the shortest prompt (each sequence must evaluate at least its last
    token to get logits), and 0 when fewer than two prompts share it or it is shorter than
    `minimum` tokens (not worth a KV copy).
    """
    if len(prompts) < 2:
        return 0
    n = min(common_prefix_length(prompts), min(len(p) for p in prompts) - 1)
    return n if n >= minimum else 0


def decode_order(prompts: Sequence[Sequence[int]]) -> list[int]:
    """Indices of `prompts` in the order they fill the slots: longest first, then by token ids.

    Depends on the prompts only, never on the order they were given in."""
    return sorted(range(len(prompts)), key=lambda i: (-len(prompts[i]), list(prompts[i])))


#: Tokens a group's common run must exceed the call's shared prefix by (shorter runs are not
#: worth serialising the group's prompts in one slot).
GROUP_MINIMUM = 32


@dataclass(frozen=True)
class PromptGroup:
    members: tuple[int, ...]  # prompt indices, in decode order
    prefix: int  # tokens every member starts with (evaluated once, by the first member)


def prompt_groups(prompts: Sequence[Sequence[int]], n_prefix: int, share: bool,
                  minimum: int = GROUP_MINIMUM) -> list[PromptGroup]:
    """The call's prompts as groups, in the order their slots take them.

    Off (`share` False), every prompt is its own group, in `decode_order`. On, prompts adjacent in
    token order whose common run is at least `n_prefix + minimum` tokens join one group; its prefix
    is the run all members share, at most one less than its shortest member (each member evaluates
    at least its last token). Groups are ordered by their first member's `decode_order` key.
    Depends on the prompts only."""
    if not share or len(prompts) < 2:
        return [PromptGroup((i,), n_prefix) for i in decode_order(prompts)]
    by_tokens = sorted(range(len(prompts)), key=lambda i: list(prompts[i]))
    runs: list[list[int]] = [[by_tokens[0]]]
    for a, b in zip(by_tokens, by_tokens[1:]):
        if common_prefix_length([prompts[a], prompts[b]]) >= n_prefix + minimum:
            runs[-1].append(b)
        else:
            runs.append([b])
    groups = []
    for run in runs:
        run = sorted(run, key=lambda i: (-len(prompts[i]), list(prompts[i])))
        prefix = min(common_prefix_length([prompts[i] for i in run]), min(len(prompts[i]) for i in run) - 1)
        if len(run) > 1 and prefix >= n_prefix + minimum:
            groups.append(PromptGroup(tuple(run), prefix))
        else:
            groups.extend(PromptGroup((i,), n_prefix) for i in run)
    return sorted(groups, key=lambda g: (-len(prompts[g.members[0]]), list(prompts[g.members[0]])))


@dataclass
class _Slot:
    seq: int  # llama.cpp sequence id (1..P; 0 holds the shared prefix)
    index: int = -1  # which prompt (position in the call), -1 when free
    group: PromptGroup | None = None  # the group the slot is running
    next_member: int = 0  # position in group.members of the prompt to take next
    pending: list[int] = field(default_factory=list)  # prompt tokens not evaluated yet
    pos: int = 0  # position of the next token
    answer: Answer | None = None
    logits_at: int = -1  # row of this slot's logits in the last batch, -1 when none

    @property
    def busy(self) -> bool:
        """Decoding a prompt, or holding a group whose next prompt has yet to run."""
        return self.index >= 0 or (self.group is not None and self.next_member < len(self.group.members))


class BatchedDecoder:
    """Greedy decoding of many prompts on one llama.cpp context with `n_parallel` sequences."""

    def __init__(self, model, *, n_parallel: int, n_ctx_seq: int, threads: int, n_batch: int = 512,
                 prefix_reuse: bool = True, share_sources: bool = False):
        import llama_cpp  # heavy: only the llama.cpp engine needs it

        self.model = model  # llama_cpp._internals.LlamaModel (owned by the caller)
        self.n_parallel = n_parallel
        self.n_ctx_seq = n_ctx_seq
        self.n_batch = n_batch
        self.prefix_reuse = prefix_reuse
        self.share_sources = share_sources
        params = llama_cpp.llama_context_default_params()
        n_seq = n_parallel + 1  # sequence 0 holds the shared prefix
        params.n_seq_max = n_seq
        params.n_ctx = n_ctx_seq * n_seq  # llama.cpp splits it evenly: n_ctx_seq cells per stream
        params.n_batch = n_batch
        params.n_ubatch = n_batch
        params.n_threads = threads
        params.n_threads_batch = threads
        params.kv_unified = False
        # off, as in the one-at-a-time engine, and explicit ("auto" turns it on on CPU): on, Gemma 3 270M
        # logits moved by ~0.15 and greedy answers diverged from one-at-a-time on near-ties
        params.flash_attn_type = llama_cpp.LLAMA_FLASH_ATTN_TYPE_DISABLED
        params.no_perf = True
        self.ctx = llama_cpp.llama_init_from_model(model.model, params)
        if self.ctx is None:
            raise RuntimeError(f"llama.cpp could not create a context of {n_seq} × {n_ctx_seq} tokens")
        self.memory = llama_cpp.llama_get_memory(self.ctx)
        self.n_vocab = llama_cpp.llama_vocab_n_tokens(model.vocab)
        self.batch = llama_cpp.llama_batch_init(n_batch, 0, 1)
        self.prefix_tokens = 0  # of the last call: tokens evaluated once and copied (for reports)
        self.prompt_tokens = 0  # of every call so far: prompt tokens, and how many were evaluated
        self.evaluated_tokens = 0  # (the rest came from the shared prefix or a group's prefix)

    # ------------------------------------------------------------------ llama.cpp calls

    def _decode(self, entries: list[tuple[int, int, int, bool]]) -> None:
        """One llama_decode of (token, position, sequence, wants logits) entries."""
        import llama_cpp  # heavy: only the llama.cpp engine needs it

        b = self.batch
        for i, (token, pos, seq, logits) in enumerate(entries):
            b.token[i] = token
            b.pos[i] = pos
            b.n_seq_id[i] = 1
            b.seq_id[i][0] = seq
            b.logits[i] = logits
        b.n_tokens = len(entries)
        code = llama_cpp.llama_decode(self.ctx, b)
        if code != 0:
            raise RuntimeError(f"llama_decode returned {code} for a batch of {len(entries)} tokens")

    def _argmax(self, row: int) -> int:
        import llama_cpp  # heavy: only the llama.cpp engine needs it

        logits = llama_cpp.llama_get_logits_ith(self.ctx, row)
        return int(np.ctypeslib.as_array(logits, shape=(self.n_vocab,)).argmax())  # first maximum, as llama.cpp's greedy

    def _evaluate_prefix(self, tokens: Sequence[int]) -> None:
        for start in range(0, len(tokens), self.n_batch):
            chunk = tokens[start:start + self.n_batch]
            self._decode([(t, start + i, 0, False) for i, t in enumerate(chunk)])

    # ------------------------------------------------------------------ the loop

    def run(self, prompts: Sequence[Sequence[int]], answers: Sequence[Answer]) -> Iterator[int]:
        """Decode every prompt into its Answer; yields each prompt's index when its answer ends."""
        import llama_cpp  # heavy: only the llama.cpp engine needs it

        llama_cpp.llama_memory_clear(self.memory, True)
        n_prefix = shared_prefix_length(prompts) if self.prefix_reuse else 0
        self.prefix_tokens = n_prefix
        self.prompt_tokens += sum(len(p) for p in prompts)
        if n_prefix:
            self._evaluate_prefix(prompts[0][:n_prefix])
            self.evaluated_tokens += n_prefix
        queue = deque(prompt_groups(prompts, n_prefix, self.share_sources))
        slots = [_Slot(seq=s) for s in range(1, self.n_parallel + 1)]
        while queue or any(s.busy for s in slots):
            for slot in slots:  # refill free slots, in slot order: the group's next prompt, else the next group
                if slot.index >= 0:
                    continue
                if slot.group is not None and slot.next_member < len(slot.group.members):
                    keep = slot.group.prefix  # the group's common run stays in this sequence's cells
                    llama_cpp.llama_memory_seq_rm(self.memory, slot.seq, keep, -1)
                elif queue:
                    slot.group, slot.next_member, keep = queue.popleft(), 0, n_prefix
                    llama_cpp.llama_memory_seq_rm(self.memory, slot.seq, -1, -1)
                    if n_prefix:
                        llama_cpp.llama_memory_seq_cp(self.memory, 0, slot.seq, -1, -1)
                else:
                    continue
                slot.index = slot.group.members[slot.next_member]
                slot.next_member += 1
                slot.pending, slot.pos = list(prompts[slot.index][keep:]), keep
                self.evaluated_tokens += len(slot.pending)
                slot.answer = answers[slot.index]
            entries: list[tuple[int, int, int, bool]] = []
            for slot in slots:  # one generated token per decoding slot
                slot.logits_at = -1
                if slot.index >= 0 and not slot.pending:
                    slot.logits_at = len(entries)
                    entries.append((slot.answer.tokens[-1], slot.pos, slot.seq, True))
                    slot.pos += 1
            for slot in slots:  # then prompt tokens, in slot order, while the batch has room
                room = self.n_batch - len(entries)
                if slot.index < 0 or not slot.pending or room <= 0:
                    continue
                take, slot.pending = slot.pending[:room], slot.pending[room:]
                for i, token in enumerate(take):
                    last = not slot.pending and i == len(take) - 1
                    if last:
                        slot.logits_at = len(entries)
                    entries.append((token, slot.pos, slot.seq, last))
                    slot.pos += 1
            self._decode(entries)
            for slot in slots:
                if slot.logits_at < 0:
                    continue
                token = self._argmax(slot.logits_at)
                if slot.answer.accept(token):
                    yield slot.index
                    slot.index, slot.answer = -1, None

    def close(self) -> None:
        import llama_cpp  # heavy: only the llama.cpp engine needs it

        if self.ctx is not None:
            llama_cpp.llama_batch_free(self.batch)
            llama_cpp.llama_free(self.ctx)
            self.ctx = None
