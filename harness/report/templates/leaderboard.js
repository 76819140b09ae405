
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

  // Sortable tables: every tbody (agreement / models / baselines) is sorted on its own.
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

  // Per-sample viewer: one table, one system (model row) and one page of items at a time, and
  // optionally a second system on the same items (pages are cut alike for every system of a table).
  // index.html holds only where the pages are (#samples); a page is a script beside it,
  // samples/<table>/<system>/page-0001.js, that calls the callback registered here (a script
  // element loads from file://, where fetch() may not). Every string goes in with textContent.
  var index = JSON.parse(document.getElementById("samples").textContent);
  var $ = function (id) { return document.getElementById(id); };
  var tableSel = $("v-table"), systemSel = $("v-system"), compareSel = $("v-compare"), filterSel = $("v-filter");
  var pageSel = $("v-page"), prev = $("v-prev"), next = $("v-next");
  var warnChars = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u202a-\u202e\u2066-\u2069]/;
  if (!index.tables.length) { $("viewer").hidden = true; return; }
  var pending = null, scripts = [];

  function current() { return index.tables[parseInt(tableSel.value, 10)]; }
  function shownSystems() {  // the system, and the one compared with it when one is picked
    var t = current(), out = [t.systems[parseInt(systemSel.value, 10)]];
    if (compareSel.value !== "") out.push(t.systems[parseInt(compareSel.value, 10)]);
    return out;
  }
  function pages(t) {  // [{first, size}] from the run-length encoded page sizes
    var out = [], first = 0;
    t.pages.forEach(function (run) {
      for (var k = 0; k < run[1]; k += 1) { out.push({first: first, size: run[0]}); first += run[0]; }
    });
    return out;
  }
  function pagePath(t, s, number) {
    var name = "page-" + String(number).padStart(4, "0") + ".js";
    return [index.folder, t.dir, s.dir, name].map(encodeURIComponent).join("/");
  }
  function textBlock(text, spans) {  // spans: parts of the text to mark (markSpans); none: plain text
    var wrap = document.createDocumentFragment(), box = el("div", "text");
    if (spans && spans.length) markSpans(box, text, spans); else box.textContent = text;
    wrap.appendChild(box);
    if (warnChars.test(text)) wrap.appendChild(el("div", "warn", "contains control or bidirectional-override characters"));
    return wrap;
  }
  // Marks in a text: each span ({text, cls, title}) marks the first exact occurrence of its text that
  // overlaps no earlier mark and is not part of a longer number ("30" in "300" or "2,030" is another
  // number); a span not found is left unmarked (the list under the output still names it). Text nodes
  // and mark elements with textContent only: the data is never parsed as HTML.
  function digitAt(text, i) { return i >= 0 && i < text.length && /[0-9\uff10-\uff19]/.test(text.charAt(i)); }
  function partOfNumber(text, start, end) {
    var before = digitAt(text, start - 1) || (/[.,]/.test(text.charAt(start - 1)) && digitAt(text, start - 2));
    var after = digitAt(text, end) || (/[.,]/.test(text.charAt(end)) && digitAt(text, end + 1));
    return (digitAt(text, start) && before) || (digitAt(text, end - 1) && after);
  }
  function markSpans(box, text, spans) {
    var found = [];
    spans.forEach(function (span) {
      if (!span.text) return;
      for (var at = text.indexOf(span.text); at >= 0; at = text.indexOf(span.text, at + 1)) {
        var end = at + span.text.length;
        var free = !found.some(function (f) { return at < f.end && f.start < end; });
        if (free && !partOfNumber(text, at, end)) { found.push({start: at, end: end, span: span}); break; }
      }
    });
    found.sort(function (a, b) { return a.start - b.start; });
    var pos = 0;
    found.forEach(function (f) {
      if (f.start > pos) box.appendChild(document.createTextNode(text.slice(pos, f.start)));
      var mark = el("mark", f.span.cls, text.slice(f.start, f.end));
      mark.title = f.span.title;
      box.appendChild(mark);
      pos = f.end;
    });
    if (pos < text.length) box.appendChild(document.createTextNode(text.slice(pos)));
  }
  function quantity(q) { return q.text === q.value ? q.text : q.text + " (" + q.value + ")"; }
  function outputSpans(item) {  // the output's numbers that are not the source's (harness/report/marks.py)
    var n = (item.marks && item.marks.numbers) || {};
    return (n.changed || []).map(function (c) {
      return {text: c.output.text, cls: "mark-changed", title: "changed: the source has " + quantity(c.source)};
    }).concat((n.added || []).map(function (q) {
      return {text: q.text, cls: "mark-added", title: "added: not in the source"};
    }));
  }
  function marksList(marks) {  // what the output did wrong with the source's numbers and terms
    var list = el("ul", "marks");
    function row(cls, tag, text) {
      var li = el("li", cls);
      li.appendChild(el("span", "tag", tag));
      li.appendChild(document.createTextNode(" " + text));
      list.appendChild(li);
    }
    var n = marks.numbers || {};
    (n.dropped || []).forEach(function (q) { row("mark-dropped", "number dropped", quantity(q)); });
    (n.changed || []).forEach(function (c) { row("mark-changed", "number changed", quantity(c.source) + " → " + quantity(c.output)); });
    (n.added || []).forEach(function (q) { row("mark-added", "number added", quantity(q)); });
    (marks.terms || []).forEach(function (t) {
      var written = t.source.join(", ") === t.term ? "" : " (written " + t.source.join(", ") + ")";
      row("mark-term", "term missed", t.term + written + " → expected " + t.expected.join(" / "));
    });
    if (marks.left_out) row("mark-left-out", "…", marks.left_out + " more left out to keep this page small");
    return list;
  }
  function heading(text) { return el("h4", null, text); }
  function fragment(nodes) {
    var f = document.createDocumentFragment();
    nodes.forEach(function (n) { if (n) f.appendChild(n); });
    return f;
  }

  // How an item shows, part by part: ITEM_PARTS read the fields every system's page has
  // (samples.item_fields), SYSTEM_PARTS those of one system, inside its card (samples.output_fields).
  // Each returns a node or null. A new per-item field gets a part here.
  var ITEM_PARTS = [
    function source(item) { return fragment([heading("Source"), textBlock(item.source)]); },
    function references(item) {
      return fragment(item.references.map(function (r, k) {
        return fragment([heading("Reference " + (k < 26 ? String.fromCharCode(65 + k) : String(k + 1))), textBlock(r)]);
      }));
    },
    function cut(item) {
      return item.cut ? el("div", "warn", "shortened for the viewer (the results folder has the whole text): " + item.cut.join(", ")) : null;
    }
  ];
  var SYSTEM_PARTS = [
    function scores(item, t, s) {
      if (item.output === null) return el("div", "warn", "no output for this item");
      return el("div", "scores", s.role + " · " + t.metrics.map(function (m) { return m + " " + fmt(item.scores[m]); }).join(" · ") +
        (item.truncated ? " · input truncated" : "") + (item.stop === "max_new_tokens" ? " · hit max tokens" : ""));
    },
    function output(item) { return item.output === null ? null : textBlock(item.output, outputSpans(item)); },
    function outputCut(item) {
      return item.output_cut ? el("div", "warn", "output shortened for the viewer (the results folder has the whole text)") : null;
    },
    function marks(item) { return item.marks ? marksList(item.marks) : null; }
  ];
  function card(item, t, s) {
    var box = el("div", "card " + s.role);
    box.appendChild(el("h4", null, s.label));
    SYSTEM_PARTS.forEach(function (part) { var node = part(item, t, s); if (node) box.appendChild(node); });
    return box;
  }

  // "where A beats B on m": both scored and A strictly better (lower for an error rate such as TER).
  function beats(t, a, b, m) {
    var x = a.output === null ? null : a.scores[m], y = b.output === null ? null : b.scores[m];
    if (x === null || x === undefined || y === null || y === undefined) return false;
    return t.lower_is_better.indexOf(m) >= 0 ? x < y : x > y;
  }
  function showPage(loaded) {  // loaded: the page of each shown system, in shownSystems() order
    var t = current(), systems = shownSystems(), box = $("v-items"), first = loaded[0];
    var filter = compareSel.value === "" ? "" : filterSel.value, shown = 0, mismatch = false;
    box.textContent = "";
    first.items.forEach(function (item, k) {
      var rows = loaded.map(function (p) { return p.items[k]; });
      if (rows.some(function (r) { return r.id !== item.id; })) { mismatch = true; return; }  // not written so by samples.py
      if (filter) {
        var m = filter.slice(2), a = filter[0] === "a" ? rows[0] : rows[1], b = filter[0] === "a" ? rows[1] : rows[0];
        if (!beats(t, a, b, m)) return;
      }
      var article = el("article", "item");
      article.appendChild(el("h3", "item-id", "Item " + (first.first + k + 1) + " · " + item.id));
      ITEM_PARTS.forEach(function (part) { var node = part(item, t); if (node) article.appendChild(node); });
      var cards = el("div", "grid-out");
      rows.forEach(function (row, i) { cards.appendChild(card(row, t, systems[i])); });
      article.appendChild(cards);
      box.appendChild(article);
      shown += 1;
    });
    $("v-count").textContent = filter ? shown + " of " + first.items.length + " items on this page " + filterSel.options[filterSel.selectedIndex].text : "";
    $("v-status").textContent = mismatch ? "the pages of " + systems.map(function (s) { return s.label; }).join(" and ") + " hold different items" : "";
  }
  // Every page calls this. A page that was not asked for by the last request (an earlier click) is dropped.
  window[index.callback] = function (page) {
    if (!pending || page.table !== pending.table || page.page !== pending.page) return;
    var slot = pending.systems.indexOf(page.system);
    if (slot < 0 || pending.loaded[slot]) return;
    pending.loaded[slot] = page;
    if (pending.loaded.every(Boolean)) { var loaded = pending.loaded; pending = null; showPage(loaded); }
  };
  function load() {
    var t = current(), systems = shownSystems(), all = pages(t), n = parseInt(pageSel.value, 10), at = all[n];
    prev.disabled = n === 0;
    next.disabled = n === all.length - 1;
    $("v-range").textContent = "items " + (at.first + 1) + "–" + (at.first + at.size) + " of " + t.n_items + " · page " + (n + 1) + " of " + all.length;
    $("v-items").textContent = "";
    $("v-count").textContent = "";
    scripts.forEach(function (old) { old.remove(); });
    var paths = systems.map(function (s) { return pagePath(t, s, n + 1); });
    $("v-status").textContent = "loading " + paths.join(", ") + " …";
    pending = {table: t.dir, page: n + 1, systems: systems.map(function (s) { return s.dir; }), loaded: systems.map(function () { return null; })};
    scripts = paths.map(function (path) {
      var script = el("script");
      script.src = path;
      script.addEventListener("error", function () {
        $("v-status").textContent = "could not load " + path + ": the samples folder must stay beside index.html";
      });
      document.body.appendChild(script);
      return script;
    });
  }
  function fillCompare() {  // the other systems to compare with, and the filters that need one
    var t = current(), a = t.systems[parseInt(systemSel.value, 10)], keep = compareSel.value, keepFilter = filterSel.value;
    compareSel.textContent = "";
    compareSel.appendChild(option("", "(none)"));
    t.systems.forEach(function (s, i) { if (s !== a) compareSel.appendChild(option(i, s.label + " (" + s.role + ")")); });
    compareSel.value = compareSel.querySelector("option[value='" + keep.replace(/[^0-9]/g, "") + "']") ? keep : "";
    filterSel.textContent = "";
    filterSel.appendChild(option("", "every item"));
    if (compareSel.value !== "") {
      var b = t.systems[parseInt(compareSel.value, 10)];
      t.metrics.forEach(function (m) {
        filterSel.appendChild(option("a:" + m, "where " + a.label + " beats " + b.label + " on " + m));
        filterSel.appendChild(option("b:" + m, "where " + b.label + " beats " + a.label + " on " + m));
      });
    }
    filterSel.value = Array.prototype.some.call(filterSel.options, function (o) { return o.value === keepFilter; }) ? keepFilter : "";
    filterSel.disabled = compareSel.value === "";
  }
  function fillTable() {
    var t = current(), keep = systemSel.value;
    systemSel.textContent = "";
    t.systems.forEach(function (s, i) { systemSel.appendChild(option(i, s.label + " (" + s.role + ")")); });
    var firstModel = t.systems.map(function (s) { return s.role; }).indexOf("model");
    systemSel.value = keep !== "" && +keep < t.systems.length ? keep : String(Math.max(firstModel, 0));
    fillCompare();
    pageSel.textContent = "";
    pages(t).forEach(function (p, n) { pageSel.appendChild(option(n, (n + 1) + " (items " + (p.first + 1) + "–" + (p.first + p.size) + ")")); });
    pageSel.value = "0";
  }
  function step(by) { pageSel.value = String(parseInt(pageSel.value, 10) + by); load(); }
  index.tables.forEach(function (t, i) { tableSel.appendChild(option(i, t.title)); });
  tableSel.addEventListener("change", function () { systemSel.value = ""; compareSel.value = ""; fillTable(); load(); });
  // Another system, a comparison or a filter keeps the page: the same items.
  systemSel.addEventListener("change", function () { fillCompare(); load(); });
  compareSel.addEventListener("change", function () { fillCompare(); load(); });
  filterSel.addEventListener("change", load);
  pageSel.addEventListener("change", load);
  prev.addEventListener("click", function () { step(-1); });
  next.addEventListener("click", function () { step(1); });
  fillTable();
  load();
})();
