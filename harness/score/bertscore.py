"""BERTScore (Zhang et al. 2020) on an encoder that reaches a machine without the Hub.

The default encoder is multilingual-e5-small, assembled from pinned PyPI packages and converted to
a transformers folder by `harness.encoders.e5`. Any other encoder is `model:` a local transformers
folder or, for users who are online, a Hub id (bert-base-chinese, xlm-roberta-large, … each with
bert-score's standard layer unless `layer:` is given).

The numbers are bert-score 0.3.13's: its tokenisation (`sent_encode`, fast tokenizer), embeddings
(`get_bert_embedding`: the hidden state after layer `layer`) and greedy matching
(`greedy_cos_idf`, idf off: every token weighs 1, <s>/</s> weigh 0), no baseline rescaling; with
several references the item's P, R and F are each the maximum over references, as
`bert_score.score` does. tests/test_bertscore.py checks the scores against `bert_score.score`.
What differs is the organisation, for cost:

- token embeddings are cached on disk by (encoder identity, layer, library versions, text) in
  `<cache>/embeddings-v1.sqlite`, so `harness rescore` and `harness compare` never embed a text
  twice, and never load the encoder when every text is cached;
- texts are embedded in batches sorted by token count (bert-score sorts by spaces, which puts all
  Chinese texts in one length class);
- pairs are scored in chunks, so memory stays bounded on 10,000 pairs.

Per item the statistics are 100 · (F, P, R); the corpus value is the mean F (as ROUGE here), so
the bootstrap CIs and the paired tests of `harness.score.api` apply unchanged.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import numpy as np

from harness.artifacts import cache_dir, open_store
from harness.encoders.e5 import IDENTITY, ensure_e5_folder
from harness.errors import HarnessError
from harness.io import sha256_text
from harness.score.base import MeanFPR
from harness.score.text import guard_language, normalize_zh

# The last of 12: e5 was trained contrastively on (the mean of) its last layer, so that is where its
# similarity lives; bert-score's 9 for 12-layer encoders was tuned on MLM-pretrained ones. The
# sensitivity check agrees (docs/scoring.md: number errors caught 70 % / 84 % at 12, 25 % / 56 % at 9).
DEFAULT_E5_LAYER = 12
MAX_LENGTH = 512  # tokens, <s> and </s> included; longer texts are cut (bert-score's model_max_length)
CACHE_FILE = "embeddings-v1.sqlite"
_CHUNK_PAIRS = 512  # pairs scored per chunk: bounds memory on large inputs


@dataclass(frozen=True)
class EncoderRef:
    """A resolved encoder: where its transformers folder is and what it is."""

    folder: Path
    identity: str  # goes into signatures and cache keys
    layer: int


def _bundled(layer: int | None) -> EncoderRef:
    return EncoderRef(ensure_e5_folder(), IDENTITY, DEFAULT_E5_LAYER if layer is None else layer)


def _local_identity(folder: Path) -> str:
    """A local folder: its path, config.json's sha256 and its weight files' names, sizes and
    modification times (hashing gigabytes on every use would cost more than the scoring)."""
    digest = hashlib.sha256((folder / "config.json").read_bytes())
    for f in sorted(folder.iterdir()):
        if f.suffix in (".safetensors", ".bin", ".json", ".model") and f.name != "config.json":
            st = f.stat()
            digest.update(f"{f.name}:{st.st_size}:{st.st_mtime_ns}".encode())
    return f"local:{folder.resolve()}:{digest.hexdigest()[:16]}"


def _standard_layer(model: str, layer: int | None) -> int:
    if layer is not None:
        return layer
    from bert_score.utils import model2layers  # heavy: bert-score imports torch

    name = model.rstrip("/").split("/")[-1] if model not in model2layers else model
    if name not in model2layers:
        raise HarnessError(f"bertscore: no standard layer known for '{model}'; set layer: N (1 … its number of layers)")
    return model2layers[name]


def resolve_encoder(model: str | None, layer: int | None) -> EncoderRef:
    """The bundled e5 (``model`` None), a local folder, or a Hub id (downloaded: online users only)."""
    if model is None:
        return _bundled(layer)
    folder = Path(model).expanduser()
    if folder.is_dir():
        if not (folder / "config.json").is_file():
            raise HarnessError(f"bertscore: model folder {folder} has no config.json (not a transformers model folder)")
        return EncoderRef(folder, _local_identity(folder), _standard_layer(folder.name, layer))
    if folder.exists() or model.startswith((".", "/", "~")) or model.count("/") > 1:
        raise HarnessError(f"bertscore: model '{model}' is neither a model folder nor a Hub id")
    try:  # a Hub id: the snapshot folder's name is the resolved commit
        from huggingface_hub import snapshot_download  # heavy: only a Hub encoder needs it

        path = Path(snapshot_download(model, allow_patterns=["*.json", "*.safetensors", "*.model", "*.txt"]))
    except Exception as e:  # noqa: BLE001 - offline, unknown id, gated: one line
        raise HarnessError(f"bertscore: cannot get '{model}' from the Hugging Face Hub ({type(e).__name__}); "
                           "give a local folder as model:, or leave model: out for the bundled encoder") from None
    return EncoderRef(path, f"hub:{model}@{path.name}", _standard_layer(model, layer))


class Encoder:
    """Token embeddings of one encoder layer through bert-score's own functions, loaded lazily."""

    def __init__(self, ref: EncoderRef, batch_size: int = 32) -> None:
        self.ref = ref
        self.batch_size = batch_size
        self.texts_embedded = 0  # how many texts went through the model (tests, benchmarks)
        self._loaded = None

    @property
    def loaded(self) -> bool:
        return self._loaded is not None

    def _load(self):
        if self._loaded is None:
            self._loaded = _load_model(str(self.ref.folder), self.ref.layer)
        return self._loaded

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        from bert_score.utils import sent_encode  # heavy: bert-score imports torch

        tokenizer = self._load()[1]
        # bert-score's empty-text branch calls build_inputs_with_special_tokens, which transformers 5
        # removed; the special tokens alone are what it meant (its sent_encode strips first)
        return [sent_encode(tokenizer, t) if t.strip() else tokenizer.encode("", add_special_tokens=True) for t in texts]

    def embed(self, texts: Sequence[str]) -> list[tuple[np.ndarray, np.ndarray]]:
        """(token ids (L,), embeddings (L, H) float32) per text, <s>/</s> included."""
        import torch  # heavy: only embedding needs it
        from bert_score.utils import padding  # heavy: bert-score imports torch

        model, tokenizer = self._load()
        ids = self.token_ids(texts)
        order = sorted(range(len(texts)), key=lambda i: len(ids[i]), reverse=True)
        out: list = [None] * len(texts)
        for start in range(0, len(order), self.batch_size):
            batch = order[start : start + self.batch_size]
            padded, lens, mask = padding([ids[i] for i in batch], tokenizer.pad_token_id, dtype=torch.long)
            with torch.no_grad():
                hidden = model(padded, attention_mask=mask)[0]
            for row, i in enumerate(batch):
                n = int(lens[row])
                out[i] = (np.asarray(ids[i], dtype=np.int32), hidden[row, :n].numpy().astype(np.float32, copy=True))
            self.texts_embedded += len(batch)
        return out


@functools.lru_cache(maxsize=4)
def _load_model(folder: str, layer: int):
    """bert-score's model (cut after ``layer``) and fast tokenizer, once per process."""
    from bert_score.utils import get_model, get_tokenizer  # heavy: bert-score imports torch
    from transformers.utils import logging as hf_logging  # heavy: only loading the encoder needs it

    bar = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # "Loading weights" bars would break one-line output
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        tokenizer = get_tokenizer(folder, use_fast=True)
        if tokenizer.model_max_length > 100_000:  # no tokenizer_config: bert-score would not truncate
            tokenizer.model_max_length = MAX_LENGTH
        model = get_model(folder, layer)
    except AssertionError as e:  # bert-score's layer check
        raise HarnessError(f"bertscore: {e}") from None
    except (OSError, ValueError) as e:
        raise HarnessError(f"bertscore: cannot load the encoder in {folder}: {str(e).splitlines()[0]}") from None
    finally:
        hf_logging.set_verbosity(verbosity)
        if bar:
            hf_logging.enable_progress_bar()
    return model, tokenizer


class EmbeddingCache:
    """Token embeddings on disk (SQLite, stdlib): key = (encoder key, sha256 of the text)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = open_store(path, (
            "CREATE TABLE IF NOT EXISTS embeddings (encoder TEXT NOT NULL, text_sha256 TEXT NOT NULL, "
            "ids BLOB NOT NULL, dim INTEGER NOT NULL, emb BLOB NOT NULL, PRIMARY KEY (encoder, text_sha256))"),
            what="embedding cache")

    def get(self, encoder: str, shas: Sequence[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        out = {}
        for start in range(0, len(shas), 500):
            part = list(shas[start : start + 500])
            rows = self.db.execute(
                f"SELECT text_sha256, ids, dim, emb FROM embeddings WHERE encoder = ? AND text_sha256 IN ({','.join('?' * len(part))})",
                [encoder, *part],
            )
            for sha, ids, dim, emb in rows:
                out[sha] = (np.frombuffer(ids, dtype=np.int32), np.frombuffer(emb, dtype=np.float32).reshape(-1, dim))
        return out

    def put(self, encoder: str, entries: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
        with self.db:
            self.db.executemany(
                "INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?, ?, ?)",
                [(encoder, sha, ids.astype(np.int32).tobytes(), emb.shape[1], emb.astype(np.float32).tobytes())
                 for sha, (ids, emb) in entries.items()],
            )

    def close(self) -> None:
        self.db.close()


def greedy_scores(hyp: Sequence[tuple[np.ndarray, np.ndarray]], ref: Sequence[tuple[np.ndarray, np.ndarray]],
                  special: tuple[int, ...]) -> np.ndarray:
    """(n, 3) P, R, F (0–1) per pair, computed as bert-score's ``greedy_cos_idf`` computes them on its
    padded batch of these n pairs; idf off: weight 1 per token, 0 for the special tokens.

    In numpy, pair by pair, so a rescore whose embeddings are all cached imports neither torch nor
    bert_score (~2 s). Two details of bert-score's padding are kept: a padded position's similarity is
    masked to 0 and still takes part in the max, so a token whose best real match is negative gets 0
    when the other side is shorter than the longest in the batch; and a side with no weighted token
    (only <s> and </s>: an empty text) gives P = R = F = 0 (bert-score's NaN → 0). Float32 throughout,
    as bert-score; `tests/test_bertscore.py` checks the result against bert_score.score and
    ``greedy_cos_idf`` itself."""
    longest_hyp = max(len(e) for _, e in hyp)
    longest_ref = max(len(e) for _, e in ref)
    out = np.zeros((len(hyp), 3))
    for i, ((hyp_ids, hyp_emb), (ref_ids, ref_emb)) in enumerate(zip(hyp, ref)):
        h = np.asarray(hyp_emb, dtype=np.float32)
        r = np.asarray(ref_emb, dtype=np.float32)
        h = h / np.linalg.norm(h, axis=-1, keepdims=True)
        r = r / np.linalg.norm(r, axis=-1, keepdims=True)
        sim = h @ r.T
        word_precision = sim.max(axis=1)
        word_recall = sim.max(axis=0)
        if len(r) < longest_ref:
            word_precision = np.maximum(word_precision, np.float32(0))
        if len(h) < longest_hyp:
            word_recall = np.maximum(word_recall, np.float32(0))
        hyp_w = (~np.isin(hyp_ids, special)).astype(np.float32)
        ref_w = (~np.isin(ref_ids, special)).astype(np.float32)
        if not hyp_w.any() or not ref_w.any():
            continue  # an empty text: 0, 0, 0
        p = np.float32((word_precision * (hyp_w / hyp_w.sum(dtype=np.float32))).sum(dtype=np.float32))
        rc = np.float32((word_recall * (ref_w / ref_w.sum(dtype=np.float32))).sum(dtype=np.float32))
        f = np.float32(2) * p * rc / (p + rc) if p + rc != 0 else np.float32(0)
        out[i] = (float(p), float(rc), 0.0 if np.isnan(f) else float(f))
    return out


class BertScore(MeanFPR):
    """BERTScore P, R and F on 0–100; the tables show F. ``model`` None is the bundled e5 encoder."""

    name = "bertscore"

    def __init__(self, lang: str, *, model: str | None = None, layer: int | None = None, batch_size: int = 32,
                 cache_path: Path | None = None) -> None:
        self.lang = lang
        self.model = model
        self.layer = layer
        self.batch_size = batch_size
        self.cache_path = cache_path
        self._encoder: Encoder | None = None

    @property
    def encoder(self) -> Encoder:
        if self._encoder is None:
            self._encoder = Encoder(resolve_encoder(self.model, self.layer), self.batch_size)
        return self._encoder

    def encoder_key(self) -> str:
        """Everything an embedding depends on: the encoder, the layer, the libraries that ran it."""
        ref = self.encoder.ref
        libs = ",".join(f"{p}:{version(p)}" for p in ("bert_score", "transformers", "torch"))
        return f"{ref.identity}|layer:{ref.layer}|maxlen:{MAX_LENGTH}|{libs}"

    def prepare(self, text: str) -> str:
        return (normalize_zh(text) if self.lang == "zh" else text).strip()

    def item_stats(self, hypotheses, references) -> np.ndarray:
        for j, column in enumerate(zip(*references)):
            guard_language(column, self.lang, f"reference {j + 1} of item")
        n_refs = len(references[0])
        cache = EmbeddingCache(self.cache_path or cache_dir() / CACHE_FILE)
        try:
            key = self.encoder_key()
            out = np.zeros((len(hypotheses), 3))
            for start in range(0, len(hypotheses), _CHUNK_PAIRS):
                hyps = [self.prepare(h) for h in hypotheses[start : start + _CHUNK_PAIRS]]
                refs = [[self.prepare(r) for r in rs] for rs in references[start : start + _CHUNK_PAIRS]]
                embedded = self._embeddings(cache, key, hyps + [r for rs in refs for r in rs])
                special = self._special_ids(embedded)
                prf = np.stack([greedy_scores([embedded[h] for h in hyps], [embedded[rs[j]] for rs in refs], special)
                                for j in range(n_refs)])
                best = prf.max(axis=0)  # bert_score.score: P, R and F each the maximum over references
                out[start : start + len(hyps)] = 100 * best[:, [2, 0, 1]]
            return out
        finally:
            cache.close()

    def _embeddings(self, cache: EmbeddingCache, key: str, texts: list[str]) -> dict[str, tuple]:
        unique = list(dict.fromkeys(texts))
        shas = {t: sha256_text(t) for t in unique}
        found = cache.get(key, list(shas.values()))
        missing = [t for t in unique if shas[t] not in found]
        if missing:
            computed = dict(zip(missing, self.encoder.embed(missing)))
            cache.put(key, {shas[t]: v for t, v in computed.items()})
            found.update({shas[t]: v for t, v in computed.items()})
        return {t: found[shas[t]] for t in unique}

    def _special_ids(self, embedded: dict) -> tuple[int, ...]:
        """<s> and </s>: every sequence starts and ends with them (bert-score gives them weight 0),
        read from the cached ids so a fully cached rescore never loads the tokenizer."""
        first = next(iter(embedded.values()))[0]
        return (int(first[0]), int(first[-1]))

    def signature(self, n_refs: int) -> str:
        ref = self.encoder.ref
        norm = "t2s+nfkc" if self.lang == "zh" else "none"
        return (f"bertscore|model:{ref.identity}|layer:{ref.layer}|idf:no|rescale:no|tok:fast|maxlen:{MAX_LENGTH}"
                f"|lang:{self.lang}|prenorm:{norm}|refs:{n_refs}|multiref:max|agg:mean-f|bert-score:{version('bert_score')}")

    def __repr__(self) -> str:
        return f"BertScore(lang={self.lang!r}, model={self.model!r}, layer={self.layer!r})"
