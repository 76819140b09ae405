"""The static leaderboard page without a browser: the JSON embedding, the escaping, the CSP that
allows only the page's own script, nothing loaded from anywhere, and the CI whisker plots.
(The page in a real Chromium: tests/test_html_browser.py.)"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_report_helpers import items_for, standard_models, write_run  # noqa: E402


@pytest.mark.parametrize(
    "value",
    [
        "</script><script>alert(1)</script>",
        "<!-- <script>",
        "a & b > c < d",
        "line\u2028sep\u2029para",
        "nul\u0000byte",
        "lone \ud800 surrogate",
        "emoji 🤖 and 中文",
        'quote " and backslash \\ and \\u003c',
    ],
)
def test_embed_json_round_trips_and_cannot_close_the_script(value):
    from harness.report.html import embed_json

    data = {"text": value, "list": [value, {"k": value}]}
    text = embed_json(data)
    assert json.loads(text) == data
    for raw in ("<", ">", "&", "\u2028", "\u2029"):
        assert raw not in text
    text.encode("utf-8")  # lone surrogates are \u-escaped: the page always encodes


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<b>", "&lt;b&gt;"),
        ('"quoted" & \'single\'', "&quot;quoted&quot; &amp; &#x27;single&#x27;"),
        ("lone \ud800", "lone \ufffd"),
        (3.5, "3.5"),
    ],
)
def test_esc(text, expected):
    from harness.report.html import esc

    assert esc(text) == expected


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    from harness.report.html import render_page
    from harness.report.leaderboard import build_leaderboard
    from harness.report.runs import load_runs

    root = tmp_path_factory.mktemp("page")
    write_run(root, "tiny", standard_models())
    runs = load_runs([root])
    board = build_leaderboard(runs, items_for)
    return render_page(board, runs, items_for), board


class Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def test_only_the_pages_own_script_may_run(page):
    from harness.report.html import SCRIPT, STYLE

    html_text, _ = page
    parser = Elements()
    parser.feed(html_text)
    scripts = [attrs for tag, attrs in parser.tags if tag == "script"]
    assert scripts == [{"type": "application/json", "id": "samples"}, {}]
    (csp,) = [a["content"] for t, a in parser.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    script_hash = base64.b64encode(hashlib.sha256(SCRIPT.encode()).digest()).decode()
    style_hash = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
    assert csp == (
        f"default-src 'none'; script-src 'sha256-{script_hash}'; style-src 'sha256-{style_hash}'; "
        "img-src 'none'; base-uri 'none'; form-action 'none'"
    )
    assert f"<script>{SCRIPT}</script>" in html_text and f"<style>{STYLE}</style>" in html_text


def test_nothing_is_loaded_from_anywhere(page):
    html_text, _ = page
    parser = Elements()
    parser.feed(html_text)
    for tag, attrs in parser.tags:
        assert "src" not in attrs, tag
        assert attrs.get("href", "#").startswith("#"), (tag, attrs)
        assert not any(k.startswith("on") for k in attrs), (tag, attrs)
        assert "style" not in attrs, (tag, attrs)  # inline style attributes would need 'unsafe-inline'
    # The only URL is the SVG namespace, which is a name, never fetched.
    assert set(re.findall(r"https?://[^\s\"'<>]+", html_text)) == {"http://www.w3.org/2000/svg"}
    assert "innerHTML" not in html_text and "eval(" not in html_text


def test_the_page_states_what_the_tables_state(page):
    from harness.report.html import esc

    html_text, board = page
    for t in board.tables:
        assert t.dataset_sha256 in html_text
        for signature in t.signatures.values():
            assert esc(signature) in html_text
    assert html_text.count('<section class="board"') == len(board.tables)
    assert html_text.count('<tbody class="ceiling">') == 1
    assert html_text.count('<tbody class="baseline">') == 2


def test_whiskers_place_points_and_intervals_on_the_axis(page):
    from harness.report.html import whisker_svg

    _, board = page
    table = board.tables[1]  # translate_zh_en
    svg = whisker_svg(table, "chrf++")
    circles = [float(x) for x in re.findall(r'<circle class="point" cx="([0-9.]+)"', svg)]
    values = [r.cells["chrf++"].value for r in table.rows]
    assert len(circles) == len(values)
    # x is increasing in the value, and the axis stops at 100 for a 0–100 metric
    assert sorted(range(len(values)), key=lambda i: values[i]) == sorted(range(len(circles)), key=lambda i: circles[i])
    ticks = [float(t) for t in re.findall(r'<text class="tick"[^>]*>([0-9.]+)</text>', svg)]
    assert max(ticks) <= 100 and min(ticks) >= 0
    for r in table.rows:
        c = r.cells["chrf++"]
        assert f"{r.label}: {c.value:.2f} [{c.ci_low:.2f}, {c.ci_high:.2f}]" in svg


def test_page_is_small(page):
    html_text, _ = page
    assert len(html_text.encode("utf-8")) < 100_000


@pytest.mark.parametrize("low", [50.0, 12.3, 99.0, 0.0])
def test_whiskers_of_a_zero_width_interval_finish_with_few_ticks(page, low):
    """A CI one float step wide (a constant metric) once made the tick loop spin forever."""
    import math
    from dataclasses import replace

    from harness.report.html import whisker_svg

    _, board = page
    table = board.tables[1]
    high = math.nextafter(low, math.inf)
    rows = tuple(replace(r, cells={**r.cells, "chrf++": replace(r.cells["chrf++"], value=low, ci_low=low, ci_high=high)})
                 for r in table.rows)
    svg = whisker_svg(replace(table, rows=rows), "chrf++")
    assert 2 <= svg.count('<text class="tick"') <= 12


def test_non_finite_scores_in_a_results_file_are_one_line(tmp_path):
    from harness.errors import HarnessError
    from harness.report.runs import load_run

    run = write_run(tmp_path, "nan", standard_models())
    doc = json.loads((run / "scores.json").read_text(encoding="utf-8"))
    doc["scores"][0]["ci_high"] = float("nan")
    (run / "scores.json").write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(HarnessError, match=r"scores\.json: 'scores\[0\]\.ci_high' must be a finite number, got nan$"):
        load_run(run)
