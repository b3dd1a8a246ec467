// Live preview of a Markdown field: POSTs the text to the server, which renders and sanitises it (nh3) exactly as
// partners will see it, and shows the answer. <textarea data-preview-url="..." data-preview-target="id">.
(function () {
  "use strict";
  document.querySelectorAll("textarea[data-preview-url]").forEach(function (textarea) {
    var target = document.getElementById(textarea.getAttribute("data-preview-target"));
    var token = textarea.form.querySelector("input[name=csrfmiddlewaretoken]").value;
    var timer = null;

    function refresh() {
      var body = new URLSearchParams();
      body.set("text", textarea.value);
      fetch(textarea.getAttribute("data-preview-url"), {
        method: "POST",
        headers: { "X-CSRFToken": token },
        body: body,
        credentials: "same-origin"
      }).then(function (response) {
        return response.ok ? response.text() : Promise.reject(response.status);
      }).then(function (html) {
        target.innerHTML = html;  // sanitised server-side by core.markdown.render_markdown
      }).catch(function () {
        target.textContent = "Preview unavailable.";
      });
    }

    textarea.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(refresh, 400);
    });
    refresh();
  });
})();
