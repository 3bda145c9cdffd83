// Follows a SAF-T import on its page (saft/detail.html): polls the status JSON every
// second while the worker reads the file, moves the bar, and reloads for the report.
(function () {
  var box = document.querySelector(".saft-progress");
  if (!box) { return; }
  var url = box.getAttribute("data-status-url");
  var label = box.querySelector(".transfer-progress-label");
  var bar = box.querySelector("progress");
  function tick() {
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (d) {
        if (!d.active) { window.location.reload(); return; }
        label.textContent = d.label;
        if (d.total) { bar.value = Math.floor(100 * d.done / d.total); }
        window.setTimeout(tick, 1000);
      })
      .catch(function () { window.setTimeout(tick, 5000); });
  }
  window.setTimeout(tick, 1000);
})();
