/* A transfer run in progress (integrations/visma/templates/visma/_transfer_progress.html):
   polls the box's data-status-url every 2 s while the run is active and reloads the page
   once it is done. A file of its own, not inline: the Content-Security-Policy allows
   scripts from this site only. No library, no CDN. */
(function () {
  "use strict";
  function follow(box) {
    var url = box.getAttribute("data-status-url");
    var label = box.querySelector(".transfer-progress-label");
    var bar = box.querySelector("progress");
    function tick() {
      fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
        .then(function (d) {
          if (!d.active) { window.location.reload(); return; }
          label.textContent = d.label;
          if (d.status === "running" && d.total) { bar.max = d.total; bar.value = d.processed; }
          window.setTimeout(tick, 2000);
        })
        .catch(function () { window.setTimeout(tick, 10000); });
    }
    window.setTimeout(tick, 2000);
  }
  document.querySelectorAll(".transfer-progress[data-status-url]").forEach(follow);
})();
