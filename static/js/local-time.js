// Shows each UTC time (<time datetime="...Z" data-local-time>) with the viewer's own zone beside it, and each
// UTC date-time input with its local equivalent, so that embargo hours cannot be misread across time zones.
(function () {
  "use strict";
  var format = new Intl.DateTimeFormat(undefined, {
    year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", timeZoneName: "short"
  });

  function localLabel(date) {
    return "(your time: " + format.format(date) + ")";
  }

  function annotate(element) {
    var date = new Date(element.getAttribute("datetime"));
    if (isNaN(date.getTime())) { return; }
    var local = document.createElement("span");
    local.className = "local-time";
    local.textContent = " " + localLabel(date);
    element.insertAdjacentElement("afterend", local);
  }

  function annotateInput(input) {
    var local = document.createElement("span");
    local.className = "local-time";
    input.insertAdjacentElement("afterend", local);
    function update() {
      var date = input.value ? new Date(input.value + "Z") : null;
      local.textContent = date && !isNaN(date.getTime()) ? " " + localLabel(date) : "";
    }
    input.addEventListener("input", update);
    update();
  }

  document.querySelectorAll("time[data-local-time]").forEach(annotate);
  document.querySelectorAll("input[data-utc-input]").forEach(annotateInput);
})();
