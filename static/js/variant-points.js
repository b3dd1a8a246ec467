// Variant points in the description editor (docs/fingerprinting.md): lists the points written in the textarea,
// previews every point as its n-th alternative (the preview holds all of them: see proposals.preview_html), and
// proposes places from the phrase table that the author may accept one by one. No inline script (CSP).
(function () {
  "use strict";
  var POINT = /\{\{=(?:([\w-]+):)?([^\n]*?)=\}\}/g;
  var RANGE = /^(0x[0-9a-fA-F]+|\\x[0-9a-fA-F]{2}|\d+|.)\.\.(0x[0-9a-fA-F]+|\\x[0-9a-fA-F]{2}|\d+|.)$/;

  var MAX_ALTERNATIVES = 256;

  // How many values a range has, as advisories/fingerprinting/template.py expands it (0: not a range).
  function rangeSize(low, high) {
    var first, last;
    if (low.slice(0, 2) === "\\x" && high.slice(0, 2) === "\\x") {
      first = parseInt(low.slice(2), 16);
      last = parseInt(high.slice(2), 16);
    } else if (/^0x/i.test(low) && /^0x/i.test(high)) {
      first = parseInt(low, 16);
      last = parseInt(high, 16);
    } else if (/^\d+$/.test(low) && /^\d+$/.test(high)) {
      first = Number(low);
      last = Number(high);
    } else if (low.length === 1 && high.length === 1) {
      first = low.codePointAt(0);
      last = high.codePointAt(0);
    } else {
      return 0;
    }
    return last < first ? 0 : Math.min(last - first + 1, MAX_ALTERNATIVES);
  }

  function pointOf(label, body) {
    var parts = body.replace(/\\\|/g, "\u0000").split("|").map(function (part) {
      return part.trim().replace(/\u0000/g, "|");
    });
    var range = parts.length === 1 ? RANGE.exec(parts[0]) : null;
    var size = range ? rangeSize(range[1], range[2]) : 0;
    if (size) {
      return { label: label, shown: [parts[0] + " (range: " + size + " alternatives)"], count: size };
    }
    return { label: label, shown: parts, count: parts.length };
  }

  document.querySelectorAll("[data-variant-points]").forEach(function (panel) {
    var textarea = document.getElementById(panel.getAttribute("data-textarea"));
    var preview = document.getElementById(panel.getAttribute("data-preview-target"));
    var list = panel.querySelector("[data-variant-list]");
    var count = panel.querySelector("[data-variant-count]");
    var choice = panel.querySelector("[data-variant-preview-choice]");
    var proposals = panel.querySelector("[data-variant-proposals]");
    var token = textarea.form.querySelector("input[name=csrfmiddlewaretoken]").value;

    function listPoints() {
      var points = [];
      var match;
      POINT.lastIndex = 0;
      while ((match = POINT.exec(textarea.value)) !== null) {
        points.push(pointOf(match[1], match[2]));
      }
      count.textContent = String(points.length);
      list.textContent = "";
      var most = 1;
      points.forEach(function (point) {
        var item = document.createElement("li");
        item.textContent = (point.label ? point.label + ": " : "") + point.shown.join("  |  ");
        list.appendChild(item);
        most = Math.max(most, point.count);
      });
      var selected = choice.value;
      choice.textContent = "";
      for (var n = 0; n < most; n++) {
        var option = document.createElement("option");
        option.value = String(n);
        option.textContent = String(n + 1) + (n === 0 ? " (as without a copy)" : "");
        choice.appendChild(option);
      }
      choice.value = Number(selected) < most ? selected : "0";
    }

    // Show alternative n of every point (or its last one when it has fewer).
    function showAlternative() {
      var n = Number(choice.value);
      preview.querySelectorAll(".variant-point").forEach(function (point) {
        var shown = Math.min(n, Number(point.getAttribute("data-count")) - 1);
        point.querySelectorAll(".variant-alternative").forEach(function (alternative) {
          alternative.hidden = Number(alternative.getAttribute("data-alternative")) !== shown;
        });
      });
    }

    function propose() {
      var body = new URLSearchParams();
      body.set("text", textarea.value);
      fetch(panel.getAttribute("data-proposals-url"), {
        method: "POST",
        headers: { "X-CSRFToken": token },
        body: body,
        credentials: "same-origin"
      }).then(function (response) {
        return response.ok ? response.json() : Promise.reject(response.status);
      }).then(function (answer) {
        proposals.textContent = "";
        if (!answer.proposals.length) {
          var none = document.createElement("li");
          none.textContent = "No place to propose.";
          proposals.appendChild(none);
        }
        answer.proposals.forEach(function (proposal) {
          var item = document.createElement("li");
          var text = document.createElement("code");
          text.textContent = proposal.markup;
          var accept = document.createElement("button");
          accept.type = "button";
          accept.className = "secondary";
          accept.textContent = "Use";
          accept.setAttribute("data-variant-accept", "");
          accept.addEventListener("click", function () {
            // Only where the proposed word still stands: the text may have changed since.
            if (textarea.value.slice(proposal.start, proposal.end) !== proposal.text) {
              accept.disabled = true;
              accept.textContent = "Text changed";
              return;
            }
            textarea.value = textarea.value.slice(0, proposal.start) + proposal.markup + textarea.value.slice(proposal.end);
            textarea.dispatchEvent(new Event("input"));
            item.remove();
            propose();
          });
          item.appendChild(document.createTextNode("\u201c" + proposal.text + "\u201d (" + proposal.source + "): "));
          item.appendChild(text);
          item.appendChild(document.createTextNode(" "));
          item.appendChild(accept);
          proposals.appendChild(item);
        });
      }).catch(function () {
        proposals.textContent = "Proposals unavailable.";
      });
    }

    textarea.addEventListener("input", listPoints);
    choice.addEventListener("change", showAlternative);
    panel.querySelector("[data-variant-propose]").addEventListener("click", propose);
    // The preview is replaced after each edit: show the chosen alternative again.
    new MutationObserver(showAlternative).observe(preview, { childList: true });
    listPoints();
  });
})();
