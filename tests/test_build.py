"""`harness data build`: deterministic, atomic, loadable offline, strict about its input."""

import shutil
import subprocess
import sys

import pytest


@pytest.fixture(scope="module")
def built(tmp_path_factory, root):
    from harness.data.build import build_dataset
    from harness.score.agreement import reference_agreement

    out = tmp_path_factory.mktemp("build") / "data"
    build_dataset(root / "seeds", out, agreement=reference_agreement)
    return out


def test_rebuild_equals_the_committed_data_byte_for_byte(built, root):
    committed = root / "data"
    names = sorted(p.name for p in committed.iterdir())
    assert names == sorted(p.name for p in built.iterdir())
    for name in names:
        assert (built / name).read_bytes() == (committed / name).read_bytes(), (
            f"data/{name} is stale or was built with other library versions (see data/MANIFEST.json): "
            "run `harness data build`"
        )


def test_two_builds_are_identical(built, tmp_path, root):
    from harness.data.build import build_dataset
    from harness.score.agreement import reference_agreement

    build_dataset(root / "seeds", tmp_path / "again", agreement=reference_agreement)
    for p in built.iterdir():
        assert (tmp_path / "again" / p.name).read_bytes() == p.read_bytes()


def test_manifest_lists_every_file_with_its_sha256(built):
    import hashlib
    import json

    manifest = json.loads((built / "MANIFEST.json").read_text())
    files = {p.name for p in built.iterdir()} - {"MANIFEST.json"}
    assert set(manifest["files"]) == files
    for name, digest in manifest["files"].items():
        assert hashlib.sha256((built / name).read_bytes()).hexdigest() == digest


def test_load_dataset_works_offline(built, tmp_path, monkeypatch):
    import datasets

    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    segments = datasets.load_dataset(str(built), "segments", split="test", cache_dir=str(tmp_path / "cache"))
    assert len(segments) == 511 and segments[0]["id"] == "000-p01-s01" and segments[0]["zh"] == "“太忙了。”"
    docs = datasets.load_dataset(str(built), "documents", split="test", cache_dir=str(tmp_path / "cache"))
    assert docs["id"] == ["000", "001", "002", "003", "004"]
    assert docs[4]["script"] == "Hant" and docs[1]["keywords"] == ["大模型", "AI安全性", "技术发展"]


def _seed_copy(root, tmp_path):
    seeds = tmp_path / "seeds"
    shutil.copytree(root / "seeds", seeds)
    return seeds


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda s: (s / "002_91941788d1261b53.txt").unlink(), "002_91941788d1261b53.txt: missing seed file"),
        (lambda s: (s / "003_214608048b3aaf65.txt").write_bytes(b""), "003_214608048b3aaf65.txt: empty seed file"),
        (lambda s: (s / "001_14a89fbed0affdd6.txt").write_bytes(b"\xff\xfe abc"), "001_14a89fbed0affdd6.txt: not UTF-8"),
        (lambda s: (s / "000_1f2affcd22265d64.txt").write_text("大模型", encoding="utf-8"), "unrecognised content"),
        (lambda s: (s / "005_extra.txt").write_text("新文章", encoding="utf-8"), "005_extra.txt: unrecognised seed file"),
    ],
    ids=["missing", "empty", "non-utf8", "altered", "unknown-file"],
)
def test_bad_seeds_exit_2_with_one_line_and_leave_data_untouched(root, tmp_path, run_cli, damage, message):
    seeds = _seed_copy(root, tmp_path)
    out = tmp_path / "data"
    out.mkdir()
    (out / "keep.txt").write_text("previous build")
    damage(seeds)
    code, stdout, stderr = run_cli("data", "build", "--seeds", str(seeds), "--out", str(out))
    assert code == 2
    assert stderr.count("\n") == 1 and stderr.startswith("error: ") and message in stderr
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    assert not list(tmp_path.glob(".data.tmp-*")) and not list(tmp_path.glob("data.tmp-*"))


def test_bad_input_prints_no_traceback(root, tmp_path):
    seeds = _seed_copy(root, tmp_path)
    (seeds / "004_2815f39c85edf9b7.txt").write_bytes(b"\x80")
    proc = subprocess.run(
        [sys.executable, "-m", "harness.cli", "data", "build", "--seeds", str(seeds), "--out", str(tmp_path / "d")],
        capture_output=True, text=True,
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.splitlines() == [f"error: {seeds / '004_2815f39c85edf9b7.txt'}: not UTF-8 (byte 0x80 at offset 0)"]
    assert not (tmp_path / "d").exists()


def test_show_and_report(run_cli, root):
    code, out, _ = run_cli("data", "show", "003", "--seeds", str(root / "seeds"))
    assert code == 0 and "003-p08-s01  机器之心:CES 刚刚落下帷幕,AI 是其中最重要的亮点之一。" in out
    code, out, _ = run_cli("data", "report", "--doc", "004", "--seeds", str(root / "seeds"))
    assert code == 0 and "[pinyin-annotations] 649×" in out and "'網(wǎng)頁爬?。? '" in out
    code, _, err = run_cli("data", "show", "04", "--seeds", str(root / "seeds"))
    assert code == 2 and "did you mean '004'" in err


def test_help_lists_only_working_commands(run_cli):
    code, out, _ = run_cli("--help")
    assert code == 0 and "data" in out
    code, out, _ = run_cli("data", "--help")
    for command in ("build", "show", "report"):
        assert command in out
