/* possync dashboard: live cards, "Sync now" without reloads, jobs table refresh.
   Plain JavaScript, no dependencies. The pages work without it (forms post and redirect). */
(function () {
  "use strict";

  var OVERVIEW_POLL_MS = 2000;
  var JOBS_POLL_MS = 3000;
  var RETRY_POLL_MS = 5000;
  var SOURCE_LABELS = { lightspeed: "Lightspeed", square: "Square" };
  var STATUS_TEXT = {
    success: "Synced", failed: "Failed", running: "Running", pending: "Pending",
    never_synced: "Never synced"
  };

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  function banner(text) {
    var el = document.getElementById("banner");
    if (!el) { return; }
    el.textContent = text || "";
    el.hidden = !text;
  }

  function number(value) {
    return value === null || value === undefined ? "—" : Number(value).toLocaleString("en-US");
  }

  function duration(seconds) {
    if (seconds === null || seconds === undefined) { return "—"; }
    if (seconds < 1) { return seconds.toFixed(2) + " s"; }
    if (seconds < 60) { return seconds.toFixed(1) + " s"; }
    var minutes = Math.floor(seconds / 60);
    if (minutes < 60) { return minutes + " min " + Math.floor(seconds % 60) + " s"; }
    return Math.floor(minutes / 60) + " h " + (minutes % 60) + " min";
  }

  function age(seconds) {
    seconds = Math.max(0, seconds);
    if (seconds < 60) { return Math.round(seconds) + " s ago"; }
    if (seconds < 3600) { return Math.floor(seconds / 60) + " min ago"; }
    if (seconds < 172800) { return Math.round(seconds / 3600) + " h ago"; }
    return Math.round(seconds / 86400) + " days ago";
  }

  function statusText(status, job) {
    if (job === "doing") { return "Running…"; }
    if (job === "todo") { return "Queued"; }
    return STATUS_TEXT[status] || status;
  }

  function countOf(value, noun) {
    var n = value || 0;
    return number(n) + " " + noun + (n === 1 ? "" : "s");
  }

  // Every time the pages show is in the shop's zone, as "2026-11-01 05:31:07" (24 h), like
  // the server-rendered ones.
  function shopTime(value, timeOnly) {
    var zone = document.body.dataset.timezone || "UTC";
    var parts = {};
    new Intl.DateTimeFormat("en-CA", {
      timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23"
    }).formatToParts(value).forEach(function (part) { parts[part.type] = part.value; });
    var time = parts.hour + ":" + parts.minute + ":" + parts.second;
    return timeOnly ? time : parts.year + "-" + parts.month + "-" + parts.day + " " + time;
  }

  function lastRunText(run) {
    if (!run) { return "—"; }
    if (run.status === "failed" || run.status === "abandoned") {
      return run.status + " after " + duration(run.duration_seconds);
    }
    return countOf(run.records, "record") + " in " + duration(run.duration_seconds);
  }

  function progressText(run) {
    var where = "page " + number(run.pages);
    if (run.estimated_total) {
      var share = Math.min(99, Math.floor(run.records * 100 / run.estimated_total));
      return share + "% · " + number(run.records) + " of ~" + number(run.estimated_total) +
        " records · " + where;
    }
    return countOf(run.records, "record") + " · " + where;
  }

  function setText(card, field, text) {
    var el = card.querySelector('[data-field="' + field + '"]');
    if (el && el.textContent !== text) { el.textContent = text; }
    return el;
  }

  function updateCard(card, data, serverNow) {
    var wasRunning = card.classList.contains("is-running");
    card.className = card.className.replace(/\bhealth-\w+/, "health-" + data.health);
    card.classList.toggle("is-running", Boolean(data.running));
    setText(card, "health", data.health);
    var last = setText(card, "last_sync",
      data.last_sync_time ? age((serverNow - Date.parse(data.last_sync_time)) / 1000) : "never");
    if (last) { last.title = data.last_sync_time ? shopTime(new Date(data.last_sync_time)) : "never"; }
    setText(card, "status", statusText(data.status, data.job));
    setText(card, "records", number(data.records_total));
    setText(card, "last_run", lastRunText(data.last_run));
    var error = setText(card, "error", data.error || "");
    if (error) { error.hidden = !(data.error && data.status === "failed"); }
    var progress = card.querySelector('[data-field="progress"]');
    if (progress) {
      var bar = progress.querySelector("progress");
      var run = data.running;
      progress.hidden = !run && data.job !== "todo";
      if (run) {
        if (run.estimated_total) {
          bar.max = run.estimated_total;
          bar.value = Math.min(run.records, run.estimated_total);
        } else {
          bar.removeAttribute("value");
        }
        setText(card, "progress_text", progressText(run));
      } else if (data.job === "todo") {
        bar.removeAttribute("value");
        setText(card, "progress_text", "Waiting for a worker…");
      }
    }
    if (wasRunning && !data.running) {
      card.classList.add("just-finished");
      setTimeout(function () { card.classList.remove("just-finished"); }, 4000);
    }
  }

  function showFailures(failures) {
    var section = document.querySelector("[data-failures]");
    if (!section) { return; }
    var list = section.querySelector("[data-failure-lines]");
    list.textContent = "";
    failures.forEach(function (failure) {
      var item = document.createElement("li");
      var name = document.createElement("b");
      var count = failure.entities.length;
      name.textContent = SOURCE_LABELS[failure.source] || failure.source;
      item.appendChild(name);
      item.appendChild(document.createTextNode(": " + count + (count === 1 ? " entity" : " entities") +
        " failed: " + failure.reason + "."));
      if (failure.fix) {
        var fix = document.createElement("span");
        fix.className = "fix";
        fix.textContent = " Fix: " + failure.fix + ".";
        item.appendChild(fix);
      }
      if (failure.other_red) {
        var others = document.createElement("span");
        others.className = "others";
        others.textContent = " " + failure.other_red + " other " + name.textContent + " " +
          (failure.other_red === 1 ? "entity is" : "entities are") + " red too.";
        item.appendChild(others);
      }
      list.appendChild(item);
    });
    section.hidden = failures.length === 0;
  }

  function moneyCheckChanged(checks) {
    var shown = document.querySelectorAll("[data-reconcile]");
    if (checks.length !== shown.length) { return true; }
    return checks.some(function (check) {
      var card = document.querySelector('[data-reconcile="' + check.source + '"]');
      return !card || card.dataset.checkedAt !== (check.checked_at || "");
    });
  }

  function applyStatus(status) {
    var serverNow = Date.parse(status.generated_at);
    var cards = {};
    document.querySelectorAll("[data-card]").forEach(function (card) {
      cards[card.dataset.key] = card;
    });
    var known = Object.keys(cards).length;
    var missing = status.cards.some(function (data) { return !cards[data.key]; });
    if (missing || status.cards.length !== known) {
      // A new source or entity appeared: rebuild the page once rather than the DOM by hand.
      window.location.reload();
      return;
    }
    if (moneyCheckChanged(status.reconciliation || [])) {
      // A reconciliation finished: its panel (differences table and all) comes from the server.
      window.location.reload();
      return;
    }
    status.cards.forEach(function (data) { updateCard(cards[data.key], data, serverNow); });
    showFailures(status.failures || []);
    ["green", "yellow", "red"].forEach(function (colour) {
      var el = document.querySelector('[data-count="' + colour + '"]');
      if (el) { el.textContent = status.summary[colour]; }
    });
    var updated = document.querySelector("[data-updated]");
    if (updated) { updated.textContent = "Updated " + shopTime(new Date(), true) + "."; }
  }

  function pollStatus() {
    fetch(document.body.dataset.statusUrl || "/api/status", { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (response.status === 401) {
          window.location.href = "/login?next=" + encodeURIComponent(window.location.pathname);
          return null;
        }
        return response.json().then(function (body) { return { ok: response.ok, body: body }; });
      })
      .then(function (result) {
        if (!result) { return; }
        if (!result.ok) {
          banner("Database unavailable: " + (result.body.detail || result.body.error) + " — retrying.");
          setTimeout(pollStatus, RETRY_POLL_MS);
          return;
        }
        banner("");
        applyStatus(result.body);
        setTimeout(pollStatus, OVERVIEW_POLL_MS);
      })
      .catch(function () {
        banner("possync is not answering — retrying.");
        setTimeout(pollStatus, RETRY_POLL_MS);
      });
  }

  function pollJobs(container) {
    fetch(container.dataset.partialUrl, { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.text();
      })
      .then(function (html) {
        banner("");
        container.innerHTML = html;
        setTimeout(function () { pollJobs(container); }, JOBS_POLL_MS);
      })
      .catch(function () {
        banner("Could not refresh the jobs — retrying.");
        setTimeout(function () { pollJobs(container); }, RETRY_POLL_MS);
      });
  }

  function flash(form, message, isError) {
    var card = form.closest("[data-card]");
    var target = card ? card.querySelector('[data-field="progress_text"]') : null;
    if (card && !isError) {
      card.querySelector('[data-field="progress"]').hidden = false;
      target.textContent = message;
      return;
    }
    banner(message);
    if (!isError) { setTimeout(function () { banner(""); }, 4000); }
  }

  function submitSync(event) {
    var form = event.target.closest("form[data-sync]");
    if (!form) { return; }
    event.preventDefault();
    var button = form.querySelector("button");
    button.disabled = true;
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRF-Token": csrfToken() }
    })
      .then(function (response) {
        return response.json().then(function (body) { return { ok: response.ok, body: body }; },
          function () { return { ok: false, body: { error: "HTTP " + response.status } }; });
      })
      .then(function (result) {
        flash(form, result.body.message || result.body.error || "", !result.ok);
      })
      .catch(function () { flash(form, "possync is not answering; try again.", true); })
      .then(function () { setTimeout(function () { button.disabled = false; }, 1500); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.addEventListener("submit", submitSync);
    var page = document.body.dataset.page;
    if (page === "overview") { setTimeout(pollStatus, 300); }
    var jobs = document.querySelector("[data-jobs]");
    if (jobs) { setTimeout(function () { pollJobs(jobs); }, JOBS_POLL_MS); }
  });
})();
