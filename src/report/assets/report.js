// ferret report: sort and filter the secrets table. Plain DOM; no network, no innerHTML.
"use strict";
(function () {
  var table = document.getElementById("secrets");
  if (!table) { return; }
  var filter = document.getElementById("filter");
  var sevSel = document.getElementById("severity-filter");
  var kindSel = document.getElementById("kind-filter");
  var count = document.getElementById("shown-count");
  var none = document.getElementById("no-match");
  var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
  var total = table.tBodies.length;

  function bodies() { return Array.prototype.slice.call(table.tBodies); }

  // Empty values (no time could be read) sort last in both directions.
  function value(tb, key, type) {
    var v = tb.getAttribute("data-" + key);
    if (v === null || v === "") { return null; }
    return type === "num" ? Number(v) : v.toLowerCase();
  }

  function sortBy(th, dir) {
    var key = th.getAttribute("data-key");
    var type = th.getAttribute("data-type");
    var list = bodies();
    list.sort(function (a, b) {
      var x = value(a, key, type), y = value(b, key, type), c = 0;
      if (x === null && y !== null) { return 1; }
      if (y === null && x !== null) { return -1; }
      if (x !== null && y !== null) { c = type === "num" ? x - y : x.localeCompare(y); }
      if (dir === "descending") { c = -c; }
      return c || Number(a.getAttribute("data-rank")) - Number(b.getAttribute("data-rank"));
    });
    list.forEach(function (tb) { table.appendChild(tb); });
    headers.forEach(function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", dir);
  }

  headers.forEach(function (th) {
    var button = th.querySelector("button");
    if (!button) { return; }
    button.addEventListener("click", function () {
      var current = th.getAttribute("aria-sort");
      var dir = current
        ? (current === "ascending" ? "descending" : "ascending")
        : (th.getAttribute("data-type") === "num" ? "descending" : "ascending");
      sortBy(th, dir);
    });
  });

  // The text each secret is searched by (its row and its places), read once.
  var texts = new Map();
  function text(tb) {
    var t = texts.get(tb);
    if (t === undefined) { t = tb.textContent.toLowerCase(); texts.set(tb, t); }
    return t;
  }

  function applyFilter() {
    var q = filter.value.trim().toLowerCase();
    var sev = sevSel.value;
    var kind = kindSel.value;
    var shown = 0;
    bodies().forEach(function (tb) {
      var ok = (!q || text(tb).indexOf(q) >= 0) &&
        (!sev || tb.getAttribute("data-severity-name") === sev) &&
        (!kind || (" " + tb.getAttribute("data-kinds") + " ").indexOf(" " + kind + " ") >= 0);
      tb.hidden = !ok;
      if (ok) { shown += 1; }
    });
    count.textContent = shown + " of " + total + " secrets";
    none.hidden = shown !== 0;
  }

  [filter, sevSel, kindSel].forEach(function (el) {
    el.addEventListener("input", applyFilter);
    el.addEventListener("change", applyFilter);
  });

  function setOpen(button, open) {
    var detail = document.getElementById(button.getAttribute("aria-controls"));
    button.setAttribute("aria-expanded", open ? "true" : "false");
    button.textContent = open ? "\u25BE" : "\u25B8";
    if (detail) { detail.hidden = !open; }
  }

  table.addEventListener("click", function (e) {
    var button = e.target.closest ? e.target.closest("button.toggle") : null;
    if (button) { setOpen(button, button.getAttribute("aria-expanded") !== "true"); }
  });

  var all = document.getElementById("expand-all");
  if (all) {
    all.addEventListener("click", function () {
      var open = all.getAttribute("aria-pressed") !== "true";
      all.setAttribute("aria-pressed", open ? "true" : "false");
      all.textContent = open ? "Collapse all" : "Expand all";
      Array.prototype.forEach.call(table.querySelectorAll("button.toggle"), function (b) { setOpen(b, open); });
    });
  }

  applyFilter();
})();
