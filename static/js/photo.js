// The photo page: the lightbox, previous/next by arrow keys, relative times.
(function () {
  "use strict";

  // Worded as photos.records.time_ago words them on the server.
  var UNITS = [
    [365 * 86400, "year"],
    [30 * 86400, "month"],
    [86400, "day"],
    [3600, "hour"],
    [60, "minute"],
  ];

  function timeAgo(then, now) {
    var seconds = (now - then) / 1000;
    for (var i = 0; i < UNITS.length; i++) {
      if (seconds >= UNITS[i][0]) {
        var count = Math.floor(seconds / UNITS[i][0]);
        return count + " " + UNITS[i][1] + (count === 1 ? "" : "s") + " ago";
      }
    }
    return "just now";
  }

  function refreshTimes() {
    var now = Date.now();
    document.querySelectorAll("time[data-relative]").forEach(function (time) {
      var then = Date.parse(time.getAttribute("datetime"));
      if (!isNaN(then)) time.textContent = timeAgo(then, now);
    });
  }

  function setupLightbox(opener, dialog) {
    var image = dialog.querySelector(".lightbox-image");
    var close = dialog.querySelector("[data-lightbox-close]");
    opener.addEventListener("click", function () {
      if (image && !image.getAttribute("src")) image.src = image.dataset.src;
      dialog.showModal();
      if (close) close.focus();
    });
    if (close) close.addEventListener("click", function () { dialog.close(); });
    // A click on the backdrop (the dialog itself, outside its content) closes it too.
    dialog.addEventListener("click", function (event) {
      if (event.target === dialog) dialog.close();
    });
    dialog.addEventListener("close", function () { opener.focus(); });
  }

  function typing(target) {
    return target instanceof HTMLElement &&
      (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  }

  function setupArrows() {
    var prev = document.querySelector("[data-photo-prev]");
    var next = document.querySelector("[data-photo-next]");
    document.addEventListener("keydown", function (event) {
      if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
      if (typing(event.target)) return;
      var link = event.key === "ArrowLeft" ? prev : event.key === "ArrowRight" ? next : null;
      if (!link) return;
      event.preventDefault();
      window.location.href = link.href;
    });
  }

  var opener = document.querySelector("[data-lightbox-open]");
  var dialog = document.querySelector("[data-lightbox]");
  if (opener && dialog && typeof dialog.showModal === "function") setupLightbox(opener, dialog);
  setupArrows();
  refreshTimes();
  window.setInterval(refreshTimes, 60 * 1000);
})();
