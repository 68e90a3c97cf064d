/* Pages follow the routing state: banner, write controls, the writable region.
 *
 * Polls /api/state about every 2 s (not in hidden tabs). While writes cannot
 * be sent from this page, every [data-write-control] element is disabled with
 * the reason next to it; when writes reopen they are re-enabled in place
 * (form fields are never touched, so what the user typed or picked stays).
 *
 * Through the front door (the banner's data-door) the page never leaves its
 * origin: the door sends writes to whichever region takes them, so writing is
 * open whenever some region is writable, and window.mra.apiFetch waits out a
 * 503 (or a 421, which the door should never let through) and retries in place.
 *
 * On a regional address, a page on a region that does not take writes shows a
 * link to the same page in the writable region; when the writable region
 * changes to another region, the page moves there. If this region does not
 * answer, the other region's /api/state is asked instead. apiFetch waits out
 * 503s and follows 421s.
 *
 * Every sentence it shows comes from the page (#script-texts, written by
 * routing/banner.py); it only picks the situation and fills in the regions.
 * The banner is hidden while it has nothing to say (writes open); a change of
 * its words is announced once through its live region, never a poll.
 */
(function () {
  "use strict";

  var POLL_MS = 2000;
  var TIMEOUT_MS = 1500;
  var RETRY_LIMIT_MS = 60000;

  var banner = null;
  var door = false;
  var servingRegion = "";
  var regionUrls = {};
  var texts = {};
  var baseline = null; // the region writes come from (or came from, before a fence)
  var timer = null;
  var moving = false;
  var fencedFromUnknown = false;

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
    var values = Object.assign({ serving_region: servingRegion }, state || {});
    return template.replace(/\{(\w+)\}/g, function (placeholder, name) {
      var value = values[name];
      return typeof value === "string" && value ? value : placeholder;
    });
  }

  function situationOf(state, ownRegionDown) {
    if (!state) return "unreachable";
    if (door) return state.writable_region ? "open" : "fenced";
    if (ownRegionDown) return "region_down";
    if (state.writable_region === servingRegion) return "open";
    if (state.state === "fenced") return "fenced";
    return "read_only";
  }

  function setText(el, text) {
    // Rewriting an aria-live region with the same words makes screen readers repeat them.
    if (el.textContent !== text) el.textContent = text;
  }

  /* The live region is empty at load and written only when the banner's words
   * change, so a screen reader hears each change once and never the polls. */
  function announce(words) {
    var live = banner && banner.querySelector("[data-routing-announce]");
    if (live && words) live.textContent = words;
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

  function samePageIn(region) {
    var url = regionUrls[region];
    return url ? url.replace(/\/$/, "") + window.location.pathname + window.location.search : "";
  }

  function moveTo(region) {
    var url = samePageIn(region);
    if (door || !url || moving) return;
    moving = true;
    window.location.assign(url);
  }

  function showLink(text, state) {
    var link = banner && banner.querySelector("[data-writable-link]");
    if (!link) return;
    var target = text.link && state && state.writable_region ? samePageIn(state.writable_region) : "";
    // The server's link may carry more than the path (a refused comment's text): keep
    // it while it still points at the writable region.
    if (target && link.dataset.region !== state.writable_region) {
      link.href = target;
      link.dataset.region = state.writable_region;
    }
    if (target) setText(link, fill(text.link, state));
    link.hidden = !target;
  }

  function render(state, options) {
    options = options || {};
    var text = texts[situationOf(state, options.ownRegionDown)] || { banner: "", reason: "", look: "unknown" };
    applyControls(fill(text.reason, state));
    if (banner) {
      var message = banner.querySelector("[data-routing-message]");
      var words = fill(text.banner, state);
      if (message && message.textContent !== words) {
        message.textContent = words;
        var body = banner.querySelector("[data-routing-body]");
        if (body) body.hidden = !words;
        banner.classList.toggle("quiet", !words);
        if (!options.initial) announce(fill(text.announce || words, state));
      }
      if (!banner.classList.contains(text.look)) {
        for (var key in texts) banner.classList.remove(texts[key].look);
        banner.classList.add(text.look);
      }
      if (state) banner.dataset.version = String(state.version);
    }
    showLink(text, state);
    if (!state) return;
    if (door && state.serving_region) servingRegion = state.serving_region;
    var writer = state.writable_region || state.fenced_from || null;
    // A fence whose former writer is unknown: the next writer is a change all the same.
    if (!writer && state.state === "fenced") fencedFromUnknown = true;
    var changed = writer && (baseline ? writer !== baseline : fencedFromUnknown);
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
        // Through the door there is only the door to ask.
        var other = door ? null : otherRegion();
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
   * retried after the wait (for up to a minute). On a regional address a 421
   * moves the page to the writable region (its session and forms live there),
   * returning the response; through the door a 421 is waited out like a 503,
   * for the door sends the retry to the region that takes writes. */
  async function apiFetch(url, options) {
    var deadline = Date.now() + RETRY_LIMIT_MS;
    for (;;) {
      var response = await fetch(url, options || {});
      var retryAfter = response.headers.get("Retry-After");
      var waitable = response.status === 503 ? retryAfter !== null : door && response.status === 421;
      if (waitable && Date.now() < deadline) {
        var seconds = parseFloat(retryAfter);
        await sleep((isNaN(seconds) ? 1 : Math.max(seconds, 0.2)) * 1000);
        continue;
      }
      if (response.status === 421 && !door) {
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
    door = Boolean(banner && banner.dataset.door === "1");
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
    if (initial) baseline = initial.writable_region || initial.fenced_from || null;
    render(initial, { initial: true });
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
