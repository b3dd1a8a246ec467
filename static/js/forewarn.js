// Small progressive enhancements shared by every page; each page works without them.
(function () {
  "use strict";
  // Mark the navigation link of the current section (aria-current), so the page one is on shows in the bar.
  var path = window.location.pathname;
  var best = null;
  document.querySelectorAll(".mainnav a[href]").forEach(function (link) {
    var href = link.getAttribute("href");
    var matches = link.hasAttribute("data-nav-exact") ? path === href : path.indexOf(href) === 0;
    if (matches && (!best || href.length > best.getAttribute("href").length)) {
      best = link;
    }
  });
  if (best) {
    best.setAttribute("aria-current", "page");
  }
  // Narrow screens: the navigation folds behind a Menu button (without JavaScript it simply wraps).
  var toggle = document.querySelector(".topbar .nav-toggle");
  if (toggle) {
    var bar = toggle.closest(".topbar");
    toggle.hidden = false;
    bar.classList.add("nav-collapsible");
    toggle.addEventListener("click", function () {
      var open = bar.classList.toggle("nav-open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }
  // Print buttons of printable reports.
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
  // Copy buttons: <button data-copy-target="id" hidden>; shown only where the clipboard can be written.
  if (navigator.clipboard && window.isSecureContext) {
    document.querySelectorAll("[data-copy-target]").forEach(function (button) {
      var source = document.getElementById(button.getAttribute("data-copy-target"));
      if (!source) { return; }
      var label = button.textContent;
      button.hidden = false;
      button.addEventListener("click", function () {
        navigator.clipboard.writeText(source.textContent.trim()).then(function () {
          button.textContent = "Copied";
          setTimeout(function () { button.textContent = label; }, 2000);
        });
      });
    });
  }
})();
