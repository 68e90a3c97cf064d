/* Forms: focus on the first error, and live character counters.
 *
 * A page rendered with form errors moves focus to the first field in error (its
 * aria-invalid and aria-describedby come with the page), or to the form's own
 * error when no field is to blame.
 *
 * A textarea with data-max-chars gets a counter ("12 / 1000"), announced politely
 * to screen readers only near the limit. Text over the limit is never cut: the
 * counter turns to an error tied to the field, and sending is refused with the
 * reason until the text is shortened. Sentences come from #script-texts.
 */
(function () {
  "use strict";

  var NEAR_LIMIT = [100, 50, 20, 10, 5, 0];

  var texts = {};
  try {
    texts = JSON.parse(document.getElementById("script-texts").textContent).photos || {};
  } catch (e) {
    texts = {};
  }

  function fill(template, values) {
    return String(template || "").replace(/\{(\w+)\}/g, function (placeholder, name) {
      return name in values ? String(values[name]) : placeholder;
    });
  }

  function describedBy(field, id, present) {
    var ids = (field.getAttribute("aria-describedby") || "").split(/\s+/).filter(Boolean);
    ids = ids.filter(function (other) { return other !== id; });
    if (present) ids.push(id);
    if (ids.length) field.setAttribute("aria-describedby", ids.join(" "));
    else field.removeAttribute("aria-describedby");
  }

  function focusFirstError() {
    var field = Array.prototype.filter.call(
      document.querySelectorAll('form [aria-invalid="true"]'),
      function (candidate) { return candidate.offsetParent !== null; }
    )[0];
    if (!field) {
      var formError = document.querySelector("form .form-error");
      if (!formError) return;
      formError.setAttribute("tabindex", "-1");
      field = formError;
    }
    field.focus();
    if (field.scrollIntoView) field.scrollIntoView({ block: "center" });
  }

  function setupCounter(field) {
    var limit = parseInt(field.dataset.maxChars, 10);
    if (!limit) return;
    var form = field.form;
    var counter = document.createElement("small");
    counter.className = "counter";
    counter.id = field.id + "_counter";
    counter.setAttribute("aria-hidden", "true");
    var spoken = document.createElement("span");
    spoken.className = "visually-hidden";
    spoken.setAttribute("aria-live", "polite");
    var error = document.createElement("small");
    error.className = "error";
    error.id = field.id + "_limit_error";
    error.hidden = true;
    field.insertAdjacentElement("afterend", error);
    field.insertAdjacentElement("afterend", spoken);
    field.insertAdjacentElement("afterend", counter);
    var lastSpoken = null;
    var serverError = document.getElementById(field.id + "_error");

    function update() {
      var count = Array.from(field.value).length;
      var left = limit - count;
      var over = left < 0;
      counter.textContent = fill(texts.counter, { count: count });
      counter.classList.toggle("over", over);
      counter.classList.toggle("near", !over && left <= NEAR_LIMIT[0]);
      var message = over ? fill(texts.comment_too_long, { count: count, over: -left }) : "";
      error.textContent = message;
      error.hidden = !over;
      describedBy(field, error.id, over);
      if (over || (serverError && !serverError.hidden)) field.setAttribute("aria-invalid", "true");
      else field.removeAttribute("aria-invalid");
      // Speak only near the limit, and only when a threshold is crossed.
      var threshold = over ? -1 : NEAR_LIMIT.filter(function (n) { return left <= n; }).pop();
      if (threshold !== lastSpoken) {
        lastSpoken = threshold;
        spoken.textContent = threshold === undefined ? "" : over ? message : fill(texts.counter_left, { left: left });
      }
    }

    field.addEventListener("input", function () {
      if (serverError && !serverError.hidden) {
        serverError.hidden = true;
        describedBy(field, serverError.id, false);
      }
      update();
    });
    if (form) {
      form.addEventListener("submit", function (event) {
        var count = Array.from(field.value.trim()).length;
        var problem = "";
        if (count > limit) problem = fill(texts.comment_too_long, { count: count, over: count - limit });
        else if (!count && field.required) problem = texts.comment_required;
        if (!problem) return;
        event.preventDefault();
        error.textContent = problem;
        error.hidden = false;
        error.setAttribute("role", "alert");
        describedBy(field, error.id, true);
        field.setAttribute("aria-invalid", "true");
        field.focus();
      });
    }
    update();
  }

  // upload.js, loaded after this file, speaks with the same texts.
  window.mra = window.mra || {};
  window.mra.texts = texts;
  window.mra.fill = fill;

  function start() {
    document.querySelectorAll("textarea[data-max-chars]").forEach(setupCounter);
    focusFirstError();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
