"""Issue 22 item 4: a huge item is scored in bounded memory, with the same numbers, and a line
over --max-item-chars is refused with one line."""

from __future__ import annotations

import random
import resource
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from harness.score import ngrams, score
from harness.score.ngrams import Corpus
from harness.score.sacre import chrf_word_stream, chrf_words, fast_tokenizer, pieces, tokenized, tokens_of, without_whitespace

ROOT = Path(__file__).resolve().parents[1]

PIECES = [
    # (text, size, pieces): a cut is one space between two characters that are not space, "." or ","
    ("aa bb cc dd", 3, ["aa bb ", " cc ", " dd"]),
    ("5. 6 x y", 1, ["5. 6 ", " x ", " y"]),  # not after "5." (sacrebleu splits "5. " but not "5.")
    ("a\nb c", 1, ["a\nb ", " c"]),  # not at a newline (13a joins "-\n")
    ("ab  cd e", 1, ["ab  cd ", " e"]),  # not in a run of spaces (the zh tokenizer strips a piece)
    ("abcdef", 2, ["abcdef"]),  # no whitespace: one piece
    ("", 4, []),
]


@pytest.mark.parametrize("text, size, expected", PIECES)
def test_pieces_cut_only_where_tokens_cannot_change(text, size, expected):
    assert list(pieces(text, size)) == expected


ZH_PIECES = [
    # the zh tokenizer pads every CJK character with spaces: Chinese is also cut between two of them
    ("中文字", 1, ["中", "文", "字"]),
    ("中.5文字", 1, ["中.5文", "字"]),  # not next to "." (sacrebleu splits " .5" but not ".5")
    ("ab cd中文", 1, ["ab ", " cd中", "文"]),
]


@pytest.mark.parametrize("text, size, expected", ZH_PIECES)
def test_chinese_is_cut_between_characters_for_the_zh_tokenizer(text, size, expected):
    assert list(pieces(text, size, fast_tokenizer("zh").cut)) == expected


TOKENS = [
    # (tokenizer, text, sacrebleu's tokens, hand-checked)
    ("13a", "x .5 y, z", ["x", ".", "5", "y", ",", "z"]),
    ("13a", "a-\nb 5. c", ["ab", "5", ".", "c"]),
    ("13a", "A 1,000.5 b", ["A", "1,000.5", "b"]),
    ("zh", "x .5 y, z", ["x", ".", "5", "y", ",", "z"]),
    ("zh", "a-\nb 5. c", ["a-", "b", "5", ".", "c"]),
    ("zh", "今天 天气 ok.", ["今", "天", "天", "气", "ok", "."]),
]


@pytest.mark.parametrize("size", [1, 3, 1 << 20])
@pytest.mark.parametrize("name, text, expected", TOKENS)
def test_tokens_in_pieces_are_the_whole_texts(name, text, expected, size):
    tokenizer = fast_tokenizer(name)
    assert tokenizer(text).split() == expected
    assert list(tokens_of(tokenizer, text, size)) == expected
    assert tokenized(tokenizer, text, size).split() == expected


def test_random_texts_tokenise_alike_in_pieces():
    rng = random.Random(7)
    alphabet = ["a", "1", ".", ",", "-", " ", "\n", "-\n", "&quot;", "<skipped>", "中", "文", "，", "5", "  ", "!"]
    for name in ("13a", "zh"):
        tokenizer = fast_tokenizer(name)
        for _ in range(500):
            text = "".join(rng.choices(alphabet, k=rng.randint(0, 60)))
            size = rng.randint(1, 8)
            assert list(tokens_of(tokenizer, text, size)) == tokenizer(text).split(), (name, text, size)
            assert tokenized(tokenizer, text, size).split() == tokenizer(text).split(), (name, text, size)
            assert list(chrf_word_stream(text, size)) == chrf_words(text), (text, size)


WHITESPACE = [
    # \s of re is str.isspace(): the separators \x1c-\x1f, NEL, NBSP and the ideographic space too
    ("a b\tc\nd", "abcd"),
    ("a\x1cb\x85c\xa0d\u3000e\u2028f", "abcdef"),
    ("中 文\u200bx", "中文\u200bx"),  # a zero-width space is not whitespace
    ("", ""),
]


@pytest.mark.parametrize("text, expected", WHITESPACE)
def test_whitespace_is_what_str_split_drops(text, expected):
    assert without_whitespace(text) == expected == "".join(text.split())


def test_every_whitespace_code_point_is_dropped_as_by_split():
    everything = "".join(map(chr, range(0x110000)))
    assert without_whitespace(everything) == "".join(everything.split())


MATCHES = [
    # (hypothesis, reference, clipped matches of orders 1..4), counted by hand:
    # "abab"/"bab": a 1 + b 2; ab 1 + ba 1; bab 1; abab 0
    ("abab", "bab", [3, 2, 1, 0]),
    ("aaaa", "aa", [2, 1, 0, 0]),
    ("abc", "xyz", [0, 0, 0, 0]),
    ("", "abc", [0, 0, 0, 0]),
]


@pytest.mark.parametrize("batch_tokens, chunk", [(ngrams.BATCH_TOKENS, ngrams.CHUNK), (0, 1), (0, 2)])
@pytest.mark.parametrize("hyp, ref, expected", MATCHES)
def test_item_path_counts_as_the_batch_path(monkeypatch, hyp, ref, expected, batch_tokens, chunk):
    # batch_tokens=0 sends every item through the huge-item path; chunk=1 makes every step chunked
    monkeypatch.setattr(ngrams, "CHUNK", chunk)
    matches = Corpus.from_chars([[hyp, "zz"], [ref, "zz"]]).matches(4, batch_tokens=batch_tokens)
    assert matches.each[:, 0, 0].tolist() == expected
    assert matches.best[:, 0].tolist() == expected
    assert matches.each[:, 0, 1].tolist() == [2, 1, 0, 0]


def test_random_corpora_count_alike_on_both_paths(monkeypatch):
    rng = random.Random(3)
    monkeypatch.setattr(ngrams, "CHUNK", 5)
    for _ in range(100):
        n_items, n_sides = rng.randint(1, 4), rng.randint(2, 4)
        sides = [["".join(rng.choices("abc ", k=rng.randint(0, 40))) for _ in range(n_items)] for _ in range(n_sides)]
        for corpus in (Corpus.from_chars(sides), Corpus.from_tokens([[t.split() for t in side] for side in sides])):
            whole, alone = corpus.matches(6), corpus.matches(6, batch_tokens=rng.choice([0, 7]))
            assert np.array_equal(whole.each, alone.each) and np.array_equal(whole.best, alone.best)


def test_long_texts_score_as_before(monkeypatch):
    # texts over LONG_TEXT characters take the piecewise tokenisation; the scores are the same
    hyps = ["The cat sat on the mat. It was 5. Then, a dog came -- and 3.5 birds.", "今天 天气 很好 ok."]
    refs = [["A cat sat on a mat. Then a dog came, and 3 birds.", "今天 天气 不错."]]
    refs = [list(r) for r in zip(*refs)]
    metrics = ["bleu", "chrf", "chrf++", "rouge1", "rouge2", "rougeL"]
    before = score("translate_zh_en", hyps[:1], refs[:1], metrics, n_boot=10)
    monkeypatch.setattr("harness.score.sacre.LONG_TEXT", 4)
    monkeypatch.setattr(ngrams, "BATCH_TOKENS", 0)
    after = score("translate_zh_en", hyps[:1], refs[:1], metrics, n_boot=10)
    assert [s.value for s in after] == [s.value for s in before]
    zh_in_pieces = score("translate_en_zh", hyps[1:], refs[1:], ["bleu", "chrf++"], n_boot=10)
    monkeypatch.setattr("harness.score.sacre.LONG_TEXT", 1 << 20)
    monkeypatch.setattr(ngrams, "BATCH_TOKENS", 1 << 20)
    zh_whole = score("translate_en_zh", hyps[1:], refs[1:], ["bleu", "chrf++"], n_boot=10)
    assert [s.value for s in zh_in_pieces] == [s.value for s in zh_whole]


def write(path: Path, text: str) -> str:
    path.write_bytes(text.encode("utf-8"))
    return str(path)


OVER_LIMIT = [
    # (hypothesis file, --max-item-chars, the error line); 22 bytes = 4·5 + 2 are read before counting
    ("ok\n1234567\n", "5", "error: --hyp {d}/h.txt: line 2: item of 7 characters is over the limit of 5 (--max-item-chars)"),
    ("ok\n" + "中" * 30 + "\n", "5", "error: --hyp {d}/h.txt: line 2: item of 30 characters is over the limit of 5 (--max-item-chars)"),
    ("x" * 3_000_000, "5", "error: --hyp {d}/h.txt: line 1: item of 3000000 characters is over the limit of 5 (--max-item-chars)"),
    ("\ufeff12345\n", "5", None),  # the byte-order mark is not part of the item
    ("ok\n", "0", "error: --max-item-chars: must be in [1, 2.14748e+09] (got 0)"),
]


@pytest.mark.parametrize("hyp, limit, message", OVER_LIMIT)
def test_item_over_the_limit_is_one_line(run_cli, tmp_path, hyp, limit, message):
    hyp_file = write(tmp_path / "h.txt", hyp)
    lines = len(hyp.rstrip("\n").split("\n"))
    ref_file = write(tmp_path / "r.txt", "ok\n" * lines)
    code, out, err = run_cli("score", "--task", "translate_zh_en", "--hyp", hyp_file, "--ref", ref_file, "--metric", "chrf", "--max-item-chars", limit, "--json")
    if message is None:
        assert code == 0 and err == ""
        return
    assert (code, out, err) == (2, "", message.format(d=tmp_path) + "\n")


def _run_limited(args: list[str], limit: int | None) -> tuple[int, str, int]:
    """`harness ARGS` in a fresh interpreter under RLIMIT_AS = limit bytes: (exit code, stderr, VmPeak bytes)."""
    code = (
        "import resource, sys, atexit, pathlib\n"
        f"limit = {limit!r}\n"
        "if limit: resource.setrlimit(resource.RLIMIT_AS, (limit, limit))\n"
        "def peak():\n"
        "    for line in pathlib.Path('/proc/self/status').read_text().splitlines():\n"
        "        if line.startswith('VmPeak:'): sys.stderr.write('\\nPEAK ' + line.split()[1] + '\\n')\n"
        "atexit.register(peak)\n"
        "from harness.cli import main\n"
        f"main({args!r})\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    peak = [line for line in proc.stderr.splitlines() if line.startswith("PEAK ")]
    return proc.returncode, proc.stderr, int(peak[-1].split()[1]) * 1024 if peak else 0


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads VmPeak from /proc")
def test_multi_megabyte_line_scores_under_an_address_space_limit(tmp_path):
    # 6 MB of ASCII words in one line: the former counter took ~80 bytes a character (480 MB
    # here) on top of the interpreter; now chrF takes ~20. The limit is the footprint of the same
    # command on a tiny file plus 300 MB, so the test does not depend on the libraries' size.
    rng = random.Random(5)
    words = ["".join(rng.choices("etaoinshrdlu", k=rng.randint(2, 8))) for _ in range(3000)]
    line = " ".join(rng.choices(words, k=1_200_000))[:6_000_000]
    ref = write(tmp_path / "ref.txt", " ".join(words[:40]) + "\n")
    tiny = write(tmp_path / "tiny.txt", " ".join(words[:30]) + "\n")
    huge = write(tmp_path / "huge.txt", line + "\n")
    args = ["score", "--task", "translate_zh_en", "--ref", ref, "--metric", "chrf", "--n-boot", "10", "--json"]
    code, err, baseline = _run_limited([*args, "--hyp", tiny], None)
    assert code == 0 and baseline > 0, err
    code, err, peak = _run_limited([*args, "--hyp", huge], baseline + (300 << 20))
    assert code == 0, err[-500:]
    assert peak - baseline < 300 << 20


def test_out_of_memory_is_one_line_naming_the_longest_item(run_cli, tmp_path, monkeypatch):
    def no_memory(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr("harness.commands.score.score_with_items", no_memory)
    hyp = write(tmp_path / "h.txt", "ok\nthe longest\n")
    ref = write(tmp_path / "r.txt", "fine\nshort\n")
    code, out, err = run_cli("score", "--task", "translate_zh_en", "--hyp", hyp, "--ref", ref, "--metric", "chrf")
    assert (code, out) == (2, "")
    assert err == (f"error: out of memory scoring task translate_zh_en: the longest item is line 2 of {hyp} (11 characters); "
                   "--max-item-chars refuses such lines before scoring\n")
