
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
