"""The static leaderboard page without a browser: the JSON embedding, the escaping, the CSP that
allows only the page's own script, nothing loaded from anywhere, and the CI whisker plots.
(The page in a real Chromium: tests/test_html_browser.py.)"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from html.parser import HTMLParser

import pytest
from markupsafe import escape

from helpers.report_runs import items_for, standard_models, write_run


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


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    from harness.report.leaderboard import build_leaderboard
    from harness.report.runs import load_runs
    from harness.report.site import write_site

    root = tmp_path_factory.mktemp("page")
    write_run(root, "tiny", standard_models())
    runs = load_runs([root])
    board = build_leaderboard(runs, items_for)
    write_site(root / "site", board, runs, items_for, {})
    return (root / "site" / "index.html").read_text(encoding="utf-8"), board


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
        f"default-src 'none'; script-src 'self' 'sha256-{script_hash}'; style-src 'sha256-{style_hash}'; "
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
    html_text, board = page
    for t in board.tables:
        assert t.dataset_sha256 in html_text
        for signature in t.signatures.values():
            assert str(escape(signature)) in html_text
    assert html_text.count('<section class="board"') == len(board.tables)
    assert html_text.count('<tbody class="agreement">') == 1
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


def test_page_is_small_and_holds_no_item(page):
    html_text, _ = page
    assert len(html_text.encode("utf-8")) < 100_000
    assert "000-p01-s01" not in html_text and "大模型在过去一年快速发展" not in html_text  # items are in samples/


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


# --------------------------------------------------------------------------- hostile strings in every field

HOSTILE_FIELD_VALUES = [
    "</script><script>window.__pwned=1</script>",
    "<img src=x onerror=\"window.__pwned=1\">",
    "&amp; &lt;b&gt; already-escaped entities",
    "line\u2028separator\u2029paragraph",
    '" onmouseover="window.__pwned=1" x="',
    "' onfocus='window.__pwned=1' x='",
    "javascript:window.__pwned=1",
    "<!-- {{ 7 * 7 }} {% raw %} ${x} -->",
    "lone \ud800 surrogate",
]


def hostile_board(board, text: str):
    """The fixture's first two tables with `text` in every string that reaches the markup (the JSON
    data is hostile_samples); each field gets its own prefix so the test can find it. Returns the
    board and {field: value}."""
    from dataclasses import replace

    values: dict[str, str] = {}

    def v(field: str, text_first: bool = False) -> str:
        # text first where the page shows only the start (a hash, a commit)
        values[field] = f"{text}={field}" if text_first else f"{field}={text}"
        return values[field]

    tables = []
    for k, t in enumerate(board.tables[:2]):
        metric = {m: v(f"t{k}.metric{i}") for i, m in enumerate(t.metrics)}
        rows = tuple(
            replace(
                r,
                label=v(f"t{k}.row{i}.label"),
                cells={metric[m]: c for m, c in r.cells.items()},
                signatures={metric[m]: s for m, s in r.signatures.items()},
                # a band title on every ranked row
                band_leader=v(f"t{k}.row{i}.band_leader") if r.rank is not None else None,
                delta_vs_leader=-0.25 if r.rank is not None else None,
                p_vs_leader=0.5 if r.rank is not None else None,
            )
            for i, r in enumerate(t.rows)
        )
        sources = tuple(
            replace(
                s,
                run=v(f"t{k}.src{i}.run"),
                path=v(f"t{k}.src{i}.path"),
                started=v(f"t{k}.src{i}.started"),
                config=v(f"t{k}.src{i}.config"),
                config_sha256=v(f"t{k}.src{i}.config_sha256", text_first=True),
                harness_version=v(f"t{k}.src{i}.harness_version"),
                git_commit=v(f"t{k}.src{i}.git_commit", text_first=True),
            )
            for i, s in enumerate(t.sources)
        )
        tables.append(
            replace(
                t,
                task=v(f"t{k}.task"),
                main_metric=metric[t.main_metric],
                metrics=tuple(metric.values()),
                signatures={metric[m]: v(f"t{k}.signature.{m}") for m in t.metrics},
                dataset_sha256=v(f"t{k}.dataset_sha256"),
                sources=sources,
                rows=rows,
                notes=(v(f"t{k}.note"),),
            )
        )
    return replace(board, tables=tuple(tables), notes=(v("board.note"),), harness_version=v("board.harness_version")), values


def hostile_samples(text: str) -> dict:
    """The index of the per-sample pages as samples.pages_index shapes it, with `text` in every string."""
    return {
        "folder": f"folder={text}",
        "callback": f"callback={text}",
        "tables": [
            {
                "dir": f"dir={text}",
                "title": f"title={text}",
                "task": f"task={text}",
                "metrics": [f"metric={text}"],
                "main": f"metric={text}",
                "lower_is_better": [],
                "n_items": 12,
                "pages": [[5, 2], [2, 1]],
                "systems": [{"label": f"label={text}", "role": "model", "dir": f"system={text}"}],
            }
        ],
    }


def page_shape(html_text: str) -> list[tuple[str, tuple[str, ...]]]:
    parser = Elements()
    parser.feed(html_text)
    return [(tag, tuple(sorted(attrs))) for tag, attrs in parser.tags]


def shown(value: str) -> str:
    """How the page must show a string: HTML-escaped, a lone surrogate as U+FFFD."""
    return str(escape(re.sub("[\ud800-\udfff]", "\ufffd", value)))


@pytest.mark.parametrize("text", HOSTILE_FIELD_VALUES)
def test_hostile_strings_in_every_field_show_only_escaped(page, text):
    from harness.report.html import page_html
    from harness.report.leaderboard_writers import short_commit

    _, board = page
    plain_board, _ = hostile_board(board, "plain")
    board_h, values = hostile_board(board, text)
    samples = hostile_samples(text)
    html_text = page_html(board_h, samples)
    html_text.encode("utf-8")  # always writable, lone surrogates included

    # Same elements and attributes as with harmless text: no string added markup.
    assert page_shape(html_text) == page_shape(page_html(plain_board, hostile_samples("plain")))
    # Every field is on the page, escaped (the config hash and the commit shortened as shown).
    for field, value in values.items():
        if field.endswith(".config_sha256"):
            value = value[:12]
        elif field.endswith(".git_commit"):
            value = short_commit(value)
        assert shown(value) in html_text, field
    # ...and never raw, outside the JSON block (checked below) and the page's own script.
    head, _, rest = html_text.partition('<script type="application/json" id="samples">')
    block, _, tail = rest.partition("</script>")
    markup = head + tail
    for fragment in ("<script>window", "<img", '" onmouseover', "' onfocus", "<!-- {{", "&amp; &lt;b&gt; already"):
        if fragment in text:
            assert fragment not in markup
    if "&amp;" in text:
        assert "&amp;amp; &amp;lt;b&amp;gt;" in markup
    if "{{" in text:  # data is never template source
        assert "{{ 7 * 7 }}" in markup
    assert not re.search(r"(href|src|action)=\"\s*javascript:", markup)
    # The embedded JSON holds exactly the strings given, and nothing that could end the element.
    assert json.loads(block) == samples
    for raw in ("<", ">", "&", "\u2028", "\u2029"):
        assert raw not in block
    assert markup.count("<script") == 1 and tail.startswith("<script>")
