// graphgate usage dashboard: draws the analysts' charts from /usage/v1.
// No inline script (the page runs under a strict Content-Security-Policy); the bearer
// token is kept in sessionStorage only and sent only to this origin's usage API.
(function () {
  "use strict";

  var TOKEN_KEY = "graphgate.usage.token";
  var MAX_HOURLY_DAYS = 31;
  var PALETTE = ["#2f6fde", "#e8731c", "#2a9d63", "#c23b6c", "#7a52c7", "#b59a12",
    "#1b9bb3", "#8c5a3c", "#5b6675", "#d14b4b"];
  var charts = {};
  var colors = {};

  // colorOf gives each series name (client app, operation) the same colour in every chart.
  function colorOf(key) {
    if (!colors[key]) { colors[key] = PALETTE[Object.keys(colors).length % PALETTE.length]; }
    return colors[key];
  }

  function $(sel) { return document.querySelector(sel); }

  // ---- token ---------------------------------------------------------------------

  function getToken() {
    try { return sessionStorage.getItem(TOKEN_KEY) || ""; } catch (e) { return ""; }
  }

  function setToken(tok) {
    tok = (tok || "").trim().replace(/^bearer\s+/i, "");
    try {
      if (tok) { sessionStorage.setItem(TOKEN_KEY, tok); } else { sessionStorage.removeItem(TOKEN_KEY); }
    } catch (e) { /* storage disabled: the token lives only in this page */ }
    return tok;
  }

  // ---- dates ---------------------------------------------------------------------

  function isoDay(d) { return d.toISOString().slice(0, 10); }

  function parseDay(s) { return new Date(s + "T00:00:00Z"); }

  function defaultRange() {
    var to = new Date();
    var from = new Date(to.getTime() - 13 * 864e5);
    return { from: isoDay(from), to: isoDay(to) };
  }

  // slots lists every time slot from..to (both days included) at the granularity, as the
  // API's "time" strings ("2026-11-24T00:00:00Z").
  function slots(from, to, granularity) {
    var step = granularity === "hour" ? 36e5 : 864e5;
    var out = [];
    var end = parseDay(to).getTime() + 864e5;
    for (var t = parseDay(from).getTime(); t < end; t += step) {
      out.push(new Date(t).toISOString().replace(".000Z", "Z"));
    }
    return out;
  }

  function slotLabel(iso, granularity) {
    return granularity === "hour" ? iso.slice(5, 10) + " " + iso.slice(11, 16) : iso.slice(0, 10);
  }

  function normTime(s) {
    var d = new Date(s);
    return isNaN(d.getTime()) ? s : d.toISOString().replace(".000Z", "Z");
  }

  // ---- API -----------------------------------------------------------------------

  function ApiError(status, code, message) {
    this.status = status;
    this.code = code;
    this.message = message;
  }

  function api(kind, params) {
    var q = new URLSearchParams(params);
    return fetch("v1/" + kind + "?" + q.toString(), {
      headers: { "Authorization": "Bearer " + getToken(), "Accept": "application/json" },
      cache: "no-store",
      credentials: "omit",
      referrerPolicy: "no-referrer"
    }).then(function (resp) {
      return resp.text().then(function (text) {
        var body = null;
        try { body = text ? JSON.parse(text) : null; } catch (e) { body = null; }
        if (!resp.ok) {
          var err = body && body.error ? body.error : {};
          throw new ApiError(resp.status, err.code || "HTTP " + resp.status,
            err.message || "The usage API answered " + resp.status + ".");
        }
        if (!body || !Array.isArray(body.rows)) {
          throw new ApiError(resp.status, "badResponse", "The usage API answered without rows.");
        }
        return body;
      });
    });
  }

  // ---- series --------------------------------------------------------------------

  // seriesBy groups rows by a dimension into one dataset per value, aligned on times.
  function seriesBy(rows, times, dim, value, fill) {
    var index = {};
    times.forEach(function (t, i) { index[t] = i; });
    var byKey = {};
    var totals = {};
    rows.forEach(function (r) {
      var key = r[dim] || "(all)";
      var i = index[normTime(r.time)];
      if (i === undefined) { return; }
      if (!byKey[key]) { byKey[key] = times.map(function () { return fill; }); totals[key] = 0; }
      byKey[key][i] = (byKey[key][i] || 0) + r[value];
      totals[key] += r[value];
    });
    return Object.keys(byKey).sort(function (a, b) { return totals[b] - totals[a] || (a < b ? -1 : 1); })
      .map(function (key) {
        var color = colorOf(key);
        return { label: key, data: byKey[key], backgroundColor: color, borderColor: color };
      });
  }

  function column(rows, times, value) {
    var index = {};
    times.forEach(function (t, i) { index[t] = i; });
    var out = times.map(function () { return null; });
    rows.forEach(function (r) {
      var i = index[normTime(r.time)];
      if (i !== undefined) { out[i] = r[value]; }
    });
    return out;
  }

  // ---- drawing -------------------------------------------------------------------

  function draw(id, type, labels, datasets, opts) {
    var section = document.getElementById(id);
    var canvas = section.querySelector("canvas");
    if (charts[id]) { charts[id].destroy(); }
    opts = opts || {};
    charts[id] = new window.Chart(canvas, {
      type: type,
      data: { labels: labels, datasets: datasets },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        interaction: { mode: "index", intersect: false },
        spanGaps: true,
        plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } },
        scales: {
          x: { stacked: !!opts.stacked, ticks: { maxRotation: 0, autoSkip: true } },
          y: Object.assign({ stacked: !!opts.stacked, beginAtZero: true, grace: "5%" }, opts.y || {})
        }
      }
    });
  }

  function setState(id, state, text) {
    var section = document.getElementById(id);
    section.querySelector(".status").textContent = text || "";
    section.setAttribute("data-ready", state === "ready" ? "true" : "false");
    if (state === "error") { section.setAttribute("data-error", "true"); } else { section.removeAttribute("data-error"); }
  }

  function describe(err) {
    if (err instanceof ApiError) { return err.code + ": " + err.message; }
    return "The usage API could not be reached (" + (err && err.message ? err.message : "network error") + ").";
  }

  var errors = [];

  function showErrors() {
    var box = $("#error");
    box.textContent = errors.join("\n");
    box.hidden = errors.length === 0;
  }

  // panel runs one chart: fetch, draw, then mark it ready (or failed).
  function panel(id, kind, params, render) {
    setState(id, "loading", "Loading…");
    return api(kind, params).then(function (body) {
      if (body.k) { $("#k-value").textContent = "k = " + body.k; }
      var note = render(body);
      setState(id, "ready", body.rows.length === 0 ? "No released data in this range." : (note || ""));
    }).catch(function (err) {
      var msg = describe(err);
      errors.push(document.querySelector("#" + id + " h2").textContent + " — " + msg);
      showErrors();
      setState(id, "error", msg);
      if (err instanceof ApiError && err.status === 401) { $("#token").focus(); }
    });
  }

  function loadAll() {
    errors = [];
    showErrors();
    if (!getToken()) {
      errors.push("Paste an access token with the app role Gateway.Analyst to see the charts.");
      showErrors();
      return Promise.resolve();
    }
    var from = $("#from").value, to = $("#to").value, gran = $("#granularity").value;
    if (!from || !to || from > to) {
      errors.push("Choose a valid date range: from must not be after to.");
      showErrors();
      return Promise.resolve();
    }
    if (gran === "hour" && (parseDay(to) - parseDay(from)) / 864e5 + 1 > MAX_HOURLY_DAYS) {
      errors.push("Hourly charts cover at most " + MAX_HOURLY_DAYS + " days; choose a shorter range or daily granularity.");
      showErrors();
      return Promise.resolve();
    }
    var times = slots(from, to, gran);
    var labels = times.map(function (t) { return slotLabel(t, gran); });
    var days = slots(from, to, "day");
    var dayLabels = days.map(function (t) { return slotLabel(t, "day"); });
    var base = { from: from, to: to, granularity: gran };
    $("#total").textContent = "";

    return Promise.all([
      panel("chart-requests-app", "requests", Object.assign({ group_by: "client_app" }, base), function (b) {
        draw("chart-requests-app", "bar", labels, seriesBy(b.rows, times, "client_app", "requests", 0), { stacked: true });
        if (typeof b.total === "number") { $("#total").textContent = b.total.toLocaleString("en") + " requests released in range"; }
      }),
      panel("chart-requests-operation", "requests", Object.assign({ group_by: "operation" }, base), function (b) {
        draw("chart-requests-operation", "bar", labels, seriesBy(b.rows, times, "operation", "requests", 0), { stacked: true });
      }),
      panel("chart-cache", "cache", base, function (b) {
        var ratio = column(b.rows, times, "ratio").map(function (v) { return v === null ? null : Math.round(v * 1000) / 10; });
        draw("chart-cache", "line", labels, [{ label: "hit ratio %", data: ratio, borderColor: PALETTE[2], backgroundColor: PALETTE[2] }],
          { y: { min: 0, max: 100 } });
        var hits = 0, misses = 0;
        b.rows.forEach(function (r) { hits += r.hits; misses += r.misses; });
        return hits + misses > 0 ? "Over the range: " + (100 * hits / (hits + misses)).toFixed(1) + " % of cacheable requests answered from the cache." : "";
      }),
      panel("chart-latency", "latency", base, function (b) {
        draw("chart-latency", "line", labels, ["p50_ms", "p90_ms", "p99_ms"].map(function (p, n) {
          return { label: p.replace("_ms", ""), data: column(b.rows, times, p), borderColor: PALETTE[n], backgroundColor: PALETTE[n] };
        }));
        return "Estimated from fixed latency buckets.";
      }),
      panel("chart-users", "active-users", { from: from, to: to, granularity: "day", group_by: "client_app" }, function (b) {
        draw("chart-users", "bar", dayLabels, seriesBy(b.rows, days, "client_app", "users", 0));
        return "Distinct people per day and app (estimated); apps overlap, so they are not summed.";
      })
    ]);
  }

  // ---- start ---------------------------------------------------------------------

  function start() {
    var r = defaultRange();
    $("#from").value = r.from;
    $("#to").value = r.to;
    if (getToken()) { $("#token").placeholder = "A token is set for this tab (paste to replace)"; }

    $("#token-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      var tok = setToken($("#token").value);
      $("#token").value = "";
      $("#token").placeholder = tok ? "A token is set for this tab (paste to replace)" : "Paste a bearer token";
      loadAll();
    });
    $("#forget-token").addEventListener("click", function () {
      setToken("");
      $("#token").value = "";
      $("#token").placeholder = "Paste a bearer token";
      Object.keys(charts).forEach(function (id) { charts[id].destroy(); delete charts[id]; setState(id, "loading", ""); });
      loadAll();
    });
    $("#range-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      loadAll();
    });
    if (typeof window.Chart !== "function") {
      errors.push("The chart library did not load.");
      showErrors();
      return;
    }
    window.Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    loadAll();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
