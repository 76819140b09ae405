"""Tiny Hugging Face models built locally from a config, for tests and benchmarks. Nothing is downloaded.

A byte-level BPE tokenizer is trained on the project's seed articles and English reference
translations (so both Chinese and English text get real merges), saved as a
`PreTrainedTokenizerFast` with a ChatML chat template. Causal LMs (Qwen2-style and GPT-2-style) and
a T5-style seq2seq model are created with `from_config` under a fixed torch seed, in float32, and
saved as safetensors folders that `AutoModel*.from_pretrained` / the `hf` backend load like any Hub
snapshot. Building everything takes about a second.

    from helpers.tiny_models import build_tiny_models  # bench/: tests.helpers.tiny_models
    models = build_tiny_models(tmp_dir)      # TinyModels(tokenizer_dir, qwen2, gpt2, t5)
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

EOS = "<|endoftext|>"
PAD = "<|pad|>"
SPECIAL_TOKENS = (EOS, PAD, "<|im_start|>", "<|im_end|>")
# ChatML, the format of Qwen2 instruct models; `add_generation_prompt` opens the assistant turn.
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
VOCAB_SIZE = 1024
SEED = 0


@dataclass(frozen=True)
class TinyModels:
    tokenizer: Path  # the tokenizer alone (with chat template)
    qwen2: Path  # Qwen2ForCausalLM, rotary positions, chat template
    qwen2_base: Path  # the same weights, tokenizer without a chat template (a "base" model)
    gpt2: Path  # GPT2LMHeadModel, learned absolute positions, no chat template
    t5: Path  # T5ForConditionalGeneration


def seed_corpus(root: Path = ROOT) -> list[str]:
    """Lines of the Chinese seed articles and of the English reference translations."""
    lines = []
    for path in sorted((root / "seeds").glob("*.txt")):
        lines += [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    for path in sorted((root / "references" / "translations" / "en").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                lines.append(json.loads(line)["en"])
    return lines


def train_tokenizer(out_dir: Path, *, chat_template: str | None = CHAT_TEMPLATE, max_length: int = 512):
    """A byte-level BPE tokenizer trained on the seed text; saved to `out_dir` and returned."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    bpe.train_from_iterator(seed_corpus(), trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe,
        eos_token=EOS,
        pad_token=PAD,
        additional_special_tokens=["<|im_start|>", "<|im_end|>"],
        model_max_length=max_length,
    )
    tokenizer.chat_template = chat_template
    tokenizer.save_pretrained(out_dir)
    return tokenizer


def _save(model, tokenizer, out_dir: Path) -> Path:
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    return out_dir


def build_qwen2(tokenizer, out_dir: Path, *, seed: int = SEED, hidden_size: int = 64, layers: int = 2) -> Path:
    """Qwen2-style causal LM: 2 layers × 64 wide by default (~0.2 M parameters); wider for benchmarks."""
    import torch
    from transformers import AutoModelForCausalLM, Qwen2Config

    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=2 * hidden_size,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        initializer_range=0.2,  # wide logits: greedy choices are far from ties
        tie_word_embeddings=False,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=None,
    )
    torch.manual_seed(seed)
    return _save(AutoModelForCausalLM.from_config(config, dtype=torch.float32), tokenizer, out_dir)


def build_gpt2(tokenizer, out_dir: Path, *, seed: int = SEED) -> Path:
    import torch
    from transformers import AutoModelForCausalLM, GPT2Config

    config = GPT2Config(
        vocab_size=len(tokenizer),
        n_embd=64,
        n_layer=2,
        n_head=4,
        n_positions=256,
        initializer_range=0.2,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(seed)
    return _save(AutoModelForCausalLM.from_config(config, dtype=torch.float32), tokenizer, out_dir)


def build_t5(tokenizer, out_dir: Path, *, seed: int = SEED) -> Path:
    import torch
    from transformers import AutoModelForSeq2SeqLM, T5Config

    config = T5Config(
        vocab_size=len(tokenizer),
        d_model=64,
        d_kv=16,
        d_ff=128,
        num_layers=2,
        num_decoder_layers=2,
        num_heads=4,
        initializer_factor=4.0,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        decoder_start_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(seed)
    return _save(AutoModelForSeq2SeqLM.from_config(config, dtype=torch.float32), tokenizer, out_dir)


def build_tiny_models(out_dir: Path) -> TinyModels:
    """Build every tiny model under `out_dir` (a few seconds on two cores, most of it imports)."""
    from transformers.utils import logging

    logging.disable_progress_bar()  # "Writing model shards" bars are noise in test logs
    out_dir.mkdir(parents=True, exist_ok=True)
    tokenizer = train_tokenizer(out_dir / "tokenizer")
    qwen2 = build_qwen2(tokenizer, out_dir / "qwen2")
    tokenizer.chat_template = None  # the same tokenizer, as a base model ships it
    qwen2_base = out_dir / "qwen2-base"
    shutil.copytree(qwen2, qwen2_base)
    for name in ("tokenizer_config.json", "chat_template.jinja"):
        (qwen2_base / name).unlink()
    tokenizer.save_pretrained(qwen2_base)
    gpt2 = build_gpt2(tokenizer, out_dir / "gpt2")
    t5 = build_t5(tokenizer, out_dir / "t5")
    logging.enable_progress_bar()
    return TinyModels(tokenizer=out_dir / "tokenizer", qwen2=qwen2, qwen2_base=qwen2_base, gpt2=gpt2, t5=t5)
