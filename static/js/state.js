/* Pages follow the routing state: banner, write controls, moving to the writable region.
 *
 * Polls /api/state about every 2 s (not in hidden tabs). While this region is
 * not writable, every [data-write-control] element is disabled with the
 * reason next to it; when writes reopen they are re-enabled in place. When
 * the writable region changes to another region, the page moves to the same
 * path there. If this region does not answer, the other region's /api/state
 * is asked instead. window.mra.apiFetch waits out 503s and follows 421s.
 * Every sentence it shows comes from the page (#script-texts, written by
 * routing/banner.py); it only picks the situation and fills in the region.
 */
(function () {
  "use strict";

  var POLL_MS = 2000;
  var TIMEOUT_MS = 1500;
  var RETRY_LIMIT_MS = 60000;

  var banner = null;
  var servingRegion = "";
  var regionUrls = {};
  var texts = {};
  var baseline = null; // the region writes come from (or came from, before a fence)
  var timer = null;
  var moving = false;

  function otherRegion() {
    var names = Object.keys(regionUrls);
    for (var i = 0; i < names.length; i++) {
      if (names[i] !== servingRegion) return names[i];
    }
    return null;
  }

  /* texts[situation] holds the banner, the reason shown next to write
   * controls and the banner's look; only {writable_region} is left to fill
   * from the polled state. */
  function fill(template, state) {
    return template.replace(/\{(\w+)\}/g, function (placeholder, name) {
      var value = state && state[name];
      return typeof value === "string" ? value : placeholder;
    });
  }

  function situationOf(state, ownRegionDown) {
    if (!state) return "unreachable";
    if (ownRegionDown) return "region_down";
    if (state.writable_region === servingRegion) return "open";
    if (state.state === "fenced") return "fenced";
    return "read_only";
  }

  function setText(el, text) {
    // Rewriting an aria-live region with the same words makes screen readers repeat them.
    if (el.textContent !== text) el.textContent = text;
  }

  function controls() {
    return document.querySelectorAll("[data-write-control]");
  }

  function fieldsOf(el) {
    if (el.tagName === "FORM") return el.querySelectorAll("button, input, select, textarea");
    return [el];
  }

  function disable(el, reason) {
    var fields = fieldsOf(el);
    for (var i = 0; i < fields.length; i++) {
      var field = fields[i];
      if (field.tagName === "A") {
        field.setAttribute("aria-disabled", "true");
        field.classList.add("is-disabled");
        field.dataset.mraDisabled = "1";
      } else if (!field.disabled) {
        field.disabled = true;
        field.dataset.mraDisabled = "1";
      }
    }
    if (el.dataset.writeDisabledReason !== reason) {
      el.setAttribute("title", reason);
      el.dataset.writeDisabledReason = reason;
    }
    var note = el.nextElementSibling;
    if (!note || !note.hasAttribute("data-write-reason")) {
      note = document.createElement("p");
      note.className = "write-reason";
      note.setAttribute("data-write-reason", "");
      note.setAttribute("role", "note");
      el.insertAdjacentElement("afterend", note);
    }
    setText(note, reason);
  }

  function enable(el) {
    var fields = fieldsOf(el);
    for (var i = 0; i < fields.length; i++) {
      var field = fields[i];
      if (field.dataset.mraDisabled !== "1") continue;
      if (field.tagName === "A") {
        field.removeAttribute("aria-disabled");
        field.classList.remove("is-disabled");
      } else {
        field.disabled = false;
      }
      delete field.dataset.mraDisabled;
    }
    if (el.dataset.writeDisabledReason !== undefined) {
      el.removeAttribute("title");
      delete el.dataset.writeDisabledReason;
    }
    var note = el.nextElementSibling;
    if (note && note.hasAttribute("data-write-reason")) note.remove();
  }

  function applyControls(reason) {
    var els = controls();
    for (var i = 0; i < els.length; i++) {
      if (reason) disable(els[i], reason);
      else enable(els[i]);
    }
  }

  function moveTo(region) {
    var url = regionUrls[region];
    if (!url || moving) return;
    moving = true;
    window.location.assign(url.replace(/\/$/, "") + window.location.pathname + window.location.search);
  }

  function render(state, options) {
    options = options || {};
    var text = texts[situationOf(state, options.ownRegionDown)] || { banner: "", reason: "", look: "unknown" };
    applyControls(fill(text.reason, state));
    if (banner) {
      var message = banner.querySelector("[data-routing-message]");
      if (message) setText(message, fill(text.banner, state));
      if (!banner.classList.contains(text.look)) {
        for (var key in texts) banner.classList.remove(texts[key].look);
        banner.classList.add(text.look);
      }
      if (state) banner.dataset.version = String(state.version);
    }
    if (!state) return;
    var writer = state.writable_region || state.fenced_from || null;
    var changed = writer && baseline && writer !== baseline;
    if (writer) baseline = writer;
    var elsewhere = state.writable_region && state.writable_region !== servingRegion;
    if (elsewhere && (changed || options.ownRegionDown)) moveTo(state.writable_region);
  }

  function fetchJson(url, init) {
    var controller = window.AbortController ? new AbortController() : null;
    var timeout = setTimeout(function () { if (controller) controller.abort(); }, TIMEOUT_MS);
    var opts = Object.assign({ headers: { Accept: "application/json" }, cache: "no-store" }, init || {});
    if (controller) opts.signal = controller.signal;
    return fetch(url, opts).then(function (response) {
      clearTimeout(timeout);
      if (!response.ok) throw new Error(url + " answered " + response.status);
      return response.json();
    }, function (error) {
      clearTimeout(timeout);
      throw error;
    });
  }

  function poll() {
    timer = null;
    return fetchJson("/api/state")
      .then(function (state) { render(state); })
      .catch(function () {
        var other = otherRegion();
        if (!other || !regionUrls[other]) throw new Error("no other region");
        return fetchJson(regionUrls[other].replace(/\/$/, "") + "/api/state", { mode: "cors", credentials: "omit" })
          .then(function (state) {
            render(state, { ownRegionDown: true });
          });
      })
      .catch(function () { render(null); })
      .then(schedule, schedule);
  }

  function schedule() {
    if (timer || document.hidden) return;
    timer = setTimeout(poll, POLL_MS);
  }

  function onVisibility() {
    if (document.hidden) {
      if (timer) clearTimeout(timer);
      timer = null;
    } else if (!timer) {
      poll();
    }
  }

  function sleep(ms) {
    return new Promise(function (resolve) { setTimeout(resolve, ms); });
  }

  /* fetch() for page scripts calling the API: a 503 with Retry-After is
   * retried after the wait (for up to a minute); a 421 moves the page to the
   * writable region (its session and forms live there), returning the response. */
  async function apiFetch(url, options) {
    var deadline = Date.now() + RETRY_LIMIT_MS;
    for (;;) {
      var response = await fetch(url, options || {});
      var retryAfter = response.headers.get("Retry-After");
      if (response.status === 503 && retryAfter !== null && Date.now() < deadline) {
        var seconds = parseFloat(retryAfter);
        await sleep((isNaN(seconds) ? 2 : Math.max(seconds, 0.2)) * 1000);
        continue;
      }
      if (response.status === 421) {
        var body = await response.clone().json().catch(function () { return {}; });
        if (body.writable_region && regionUrls[body.writable_region]) moveTo(body.writable_region);
        else if (body.writable_url && !moving) {
          moving = true;
          window.location.assign(body.writable_url.replace(/\/$/, "") + window.location.pathname + window.location.search);
        }
      }
      return response;
    }
  }

  function blockDisabledSubmits(event) {
    var form = event.target;
    if (form && form.querySelector && form.querySelector("[data-mra-disabled]")) {
      event.preventDefault();
    }
  }

  function start() {
    banner = document.getElementById("routing-banner");
    servingRegion = (banner && banner.dataset.servingRegion) || document.body.dataset.region || "";
    try {
      regionUrls = JSON.parse((banner && banner.dataset.regions) || "{}");
    } catch (e) {
      regionUrls = {};
    }
    try {
      texts = JSON.parse(document.getElementById("script-texts").textContent).routing || {};
    } catch (e) {
      texts = {};
    }
    var initial = null;
    try {
      initial = banner && banner.dataset.state ? JSON.parse(banner.dataset.state) : null;
    } catch (e) {
      initial = null;
    }
    if (initial) {
      baseline = initial.writable_region || initial.fenced_from || null;
      render(initial);
    } else {
      render(null);
    }
    document.addEventListener("visibilitychange", onVisibility);
    document.addEventListener("submit", blockDisabledSubmits, true);
    schedule();
  }

  window.mra = window.mra || {};
  window.mra.apiFetch = apiFetch;
  window.mra.refreshState = poll;

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
