// "Load more" without leaving the page.
// What it says comes from the server (photos/texts.py) with the page.
(function () {
  "use strict";

  var texts = {};
  try {
    texts = JSON.parse(document.getElementById("script-texts").textContent).photos || {};
  } catch (e) {
    texts = {};
  }

  function setupLoadMore(link) {
    link.addEventListener("click", function (event) {
      var grid = document.querySelector("[data-photo-grid]");
      if (!grid || !window.fetch || !window.DOMParser) return;
      event.preventDefault();
      link.setAttribute("aria-busy", "true");
      link.textContent = texts.loading || link.textContent;
      fetch(link.href, { headers: { Accept: "text/html" }, credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.text();
        })
        .then(function (html) {
          var doc = new DOMParser().parseFromString(html, "text/html");
          doc.querySelectorAll("[data-photo-grid] > li").forEach(function (item) {
            grid.appendChild(document.importNode(item, true));
          });
          var next = doc.querySelector("[data-load-more]");
          if (next) {
            link.href = next.getAttribute("href");
            link.textContent = next.textContent;
            link.removeAttribute("aria-busy");
          } else {
            link.remove();
          }
        })
        .catch(function () {
          // The plain link still works: follow it.
          window.location.href = link.href;
        });
    });
  }

  document.querySelectorAll("[data-load-more]").forEach(setupLoadMore);
})();
