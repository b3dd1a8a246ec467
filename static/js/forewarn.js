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
  // Print buttons of printable reports.
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
})();
