/* The upload page: several photos at once, chosen or dropped, each a row with its
 * own title, preview, progress and result.
 *
 * Each file is checked before it is sent (type, size, title) and sent on its own
 * (multipart, Accept: application/json) with its own Idempotency-Key, kept across
 * retries, so a retry after an unknown outcome stores it once. A refusal never
 * loses a file: its row stays, with the server's message under its title or
 * file, and can be sent again; while writes are closed the rows wait and go out
 * when state.js re-enables the page's write controls.
 *
 * Without this script the plain single-file form still works. Every sentence
 * comes from the page (#script-texts, photos/texts.py), through forms.js.
 */
(function () {
  "use strict";

  var ACCEPTED = ["image/jpeg", "image/png", "image/webp"];
  var RETRYABLE = { 0: true, 409: true, 421: true, 502: true, 503: true, 504: true };

  // forms.js, loaded first, reads the page's texts and fills in their {names}.
  var texts = (window.mra && window.mra.texts) || {};
  var fill = window.mra.fill;

  function humanBytes(bytes) {
    if (bytes < 1024) return bytes + " B";
    if (bytes < 1024 * 1024) return (bytes / 1024).toFixed(0) + " KB";
    return (bytes / (1024 * 1024)).toFixed(1) + " MB";
  }

  function newKey() {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID();
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  function setup(form) {
    var input = form.querySelector('input[type="file"][name="image"]');
    var dropZone = form.querySelector("[data-drop-zone]");
    var list = form.querySelector("[data-upload-rows]");
    var summary = form.querySelector("[data-upload-summary]");
    var fileError = form.querySelector("[data-client-error]");
    var submit = form.querySelector('button[type="submit"]');
    var csrf = form.querySelector('input[name="csrfmiddlewaretoken"]');
    var maxBytes = parseInt(form.dataset.maxBytes, 10) || 0;
    var titleMax = parseInt(form.dataset.titleMaxLength, 10) || 0;
    if (!input || !dropZone || !list || !submit) return;

    var rows = [];
    var sending = false;
    var serial = 0;

    // The plain form's single title and file label give way to the rows; a title the
    // page carried (from another region's refused form) goes to the first file chosen.
    var singleTitle = form.querySelector("[data-single-title] input");
    var carriedTitle = singleTitle ? singleTitle.value.trim() : "";
    form.querySelectorAll("[data-single-title], [data-single-image-label]").forEach(function (node) {
      node.remove();
    });
    input.multiple = true;
    input.hidden = true;
    input.setAttribute("aria-label", texts.photos_label || "Photos");
    input.removeAttribute("required");
    dropZone.hidden = false;

    function showFileError(text) {
      fileError.textContent = text || "";
      fileError.hidden = !text;
      dropZone.classList.toggle("has-error", Boolean(text));
      if (text) dropZone.setAttribute("aria-describedby", "id_image_helptext " + fileError.id);
      else dropZone.setAttribute("aria-describedby", "id_image_helptext");
    }

    function setTitleError(row, text) {
      row.titleError.textContent = text || "";
      row.titleError.hidden = !text;
      if (text) {
        row.title.setAttribute("aria-invalid", "true");
        row.title.setAttribute("aria-describedby", row.titleError.id);
      } else {
        row.title.removeAttribute("aria-invalid");
        row.title.removeAttribute("aria-describedby");
      }
      row.node.classList.toggle("has-error", Boolean(text));
    }

    function setResult(row, state, text, link) {
      row.state = state;
      row.node.dataset.state = state;
      row.result.textContent = "";
      if (text) row.result.appendChild(document.createTextNode(text));
      if (link) {
        var a = el("a", "", link.text);
        a.href = link.href;
        if (text) row.result.appendChild(document.createTextNode(" "));
        row.result.appendChild(a);
      }
      row.result.classList.toggle("error", state === "invalid" || state === "refused" || state === "waiting");
      row.retry.hidden = !(state === "refused" || state === "waiting");
      row.remove.hidden = state === "sending" || state === "stored";
      row.title.readOnly = state === "sending" || state === "stored" || row.locked;
    }

    function setProgress(row, sent, total) {
      row.progress.max = total || 1;
      row.progress.value = Math.min(sent, total);
      row.progressText.textContent = fill(texts.sending, { sent: humanBytes(sent), total: humanBytes(total) });
    }

    function fileProblem(file) {
      if (file.size === 0) return texts.empty_file;
      if (maxBytes && file.size > maxBytes) return texts.too_large;
      if (file.type && ACCEPTED.indexOf(file.type) === -1) return texts.unsupported_type;
      return "";
    }

    function addRow(file) {
      serial += 1;
      var id = "upload-" + serial;
      var row = { file: file, key: newKey(), state: "ready", locked: false, objectUrl: null };
      row.node = el("li", "upload-row");
      var preview = el("div", "upload-thumb");
      var main = el("div", "upload-row-main");
      var name = el("p", "upload-file-name", file.name + " · " + humanBytes(file.size));
      var label = el("label", "", fill(texts.title_label, { name: file.name }));
      label.htmlFor = id + "-title";
      row.title = el("input", "upload-title");
      row.title.type = "text";
      row.title.id = id + "-title";
      row.title.required = true;
      row.title.value = carriedTitle || file.name.replace(/\.[^.]+$/, "") || file.name;
      carriedTitle = "";
      row.titleError = el("small", "error");
      row.titleError.id = id + "-title-error";
      row.titleError.hidden = true;
      var progressLine = el("div", "upload-progress");
      row.progress = el("progress");
      row.progress.id = id + "-progress";
      row.progress.max = file.size || 1;
      row.progress.value = 0;
      row.progress.setAttribute("aria-label", fill(texts.progress_label, { name: file.name }));
      row.progressText = el("span", "upload-progress-text muted", texts.ready);
      row.result = el("p", "upload-result");
      row.result.id = id + "-result";
      row.result.setAttribute("role", "status");
      var actions = el("div", "upload-row-actions");
      row.retry = el("button", "button secondary small", texts.retry);
      row.retry.type = "button";
      row.remove = el("button", "link-button", texts.remove);
      row.remove.type = "button";
      row.remove.setAttribute("aria-label", texts.remove + " " + file.name);
      progressLine.appendChild(row.progress);
      progressLine.appendChild(row.progressText);
      main.appendChild(name);
      main.appendChild(label);
      main.appendChild(row.title);
      main.appendChild(row.titleError);
      main.appendChild(progressLine);
      main.appendChild(row.result);
      actions.appendChild(row.retry);
      actions.appendChild(row.remove);
      row.node.appendChild(preview);
      row.node.appendChild(main);
      row.node.appendChild(actions);
      list.appendChild(row.node);
      list.hidden = false;
      rows.push(row);

      var problem = fileProblem(file);
      if (problem) {
        setResult(row, "invalid", (texts.refused_before_sending || "") + problem);
        row.title.readOnly = true;
        row.progress.hidden = true;
        row.progressText.hidden = true;
      } else {
        setResult(row, "ready", "");
        row.objectUrl = URL.createObjectURL(file);
        var image = el("img");
        image.alt = "";
        image.addEventListener("error", function () {
          image.hidden = true;
          if (row.state === "ready") row.progressText.textContent = texts.not_a_photo;
        });
        image.src = row.objectUrl;
        preview.appendChild(image);
      }

      row.title.addEventListener("input", function () {
        if (row.state === "refused" && row.refusedField === "title") setResult(row, "ready", "");
        if (row.titleError.textContent) setTitleError(row, "");
      });
      row.retry.addEventListener("click", function () {
        if (row.state === "refused" || row.state === "waiting") {
          if (validTitle(row)) sendAll([row]);
          else row.title.focus();
        }
      });
      row.remove.addEventListener("click", function () {
        if (row.state === "sending") return;
        if (row.objectUrl) URL.revokeObjectURL(row.objectUrl);
        rows.splice(rows.indexOf(row), 1);
        row.node.remove();
        list.hidden = rows.length === 0;
        dropZone.focus();
      });
    }

    function addFiles(files) {
      showFileError("");
      for (var i = 0; i < files.length; i++) addRow(files[i]);
      summary.textContent = "";
    }

    function validTitle(row) {
      var title = row.title.value.trim();
      var count = Array.from(title).length;
      if (!title) setTitleError(row, texts.title_required);
      else if (titleMax && count > titleMax) setTitleError(row, fill(texts.title_too_long, { count: count }));
      else {
        setTitleError(row, "");
        return true;
      }
      return false;
    }

    function answerOf(xhr) {
      try {
        return JSON.parse(xhr.responseText);
      } catch (e) {
        return {};
      }
    }

    function sendOne(row) {
      return new Promise(function (resolve) {
        var xhr = new XMLHttpRequest();
        var body = new FormData();
        if (csrf) body.append("csrfmiddlewaretoken", csrf.value);
        body.append("title", row.title.value.trim());
        body.append("image", row.file, row.file.name);
        xhr.open("POST", form.getAttribute("action") || window.location.pathname);
        xhr.setRequestHeader("Accept", "application/json");
        xhr.setRequestHeader("Idempotency-Key", row.key);
        if (csrf) xhr.setRequestHeader("X-CSRFToken", csrf.value);
        setResult(row, "sending", "");
        row.progress.hidden = false;
        row.progressText.hidden = false;
        setProgress(row, 0, row.file.size);
        xhr.upload.addEventListener("progress", function (event) {
          if (event.lengthComputable) setProgress(row, event.loaded, event.total);
        });
        xhr.upload.addEventListener("load", function () {
          row.progress.value = row.progress.max;
          row.progressText.textContent = texts.checking;
        });
        xhr.addEventListener("load", function () { resolve(answered(row, xhr.status, answerOf(xhr))); });
        xhr.addEventListener("error", function () { resolve(answered(row, 0, {})); });
        xhr.addEventListener("abort", function () { resolve(answered(row, 0, {})); });
        xhr.send(body);
      });
    }

    function answered(row, status, answer) {
      if (status === 201 && answer.url) {
        row.locked = true;
        row.progress.value = row.progress.max;
        row.progressText.textContent = texts.uploaded;
        setResult(row, "stored", "", { href: answer.url, text: fill(texts.view_photo, { title: answer.title }) });
        return true;
      }
      // The write may have been stored (no answer, or one that says so): from now on the
      // row is only ever retried as it is, with the same key and title.
      if (status === 0 || answer.error === "outcome_unknown" || answer.error === "write_in_flight") row.locked = true;
      var errors = answer.errors || {};
      row.refusedField = "";
      if (errors.title && errors.title.length) {
        row.refusedField = "title";
        setTitleError(row, errors.title.join(" "));
      }
      var detail = answer.detail || "";
      if (errors.image && errors.image.length) detail = errors.image.join(" ");
      else if (row.refusedField === "title") detail = "";
      row.progressText.textContent = "";
      row.progress.value = 0;
      if (RETRYABLE[status]) {
        var text = status === 0 ? texts.network_error : fill(texts.waiting, { detail: detail });
        if (!detail && status !== 0) text = fill(texts.unexpected, { status: status });
        setResult(row, "waiting", text);
      } else if (status >= 400 && status < 500 && (detail || row.refusedField)) {
        setResult(row, "refused", detail);
      } else {
        setResult(row, "refused", fill(texts.unexpected, { status: status }));
      }
      return false;
    }

    function writesClosed() {
      return submit.dataset.mraDisabled === "1";
    }

    async function sendAll(chosen) {
      if (sending) return;
      sending = true;
      submit.disabled = true;
      form.setAttribute("aria-busy", "true");
      for (var i = 0; i < chosen.length; i++) {
        if (rows.indexOf(chosen[i]) !== -1) await sendOne(chosen[i]);
      }
      sending = false;
      form.removeAttribute("aria-busy");
      // state.js owns the button while writes are closed; otherwise it is ours again.
      if (submit.dataset.mraDisabled !== "1") submit.disabled = false;
      var done = rows.filter(function (row) { return row.state === "stored"; }).length;
      summary.textContent = fill(texts.summary_done, { done: done, total: rows.length });
      var firstTitleError = rows.filter(function (row) { return row.title.getAttribute("aria-invalid") === "true"; })[0];
      if (firstTitleError) firstTitleError.title.focus();
      if (rows.some(function (row) { return row.state === "waiting"; })) retryWhenWritable();
    }

    var retryTimer = null;
    function retryWhenWritable() {
      if (retryTimer) return;
      retryTimer = setTimeout(function () {
        retryTimer = null;
        var waiting = rows.filter(function (row) { return row.state === "waiting"; });
        if (!waiting.length || sending) return;
        if (writesClosed()) retryWhenWritable();
        else sendAll(waiting);
      }, 2000);
    }

    input.addEventListener("change", function () {
      addFiles(Array.prototype.slice.call(input.files || []));
    });
    dropZone.addEventListener("click", function () { input.click(); });
    ["dragenter", "dragover"].forEach(function (type) {
      dropZone.addEventListener(type, function (event) {
        event.preventDefault();
        dropZone.classList.add("is-dragging");
      });
    });
    ["dragleave", "drop"].forEach(function (type) {
      dropZone.addEventListener(type, function () { dropZone.classList.remove("is-dragging"); });
    });
    dropZone.addEventListener("drop", function (event) {
      event.preventDefault();
      if (event.dataTransfer && event.dataTransfer.files) addFiles(Array.prototype.slice.call(event.dataTransfer.files));
    });

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (sending) return;
      var sendable = rows.filter(function (row) {
        return row.state === "ready" || row.state === "waiting" || (row.state === "refused" && row.refusedField === "title");
      });
      if (!sendable.length) {
        if (!rows.length) {
          showFileError(texts.image_required);
          dropZone.focus();
        }
        return;
      }
      var invalid = sendable.filter(function (row) { return !validTitle(row); });
      if (invalid.length) {
        invalid[0].title.focus();
        return;
      }
      sendAll(sendable);
    });
  }

  document.querySelectorAll("[data-upload-form]").forEach(setup);
})();
