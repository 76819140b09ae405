"""The leaderboard site's per-sample pages (harness.report.samples, harness.report.site): pages close
at the item or the byte limit, an item too long for a page is cut with a marker, index.html does
not grow with the item count, the pages are safe JavaScript, and the folder is written whole and
alike every time. (The pages in a real Chromium: tests/test_html_browser.py.)"""

from __future__ import annotations

import hashlib
import json
import re

import pytest

from helpers.report_runs import read_sample_page as page_data
from helpers.synthetic_board import item_text, synthetic_board


def page_files(site):
    return sorted((site / "samples").rglob("*.js"))


def write(tmp_path, board, runs, items_for, **limits):
    from harness.report.samples import PageLimits
    from harness.report.site import write_site

    return write_site(tmp_path / "site", board, runs, items_for, {}, PageLimits(**limits))


@pytest.mark.parametrize(
    "n, items, page_bytes, beta_chars, sizes",
    [
        (10, 4, 5_000_000, 20, (4, 4, 2)),  # the item limit
        (10, 10, 5_000_000, 20, (10,)),
        # beta's items take about 15,400 bytes (outputs of 5,000 CJK characters): a 7th would pass 100,000
        (10, 10, 100_000, 5_000, (6, 4)),
        (10, 3, 100_000, 5_000, (3, 3, 3, 1)),  # the item limit comes first
        (1, 100, 5_000_000, 20, (1,)),
    ],
)
def test_pages_close_at_the_item_limit_or_before_the_byte_limit(tmp_path, n, items, page_bytes, beta_chars, sizes):
    board, runs, items_for = synthetic_board(n, output_chars={"beta": beta_chars})
    (table,) = write(tmp_path, board, runs, items_for, items=items, bytes=page_bytes)
    assert table.page_sizes == sizes
    site = tmp_path / "site"
    for model in ("alpha", "beta"):  # pages are aligned: the same items for every system
        files = sorted((site / "samples" / "summarize_zh" / model).iterdir())
        assert [f.name for f in files] == [f"page-{k:04d}.js" for k in range(1, len(sizes) + 1)]
        pages = [page_data(f) for f in files]
        assert [len(p["items"]) for p in pages] == list(sizes)
        assert [p["first"] for p in pages] == [sum(sizes[:k]) for k in range(len(sizes))]
        assert [it["id"] for p in pages for it in p["items"]] == [f"{i:06d}" for i in range(n)]
        assert all(f.stat().st_size <= page_bytes for f in files)


def test_an_item_too_long_for_a_page_is_cut_with_a_marker(tmp_path):
    """Outputs of 40,000 CJK characters (120,000 bytes) with 100,000-byte pages. Each text of an item
    (id, source, output, two references) may take (100,000 − 16,384) // 5 = 16,723 bytes; the cut
    keeps (16,723 − 107 (the marker) − 64) // 6 = 2,758 characters, so three items share a page."""
    board, runs, items_for = synthetic_board(3, output_chars={"beta": 40_000})
    (table,) = write(tmp_path, board, runs, items_for, items=100, bytes=100_000)
    assert table.page_sizes == (3,)
    (page,) = [page_data(f) for f in page_files(tmp_path / "site") if "/beta/" in f.as_posix()]
    for i, item in enumerate(page["items"]):
        marker = "\n[… cut for the viewer: the first 2,758 of 40,000 characters; the results folder has the whole text]"
        assert item["output"] == item_text("beta", i, 40_000)[:2758] + marker
        assert item["output_cut"] is True and "cut" not in item  # the source and references were short
    (alpha,) = [page_data(f) for f in page_files(tmp_path / "site") if "/alpha/" in f.as_posix()]
    assert all("output_cut" not in item for item in alpha["items"])


@pytest.mark.parametrize(
    "text, budget, shown",
    [
        ("短文本", 100, None),
        ("x" * 98, 100, None),  # 98 bytes and the two quotes
        ("x" * 99, 100, 0),  # 101 bytes: cut; the marker alone leaves (100 − 107 − 64) // 6 < 0 characters
        ("<" * 10, 62, None),  # each `<` is written \u003c (6 bytes)
        ("<" * 10, 61, 0),
        ("长" * 1000, 2000, 304),  # 3,002 bytes; (2,000 − 107 − 64) // 6 = 304 characters kept
    ],
)
def test_fit_text_measures_the_json_bytes(text, budget, shown):
    from harness.report.samples import fit_text

    fitted, was_cut = fit_text(text, budget)
    if shown is None:
        assert (fitted, was_cut) == (text, False)
    else:
        marker = f"\n[… cut for the viewer: the first {shown:,} of {len(text):,} characters; the results folder has the whole text]"
        assert (fitted, was_cut) == (text[:shown] + marker, True)


def test_index_html_does_not_grow_with_the_item_count(tmp_path):
    from harness.report.html import page_html
    from harness.report.samples import PageLimits, TablePages, pages_index, write_pages

    sizes = {}
    for n in (1_000, 10_000):
        board, runs, items_for = synthetic_board(n)
        pages = write_pages(tmp_path / str(n), board, runs, items_for, PageLimits(items=500))
        assert [t.index_entry()["pages"] for t in pages] == [[[500, n // 500]]]  # run-length encoded
        sizes[n] = len(page_html(board, pages_index(pages)).encode("utf-8"))
    # only the digits of the counts differ ("1000 items" → "10000 items", [500,2] → [500,20], …)
    assert 0 < sizes[10_000] - sizes[1_000] < 40 and sizes[10_000] < 50_000
    uneven = TablePages("t", "t", "t", (), "m", (), 9, (4, 4, 1, 4, 4), ())
    assert uneven.index_entry()["pages"] == [[4, 2], [1, 1], [4, 2]]


def test_a_leaderboard_of_100k_items_keeps_index_html_under_2_mb_and_pages_under_10_mb(tmp_path):
    board, runs, items_for = synthetic_board(100_000)
    (table,) = write(tmp_path, board, runs, items_for, items=1_000)
    site = tmp_path / "site"
    assert (site / "index.html").stat().st_size <= 2_000_000
    files = page_files(site)
    assert len(files) == 2 * 100 and table.page_sizes == (1_000,) * 100
    assert max(f.stat().st_size for f in files) <= 10_000_000
    last = page_data(site / "samples" / "summarize_zh" / "beta" / "page-0100.js")
    assert (last["page"], last["first"], last["items"][-1]["id"]) == (100, 99_000, "099999")
    assert last["items"][-1]["output"] == item_text("beta", 99_999, 20)


HOSTILE = "</script><script>window.__pwned=1</script> & \u2028\u2029 <!-- lone \ud800"


def test_a_page_is_one_call_with_json_that_cannot_break_out(tmp_path):
    from dataclasses import replace

    board, runs, items_for = synthetic_board(2)
    (run,) = runs
    key = ("alpha", "summarize_zh")
    predictions = {**run.predictions, key: tuple(replace(p, output=HOSTILE) for p in run.predictions[key])}
    write(tmp_path, board, [replace(run, predictions=predictions)], items_for)
    path = tmp_path / "site" / "samples" / "summarize_zh" / "alpha" / "page-0001.js"
    text = path.read_text(encoding="utf-8")
    for raw in ("<", ">", "&", "\u2028", "\u2029"):
        assert raw not in text
    assert text.count("harnessSamples(") == 1 and text.count(";") == 1  # one statement: no string ended early
    page = page_data(path)
    assert [it["output"] for it in page["items"]] == [HOSTILE, HOSTILE]
    assert (page["table"], page["system"], page["page"], page["first"]) == ("summarize_zh", "alpha", 1, 0)


def tree_digest(folder) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        h.update(p.relative_to(folder).as_posix().encode() + b"\0" + (p.read_bytes() if p.is_file() else b"/"))
    return h.hexdigest()


def test_the_site_is_written_whole_alike_every_time_and_old_pages_go(tmp_path):
    board, runs, items_for = synthetic_board(30)
    write(tmp_path, board, runs, items_for, items=5)
    first = tree_digest(tmp_path / "site")
    stale = tmp_path / "site" / "samples" / "summarize_zh" / "gone"
    stale.mkdir()
    (stale / "page-0001.js").write_text("harnessSamples({});\n", encoding="utf-8")
    write(tmp_path, board, runs, items_for, items=5)
    assert tree_digest(tmp_path / "site") == first and not stale.exists()
    assert sorted(p.name for p in (tmp_path / "site").iterdir()) == ["index.html", "samples"]
    assert oct((tmp_path / "site" / "samples" / "summarize_zh" / "alpha" / "page-0001.js").stat().st_mode & 0o777) == "0o644"
    assert [p.name for p in tmp_path.iterdir()] == ["site"]  # no staging folder left


@pytest.mark.parametrize(
    "entries, error",
    [
        ((), None),
        (("index.html", "leaderboard.md", "samples/summarize_zh/x.js"), None),  # an earlier leaderboard
        (("notes.txt",), "holds 'notes.txt', which a leaderboard does not write"),
        (("index.html", "compare.md", "z.txt"), "holds 'compare.md' and 1 more, which a leaderboard does not write"),
    ],
)
def test_out_must_be_new_empty_or_a_leaderboard(tmp_path, entries, error):
    from harness.errors import HarnessError

    board, runs, items_for = synthetic_board(3)
    out = tmp_path / "site"
    out.mkdir()
    for name in entries:
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_text("old\n", encoding="utf-8")
    if error is None:
        write(tmp_path, board, runs, items_for)
        assert sorted(p.name for p in out.iterdir()) == ["index.html", "samples"]
    else:
        with pytest.raises(HarnessError, match=re.escape(f"--out: {out} {error}; the folder is replaced whole")):
            write(tmp_path, board, runs, items_for)
        assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == sorted(entries)


def test_out_that_is_a_file_is_refused(tmp_path):
    from harness.errors import HarnessError

    board, runs, items_for = synthetic_board(3)
    (tmp_path / "site").write_text("x", encoding="utf-8")
    with pytest.raises(HarnessError, match=r"--out: .*site exists and is not a folder$"):
        write(tmp_path, board, runs, items_for)


@pytest.mark.parametrize("name", ["my site", "site (v2)", ".."])
def test_out_follows_the_name_rule(tmp_path, name):
    from harness.errors import HarnessError
    from harness.report.site import check_out_folder

    with pytest.raises(HarnessError, match=re.escape(f"--out: {tmp_path / name}: the folder's name must be 1-128 letters")):
        check_out_folder(tmp_path / name)


@pytest.mark.parametrize(
    "models, dirs",
    [
        (["alpha", "beta"], ["alpha", "beta"]),
        (["alpha", "alpha", "beta", "alpha"], ["alpha", "alpha-2", "beta", "alpha-3"]),
        (["a", "a", "a-2"], ["00-a", "01-a", "02-a-2"]),  # `a-2` is taken by a model: numbered folders
    ],
)
def test_every_row_gets_its_own_folder(models, dirs):
    from harness.report.samples import system_dirs

    assert system_dirs(models) == dirs


@pytest.mark.parametrize(
    "items, page_bytes, message",
    [
        (0, 5_000_000, r"--page-items: must be in \[1, 10000\] \(got 0\)"),
        (10_001, 5_000_000, r"--page-items: must be in \[1, 10000\] \(got 10001\)"),
        (100, 10_000_001, r"page bytes: must be in \[65536, 1e\+07\] \(got 10000001\)"),
    ],
)
def test_page_limits_are_bounded(items, page_bytes, message):
    from harness.errors import HarnessError
    from harness.report.samples import PageLimits

    with pytest.raises(HarnessError, match=message):
        PageLimits(items=items, bytes=page_bytes)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--page-items", "0"], "--page-items: must be in [1, 10000] (got 0)"),
        (["--page-items", "20000"], "--page-items: must be in [1, 10000] (got 20000)"),
        ([], "--out: {out} holds 'notes.txt', which a leaderboard does not write; the folder is replaced whole, so choose a new or empty folder"),
    ],
)
def test_bad_site_options_are_one_line_and_write_nothing(tmp_path, run_cli, args, message):
    from helpers.report_runs import standard_models, write_run

    write_run(tmp_path / "results", "tiny", standard_models())
    out = tmp_path / "site"
    out.mkdir()
    (out / "notes.txt").write_text("mine\n", encoding="utf-8")
    if args:  # a valid --out: the option alone is wrong
        (out / "notes.txt").unlink()
    code, stdout, err = run_cli("leaderboard", str(tmp_path / "results"), "--out", str(out), *args)
    assert (code, stdout, err) == (2, "", f"error: {message.format(out=out)}\n")
    assert sorted(p.name for p in out.iterdir()) == ([] if args else ["notes.txt"])
