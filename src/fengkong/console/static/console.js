// fengkong console: keyboard navigation of tables with data-href rows, live SLA countdowns, confirm prompts.
(function () {
  "use strict";
  function rows() { return Array.prototype.slice.call(document.querySelectorAll("table.inbox tbody tr[data-href]")); }
  function focusRow(i) {
    var r = rows(); if (!r.length) return;
    i = Math.max(0, Math.min(r.length - 1, i));
    r.forEach(function (x) { x.classList.remove("kbd"); });
    r[i].classList.add("kbd");
    var a = r[i].querySelector("a.rowlink"); if (a) a.focus();
  }
  function current() { var r = rows(); for (var i = 0; i < r.length; i++) if (r[i].contains(document.activeElement)) return i; return -1; }
  document.addEventListener("keydown", function (e) {
    var t = e.target.tagName;
    if (t === "INPUT" || t === "TEXTAREA" || t === "SELECT" || e.altKey || e.ctrlKey || e.metaKey) return;
    if (!rows().length) return;
    if (e.key === "j" || e.key === "ArrowDown") { e.preventDefault(); focusRow(current() + 1); }
    else if (e.key === "k" || e.key === "ArrowUp") { e.preventDefault(); focusRow(current() < 0 ? 0 : current() - 1); }
  });
  document.addEventListener("click", function (e) {
    var tr = e.target.closest && e.target.closest("tr[data-href]");
    if (tr && !e.target.closest("a, button, input, select")) window.location = tr.getAttribute("data-href");
  });
  function tick() {
    var now = Date.now();
    document.querySelectorAll("time.sla[datetime]").forEach(function (el) {
      var due = Date.parse(el.getAttribute("datetime")); if (isNaN(due)) return;
      var m = Math.round((due - now) / 60000), sign = m < 0 ? "-" : "", a = Math.abs(m);
      el.title = sign + Math.floor(a / 60) + "h" + (a % 60) + "m";
      if (m < 0) { var tr = el.closest("tr"); if (tr) tr.classList.add("breach"); }
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    tick(); setInterval(tick, 30000);
    document.querySelectorAll("form[data-confirm]").forEach(function (f) {
      f.addEventListener("submit", function (e) { if (!window.confirm(f.getAttribute("data-confirm"))) e.preventDefault(); });
    });
  });
})();
// put the caret on the line:column of a strategy error
document.addEventListener("DOMContentLoaded", function () {
  var err = document.getElementById("strategy-error"), ta = document.getElementById("text");
  if (!err || !ta || !err.dataset.line) return;
  var line = parseInt(err.dataset.line, 10), col = parseInt(err.dataset.col || "1", 10);
  var lines = ta.value.split("\n"), pos = 0;
  for (var i = 0; i < line - 1 && i < lines.length; i++) pos += lines[i].length + 1;
  pos += Math.max(0, col - 1);
  ta.focus(); ta.setSelectionRange(pos, Math.min(ta.value.length, pos + 1));
  ta.scrollTop = Math.max(0, (line - 5) * 17);
});
