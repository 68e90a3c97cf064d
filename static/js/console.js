/* The operator console keeps itself up to date.
 *
 * Every [data-every-ms] (1.5 s) it asks /console/status.json (the section's
 * data-status-url) and replaces each [data-live-html] section whose rendered
 * HTML changed (the server's `keys`). A section that holds a form keeps what
 * the operator typed, which <details> are open and where the focus is, so an
 * update never resets a half-filled form. Region probes come only from this
 * script: the page renders at once with "checking…" and the first answer
 * fills them in.
 *
 * Every sentence comes from the server (the sections, `summary`, the page's
 * data-offline-text); the script only places them. Hidden tabs do not poll.
 */
(function () {
  "use strict";

  var TIMEOUT_MS = 5000;

  var root = document.querySelector("[data-console]");
  if (!root || !window.fetch) {
    return;
  }
  var url = root.getAttribute("data-status-url");
  var every = parseInt(root.getAttribute("data-every-ms"), 10) || 1500;
  var live = root.querySelector("[data-console-live]");
  var liveLine = root.querySelector("[data-console-live-text]");
  var announcer = root.querySelector("[data-console-announce]");
  var updated = root.querySelector("[data-console-updated]");
  var liveText = liveLine ? liveLine.textContent : "";
  var keys = {};
  var lastSummary = null;
  var timer = null;
  var inFlight = false;

  function fieldsWithInput(section) {
    var values = {};
    section.querySelectorAll("input, textarea, select").forEach(function (field) {
      if (field.id && field.type !== "hidden" && field.value !== field.defaultValue) {
        values[field.id] = field.value;
      }
    });
    return values;
  }

  function replaceSection(section, html) {
    var active = document.activeElement;
    var focusId = active && active.id && section.contains(active) ? active.id : null;
    var selection = null;
    if (focusId && typeof active.selectionStart === "number") {
      selection = [active.selectionStart, active.selectionEnd];
    }
    var values = fieldsWithInput(section);
    var open = {};
    section.querySelectorAll("details[id]").forEach(function (details) {
      open[details.id] = details.open;
    });

    section.innerHTML = html;

    Object.keys(values).forEach(function (id) {
      var field = document.getElementById(id);
      if (field && section.contains(field)) {
        field.value = values[id];
      }
    });
    Object.keys(open).forEach(function (id) {
      var details = document.getElementById(id);
      if (details && section.contains(details)) {
        details.open = open[id];
      }
    });
    if (focusId) {
      var again = document.getElementById(focusId);
      if (again && section.contains(again)) {
        again.focus();
        if (selection && typeof again.setSelectionRange === "function") {
          try {
            again.setSelectionRange(selection[0], selection[1]);
          } catch (ignored) {
            // Inputs of type number have no selection.
          }
        }
      }
    }
  }

  function apply(status) {
    var sections = status.html || {};
    var sectionKeys = status.keys || {};
    Object.keys(sections).forEach(function (name) {
      if (keys[name] === sectionKeys[name]) {
        return;
      }
      var section = root.querySelector('[data-live-html="' + name + '"]');
      if (!section) {
        return;
      }
      replaceSection(section, sections[name]);
      keys[name] = sectionKeys[name];
    });
    if (announcer && status.summary !== lastSummary) {
      // Announced on a change only, never on every poll.
      if (lastSummary !== null) {
        announcer.textContent = status.summary;
      }
      lastSummary = status.summary;
    }
    if (live && liveLine) {
      live.classList.remove("stale");
      liveLine.textContent = liveText;
    }
    if (updated && status.read_at) {
      var when = new Date(status.read_at * 1000);
      updated.textContent = when.toLocaleTimeString();
      updated.setAttribute("datetime", when.toISOString());
    }
  }

  function failed(error) {
    if (live && liveLine) {
      live.classList.add("stale");
      var detail = error && typeof error.detail === "string" ? error.detail : "";
      liveLine.textContent = detail || live.getAttribute("data-offline-text");
    }
  }

  function schedule(delay) {
    window.clearTimeout(timer);
    timer = window.setTimeout(poll, delay);
  }

  function poll() {
    if (document.hidden || inFlight) {
      return;
    }
    inFlight = true;
    var controller = window.AbortController ? new AbortController() : null;
    var abort = controller
      ? window.setTimeout(function () {
          controller.abort();
        }, TIMEOUT_MS)
      : null;
    fetch(url, {
      credentials: "same-origin",
      cache: "no-store",
      headers: { Accept: "application/json" },
      signal: controller ? controller.signal : undefined,
    })
      .then(function (response) {
        if (response.ok) {
          return response.json();
        }
        // A 401 or 403 says what to do (sign in again); anything else is "no answer".
        return response.json().then(
          function (body) {
            throw { detail: (body && body.detail) || "" };
          },
          function () {
            throw { detail: "" };
          }
        );
      })
      .then(apply, failed)
      .then(function () {
        window.clearTimeout(abort);
        inFlight = false;
        schedule(every);
      });
  }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) {
      schedule(0);
    }
  });

  window.mraConsole = { refresh: poll };
  poll();
})();
