"""The leaderboard as one static HTML page: no server, no CDN, nothing fetched at view time.

Safety rules, because every output, reference and config string is untrusted text:
- markup generated here escapes every inserted string with `html.escape`;
- the per-sample data is JSON inside `<script type="application/json">`, with `<`, `>`, `&`,
  U+2028/2029 and lone surrogates written as `\\uXXXX` escapes, so no string can close the
  element or start markup;
- the page script inserts data only with `textContent` (never `innerHTML`);
- a Content-Security-Policy allows exactly the page's own inline script and style (by sha256)
  and nothing else, so even a mistake in the above could not run injected script.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from collections.abc import Callable, Sequence

from harness.report.leaderboard import Leaderboard, Row, Table, folder_note, role_tag, short_commit
from harness.report.runs import LOWER_IS_BETTER, Run
from harness.report.significance import ItemsLookup

_SURROGATE = re.compile("[\ud800-\udfff]")
_BIDI_AND_CONTROL = re.compile("[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u202a-\u202e\u2066-\u2069]")


def esc(text: object) -> str:
    """Escape for HTML text and attribute values; lone surrogates (not encodable) become U+FFFD."""
    return html.escape(_SURROGATE.sub("\ufffd", str(text)), quote=True)


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


def whisker_svg(table: Table, metric: str) -> str:
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

    height = top + row_h * len(rows) + bottom
    width = label_w + plot_w + 12
    title = f"{metric}: value and 95 % CI per row"
    parts = [
        f'<svg class="whiskers" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{esc(title)}"><title>{esc(title)}</title>'
    ]
    axis_y = top + row_h * len(rows) + 4
    for k in range(int(round((x_max - x_min) / step)) + 1):  # a count, not float accumulation
        tick = x_min + k * step
        tx = x(tick)
        parts.append(f'<line class="grid" x1="{tx:.1f}" y1="{top}" x2="{tx:.1f}" y2="{axis_y}"/>')
        parts.append(f'<text class="tick" x="{tx:.1f}" y="{axis_y + 14}" text-anchor="middle">{esc(f"{tick:g}")}</text>')
    for i, r in enumerate(rows):
        c = r.cells[metric]
        y = top + row_h * i + row_h / 2
        name = r.label if len(r.label) <= 22 else r.label[:21] + "…"
        parts.append(f'<g class="{esc(r.role)}"><title>{esc(f"{r.label}: {c.value:.2f} [{c.ci_low:.2f}, {c.ci_high:.2f}]")}</title>')
        parts.append(f'<text class="name" x="{label_w - 6}" y="{y + 4:.1f}" text-anchor="end">{esc(name)}</text>')
        parts.append(f'<line class="ci" x1="{x(c.ci_low):.1f}" y1="{y:.1f}" x2="{x(c.ci_high):.1f}" y2="{y:.1f}"/>')
        for end in (c.ci_low, c.ci_high):
            parts.append(f'<line class="ci" x1="{x(end):.1f}" y1="{y - 4:.1f}" x2="{x(end):.1f}" y2="{y + 4:.1f}"/>')
        parts.append(f'<circle class="point" cx="{x(c.value):.1f}" cy="{y:.1f}" r="3.5"/></g>')
    parts.append("</svg>")
    return "".join(parts)


# --------------------------------------------------------------------------- tables


def _num_cell(value: float | None, ci: tuple[float, float] | None = None, main: bool = False) -> str:
    if value is None:
        return '<td class="num" data-sort="">—</td>'
    ci_html = f' <span class="ci">[{ci[0]:.1f}, {ci[1]:.1f}]</span>' if ci else ""
    cls = "num main" if main else "num"
    return f'<td class="{cls}" data-sort="{value:.6f}">{value:.1f}{ci_html}</td>'


def _share_cell(share: float | None) -> str:
    if share is None:
        return '<td class="num" data-sort="">—</td>'
    return f'<td class="num" data-sort="{share:.6f}">{100 * share:.0f} %</td>'


def _row_html(t: Table, r: Row) -> str:
    rank = "—" if r.rank is None else str(r.rank)
    rank_sort = "" if r.rank is None else str(r.rank)
    band = ""
    if r.band_leader and r.band_leader != r.label and r.p_vs_leader is not None:
        band = f' title="{esc(f"shares the band of {r.band_leader}: Δ {r.delta_vs_leader:+.2f}, p = {r.p_vs_leader:.3f}")}"'
    cells = [
        f'<td class="num" data-sort="{rank_sort}"{band}>{rank}</td>',
        f'<td data-sort="{esc(r.label)}"><span class="label">{esc(r.label)}</span></td>',
        f'<td data-sort="{esc(r.role)}"><span class="role">{esc(role_tag(r.role))}</span></td>',
    ]
    for m in t.metrics:
        c = r.cells.get(m)
        cells.append(_num_cell(c.value if c else None, (c.ci_low, c.ci_high) if c else None, m == t.main_metric))
    cells.append(f'<td class="num" data-sort="{r.n}">{r.n}</td>')
    cells += [_share_cell(r.truncated_share), _share_cell(r.max_tokens_share), _share_cell(r.off_target_share)]
    return f'<tr class="{esc(r.role)}">' + "".join(cells) + "</tr>"


def _table_html(index: int, t: Table) -> str:
    head = ["rank", "model", "role", *t.metrics, "n", "truncated", "max tokens", "off-target"]
    kinds = ["num", "text", "text", *["num"] * len(t.metrics), "num", "num", "num", "num"]
    ths = "".join(
        f'<th scope="col" data-type="{k}" aria-sort="none"><button type="button">{esc(h)}</button></th>' for h, k in zip(head, kinds)
    )
    bodies = []
    for role in ("ceiling", "model", "baseline"):
        rows = [r for r in t.rows if r.role == role]
        if rows:
            bodies.append(f'<tbody class="{role}">' + "".join(_row_html(t, r) for r in rows) + "</tbody>")
    sources = "".join(
        f"<li>run <code>{esc(s.run)}</code>{folder_note(s, lambda x: f'<code>{esc(x)}</code>')} started {esc(s.started)}: config "
        f"<code>{esc(s.config)}</code> (sha256 <code>{esc(s.config_sha256[:12])}</code>), harness "
        f"<code>{esc(s.harness_version)}</code>" + (f", commit <code>{esc(short_commit(s.git_commit))}</code>" if s.git_commit else "") + "</li>"
        for s in t.sources
    )
    signatures = "".join(f"<li><b>{esc(m)}</b> <code>{esc(t.signatures[m])}</code></li>" for m in t.metrics)
    notes = "".join(f'<p class="note">{esc(n)}</p>' for n in t.notes)
    plots = "".join(f"<figure><figcaption>{esc(m)}</figcaption>{whisker_svg(t, m)}</figure>" for m in t.metrics)
    return (
        f'<section class="board" id="table-{index}"><h2><code>{esc(t.task)}</code> — {t.n_items} items, sorted by '
        f"<code>{esc(t.main_metric)}</code></h2>"
        f'<p class="meta">Dataset version (MANIFEST sha256) <code>{esc(t.dataset_sha256)}</code></p>'
        f'<ul class="meta">{sources}</ul>'
        f'<div class="scroll"><table class="sortable"><caption>{esc(t.task)}: models by {esc(t.main_metric)} with 95 % CIs; '
        f"ranks are significance bands</caption><thead><tr>{ths}</tr></thead>{''.join(bodies)}</table></div>"
        f'<div class="plots">{plots}</div>'
        f"<details><summary>Metric signatures</summary><ul>{signatures}</ul></details>{notes}</section>"
    )


# --------------------------------------------------------------------------- per-sample data


def samples_data(board: Leaderboard, runs: Sequence[Run], items_for: Callable[[str], ItemsLookup]) -> dict:
    """What the viewer needs: per table, the items and every row's outputs and item scores."""
    by_folder = {r.path.name: r for r in runs}
    tables = []
    for index, t in enumerate(board.tables):
        items = items_for(t.dataset_sha256)(t.task, t.item_ids)
        systems = []
        for r in t.rows:
            preds = {p.id: p for p in by_folder[r.run].predictions[(r.model, t.task)]}
            ordered = [preds[i] for i in t.item_ids]
            systems.append(
                {
                    "label": r.label,
                    "role": r.role,
                    "outputs": [p.output for p in ordered],
                    "truncated": [p.truncated for p in ordered],
                    "stop": [p.stop_reason for p in ordered],
                    "scores": {m: [p.scores.get(m) for p in ordered] for m in t.metrics},
                }
            )
        tables.append(
            {
                "anchor": f"table-{index}",
                "task": t.task,
                "title": f"{t.task} ({t.n_items} items)" + (f" [{t.id}]" if t.id != t.task else ""),
                "metrics": list(t.metrics),
                "main": t.main_metric,
                "lower_is_better": sorted(m for m in t.metrics if m in LOWER_IS_BETTER),
                "items": [{"id": it.id, "source": it.source, "references": list(it.references)} for it in items],
                "systems": systems,
            }
        )
    return {"tables": tables}


# --------------------------------------------------------------------------- page

STYLE = """
:root{--fg:#1b1f24;--muted:#5b636e;--line:#d6dae0;--ceil:#fff6db;--base:#f1f3f5;--accent:#0b5cad}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans CJK SC","PingFang SC",sans-serif;color:var(--fg);margin:0 auto;max-width:1200px;padding:16px}
h1{font-size:22px;margin:4px 0 8px}h2{font-size:18px;margin:28px 0 6px}h3{font-size:14px;margin:12px 0 4px}
code{font:12px/1.3 ui-monospace,Menlo,Consolas,monospace;overflow-wrap:anywhere}
.meta{color:var(--muted);margin:2px 0;padding-left:18px}p.meta{padding-left:0}
.note{border-left:4px solid #c77d00;background:#fff8ec;padding:6px 10px;margin:8px 0}
.scroll{overflow-x:auto}
table{border-collapse:collapse;margin:8px 0;min-width:60%}
caption{text-align:left;color:var(--muted);padding:2px 0 6px}
th,td{border-bottom:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top;white-space:nowrap}
th button{font:inherit;font-weight:600;background:none;border:0;padding:0;cursor:pointer;color:inherit}
th[aria-sort=ascending] button::after{content:" ▲"}th[aria-sort=descending] button::after{content:" ▼"}
td.num{text-align:right;font-variant-numeric:tabular-nums}td.main{font-weight:600}
.ci{color:var(--muted);font-weight:400;font-size:12px}
tbody+tbody{border-top:3px double #8a929c}
tr.ceiling td{background:var(--ceil);font-style:italic}
tr.baseline td{background:var(--base);color:#444}
.role{font-size:12px;color:var(--muted)}
.label{unicode-bidi:isolate}
.plots{display:flex;flex-wrap:wrap;gap:8px 20px}
figure{margin:4px 0}figcaption{font-weight:600;font-size:12px}
svg.whiskers{font:11px system-ui,sans-serif}
svg .grid{stroke:#e4e7eb}svg .tick{fill:var(--muted)}
svg .ci{stroke:#333;stroke-width:1.4}svg .point{fill:var(--accent)}
svg .ceiling .point{fill:#c77d00}svg .baseline .point{fill:#888}
svg .name{fill:var(--fg)}
#viewer{border-top:2px solid var(--line);margin-top:28px}
.controls{display:flex;flex-wrap:wrap;gap:6px 14px;align-items:center;margin:6px 0}
select{max-width:340px}
.text{white-space:pre-wrap;overflow-wrap:anywhere;unicode-bidi:plaintext;background:#fafbfc;border:1px solid var(--line);border-radius:4px;padding:6px 8px;margin:4px 0;max-height:320px;overflow:auto}
.grid-out{display:grid;grid-template-columns:repeat(auto-fill,minmax(320px,1fr));gap:10px}
.card{border:1px solid var(--line);border-radius:6px;padding:6px 8px}
.card.ceiling{background:var(--ceil)}.card.baseline{background:var(--base)}
.card h3{margin:2px 0;unicode-bidi:isolate}
.scores{font-size:12px;color:var(--muted)}
.warn{font-size:12px;color:#8a3b00}
"""

SCRIPT = r"""
(function () {
  "use strict";
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function option(value, text) { var o = el("option", null, text); o.value = String(value); return o; }
  function fmt(v) { return (v === null || v === undefined) ? "—" : v.toFixed(1); }

  // Sortable tables: every tbody (ceiling / models / baselines) is sorted on its own.
  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    var heads = table.querySelectorAll("thead th");
    Array.prototype.forEach.call(heads, function (th, col) {
      th.querySelector("button").addEventListener("click", function () {
        var numeric = th.getAttribute("data-type") === "num";
        var asc = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(heads, function (h) { h.setAttribute("aria-sort", "none"); });
        th.setAttribute("aria-sort", asc ? "ascending" : "descending");
        Array.prototype.forEach.call(table.tBodies, function (body) {
          var rows = Array.prototype.slice.call(body.rows);
          rows.sort(function (a, b) {
            var x = a.cells[col].getAttribute("data-sort"), y = b.cells[col].getAttribute("data-sort");
            var r;
            if (numeric) {
              var fx = x === "" ? Infinity : parseFloat(x), fy = y === "" ? Infinity : parseFloat(y);
              r = fx === fy ? 0 : (fx < fy ? -1 : 1);
            } else { r = x.localeCompare(y); }
            return asc ? r : -r;
          });
          rows.forEach(function (row) { body.appendChild(row); });
        });
      });
    });
  });

  // Per-sample viewer.
  var data = JSON.parse(document.getElementById("samples").textContent);
  var $ = function (id) { return document.getElementById(id); };
  var tableSel = $("v-table"), itemSel = $("v-item"), aSel = $("v-a"), bSel = $("v-b"), mSel = $("v-metric");
  var warnChars = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u202a-\u202e\u2066-\u2069]/;
  if (!data.tables.length) { $("viewer").hidden = true; return; }
  data.tables.forEach(function (t, i) { tableSel.appendChild(option(i, t.title)); });

  function current() { return data.tables[parseInt(tableSel.value, 10)]; }
  function textBlock(text) {
    var wrap = document.createDocumentFragment();
    wrap.appendChild(el("div", "text", text));
    if (warnChars.test(text)) wrap.appendChild(el("div", "warn", "contains control or bidirectional-override characters"));
    return wrap;
  }
  function fillSystems() {
    var t = current();
    [aSel, bSel].forEach(function (sel, k) {
      sel.textContent = "";
      sel.appendChild(option("", k === 0 ? "(model A)" : "(model B)"));
      t.systems.forEach(function (s, i) { sel.appendChild(option(i, s.label)); });
    });
    mSel.textContent = "";
    t.metrics.forEach(function (m) { mSel.appendChild(option(m, m)); });
    mSel.value = t.main;
  }
  function fillItems() {
    var t = current(), keep = itemSel.value;
    var a = aSel.value === "" ? null : t.systems[+aSel.value];
    var b = bSel.value === "" ? null : t.systems[+bSel.value];
    var m = mSel.value, lower = t.lower_is_better.indexOf(m) >= 0;
    itemSel.textContent = "";
    var shown = 0;
    t.items.forEach(function (item, i) {
      if (a && b) {
        var x = a.scores[m][i], y = b.scores[m][i];
        if (x === null || y === null || !(lower ? x < y : x > y)) return;
      }
      var preview = item.source.replace(/\s+/g, " ");
      if (preview.length > 40) preview = preview.slice(0, 40) + "…";
      itemSel.appendChild(option(i, item.id + " — " + preview));
      shown += 1;
    });
    $("v-count").textContent = shown + " of " + t.items.length + " items" + (a && b ? " where " + a.label + " beats " + b.label + " on " + m : "");
    if (keep !== "" && itemSel.querySelector("option[value='" + keep.replace(/[^0-9]/g, "") + "']")) itemSel.value = keep;
    showItem();
  }
  function showItem() {
    var t = current(), out = $("v-outputs"), src = $("v-source"), refs = $("v-refs");
    out.textContent = ""; src.textContent = ""; refs.textContent = "";
    if (itemSel.value === "") { $("v-item-id").textContent = "no item matches the filter"; return; }
    var i = parseInt(itemSel.value, 10), item = t.items[i];
    $("v-item-id").textContent = "Item " + item.id;
    src.appendChild(textBlock(item.source));
    item.references.forEach(function (r, k) {
      refs.appendChild(el("h3", null, "Reference " + String.fromCharCode(65 + k)));
      refs.appendChild(textBlock(r));
    });
    t.systems.forEach(function (s) {
      var card = el("div", "card " + s.role);
      card.appendChild(el("h3", null, s.label));
      card.appendChild(el("div", "scores", s.role + " · " + t.metrics.map(function (m) { return m + " " + fmt(s.scores[m][i]); }).join(" · ") +
        (s.truncated[i] ? " · input truncated" : "") + (s.stop[i] === "max_new_tokens" ? " · hit max tokens" : "")));
      card.appendChild(textBlock(s.outputs[i]));
      out.appendChild(card);
    });
  }
  tableSel.addEventListener("change", function () { itemSel.value = ""; fillSystems(); fillItems(); });
  [aSel, bSel, mSel].forEach(function (s) { s.addEventListener("change", fillItems); });
  itemSel.addEventListener("change", showItem);
  fillSystems();
  fillItems();
})();
"""


def render_page(board: Leaderboard, runs: Sequence[Run], items_for: Callable[[str], ItemsLookup]) -> str:
    data = embed_json(samples_data(board, runs, items_for))
    s = board.settings
    test = "approximate randomisation" if s.test == "ar" else "paired bootstrap"
    csp = (
        f"default-src 'none'; script-src {_csp_hash(SCRIPT)}; style-src {_csp_hash(STYLE)}; "
        "img-src 'none'; base-uri 'none'; form-action 'none'"
    )
    toc = "".join(
        f'<li><a href="#table-{i}"><code>{esc(t.task)}</code></a> — {t.n_items} items, {len(t.rows)} rows</li>'
        for i, t in enumerate(board.tables)
    )
    notes = "".join(f'<p class="note">{esc(n)}</p>' for n in board.notes)
    tables = "".join(_table_html(i, t) for i, t in enumerate(board.tables))
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{esc(csp)}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>Leaderboard — zh-eval-harness {esc(board.harness_version)}</title>"
        f"<style>{STYLE}</style></head><body>"
        "<header><h1>Leaderboard</h1>"
        f"<p>Values are 0–100 with 95 % bootstrap confidence intervals. Ranks are bands: rows whose difference from "
        f"the band's best row on the main metric is not significant ({esc(test)} test, α = {esc(s.alpha)}, same items) "
        "share its rank. The ceiling row, reference agreement (B vs A: reference B scored against reference A), is shown for "
        "scale and not ranked; each table names who wrote and reviewed its references; "
        "baselines are ranked with the models and listed after them. Click a column to sort.</p>"
        f"<nav><ul>{toc}<li><a href=\"#viewer\">Per-sample viewer</a></li></ul></nav>{notes}</header>"
        f"<main>{tables}"
        '<section id="viewer"><h2>Per-sample viewer</h2>'
        '<div class="controls"><label>Table <select id="v-table"></select></label>'
        '<label>Items where <select id="v-a"></select></label><label>beats <select id="v-b"></select></label>'
        '<label>on <select id="v-metric"></select></label></div>'
        '<div class="controls"><label>Item <select id="v-item"></select></label> <span id="v-count"></span></div>'
        '<h3 id="v-item-id"></h3><h3>Source</h3><div id="v-source"></div><div id="v-refs"></div>'
        '<h3>Outputs</h3><div id="v-outputs" class="grid-out"></div></section></main>'
        f'<script type="application/json" id="samples">{data}</script>'
        f"<script>{SCRIPT}</script></body></html>\n"
    )
