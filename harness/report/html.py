"""The leaderboard page, index.html: no server, no CDN, nothing from the network at view time.

The page is rendered from jinja2 templates in harness/report/templates/ (leaderboard.html.j2, with
the CI plots in whiskers.svg.j2; the page's CSS and JS are leaderboard.css and leaderboard.js).
Safety rules, because every output, reference and config string is untrusted text:
- the templates are autoescaped: every inserted string is HTML-escaped (lone surrogates, which
  cannot be encoded, become U+FFFD first); nothing from a results folder is marked safe;
- the index of the per-sample pages is JSON inside `<script type="application/json">`, and the
  pages (files beside the page, harness.report.samples) are JSON too, with `<`, `>`, `&`,
  U+2028/2029 and lone surrogates written as `\\uXXXX` escapes, so no string can close the
  element, start markup or end a JavaScript string;
- the page script inserts data only with `textContent` (never `innerHTML`);
- a Content-Security-Policy allows the page's own inline script and style (by sha256) and scripts
  of the page's own origin (its per-sample pages), nothing inline or from elsewhere, so even a
  mistake in the above could not run injected script.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import re
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING

from markupsafe import Markup

from harness.data.provenance import AGREEMENT_NAME
from harness.report.leaderboard import Leaderboard, LeaderboardTable
from harness.report.leaderboard_writers import mde_sentence, role_tag, short_commit
from harness.report.runs import LOWER_IS_BETTER

if TYPE_CHECKING:
    import jinja2

_SURROGATE = re.compile("[\ud800-\udfff]")


def embed_json(data: object) -> str:
    """JSON that is safe inside <script type="application/json">: it cannot contain `</script`,
    `<!--`, or a character that would end a JavaScript string literal, and encodes as UTF-8."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, escape)
    # Lone surrogates only occur inside JSON strings, where a \\u escape keeps them exactly.
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _csp_hash(source: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode("utf-8")).digest()).decode("ascii") + "'"


# --------------------------------------------------------------------------- CI whiskers (SVG)


def _nice_step(span: float) -> float:
    # At least 0.01 points (the tables show two decimals): a CI one float step wide would
    # otherwise give a step that adding to a tick cannot change.
    raw = max(span / 4, 0.01)
    magnitude = 10 ** int(f"{raw:e}".split("e")[1])
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


@dataclass(frozen=True)
class WhiskerTick:
    x: float
    value: float


@dataclass(frozen=True)
class WhiskerRow:
    label: str
    name: str  # the label, cut to fit the plot's left margin
    role: str
    value: float
    ci_low: float
    ci_high: float
    y: float
    x_value: float
    x_low: float
    x_high: float


@dataclass(frozen=True)
class WhiskerPlot:
    """Where everything of one CI plot goes, in SVG pixels; templates/whiskers.svg.j2 draws it."""

    metric: str
    width: int
    height: int
    top: int
    axis_y: int
    name_x: int  # right edge of the row names
    ticks: tuple[WhiskerTick, ...]
    rows: tuple[WhiskerRow, ...]


def whisker_plot(table: LeaderboardTable, metric: str) -> WhiskerPlot:
    """One small forest plot: a dot per row at its value, a whisker over its 95 % CI."""
    rows = [r for r in table.rows if metric in r.cells]
    label_w, plot_w, row_h, top, bottom = 150, 260, 18, 6, 26
    low = min(r.cells[metric].ci_low for r in rows)
    high = max(r.cells[metric].ci_high for r in rows)
    step = _nice_step(high - low)
    x_min = max(0.0, step * int(low / step) - (step if low % step == 0 and low > 0 else 0))
    x_max = step * (int(high / step) + 1)
    if metric not in LOWER_IS_BETTER:  # 0–100 scores: no axis beyond 100
        x_max = min(x_max, 100.0)
    if x_max <= x_min:
        x_max = x_min + step

    def x(v: float) -> float:
        return label_w + (v - x_min) / (x_max - x_min) * plot_w

    ticks = []
    for k in range(int(round((x_max - x_min) / step)) + 1):  # a count, not float accumulation
        tick = x_min + k * step
        ticks.append(WhiskerTick(x=x(tick), value=tick))
    placed = []
    for i, r in enumerate(rows):
        c = r.cells[metric]
        placed.append(
            WhiskerRow(
                label=r.label,
                name=r.label if len(r.label) <= 22 else r.label[:21] + "…",
                role=r.role,
                value=c.value,
                ci_low=c.ci_low,
                ci_high=c.ci_high,
                y=top + row_h * i + row_h / 2,
                x_value=x(c.value),
                x_low=x(c.ci_low),
                x_high=x(c.ci_high),
            )
        )
    return WhiskerPlot(
        metric=metric,
        width=label_w + plot_w + 12,
        height=top + row_h * len(rows) + bottom,
        top=top,
        axis_y=top + row_h * len(rows) + 4,
        name_x=label_w - 6,
        ticks=tuple(ticks),
        rows=tuple(placed),
    )


def whisker_svg(table: LeaderboardTable, metric: str) -> str:
    """The plot of whisker_plot as SVG markup (as the page embeds it)."""
    return str(_environment().get_template("whiskers.svg.j2").module.whiskers(whisker_plot(table, metric)))


# --------------------------------------------------------------------------- page


def _asset(name: str) -> str:
    return resources.files("harness.report").joinpath("templates", name).read_text(encoding="utf-8")


# The page's own style and script, inlined verbatim and allowed by the CSP through their sha256.
STYLE = _asset("leaderboard.css")
SCRIPT = _asset("leaderboard.js")


def page_labels(board: Leaderboard) -> dict[str, object]:
    """The wording about who produced the references, in one place (it may come to depend on the
    board's provenance fields): the template prints these, escaped like all text, and holds no
    such wording of its own."""
    return {
        "agreement_sentence": f"The agreement row, {AGREEMENT_NAME} (reference B scored against reference A), is shown for "
                            "scale and not ranked; each table names who wrote and reviewed its references;",
        "role_tags": {role: role_tag(role) for role in ("agreement", "model", "baseline")},
    }


def _no_lone_surrogates(value: object) -> object:
    # Applied to every {{ }} value before autoescaping: a lone surrogate cannot be encoded as
    # UTF-8 and would make the whole page unwritable. Markup (the page's own) passes as it is.
    if isinstance(value, str) and not isinstance(value, Markup):
        return _SURROGATE.sub("\ufffd", value)
    return value


def _script_json(data: object) -> Markup:
    # Data for <script type="application/json"> needs escaping for that context, not HTML escaping
    # (the browser does not decode entities inside <script>). jinja2's own `tojson` filter escapes
    # <, >, & and ' too, but it sorts keys and writes every non-ASCII character as \uXXXX, which
    # roughly doubles the bytes of Chinese text; embed_json escapes exactly <, >, &, U+2028/2029
    # and lone surrogates and keeps the rest as UTF-8. Marked safe because it is escaped here.
    return Markup(embed_json(data))


def _join_lines(source: str) -> str:
    """Drops every line break in a template's source with the indentation after it, so templates
    can be laid out on lines while the page keeps no whitespace between tags. Only the template
    source is touched, never the values inserted into it."""
    return re.sub(r"\n[ \t]*", "", source)


@functools.cache
def _environment() -> jinja2.Environment:
    import jinja2  # heavy (0.06 s at start-up): only `harness leaderboard` renders the page
    from jinja2.ext import Extension  # heavy: as jinja2

    class JoinLines(Extension):
        def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
            return _join_lines(source)

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("harness.report", "templates"),
        autoescape=True,  # every template here is HTML or SVG
        undefined=jinja2.StrictUndefined,
        finalize=_no_lone_surrogates,
        extensions=[JoinLines],
    )
    env.filters["script_json"] = _script_json
    env.globals.update(whisker_plot=whisker_plot, short_commit=short_commit)
    return env


def page_html(board: Leaderboard, samples: dict) -> str:
    """The page of a leaderboard with the index of its per-sample pages (samples.pages_index)."""
    # 'self': the per-sample pages, scripts beside the page (harness.report.samples); from file://
    # Chromium counts every file: URL as 'self', on a web server the site's own origin.
    csp = (
        f"default-src 'none'; script-src 'self' {_csp_hash(SCRIPT)}; style-src {_csp_hash(STYLE)}; "
        "img-src 'none'; base-uri 'none'; form-action 'none'"
    )
    return _environment().get_template("leaderboard.html.j2").render(
        board=board,
        labels=page_labels(board),
        mde_sentence=mde_sentence(board),
        test_name="approximate randomisation" if board.settings.test == "ar" else "paired bootstrap",
        csp=csp,
        samples=samples,
        style=Markup(STYLE),  # the package's own files, not data: inserted verbatim (the CSP hashes them)
        script=Markup(SCRIPT),
    )
