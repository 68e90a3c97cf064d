// A photo whose media has not reached this region yet shows the placeholder.
// Loaded in <head> without defer, so that it hears every image's error event.
document.addEventListener(
  "error",
  function (event) {
    var img = event.target;
    if (!(img instanceof HTMLImageElement) || !img.dataset.placeholder) return;
    if (img.classList.contains("pending")) return;
    img.classList.add("pending");
    // srcset outranks src: without it, the browser would keep the missing candidate.
    img.removeAttribute("srcset");
    img.src = img.dataset.placeholder;
  },
  true
);
