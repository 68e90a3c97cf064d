// Upload preview and size check, and "Load more" without leaving the page.
// What it says comes from the server (photos/texts.py) with the page.
(function () {
  "use strict";

  var texts = {};
  try {
    texts = JSON.parse(document.getElementById("script-texts").textContent).photos || {};
  } catch (e) {
    texts = {};
  }

  function setupUpload(form) {
    var input = form.querySelector('input[type="file"][name="image"]');
    var preview = form.querySelector("[data-upload-preview]");
    var image = preview && preview.querySelector("img");
    var error = form.querySelector("[data-client-error]");
    var maxBytes = parseInt(form.dataset.maxBytes, 10);
    var objectUrl = null;
    if (!input || !preview || !image) return;

    function showError(text) {
      error.textContent = text;
      error.hidden = !text;
      input.closest(".field").classList.toggle("has-error", Boolean(text));
    }

    input.addEventListener("change", function () {
      var file = input.files && input.files[0];
      if (objectUrl) URL.revokeObjectURL(objectUrl);
      objectUrl = null;
      preview.hidden = true;
      showError("");
      if (!file) return;
      if (file.size === 0) {
        showError(texts.empty_file);
        return;
      }
      if (maxBytes && file.size > maxBytes) {
        showError(texts.too_large);
        return;
      }
      objectUrl = URL.createObjectURL(file);
      image.onerror = function () {
        preview.hidden = true;
        showError(texts.not_a_photo);
      };
      image.onload = function () { preview.hidden = false; };
      image.src = objectUrl;
    });

    form.addEventListener("submit", function (event) {
      var file = input.files && input.files[0];
      if (file && maxBytes && file.size > maxBytes) event.preventDefault();
    });
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

  document.querySelectorAll("[data-upload-form]").forEach(setupUpload);
  document.querySelectorAll("[data-load-more]").forEach(setupLoadMore);
})();
