// Times are written in UTC on the server (<time datetime="...Z" data-local-time>2026-12-02 13:07 UTC</time>) and
// typed in UTC (<input data-utc-input>, YYYY-MM-DD HH:MM). When the viewer's zone differs from UTC at that moment,
// this adds the same instant in their zone, in the same unambiguous form (ISO date, 24-hour time, zone named);
// when it does not differ, nothing is added. Safe to run more than once: each element is annotated once.
(function () {
  "use strict";
  var INPUT_PATTERN = /^\s*(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?\s*$/;

  function pad(number) {
    return (number < 10 ? "0" : "") + number;
  }

  function zoneName(date) {
    try {
      var parts = new Intl.DateTimeFormat("en-GB", { timeZoneName: "short" }).formatToParts(date);
      for (var i = 0; i < parts.length; i++) {
        if (parts[i].type === "timeZoneName") { return parts[i].value; }
      }
    } catch (error) { /* an old browser: fall back to the offset */ }
    var offset = -date.getTimezoneOffset();
    return "UTC" + (offset < 0 ? "-" : "+") + pad(Math.floor(Math.abs(offset) / 60)) + ":" + pad(Math.abs(offset) % 60);
  }

  function localLabel(date) {
    return "(your time: " + date.getFullYear() + "-" + pad(date.getMonth() + 1) + "-" + pad(date.getDate()) + " " +
      pad(date.getHours()) + ":" + pad(date.getMinutes()) + " " + zoneName(date) + ")";
  }

  function differsFromUtc(date) {
    return date.getTimezoneOffset() !== 0;
  }

  function annotate(element) {
    if (element.hasAttribute("data-local-time-done")) { return; }
    element.setAttribute("data-local-time-done", "");
    var date = new Date(element.getAttribute("datetime"));
    if (isNaN(date.getTime()) || !differsFromUtc(date)) { return; }
    var local = document.createElement("span");
    local.className = "local-time";
    local.textContent = " " + localLabel(date);
    element.insertAdjacentElement("afterend", local);
  }

  function parseUtcInput(value) {
    var match = INPUT_PATTERN.exec(value || "");
    if (!match) { return null; }
    var date = new Date(Date.UTC(+match[1], +match[2] - 1, +match[3], +match[4], +match[5], +(match[6] || 0)));
    return isNaN(date.getTime()) ? null : date;
  }

  function annotateInput(input) {
    if (input.hasAttribute("data-local-time-done")) { return; }
    input.setAttribute("data-local-time-done", "");
    var local = document.createElement("span");
    local.className = "local-time local-time-input";
    local.setAttribute("aria-live", "polite");
    input.insertAdjacentElement("afterend", local);
    function update() {
      var date = parseUtcInput(input.value);
      local.textContent = date && differsFromUtc(date) ? " " + localLabel(date) : "";
    }
    input.addEventListener("input", update);
    update();
  }

  document.querySelectorAll("time[data-local-time]").forEach(annotate);
  document.querySelectorAll("input[data-utc-input]").forEach(annotateInput);
})();
