"""The `hf` backend on tiny local models (built from a config, never downloaded).

Ground truth for generation is transformers itself: a bare, unpadded, one-item-at-a-time
`model.generate` call. The backend must reproduce it token for token at any batch size.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from harness.errors import HarnessError
from harness.request import GenerationSettings, Prompt, Rendered, Request
from harness.generate.decoding import Finished, finish_sequence, first_stop
from harness.generate.hf import commit_from_snapshot_path, folder_sha256, load, local_model_dir, sane_context_length
from harness.generate.hf_backend import HFSettings, batch_plan, left_pad, resolve_input, right_pad
from helpers.tiny_models import CHAT_TEMPLATE, build_tiny_models, seed_corpus

GREEDY = GenerationSettings()
MAX_NEW = 12


@pytest.fixture(scope="session")
def tiny(tmp_path_factory):
    return build_tiny_models(tmp_path_factory.mktemp("tiny-models"))


@pytest.fixture(autouse=True)
def harness_cache(tmp_path, monkeypatch):
    """The backend memoises folder hashes in the harness cache dir: keep it in the test's tmp."""
    monkeypatch.setenv("HARNESS_CACHE", str(tmp_path / "harness-cache"))
    return tmp_path / "harness-cache"


@pytest.fixture(scope="session")
def texts() -> list[str]:
    """Eight inputs of different lengths (Chinese, English, mixed) from the seed text."""
    lines = seed_corpus()
    chosen = [lines[1], lines[5][:40], lines[11][:90], lines[-1][:60], lines[-7][:25], "忙", lines[7][:70], "ChatGPT 2023年"]
    assert len({len(t) for t in chosen}) == len(chosen)
    return chosen


@pytest.fixture(scope="session")
def qwen2_one_at_a_time(tiny, texts, tmp_path_factory) -> list[str]:
    with pytest.MonkeyPatch.context() as patch:  # session scope: the autouse cache fixture is not active yet
        patch.setenv("HARNESS_CACHE", str(tmp_path_factory.mktemp("harness-cache")))
        return [c.raw for c in run(backend_for(tiny.qwen2, batch_size=1), texts)]


def backend_for(path: Path, **settings):
    return load(HFSettings(model=str(path), **settings))


def requests_for(texts, max_new_tokens=MAX_NEW):
    return [
        Request(id=f"item-{i}", prompt=Prompt(messages=(("user", t),), plain=t), source=t, max_new_tokens=max_new_tokens)
        for i, t in enumerate(texts)
    ]


def run(backend, texts, settings=GREEDY, max_new_tokens=MAX_NEW):
    rendered = [
        Rendered(r, backend.render(r.prompt), backend.count_tokens(backend.render(r.prompt)), False)
        for r in requests_for(texts, max_new_tokens)
    ]
    completions = list(backend.generate(rendered, settings))
    assert sorted(c.id for c in completions) == sorted(r.request.id for r in rendered)
    by_id = {c.id: c for c in completions}
    return [by_id[r.request.id] for r in rendered]


def bare_generate(backend, text: str, max_new_tokens=MAX_NEW) -> list[int]:
    """transformers alone: one unpadded item, greedy; returns the generated token ids."""
    import torch
    from transformers import GenerationConfig

    tokenizer, model = backend.tokenizer, backend.model
    ids = tokenizer(text, add_special_tokens=backend.chat_template is None, return_tensors="pt")["input_ids"].to(model.device)
    config = GenerationConfig(max_new_tokens=max_new_tokens, do_sample=False, **backend._token_ids)
    with torch.inference_mode():
        out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), generation_config=config)
    return out[0, 1:].tolist() if model.config.is_encoder_decoder else out[0, ids.shape[1] :].tolist()


MODELS = ["qwen2", "qwen2_base", "gpt2", "t5"]


# --------------------------------------------------------------------------- batching


@pytest.mark.parametrize("name", MODELS)
def test_batch_size_does_not_change_greedy_output(tiny, texts, name):
    one = backend_for(getattr(tiny, name), batch_size=1)
    four = backend_for(getattr(tiny, name), batch_size=4)
    out_one, out_four = run(one, texts), run(four, texts)
    assert four.info().details["largest_batch_run"] == 4
    assert [(c.raw, c.output_tokens, c.stop_reason) for c in out_one] == [
        (c.raw, c.output_tokens, c.stop_reason) for c in out_four
    ]
    # ... and both equal transformers' own unpadded, one-at-a-time generate, token for token.
    for text, completion in zip(texts, out_four):
        rendered = four.render(Prompt(messages=(("user", text),), plain=text))
        tokens = bare_generate(four, rendered)
        assert completion.raw == four.tokenizer.decode(tokens, skip_special_tokens=True)
        assert completion.output_tokens == len(tokens)
        ended_by_eos = tokens[-1] in four._token_ids["eos_token_id"]
        assert completion.stop_reason == ("eos" if ended_by_eos else "max_new_tokens")


@pytest.mark.parametrize(
    "sequences, pad, ids, mask",
    [
        ([[5, 6, 7], [8]], 0, [[5, 6, 7], [0, 0, 8]], [[1, 1, 1], [0, 0, 1]]),
        ([[1], [2, 3]], 9, [[9, 1], [2, 3]], [[0, 1], [1, 1]]),
        ([[4, 4]], 1, [[4, 4]], [[1, 1]]),
    ],
)
def test_left_pad(sequences, pad, ids, mask):
    assert left_pad(sequences, pad) == (ids, mask)


def test_right_pad():
    assert right_pad([[5, 6, 7], [8]], 0) == ([[5, 6, 7], [8, 0, 0]], [[1, 1, 1], [1, 0, 0]])


def test_batch_plan_groups_by_max_new_tokens_longest_first():
    # lengths 3, 9, 5, 9, 1 with max_new_tokens 10, 10, 20, 10, 20
    assert batch_plan([3, 9, 5, 9, 1], [10, 10, 20, 10, 20]) == [[1, 3, 0], [2, 4]]


@pytest.mark.parametrize("name, side", [("qwen2", "left"), ("gpt2", "left"), ("t5", "right")])
def test_model_receives_padded_batch_with_mask(tiny, texts, name, side):
    backend = backend_for(getattr(tiny, name), batch_size=8)
    seen = []
    real_generate = backend.model.generate

    def spy(**kwargs):
        seen.append((kwargs["input_ids"].tolist(), kwargs["attention_mask"].tolist()))
        return real_generate(**kwargs)

    backend.model.generate = spy
    run(backend, texts[:4])
    (ids, mask), = seen
    pad = backend._token_ids["pad_token_id"]
    lengths = sorted((backend.count_tokens(backend.render(Prompt((("user", t),), t))) for t in texts[:4]), reverse=True)
    assert [sum(row) for row in mask] == lengths  # longest first
    for row_ids, row_mask, n in zip(ids, mask, lengths):
        padding = len(row_ids) - n
        expected_mask = [0] * padding + [1] * n if side == "left" else [1] * n + [0] * padding
        assert row_mask == expected_mask
        pad_positions = [i for i, m in enumerate(row_mask) if m == 0]
        assert all(row_ids[i] == pad for i in pad_positions)


# --------------------------------------------------------------------------- rendering and tokens


def test_chat_template_on_off(tiny, tmp_path):
    prompt = Prompt(messages=(("system", "你是编辑。"), ("user", "请总结：大模型爆火这一年")), plain="请总结：大模型爆火这一年\n摘要：")
    chatml = "<|im_start|>system\n你是编辑。<|im_end|>\n<|im_start|>user\n请总结：大模型爆火这一年<|im_end|>\n<|im_start|>assistant\n"
    custom = tmp_path / "plain.jinja"
    custom.write_text("{% for m in messages %}[{{ m['role'] }}] {{ m['content'] }}\n{% endfor %}[assistant] ", encoding="utf-8")

    chat = backend_for(tiny.qwen2)
    assert chat.render(prompt) == chatml
    assert backend_for(tiny.qwen2, chat_template="none").render(prompt) == prompt.plain
    assert backend_for(tiny.qwen2_base).render(prompt) == prompt.plain  # a base model has no template
    assert backend_for(tiny.qwen2, chat_template=str(custom)).render(prompt) == (
        "[system] 你是编辑。\n[user] 请总结：大模型爆火这一年\n[assistant] "
    )
    assert backend_for(tiny.qwen2_base, chat_template=str(custom)).render(prompt).startswith("[system]")
    assert backend_for(tiny.t5).render(prompt) == prompt.plain

    import hashlib

    identities = {
        "auto": backend_for(tiny.qwen2).identity(),
        "none": backend_for(tiny.qwen2, chat_template="none").identity(),
        "file": backend_for(tiny.qwen2, chat_template=str(custom)).identity(),
    }
    assert identities["auto"]["chat_template_sha256"] == hashlib.sha256(CHAT_TEMPLATE.encode()).hexdigest()
    assert identities["none"]["chat_template_sha256"] is None
    assert identities["file"]["chat_template_sha256"] == hashlib.sha256(custom.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    "setting, message",
    [
        ("missing.jinja", "chat_template: file 'missing.jinja' does not exist"),
    ],
)
def test_bad_chat_template(tiny, setting, message):
    with pytest.raises(HarnessError, match=message):
        backend_for(tiny.qwen2, chat_template=setting)


def test_seq2seq_refuses_a_chat_template_file(tiny, tmp_path):
    template = tmp_path / "t.jinja"
    template.write_text("{{ messages[0]['content'] }}", encoding="utf-8")
    with pytest.raises(HarnessError, match="chat_template: .* seq2seq models take the plain prompt"):
        backend_for(tiny.t5, chat_template=str(template))


def test_count_tokens(tiny):
    chat = backend_for(tiny.qwen2)
    base = backend_for(tiny.qwen2_base)
    rendered = chat.render(Prompt((("user", "你好"),), "你好"))
    # Template markers are single special tokens, and nothing is added on top of the template.
    assert chat.count_tokens("<|im_start|>") == 1
    assert chat.count_tokens(rendered) == len(chat.tokenizer(rendered, add_special_tokens=False)["input_ids"])
    # special tokens split the text: 3 markers + "user\n你好" + "\n" + "assistant\n"
    pieces = ["user\n你好", "\n", "assistant\n"]
    assert chat.count_tokens(rendered) == 3 + sum(chat.count_tokens(p) for p in pieces)
    text = "大模型爆火这一年 The model is large."
    assert base.count_tokens(text) == len(base.tokenizer(text)["input_ids"])
    assert base.count_tokens("") == 0


@pytest.mark.parametrize(
    "name, override, expected",
    [
        ("qwen2", None, 512),  # max_position_embeddings
        ("gpt2", None, 256),  # n_positions
        ("t5", None, 512),  # relative positions: the tokenizer's model_max_length
        ("qwen2", 100, 100),  # the config's override
    ],
)
def test_context_length(tiny, name, override, expected):
    backend = backend_for(getattr(tiny, name), context_length=override)
    assert backend.context_length == expected
    assert backend.identity()["context_length"] == expected


def test_sane_context_length_skips_placeholders():
    from types import SimpleNamespace

    config = SimpleNamespace(max_position_embeddings=None, n_positions=10**30)
    assert sane_context_length(config, SimpleNamespace(model_max_length=2048)) == 2048
    assert sane_context_length(config, SimpleNamespace(model_max_length=int(1e30))) is None
    assert sane_context_length(SimpleNamespace(n_ctx=1024), SimpleNamespace()) == 1024


def test_input_that_does_not_fit_is_an_error(tiny):
    backend = backend_for(tiny.gpt2, context_length=20)
    text = "去年11月30日,非营利性研究机构OpenAI推出AI聊天机器人ChatGPT"
    assert backend.count_tokens(text) + MAX_NEW > 20
    with pytest.raises(HarnessError, match=r"item 'item-0' needs \d+ tokens .* context length is 20"):
        run(backend, [text])


# --------------------------------------------------------------------------- stopping


@pytest.mark.parametrize(
    "tokens, max_new, stops, expected",
    [
        ([5, 6, 0, 1, 1], 5, (), Finished("fg", 3, "eos")),  # eos counted, padding after it not
        ([5, 6, 7], 3, (), Finished("fgh", 3, "max_new_tokens")),
        ([5, 6, 7, 8], 4, ("gh",), Finished("f", 3, "stop")),  # cut before the stop string
        ([5, 6, 7, 0], 4, ("h", "g"), Finished("f", 2, "stop")),  # the earliest stop wins
        ([5, 6, 0, 7], 4, ("h",), Finished("fg", 3, "eos")),  # a stop string after eos is not seen
        ([5, 6], 2, ("",), Finished("fg", 2, "max_new_tokens")),  # empty stop strings are ignored
    ],
)
def test_finish_sequence(tokens, max_new, stops, expected):
    decode = lambda ids: "".join(chr(ord("a") + i) for i in ids if i > 1)  # 0 = eos, 1 = pad
    assert finish_sequence(tokens, frozenset({0}), max_new, decode, stops) == expected


def test_first_stop():
    assert first_stop("abc。def", ["。", "d"]) == 3
    assert first_stop("abc", ["x"]) is None


def test_stop_reason_eos(tiny, texts, tmp_path):
    """A copy of the model whose generation config names the 4th greedy token as another eos."""
    import json

    reference = backend_for(tiny.qwen2_base)
    tokens = bare_generate(reference, texts[2])
    stop_token = tokens[3]
    first = tokens.index(stop_token)
    variant = tmp_path / "eos-variant"
    shutil.copytree(tiny.qwen2_base, variant)
    config = json.loads((variant / "generation_config.json").read_text())
    config["eos_token_id"] = [reference.tokenizer.eos_token_id, stop_token]
    (variant / "generation_config.json").write_text(json.dumps(config))

    backend = backend_for(variant, batch_size=4)
    out = run(backend, texts[:4])
    assert out[2].stop_reason == "eos"
    assert out[2].output_tokens == first + 1
    assert out[2].raw == reference.tokenizer.decode(tokens[:first], skip_special_tokens=True)
    assert {c.stop_reason for c in out} <= {"eos", "max_new_tokens"}


def test_stop_strings_cut_the_text(tiny, texts):
    backend = backend_for(tiny.qwen2_base, batch_size=4)
    plain = run(backend, texts[:4])
    full = plain[1].raw
    # a two-character stop string from the middle of item 1's greedy output
    start = next(i for i in range(3, len(full) - 2) if full[i : i + 2].isprintable() and "\ufffd" not in full[i : i + 2])
    stop = full[start : start + 2]
    cut = full.find(stop)
    stopped = run(backend, texts[:4], GenerationSettings(stop=(stop,)))
    assert stopped[1].stop_reason == "stop"
    assert stopped[1].raw == full[:cut]
    assert 1 <= stopped[1].output_tokens <= plain[1].output_tokens
    # Items whose output never contains the stop string are untouched.
    for before, after in zip(plain, stopped):
        if stop not in before.raw:
            assert (after.raw, after.stop_reason) == (before.raw, before.stop_reason)


def test_max_new_tokens_groups(tiny, texts):
    backend = backend_for(tiny.gpt2)
    rendered = [
        Rendered(Request(f"r{i}", Prompt((("user", t),), t), t, max_new_tokens=n), t, backend.count_tokens(t), False)
        for i, (t, n) in enumerate(zip(texts[:4], [3, 7, 3, 7]))
    ]
    out = {c.id: c for c in backend.generate(rendered, GREEDY)}
    assert [out[f"r{i}"].output_tokens for i in range(4)] == [3, 7, 3, 7]
    assert {c.stop_reason for c in out.values()} == {"max_new_tokens"}
    assert out["r1"].raw == backend.tokenizer.decode(bare_generate(backend, texts[1], 7), skip_special_tokens=True)


# --------------------------------------------------------------------------- seq2seq


def test_seq2seq_generates_like_transformers(tiny, texts):
    backend = backend_for(tiny.t5, batch_size=3)
    out = run(backend, texts)
    assert backend.info().details["kind"] == "seq2seq"
    for text, completion in zip(texts, out):
        assert completion.raw == backend.tokenizer.decode(bare_generate(backend, text), skip_special_tokens=True)


def test_seq2seq_target_language_forces_first_token(tiny, texts):
    """NLLB-style: tgt_lang's token id becomes the forced first decoder token."""
    language_token = "The"  # any token of the tiny vocabulary stands in for a code like eng_Latn
    backend = backend_for(tiny.t5, tgt_lang=language_token)
    token_id = backend.tokenizer.convert_tokens_to_ids(language_token)
    assert backend.identity()["generation_token_ids"]["forced_bos_token_id"] == token_id
    for completion in run(backend, texts[:3]):
        assert completion.raw.startswith("The")


@pytest.mark.parametrize(
    "name, settings, message",
    [
        ("t5", {"tgt_lang": "xx_Nope"}, "tgt_lang: 'xx_Nope' is not a token"),
        ("t5", {"src_lang": "zho_Hans"}, "src_lang: the tokenizer of .* takes no source language"),
        ("qwen2", {"tgt_lang": "eng_Latn"}, "src_lang/tgt_lang: .* is a causal LM"),
    ],
)
def test_language_code_errors(tiny, name, settings, message):
    with pytest.raises(HarnessError, match=message):
        backend_for(getattr(tiny, name), **settings)


@pytest.mark.parametrize(
    "is_encoder_decoder, model_type, setting, expected",
    [
        (False, "qwen2", "auto", "prompt"),
        (False, "qwen2", "prompt", "prompt"),
        (True, "marian", "auto", "source"),
        (True, "m2m_100", "auto", "source"),
        (True, "mbart", "auto", "source"),
        (True, "t5", "auto", "prompt"),
        (True, "mt5", "auto", "prompt"),
        (True, "t5", "source", "source"),
        (True, "marian", "prompt", "prompt"),
    ],
)
def test_resolve_input(is_encoder_decoder, model_type, setting, expected):
    from types import SimpleNamespace

    config = SimpleNamespace(is_encoder_decoder=is_encoder_decoder, model_type=model_type)
    assert resolve_input(setting, config) == expected


def test_causal_models_do_not_read_the_bare_source():
    from types import SimpleNamespace

    with pytest.raises(HarnessError, match="input: 'source' is for seq2seq translation models"):
        resolve_input("source", SimpleNamespace(is_encoder_decoder=False, model_type="qwen2"))


def test_seq2seq_reading_the_source(tiny, texts):
    backend = backend_for(tiny.t5, input="source")
    prompt = Prompt(messages=(("user", "Translate: 忙"),), plain="Translate into English:\n\n忙\nEnglish:", source="忙")
    assert backend.render(prompt) == "忙"
    assert backend_for(tiny.t5).render(prompt) == prompt.plain  # T5-style: the instruction prompt
    assert backend.identity()["input"] == "source"
    with pytest.raises(HarnessError, match="reads the bare source, but the prompt does not carry it"):
        backend.render(Prompt(messages=(), plain="x"))
    request = Request(id="s", prompt=prompt, source="忙", max_new_tokens=MAX_NEW)
    (completion,) = backend.generate([Rendered(request, backend.render(prompt), backend.count_tokens("忙"), False)], GREEDY)
    assert completion.raw == backend.tokenizer.decode(bare_generate(backend, "忙"), skip_special_tokens=True)


# --------------------------------------------------------------------------- out of memory


@pytest.mark.parametrize(
    "error",
    [
        lambda: __import__("torch").OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"),
        lambda: MemoryError(),
        lambda: RuntimeError("[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: can't allocate memory"),
    ],
    ids=["cuda-oom", "MemoryError", "cpu-allocator"],
)
def test_auto_batch_size_halves_on_out_of_memory(tiny, texts, qwen2_one_at_a_time, error):
    backend = backend_for(tiny.qwen2, batch_size="auto", max_batch_size=8)
    attempts = []
    real = backend._generate_micro_batch

    def fits_two(sequences, *args):
        attempts.append(len(sequences))
        if len(sequences) > 2:
            raise error()
        return real(sequences, *args)

    backend._generate_micro_batch = fits_two
    out = run(backend, texts)
    assert attempts == [8, 4, 2, 2, 2, 2]
    details = backend.info().details
    assert (details["batch_size"], details["resolved_batch_size"], details["oom_halvings"]) == ("auto", 2, 2)
    assert [c.raw for c in out] == qwen2_one_at_a_time


def test_fixed_batch_size_out_of_memory_is_an_error(tiny, texts):
    backend = backend_for(tiny.qwen2, batch_size=4)

    def no_memory(*args):
        raise MemoryError()

    backend._generate_micro_batch = no_memory
    with pytest.raises(HarnessError, match="batch_size: .* ran out of memory at batch size 4"):
        run(backend, texts)


def test_other_errors_are_not_mistaken_for_out_of_memory(tiny, texts):
    backend = backend_for(tiny.qwen2, batch_size="auto")

    def broken(*args):
        raise RuntimeError("shape mismatch")

    backend._generate_micro_batch = broken
    with pytest.raises(RuntimeError, match="shape mismatch"):
        run(backend, texts)


# --------------------------------------------------------------------------- identity and loading


def test_identity_follows_the_weights(tiny, tmp_path):
    import torch
    from transformers import AutoModelForCausalLM

    original = backend_for(tiny.gpt2).identity()
    copy = tmp_path / "gpt2-copy"
    shutil.copytree(tiny.gpt2, copy)
    (copy / "README.md").write_text("notes do not change the model")
    same = backend_for(copy).identity()
    assert same["local_sha256"] == original["local_sha256"]
    assert same["revision"] is None and "commit" not in same

    model = AutoModelForCausalLM.from_pretrained(copy)
    with torch.no_grad():
        model.lm_head.weight[0, 0] += 1e-3
    model.save_pretrained(copy)
    changed = backend_for(copy).identity()
    assert changed["local_sha256"] != original["local_sha256"]
    expected_keys = {"backend", "model", "local_sha256", "dtype", "chat_template_sha256", "engine", "engine_version"}
    assert expected_keys <= changed.keys()
    assert (changed["engine"], changed["dtype"], changed["kind"]) == ("transformers", "float32", "causal")


def test_folder_hash_is_memoised_by_file_stats(tiny, tmp_path):
    import hashlib
    import json
    import os

    folder = tmp_path / "model"
    shutil.copytree(tiny.gpt2, folder)
    memo = tmp_path / "memo.json"
    digest = folder_sha256(folder, memo)
    assert digest == folder_sha256(folder)  # the memo changes nothing but the time it takes
    # An independent recomputation: sha256 over "relative path NUL content NUL" in path order.
    expected = hashlib.sha256()
    for path in sorted(folder.rglob("*"), key=lambda p: p.relative_to(folder).as_posix()):
        expected.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    assert digest == expected.hexdigest()

    entry = json.loads(memo.read_text())[str(folder.resolve())]
    entry["sha256"] = "f" * 64  # a planted value proves the memo is read while the stats match
    memo.write_text(json.dumps({str(folder.resolve()): entry}))
    assert folder_sha256(folder, memo) == "f" * 64
    config = folder / "config.json"
    os.utime(config, ns=(config.stat().st_atime_ns, config.stat().st_mtime_ns + 1))
    assert folder_sha256(folder, memo) == digest  # any stat change rehashes


def test_a_folder_memo_from_before_the_stat_key_is_rehashed(tiny, tmp_path):
    """Memos written when the stat was (size, mtime) under "stats" are not trusted: the folder is
    hashed again (same digest, so the same cache keys) and the memo rewritten."""
    import json

    folder = tmp_path / "model"
    shutil.copytree(tiny.gpt2, folder)
    digest = folder_sha256(folder)
    stats = [[p.relative_to(folder).as_posix(), p.stat().st_size, p.stat().st_mtime_ns]
             for p in sorted(folder.rglob("*")) if p.is_file()]
    memo = tmp_path / "memo.json"
    memo.write_text(json.dumps({str(folder.resolve()): {"stats": stats, "sha256": "f" * 64}}))
    assert folder_sha256(folder, memo) == digest
    assert json.loads(memo.read_text())[str(folder.resolve())]["sha256"] == digest


def test_weights_load_only_when_generating(tiny, texts):
    backend = backend_for(tiny.qwen2)
    backend.render(Prompt((("user", "你好"),), "你好"))
    backend.count_tokens("你好")
    backend.identity()
    assert not backend.weights_loaded  # a fully cached run needs none of them
    run(backend, texts[:2])
    assert backend.weights_loaded and backend.info().details["weights_loaded"]


def test_hub_model_identity_is_the_resolved_commit(tiny, tmp_path, monkeypatch):
    """A Hub id served from a local Hugging Face cache (offline): identity records the commit."""
    import huggingface_hub.constants as hub_constants

    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "hub" / "models--tiny-org--tiny-qwen2"
    shutil.copytree(tiny.qwen2, repo / "snapshots" / commit)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    monkeypatch.setattr(hub_constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", True)

    backend = load(HFSettings(model="tiny-org/tiny-qwen2", revision="main"))
    identity = backend.identity()
    assert (identity["commit"], identity["revision"], identity["model"]) == (commit, "main", "tiny-org/tiny-qwen2")
    assert "local_sha256" not in identity
    # the weights come from the same snapshot, on the first generate
    assert [c.raw for c in run(backend, ["忙"])] == [c.raw for c in run(backend_for(tiny.qwen2), ["忙"])]
    with pytest.raises(HarnessError, match="model: cannot fetch 'tiny-org/absent' at revision 'main'"):
        load(HFSettings(model="tiny-org/absent"))


@pytest.mark.parametrize(
    "path, expected",
    [
        ("/cache/models--Qwen--Qwen2.5-0.5B/snapshots/" + "a" * 40 + "/config.json", "a" * 40),
        ("/cache/models--Qwen--Qwen2.5-0.5B/snapshots/" + "b" * 40, "b" * 40),
        ("/cache/models--Qwen--Qwen2.5-0.5B/snapshots/main/config.json", None),
        ("/models/qwen", None),
    ],
)
def test_commit_from_snapshot_path(path, expected):
    assert commit_from_snapshot_path(path) == expected


@pytest.mark.parametrize(
    "model, message",
    [
        ("/no/such/model", "model: local path '/no/such/model' does not exist"),
        ("./models/tiny", "model: local path './models/tiny' does not exist"),
        ("~/models/tiny", "model: local path '~/models/tiny' does not exist"),
        ("models/qwen/tiny", "model: local path 'models/qwen/tiny' does not exist"),
    ],
)
def test_missing_local_model_is_an_error(model, message):
    with pytest.raises(HarnessError, match=message):
        local_model_dir(model)
    with pytest.raises(HarnessError, match=message):
        load(HFSettings(model=model))


@pytest.mark.parametrize("model", ["Qwen/Qwen2.5-0.5B-Instruct", "gpt2", "facebook/nllb-200-distilled-600M"])
def test_hub_ids_are_not_paths(model):
    assert local_model_dir(model) is None


def test_a_file_is_not_a_model_folder(tmp_path):
    weights = tmp_path / "model.safetensors"
    weights.write_bytes(b"")
    with pytest.raises(HarnessError, match="is a file, not a model folder"):
        local_model_dir(str(weights))


@pytest.mark.parametrize(
    "entry, message",
    [
        ({"model": "x", "batch_sise": 4}, "batch_sise"),
        ({"model": "x", "batch_size": 0}, "positive integer or 'auto'"),
        ({"model": "x", "batch_size": "max"}, "batch_size"),
        ({"model": "x", "dtype": "fp16"}, "dtype"),
        ({"model": "x", "device": "tpu"}, "device"),
        ({"model": ""}, "model"),
        ({"model": "x", "context_length": 0}, "context_length"),
        ({"model": "x", "name": "m"}, "name"),  # common keys belong to the config's model entry
    ],
)
def test_settings_are_strict(entry, message):
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match=message):
        HFSettings(**entry)


def test_settings_defaults():
    settings = HFSettings(model="Qwen/Qwen2.5-0.5B-Instruct")
    assert (settings.trust_remote_code, settings.chat_template, settings.batch_size, settings.dtype) == (
        False, "auto", "auto", "auto",
    )


def test_trust_remote_code_is_passed_explicitly(tiny, monkeypatch):
    import transformers

    seen = []
    for cls in (transformers.AutoConfig, transformers.AutoTokenizer, transformers.AutoModelForCausalLM):
        real = cls.from_pretrained.__func__

        def spy(klass, *args, _real=real, **kwargs):
            seen.append((klass.__name__, kwargs.get("trust_remote_code", "absent")))
            return _real(klass, *args, **kwargs)

        monkeypatch.setattr(cls, "from_pretrained", classmethod(spy))
    backend_for(tiny.qwen2)
    assert seen and all(flag is False for _, flag in seen), seen


def test_sampling_is_reproducible_with_a_seed(tiny, texts):
    backend = backend_for(tiny.qwen2, batch_size=4)
    settings = GenerationSettings(do_sample=True, temperature=1.0, seed=7)
    first = [c.raw for c in run(backend, texts[:4], settings)]
    assert first == [c.raw for c in run(backend, texts[:4], settings)]
    assert first != [c.raw for c in run(backend, texts[:4])]  # and it really sampled


# --------------------------------------------------------------------------- end to end: harness run


def _read_jsonl(path: Path) -> list[dict]:
    import json

    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_harness_run_end_to_end(tiny, tmp_path, run_cli, root):
    """config with tiny local models → `harness run` → results files; batch 1 = batch 4; a rerun is cached."""
    import json

    from harness.config import load_config
    from harness.pipeline.render import render_prompts

    config = tmp_path / "tiny.yaml"
    config.write_text(
        f"""run: tiny-hf
dataset: {root / 'data'}
tasks:
  - {{task: summarize_zh, limit: 2, max_new_tokens: 12}}
  - {{task: translate_zh_en, limit: 5, max_new_tokens: 12}}
models:
  - {{name: qwen2-chat, backend: hf, model: {tiny.qwen2}, batch_size: 4}}
  - {{name: qwen2-plain, backend: hf, model: {tiny.qwen2}, chat_template: none}}
  - {{name: t5, backend: hf, model: {tiny.t5}, tasks: [translate_zh_en]}}
  - {{name: t5-source, backend: hf, model: {tiny.t5}, input: source, tasks: [translate_zh_en]}}
""",
        encoding="utf-8",
    )
    results = tmp_path / "results"
    code, _, err = run_cli("run", str(config), "--results", str(results), "--quiet")
    assert code == 0, err
    folder = results / "tiny-hf"
    assert sorted(p.name for p in folder.iterdir()) == ["manifest.json", "predictions", "results.csv", "results.md", "scores.json"]
    manifest = json.loads((folder / "manifest.json").read_text())
    chat = manifest["models"]["qwen2-chat"]
    assert chat["identity"]["engine"] == "transformers" and len(chat["identity"]["local_sha256"]) == 64
    assert chat["info"]["details"]["resolved_batch_size"] == 4
    assert chat["identity"]["chat_template_sha256"] != manifest["models"]["qwen2-plain"]["identity"]["chat_template_sha256"]

    rows = {
        (model, task): _read_jsonl(folder / "predictions" / model / f"{task}.jsonl")
        for model, task in [("qwen2-chat", "summarize_zh"), ("qwen2-chat", "translate_zh_en"),
                            ("qwen2-plain", "translate_zh_en"), ("t5", "translate_zh_en")]
    }
    assert [len(r) for r in rows.values()] == [2, 5, 5, 5]
    for row in (r for rs in rows.values() for r in rs):
        assert row["stop_reason"] in ("eos", "max_new_tokens") and 1 <= row["output_tokens"] <= 12
    # The articles are longer than the 512-token context: cut to fit, and recorded as such.
    assert all(r["truncated"] and r["input_tokens"] + 12 <= 512 for r in rows[("qwen2-chat", "summarize_zh")])
    # chat template on/off: a different string reaches the model
    chat_rows, plain_rows = rows[("qwen2-chat", "translate_zh_en")], rows[("qwen2-plain", "translate_zh_en")]
    assert all(a["prompt_sha256"] != b["prompt_sha256"] and a["input_tokens"] > b["input_tokens"]
               for a, b in zip(chat_rows, plain_rows))
    # input: source (what Marian/NLLB read by default): the bare segment reaches the model
    from harness.tasks import load_items

    segments = {i.id: i.source for i in load_items("translate_zh_en", root / "data")}
    source_rows = _read_jsonl(folder / "predictions" / "t5-source" / "translate_zh_en.jsonl")
    assert [r["prompt_sha256"] for r in source_rows] == [
        hashlib.sha256(segments[r["id"]].encode("utf-8")).hexdigest() for r in source_rows]

    # Ground truth: transformers' own unpadded generate on the exact rendered prompt.
    backend = backend_for(tiny.qwen2)
    views = list(render_prompts(load_config(config), model="qwen2-chat", task="translate_zh_en", n=5))
    for view, row in zip(views, chat_rows):
        assert row["id"] == view.item_id and row["input_tokens"] == view.rendered.input_tokens
        expected = backend.tokenizer.decode(bare_generate(backend, view.rendered.text), skip_special_tokens=True)
        assert row["raw"] == expected

    # Batch size 1, regenerated: the same predictions byte for byte (latency aside).
    code, _, err = run_cli("run", str(config), "--results", str(tmp_path / "again"), "--quiet", "--no-cache",
                           "--set", "models.0.batch_size=1")
    assert code == 0, err
    again = _read_jsonl(tmp_path / "again" / "tiny-hf" / "predictions" / "qwen2-chat" / "translate_zh_en.jsonl")
    strip = lambda rows: [{k: v for k, v in r.items() if k != "latency_s"} for r in rows]  # noqa: E731
    assert strip(again) == strip(chat_rows)

    # A third run is served from the cache without loading any weights.
    code, _, err = run_cli("run", str(config), "--results", str(tmp_path / "cached"), "--quiet")
    assert code == 0, err
    cached = json.loads((tmp_path / "cached" / "tiny-hf" / "manifest.json").read_text())
    assert (cached["cache"]["hits"], cached["cache"]["misses"]) == (24, 0)  # 2 + 5 items × 2 qwen2 models, 5 for each t5
    assert not any(m["info"]["details"]["weights_loaded"] for m in cached["models"].values())
