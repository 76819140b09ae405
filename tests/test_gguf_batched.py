"""The batched llama.cpp engine (`parallel` > 1): deterministic greedy outputs, the same answer
rules as one at a time, prefix reuse, and the batch settings in the cache key.

Runs the bundled Gemma 3 270M on a few translation items with few new tokens (the model cache
is tests/conftest.py's `model_cache` fixture, assembled once per machine).
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from harness.generate import gguf
from harness.request import GenerationSettings, Prompt, Rendered, Request, with_plain_stops
from harness.generate.llama_batch import (PromptGroup, common_prefix_length, decode_order, prompt_groups,
                                         shared_prefix_length)
from helpers.gguf_models import GEMMA

# --------------------------------------------------------------------------- pure helpers


@pytest.mark.parametrize(
    "sequences, common",
    [
        ([], 0),
        ([[1, 2, 3]], 3),
        ([[1, 2, 3], [1, 2, 4], [1, 2]], 2),
        ([[1, 2, 3], [2, 2, 3]], 0),
        ([[5, 6, 7, 8], [5, 6, 7, 8, 9]], 4),
    ],
)
def test_common_prefix_length(sequences, common):
    assert common_prefix_length(sequences) == common


@pytest.mark.parametrize(
    "prompts, minimum, shared",
    [
        ([list(range(40))], 16, 0),  # one prompt: nothing to share
        ([list(range(40)), list(range(40))], 16, 39),  # identical: each keeps its last token
        ([list(range(40)), list(range(20)) + [99] * 20], 16, 20),
        ([list(range(40)), list(range(10)) + [99] * 30], 16, 0),  # shorter than the minimum
        ([list(range(40)), list(range(10)) + [99] * 30], 4, 10),
    ],
)
def test_shared_prefix_length(prompts, minimum, shared):
    assert shared_prefix_length(prompts, minimum) == shared


def test_decode_order_depends_on_the_prompts_only():
    prompts = [[1, 2], [3, 4, 5], [1, 1], [9]]
    order = decode_order(prompts)
    assert [prompts[i] for i in order] == [[3, 4, 5], [1, 1], [1, 2], [9]]  # longest first, then by tokens
    shuffled = [prompts[i] for i in (2, 0, 3, 1)]
    assert [shuffled[i] for i in decode_order(shuffled)] == [prompts[i] for i in order]


# --------------------------------------------------------------------------- the real model

INSTRUCTION = "Translate the Chinese text into English. Answer with the translation only.\n\n"
SOURCES = ["大模型爆火这一年", "今天的天气很好，我们去公园散步吧。", "人工智能正在改变世界。", "他在北京大学读书。",
           "这家公司发布了新的手机。", "我们明天早上八点见面。"]


# Token rows: 1-4 share 40 tokens (a "source") then differ (two tasks' instructions); 5 shares 39.
_SRC = list(range(100, 140))
_GROUP_PROMPTS = [[7, 8, *_SRC, 1, 2], [7, 8, *_SRC, 3], [7, 8, *_SRC[:39], 9, 9], [7, 8, 50, 51], [7, 8, *_SRC, 1, 2, 5]]


@pytest.mark.parametrize(
    ("prompts", "n_prefix", "share", "minimum", "groups"),
    [
        # off: every prompt its own group, in decode order (longest first, then token ids)
        (_GROUP_PROMPTS, 2, False, 32, [PromptGroup((i,), 2) for i in (4, 0, 2, 1, 3)]),
        # on: the three prompts with the whole 40-token source form a group whose prefix is the 42 tokens
        # they share; prompt 2 shares 41 tokens with them (2 + 39) and joins too, the group's prefix
        # dropping to 41; prompt 3 shares only the call's prefix
        (_GROUP_PROMPTS, 2, True, 32, [PromptGroup((4, 0, 2, 1), 41), PromptGroup((3,), 2)]),
        # a minimum of 40: prompt 2's 39 shared source tokens are too few, the other three still group
        (_GROUP_PROMPTS, 2, True, 40, [PromptGroup((4, 0, 1), 42), PromptGroup((2,), 2), PromptGroup((3,), 2)]),
        # a minimum above what any of them share beyond the call's prefix: no group
        (_GROUP_PROMPTS, 2, True, 43, [PromptGroup((i,), 2) for i in (4, 0, 2, 1, 3)]),
        # the prefix stops one token short of the shortest member (it must evaluate its last token)
        ([[1] * 40, [1] * 45], 0, True, 32, [PromptGroup((1, 0), 39)]),
        ([[5, 6]], 0, True, 1, [PromptGroup((0,), 0)]),  # one prompt
    ],
)
def test_prompt_groups(prompts, n_prefix, share, minimum, groups):
    assert prompt_groups(prompts, n_prefix, share, minimum) == groups


def test_prompt_groups_depend_on_the_prompts_only():
    order = [3, 0, 4, 2, 1]
    shuffled = [_GROUP_PROMPTS[i] for i in order]
    mapped = [PromptGroup(tuple(order[i] for i in g.members), g.prefix) for g in prompt_groups(shuffled, 2, True, 32)]
    assert mapped == prompt_groups(_GROUP_PROMPTS, 2, True, 32)


def _items(max_new_tokens: int = 10) -> list[Request]:
    out = []
    for i, source in enumerate(SOURCES):
        prompt = Prompt(messages=(("user", INSTRUCTION + source),), plain=f"{INSTRUCTION}Chinese: {source}\nEnglish:",
                        plain_stop=("\nChinese:",))
        out.append(Request(id=f"s{i}", prompt=prompt, source=source, max_new_tokens=max_new_tokens))
    return out


def _generate(backend, requests, settings=GenerationSettings()) -> dict[str, tuple[str, int, str]]:
    rendered = [Rendered(r, backend.render(r.prompt), backend.count_tokens(backend.render(r.prompt)), False)
                for r in requests]
    return {c.id: (c.raw, c.output_tokens, c.stop_reason) for c in backend.generate(rendered, settings)}


@pytest.fixture(scope="module")
def engines(model_cache):
    """One-at-a-time, batched with prefix reuse, batched without (Gemma, 512-token context)."""
    loaded = {
        name: gguf.load(gguf.GGUFSettings(model=GEMMA, engine="llama.cpp", n_ctx=512, parallel=p, prefix_reuse=r))
        for name, p, r in [("single", 1, True), ("batched", 4, True), ("no_reuse", 4, False)]
    }
    loaded["sharing"] = gguf.load(gguf.GGUFSettings(model=GEMMA, engine="llama.cpp", n_ctx=512, parallel=4,
                                                    share_sources=True))
    yield loaded
    for backend in loaded.values():
        backend.close()


def test_batched_outputs_are_identical_across_runs_and_submission_orders(engines):
    batched = engines["batched"]
    requests = _items()
    first = _generate(batched, requests)
    assert set(first) == {r.id for r in requests}
    assert _generate(batched, requests) == first  # run to run
    assert _generate(batched, requests[::-1]) == first  # another submission order
    assert _generate(batched, [requests[i] for i in (3, 0, 5, 1, 4, 2)]) == first
    assert all(raw.strip() and 1 <= n <= 10 for raw, n, _ in first.values())
    assert batched.llama.batched.prefix_tokens > 10  # the instruction was evaluated once and copied


def _first_token(backend, answer: str) -> int:
    return backend.llama.encode(answer)[1 if backend.llama.add_bos else 0]


def test_prefix_reuse_differs_from_no_reuse_only_by_rounding(engines):
    """Prefix reuse evaluates the shared prefix in a llama_decode of its own; llama.cpp's CPU
    kernels round a many-row decode differently (they are not batch-invariant), so its KV cache
    is not bit-identical to the one computed with the whole prompt, and a greedy near-tie can flip
    later in an answer (docs/models.md; `prefix_reuse` is in the cache key). The condition, tested:
    the first answer token (the prompt's own logits) is the same for every item, most answers are
    identical, and each setting is reproducible."""
    requests = _items()
    reuse, plain = _generate(engines["batched"], requests), _generate(engines["no_reuse"], requests)
    assert engines["no_reuse"].llama.batched.prefix_tokens == 0
    assert all(_first_token(engines["batched"], reuse[i][0]) == _first_token(engines["batched"], plain[i][0])
               for i in reuse)
    assert sum(reuse[i] == plain[i] for i in reuse) >= len(reuse) // 2
    assert _generate(engines["no_reuse"], requests[::-1]) == plain


def test_batched_answers_end_by_the_same_rules_as_one_at_a_time(engines):
    """max_new_tokens, EOS and stop strings end answers the same way in both engines (one shared
    `Answer` class): counts and stop reasons agree, and so does each answer's first token."""
    single, batched = engines["single"], engines["batched"]
    short = _items(max_new_tokens=3)
    capped, capped_single = _generate(batched, short), _generate(single, short)
    assert all(n == 3 and reason == "max_new_tokens" for _, n, reason in capped.values())
    assert all(_first_token(single, capped[i][0]) == _first_token(single, capped_single[i][0]) for i in capped)
    # a stop string taken from an item's own answer ends it there, in both engines
    full = _generate(batched, _items())
    word = full["s2"][0].split()[0]
    stopped = _generate(batched, _items(), GenerationSettings(stop=(word,)))
    assert stopped["s2"][2] == "stop" and word not in stopped["s2"][0]
    assert stopped["s2"] == _generate(single, _items(), GenerationSettings(stop=(word,)))["s2"]


def test_plain_prompts_own_stop_strings_end_batched_answers(engines):
    batched = engines["batched"]
    full = _generate(batched, _items())
    word = full["s1"][0].split()[0]
    requests = [replace(r, prompt=replace(r.prompt, plain_stop=(word,))) for r in _items()]
    rendered = [Rendered(r, batched.render(r.prompt), 0, False) for r in requests]
    settings = with_plain_stops(GenerationSettings(), rendered)
    (stopped,) = [c for c in batched.generate(rendered, settings) if c.id == "s1"]
    assert stopped.stop_reason == "stop" and word not in stopped.raw


def test_batch_settings_are_in_the_identity_only_when_batched(engines):
    single, batched, no_reuse = (engines[k].identity() for k in ("single", "batched", "no_reuse"))
    assert "batched" not in single  # parallel: 1 keeps the keys it always had
    assert batched["batched"] == {"decoder": "batched-v1", "n_parallel": 4, "n_ctx_seq": 512, "n_batch": 512,
                                  "kv_unified": False, "flash_attn": False, "prefix_reuse": True,
                                  "order": "longest prompt first"}
    assert no_reuse["batched"]["prefix_reuse"] is False
    assert {k: v for k, v in batched.items() if k != "batched"} == single


def _two_tasks(max_new_tokens: int = 8) -> list[Request]:
    """Each source read by two source-first prompts (as summarize_passage_zh/_en v2): same text up to
    the end of the source, then each task's instruction."""
    out = []
    for i, source in enumerate(SOURCES[1:4]):
        passage = source * 6  # a run long enough to form a group (GROUP_MINIMUM tokens)
        for task, ask in (("zh", "请用一句中文概括上面的文字。"), ("en", "Summarise the text above in one English sentence.")):
            text = f"{passage}\n\n{ask}"
            out.append(Request(id=f"{task}{i}", prompt=Prompt(messages=(("user", text),), plain=text), source=passage,
                               max_new_tokens=max_new_tokens))
    return out


def test_shared_sources_are_evaluated_once_and_outputs_are_reproducible(engines):
    """share_sources: each source's prompt tokens are evaluated once for both of its prompts (the
    counters the manifest's info reports), answers are reproducible and independent of submission
    order, and the identity says so (so the cache key differs from the unshared engine's)."""
    sharing, batched = engines["sharing"], engines["batched"]
    requests = _two_tasks()
    sharing.llama.load_weights()  # the decoder and its counters exist from the first generate on
    before = (sharing.llama.batched.prompt_tokens, sharing.llama.batched.evaluated_tokens)
    first = _generate(sharing, requests)
    prompt_tokens = sharing.llama.batched.prompt_tokens - before[0]
    evaluated = sharing.llama.batched.evaluated_tokens - before[1]
    shared_runs = [common_prefix_length([sharing.llama.encode(r.prompt and sharing.render(r.prompt)) for r in pair])
                   for pair in zip(requests[::2], requests[1::2])]
    assert all(n >= 32 for n in shared_runs)
    # what was saved: each pair's common run, evaluated once instead of twice (less the call's own prefix,
    # which the unshared engine saves too)
    prefix = sharing.llama.batched.prefix_tokens
    assert prompt_tokens - evaluated == sum(n - prefix for n in shared_runs) + prefix * (len(requests) - 1)
    assert _generate(sharing, requests[::-1]) == first
    assert set(first) == {r.id for r in requests} and all(n >= 1 for _, n, _ in first.values())
    assert sharing.identity()["batched"]["share_sources"] is True
    assert "share_sources" not in batched.identity()["batched"]
    assert sharing.combines_tasks and not batched.combines_tasks
    assert sharing.info().details["prompt_tokens_evaluated"] == sharing.llama.batched.evaluated_tokens


def test_share_sources_needs_the_batched_engine():
    with pytest.raises(ValueError, match="share_sources needs the batched engine"):
        gguf.GGUFSettings(model=GEMMA, parallel=1, share_sources=True)


def test_sampling_runs_one_at_a_time(engines):
    """The batched decoder is greedy only; a sampled run takes the one-at-a-time path."""
    settings = GenerationSettings(do_sample=True, temperature=0.7, seed=3)
    requests = _items(max_new_tokens=6)[:2]
    assert _generate(engines["batched"], requests, settings) == _generate(engines["single"], requests, settings)


def test_default_config_translates_200_segments_per_direction_stratified(root):
    """Issues 15 and 19: every real model that translates in configs/default.yaml gets ≥ 200 segments
    per direction, drawn evenly from the five articles; all 38 passages are summarised in both
    languages; the real models run batched."""
    from collections import Counter

    from harness.config import load_config
    from harness.pipeline.plan import plan_run

    plan = plan_run(load_config(root / "configs" / "default.yaml"))
    for task in ("translate_zh_en", "translate_en_zh"):
        per_article = Counter(item.doc_id for item in plan.tasks[task].items)
        assert sum(per_article.values()) >= 200 and len(per_article) == 5
        assert max(per_article.values()) - min(per_article.values()) <= 1, per_article
    for task in ("summarize_passage_zh", "summarize_passage_en"):
        assert len(plan.tasks[task].items) == 38
    real = [m for m in plan.models if m.config.backend == "gguf"]
    assert {t for m in real for t in m.tasks} >= {"summarize_passage_zh", "summarize_passage_en", "translate_zh_en",
                                                  "translate_en_zh"}
    assert all(m.config.settings.parallel > 1 for m in real)
