/* Modelyard portal: the only script. Plain JavaScript, no libraries, nothing from the network.
 *
 * - line charts drawn as SVG (drawChart), used by the run page and the comparison page;
 * - the run page follows a live run: status (with its attempt and why it waits) and charts
 *   polled every POLL_MS while the run has not ended (the metric route answers "unchanged"
 *   cheaply when nothing was logged), the log pushed by the server (server-sent events) until
 *   the run has ended and its log is drained; a new attempt (a preempted run resumed) or the
 *   end reloads the page once;
 * - small helpers for the runs table (compare button) and the diff tables.
 * Page data arrives in <script type="application/json"> blocks (the CSP forbids inline scripts).
 */
"use strict";

const POLL_MS = 1500;
const LOG_TEXT_MAX = 400000; // characters kept in the log view; older output is dropped
const SVG_NS = "http://www.w3.org/2000/svg";
const CHART = { width: 560, height: 250, left: 58, right: 14, top: 10, bottom: 30 };

// Helpers ---------------------------------------------------------------------------------------

function pageData(id) {
  const node = document.getElementById(id);
  return node ? JSON.parse(node.textContent) : null;
}

async function getJson(url) {
  const response = await fetch(url, { headers: { "X-Modelyard-Portal": "1" } });
  if (response.status === 401) {
    window.location.assign("/login?next=" + encodeURIComponent(location.pathname + location.search));
    throw new Error("logged out");
  }
  if (!response.ok) throw new Error(url + ": HTTP " + response.status);
  return response.json();
}

function svg(tag, attributes, parent) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attributes || {})) node.setAttribute(key, value);
  if (parent) parent.appendChild(node);
  return node;
}

function element(tag, className, text, parent) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  if (parent) parent.appendChild(node);
  return node;
}

function formatNumber(value) {
  if (typeof value !== "number") return value === null || value === undefined ? "" : String(value);
  if (value !== 0 && (Math.abs(value) >= 1e5 || Math.abs(value) < 1e-3)) return value.toExponential(3);
  return String(Number(value.toPrecision(4)));
}

function formatTime(iso) {
  return iso ? iso.replace("T", " ").slice(0, 19) + " UTC" : "—";
}

function formatDuration(startIso, endIso) {
  if (!startIso) return "—";
  const end = endIso ? Date.parse(endIso) : Date.now();
  let seconds = Math.max(0, Math.floor((end - Date.parse(startIso)) / 1000));
  if (seconds < 60) return seconds + "s";
  let minutes = Math.floor(seconds / 60);
  seconds %= 60;
  if (minutes < 60) return minutes + "m " + String(seconds).padStart(2, "0") + "s";
  const hours = Math.floor(minutes / 60);
  minutes %= 60;
  return hours + "h " + String(minutes).padStart(2, "0") + "m";
}

// Charts ----------------------------------------------------------------------------------------

/** About `count` round tick values covering [low, high]. */
function niceTicks(low, high, count) {
  const raw = (high - low) / Math.max(count, 1);
  const magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => raw <= s) || raw;
  const ticks = [];
  for (let tick = Math.ceil(low / step) * step; tick <= high + step * 1e-9; tick += step) {
    ticks.push(Number(tick.toPrecision(12)));
  }
  return ticks;
}

function extent(seriesList, index) {
  let low = Infinity;
  let high = -Infinity;
  for (const series of seriesList) {
    for (const point of series.points) {
      low = Math.min(low, point[index]);
      high = Math.max(high, point[index]);
    }
  }
  if (low === Infinity) return [0, 1];
  if (low === high) {
    const pad = Math.abs(low) * 0.1 || 1;
    return [low - pad, high + pad];
  }
  return [low, high];
}

/** Draw (or redraw) a line chart of `seriesList` [{label, color, points: [[step, value]]}]. */
function drawChart(box, title, seriesList) {
  box.textContent = "";
  const heading = element("h3", null, null, box);
  element("span", "name", title, heading);
  const total = seriesList.reduce((sum, s) => sum + s.points.length, 0);
  if (seriesList.length === 1) element("span", "last", "last " + formatNumber(seriesList[0].last), heading);

  const { width, height, left, right, top, bottom } = CHART;
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": title, "data-points": total });
  box.appendChild(root);
  box.dataset.points = String(total);
  const [x0, x1] = extent(seriesList, 0);
  let [y0, y1] = extent(seriesList, 1);
  const pad = (y1 - y0) * 0.05;
  y0 -= pad;
  y1 += pad;
  const sx = (x) => left + ((x - x0) / (x1 - x0)) * (width - left - right);
  const sy = (y) => top + (1 - (y - y0) / (y1 - y0)) * (height - top - bottom);

  for (const tick of niceTicks(y0, y1, 5)) {
    svg("line", { class: "gridline", x1: left, x2: width - right, y1: sy(tick), y2: sy(tick) }, root);
    svg("text", { x: left - 6, y: sy(tick) + 4, "text-anchor": "end" }, root).textContent = formatNumber(tick);
  }
  for (const tick of niceTicks(x0, x1, 6).filter(Number.isInteger)) {
    svg("text", { x: sx(tick), y: height - bottom + 16, "text-anchor": "middle" }, root).textContent = formatNumber(tick);
  }
  svg("line", { class: "axis", x1: left, x2: left, y1: top, y2: height - bottom }, root);
  svg("line", { class: "axis", x1: left, x2: width - right, y1: height - bottom, y2: height - bottom }, root);
  svg("text", { x: width - right, y: height - 2, "text-anchor": "end" }, root).textContent = "step";

  for (const series of seriesList) {
    const path = series.points.map((p) => sx(p[0]).toFixed(1) + "," + sy(p[1]).toFixed(1)).join(" ");
    svg("polyline", { class: "series", points: path, stroke: series.color, "data-label": series.label }, root);
    if (series.points.length <= 40) {
      for (const p of series.points) svg("circle", { cx: sx(p[0]), cy: sy(p[1]), r: 2.2, fill: series.color }, root);
    }
  }
  attachHover(box, root, seriesList, sx, x0, x1);

  if (seriesList.length > 1) {
    const legend = element("div", "legend", null, box);
    for (const series of seriesList) {
      const item = element("span", null, series.label + "  " + formatNumber(series.last), legend);
      item.style.color = series.color; // CSSOM, allowed by the CSP (no inline style attribute)
    }
  }
  const thinned = seriesList.filter((s) => s.downsampled).length;
  const skipped = seriesList.reduce((sum, s) => sum + (s.non_finite || 0), 0);
  const notes = [];
  if (thinned) notes.push("long series shown with their extremes (" + total + " points drawn)");
  if (skipped) notes.push(skipped + " NaN/infinite values not drawn");
  if (notes.length) element("div", "note", notes.join("; "), box);
}

/** A vertical line and the values nearest the pointer's step. */
function attachHover(box, root, seriesList, sx, x0, x1) {
  const line = svg("line", { class: "hover-line", y1: CHART.top, y2: CHART.height - CHART.bottom, visibility: "hidden" }, root);
  const tip = element("div", "tooltip", null, box);
  tip.hidden = true;
  root.addEventListener("mousemove", (event) => {
    const bounds = root.getBoundingClientRect();
    const fraction = ((event.clientX - bounds.left) / bounds.width) * CHART.width;
    const step = x0 + ((fraction - CHART.left) / (CHART.width - CHART.left - CHART.right)) * (x1 - x0);
    const lines = [];
    let nearestX = null;
    for (const series of seriesList) {
      const point = nearest(series.points, step);
      if (!point) continue;
      nearestX = point[0];
      lines.push((seriesList.length > 1 ? series.label + ": " : "") + formatNumber(point[1]));
    }
    if (nearestX === null) return;
    line.setAttribute("x1", sx(nearestX));
    line.setAttribute("x2", sx(nearestX));
    line.setAttribute("visibility", "visible");
    tip.textContent = "step " + nearestX + "\n" + lines.join("\n");
    tip.hidden = false;
    tip.style.left = Math.min(event.clientX - bounds.left + 12, bounds.width - 140) + "px";
    tip.style.top = "28px";
  });
  root.addEventListener("mouseleave", () => {
    line.setAttribute("visibility", "hidden");
    tip.hidden = true;
  });
}

function nearest(points, step) {
  if (!points.length) return null;
  let low = 0;
  let high = points.length - 1;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (points[middle][0] < step) low = middle + 1;
    else high = middle;
  }
  const before = points[Math.max(low - 1, 0)];
  return Math.abs(before[0] - step) < Math.abs(points[low][0] - step) ? before : points[low];
}

/** The chart box for metric `name` inside `grid`, created in name order when new. */
function chartBox(grid, name) {
  for (const box of grid.children) {
    if (box.dataset.metric === name) return box;
  }
  const box = element("div", "chart");
  box.dataset.metric = name;
  const after = Array.from(grid.children).find((other) => other.dataset.metric > name);
  grid.insertBefore(box, after || null);
  return box;
}

function clearEmptyNote(grid) {
  for (const note of grid.querySelectorAll("p.empty")) note.remove();
}

// The run page -----------------------------------------------------------------------------------

function followRun(live) {
  const base = live.api + "/runs/" + encodeURIComponent(live.run_id);
  const grid = document.getElementById("charts");
  const logView = document.getElementById("log");
  const state = { version: null, terminal: live.terminal, log: live.logs[0], stream: null };
  document.getElementById("live-indicator").hidden = live.terminal;

  async function refreshMetrics() {
    const query = state.version ? "?version=" + encodeURIComponent(state.version) : "";
    const answer = await getJson(base + "/metric-series" + query);
    state.version = answer.version;
    if (!answer.changed) return;
    const names = Object.keys(answer.series).sort();
    if (names.length) clearEmptyNote(grid);
    for (const name of names) {
      const series = answer.series[name];
      drawChart(chartBox(grid, name), name, [{ label: name, color: "#1f77b4", ...series }]);
    }
  }

  async function refreshStatus() {
    const run = await getJson(base + "/details");
    const badge = document.querySelector("[data-field=status] .status");
    if (badge && badge.dataset.status !== run.status) {
      badge.className = "status status-" + run.status;
      badge.dataset.status = run.status;
      badge.textContent = run.status;
    }
    setField("status-text", run.status);
    setField("attempt", String(run.attempt));
    const detail = document.querySelector("[data-field=status-detail]");
    if (detail) {
      const waiting = live.waiting_statuses.includes(run.status) && Boolean(run.status_detail);
      detail.textContent = waiting ? run.status_detail : "";
      detail.hidden = !waiting;
    }
    setField("duration", formatDuration(run.started_at, run.ended_at));
    setField("heartbeat_at", formatTime(run.heartbeat_at));
    for (const step of ["created", "started", "ended"]) {
      const at = run[step + "_at"];
      setField(step + "_at", formatTime(at));
      const item = document.querySelector(`[data-step=${step}]`);
      if (item) item.className = at ? "done" : "pending";
    }
    const error = document.querySelector("[data-field=error]");
    if (error) {
      error.textContent = run.error || "";
      error.hidden = !run.error;
    }
    return { ended: live.terminal_statuses.includes(run.status), attempt: run.attempt };
  }

  /** The log tail, pushed by the server as it grows (server-sent events); EventSource
   * reconnects by itself after a network hiccup and resumes at the last offset it saw. */
  function streamLog() {
    if (state.stream) state.stream.close();
    const log = state.log;
    const url = base + "/logs/stream?path=" + encodeURIComponent(log.path) + "&offset=" + log.offset;
    const stream = new EventSource(url);
    state.stream = stream;
    stream.addEventListener("log", (event) => {
      const chunk = JSON.parse(event.data);
      log.offset = chunk.offset;
      appendLog(chunk.text);
    });
    stream.addEventListener("end", () => stream.close());
  }

  function appendLog(text) {
    const atBottom = logView.scrollTop + logView.clientHeight >= logView.scrollHeight - 8;
    let content = logView.textContent + text;
    if (content.length > LOG_TEXT_MAX) {
      content = content.slice(content.length - LOG_TEXT_MAX);
      document.getElementById("log-cut").hidden = false;
    }
    logView.textContent = content;
    if (atBottom) logView.scrollTop = logView.scrollHeight;
  }

  for (const tab of document.querySelectorAll(".log-tabs .tab")) {
    tab.addEventListener("click", () => {
      for (const other of document.querySelectorAll(".log-tabs .tab")) other.classList.remove("current");
      tab.classList.add("current");
      state.log = { path: tab.dataset.log, offset: Number(tab.dataset.offset) };
      logView.textContent = "";
      document.getElementById("log-cut").hidden = state.log.offset === 0;
      const download = document.getElementById("log-download");
      download.href = "/runs/" + encodeURIComponent(live.run_id) + "/file?path=" + encodeURIComponent(state.log.path) + "&download=true";
      streamLog();
    });
  }

  async function tick() {
    try {
      const { ended, attempt } = await refreshStatus();
      await refreshMetrics();
      if ((ended && !state.terminal) || attempt !== live.attempt) {
        // The run just ended, or an attempt ended and the run was queued again: reload once
        // for what only exists now (outputs, reports, the attempts table).
        document.getElementById("live-indicator").hidden = ended;
        window.setTimeout(() => window.location.reload(), 800);
        return;
      }
      state.terminal = ended;
    } catch (error) {
      console.error(error);
    }
    if (!state.terminal) window.setTimeout(tick, document.hidden ? POLL_MS * 4 : POLL_MS);
  }

  streamLog();
  refreshMetrics().catch(console.error).finally(() => {
    if (!state.terminal) window.setTimeout(tick, POLL_MS);
  });
}

function setField(name, text) {
  for (const node of document.querySelectorAll(`[data-field="${name}"]`)) node.textContent = text;
}

// The comparison page ---------------------------------------------------------------------------

function compareRuns(data) {
  const grid = document.getElementById("charts");
  const versions = {};
  const latest = {}; // run id -> metric name -> series

  async function refresh() {
    await Promise.all(
      data.runs.map(async (run) => {
        const query = versions[run.id] ? "?version=" + encodeURIComponent(versions[run.id]) : "";
        const answer = await getJson(data.api + "/runs/" + encodeURIComponent(run.id) + "/metric-series" + query);
        versions[run.id] = answer.version;
        if (answer.changed) latest[run.id] = answer.series;
      }),
    );
    const names = new Set();
    for (const series of Object.values(latest)) Object.keys(series).forEach((n) => names.add(n));
    if (!names.size) {
      if (!grid.querySelector("p.empty")) element("p", "empty", grid.dataset.empty, grid);
      return;
    }
    clearEmptyNote(grid);
    for (const name of Array.from(names).sort()) {
      const overlaid = data.runs
        .filter((run) => latest[run.id] && latest[run.id][name])
        .map((run) => ({ label: run.label, color: run.color, ...latest[run.id][name] }));
      drawChart(chartBox(grid, name), name, overlaid);
    }
  }

  const live = data.runs.some((run) => !run.terminal);
  const loop = () =>
    refresh()
      .catch(console.error)
      .finally(() => {
        if (live) window.setTimeout(loop, POLL_MS * 2);
      });
  loop();
}

// Runs table and diff tables -----------------------------------------------------------------

function enableCompareButton(form) {
  const button = document.getElementById("compare-button");
  const update = () => {
    const picked = form.querySelectorAll("input[name=run]:checked").length;
    button.disabled = picked < Number(button.dataset.min || 2);
    button.textContent = picked ? `Compare selected (${picked})` : "Compare selected";
  };
  form.addEventListener("change", update);
  update();
}

function enableDiffToggles() {
  for (const toggle of document.querySelectorAll("input.only-differences")) {
    toggle.addEventListener("change", () => {
      document.getElementById(toggle.dataset.table).classList.toggle("only-differences", toggle.checked);
    });
  }
}

document.addEventListener("DOMContentLoaded", () => {
  const live = pageData("live-data");
  if (live) followRun(live);
  const comparison = pageData("compare-data");
  if (comparison) compareRuns(comparison);
  const compareForm = document.getElementById("compare-form");
  if (compareForm) enableCompareButton(compareForm);
  enableDiffToggles();
});
