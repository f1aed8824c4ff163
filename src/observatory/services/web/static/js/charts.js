// The overview's live charts: throughput (created/completed), failures (failed/cancelled)
// and submit→done latency (p50/p95/p99), drawn with the vendored uPlot
// (vendor/uplot, pinned in THIRD-PARTY.md).
//
// Data: GET api/stats/series for the chosen window (refetched on a window change, when a
// step closes and whenever the dashboard resyncs). Between fetches the stream's stats
// snapshots feed the step in progress: the growth of each counter since the last
// snapshot is added to the last point, and a point is appended (the oldest dropped)
// each time a step closes. Hovering a chart shows the values of that step in its legend.
import uPlot from "../vendor/uplot/uPlot.esm.js";
import { readModel } from "./api.js";
import { byId, setText } from "./dom.js";

const WINDOWS = { "15m": 900, "1h": 3600, "24h": 86400 };
const WINDOW_WORDS = { "15m": "15 minutes", "1h": "hour", "24h": "24 hours" };
const HEIGHT = 170;
const REFETCH_AFTER_STEP_MS = 2000; // the metrics engine has counted the closed step by then
const AXIS = "#a9a6c4";
const GRID = "rgba(255, 255, 255, 0.08)";

const CHARTS = [
  {
    id: "chart-throughput",
    unit: "jobs",
    series: [
      { key: "created", label: "Created", stroke: "#60a5fa" },
      { key: "completed", label: "Completed", stroke: "#4ade80" },
    ],
  },
  {
    id: "chart-failures",
    unit: "jobs",
    series: [
      { key: "failed", label: "Failed", stroke: "#f87171" },
      { key: "cancelled", label: "Cancelled", stroke: "#ffd166" },
    ],
  },
  {
    id: "chart-latency",
    unit: "ms",
    series: [
      { key: "p50Ms", label: "p50", stroke: "#00d2ff" },
      { key: "p95Ms", label: "p95", stroke: "#b57bee" },
      { key: "p99Ms", label: "p99", stroke: "#fca5a5" },
    ],
  },
];

// The growth of a stats snapshot over the one before, as series counts (a counter that
// went down, e.g. failed when a retried job completes, adds nothing).
const GROWTH = { created: "totalJobs", completed: "completedJobs", failed: "failedJobs", cancelled: "cancelledJobs" };

function formatValue(unit) {
  return (_u, value) => {
    if (value === null || value === undefined) return "–";
    return unit === "ms" ? `${Math.round(value)} ms` : String(Math.round(value));
  };
}

export class Charts {
  constructor({ paused = () => false } = {}) {
    this.paused = paused;
    this.window = "15m";
    this.step = 10;
    this.points = []; // the series' points, oldest first, with t in epoch seconds
    this.lastStats = null;
    this.plots = new Map();
    this.status = byId("charts-status");
    this.buttons = [...document.querySelectorAll("#chart-windows button[data-window]")];
    for (const button of this.buttons) {
      button.addEventListener("click", () => this.choose(button.dataset.window));
    }
    this.frame = 0;
    this.stepTimer = 0;
    this.fetching = null;
    if (typeof ResizeObserver !== "undefined") {
      this.resizer = new ResizeObserver(() => this.resize());
      this.resizer.observe(byId("charts"));
    }
  }

  async choose(window) {
    if (!(window in WINDOWS) || window === this.window) return;
    this.window = window;
    for (const button of this.buttons) {
      button.setAttribute("aria-pressed", String(button.dataset.window === window));
    }
    await this.refresh().catch(() => {});
  }

  /** Fetch the window again; a failure keeps what is drawn and says why. */
  async refresh() {
    const asked = this.window;
    this.fetching ??= readModel("stats/series", { window: asked }).finally(() => {
      this.fetching = null;
    });
    let body;
    try {
      body = await this.fetching;
    } catch (error) {
      setText(this.status, `Charts not updated: ${error.message}`);
      throw error;
    }
    if (asked !== this.window) return this.refresh(); // the window changed meanwhile
    this.step = parseDuration(body?.step) || this.step;
    this.points = (Array.isArray(body?.points) ? body.points : []).map((p) => ({
      ...p,
      t: Math.floor(Date.parse(p.t) / 1000),
    }));
    setText(this.status, "");
    this.draw();
    this.scheduleStep();
    return undefined;
  }

  /** A stats snapshot from the stream: its growth goes to the step in progress. */
  onStats(stats) {
    const before = this.lastStats;
    this.lastStats = stats;
    if (!before || !this.points.length) return;
    this.rollForward();
    const last = this.points[this.points.length - 1];
    for (const [key, counter] of Object.entries(GROWTH)) {
      const growth = Number(stats?.[counter]) - Number(before?.[counter]);
      if (Number.isFinite(growth) && growth > 0) last[key] = (last[key] ?? 0) + growth;
    }
    if (Number.isFinite(Number(stats?.inFlightJobs))) last.queueDepth = Number(stats.inFlightJobs);
    this.drawSoon();
  }

  // Append an empty point for every step that closed since the last one (the oldest
  // leave the window); true when any did.
  rollForward() {
    const now = Math.floor(Date.now() / 1000);
    let rolled = false;
    while (this.points.length && now >= this.points[this.points.length - 1].t + this.step) {
      const last = this.points[this.points.length - 1];
      this.points.push({
        t: last.t + this.step, created: 0, completed: 0, failed: 0, cancelled: 0,
        p50Ms: null, p95Ms: null, p99Ms: null, queueDepth: last.queueDepth,
      });
      this.points.shift();
      rolled = true;
    }
    return rolled;
  }

  // At each step's end: a new point at once, and a fetch a moment later for the closed
  // step's exact counts and its latency percentiles.
  scheduleStep() {
    clearTimeout(this.stepTimer);
    const last = this.points[this.points.length - 1];
    if (!last) return;
    const wait = Math.max(250, (last.t + this.step) * 1000 - Date.now());
    this.stepTimer = setTimeout(() => {
      // Paused or hidden: nothing moves; the refresh on resume (or the next resync)
      // reads the window again and schedules the next step.
      if (this.paused() || document.hidden) return;
      if (this.rollForward()) this.drawSoon();
      this.scheduleStep();
      setTimeout(() => this.refresh().catch(() => {}), REFETCH_AFTER_STEP_MS);
    }, wait);
  }

  drawSoon() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  draw() {
    const xs = this.points.map((p) => p.t);
    for (const chart of CHARTS) {
      const data = [xs, ...chart.series.map((s) => this.points.map((p) => p[s.key] ?? null))];
      const figure = byId(chart.id);
      let plot = this.plots.get(chart.id);
      if (!plot) {
        plot = new uPlot(this.options(chart, figure), data, figure.querySelector(".chart-canvas"));
        this.plots.set(chart.id, plot);
      } else {
        plot.setData(data);
      }
      this.describe(chart, figure, data);
    }
  }

  // What the chart shows, as text: for screen readers, and the figures a test reads.
  describe(chart, figure, data) {
    const totals = chart.series.map((s, i) => {
      const values = data[i + 1].filter((v) => v !== null && v !== undefined);
      if (chart.unit === "ms") {
        return `${s.label} up to ${values.length ? Math.round(Math.max(...values)) : "–"} ms`;
      }
      const sum = values.reduce((a, b) => a + b, 0);
      figure.dataset[s.key] = String(sum);
      return `${sum} ${s.label.toLowerCase()}`;
    });
    figure.dataset.points = String(data[0].length);
    figure.dataset.window = this.window;
    setText(figure.querySelector(".chart-summary"), `Last ${WINDOW_WORDS[this.window]}: ${totals.join(", ")}.`);
  }

  options(chart, figure) {
    const axis = { stroke: AXIS, grid: { stroke: GRID, width: 1 }, ticks: { stroke: GRID, width: 1 } };
    return {
      width: this.widthOf(figure),
      height: HEIGHT,
      cursor: { drag: { x: false, y: false } },
      legend: { live: true },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(chart.unit === "ms" ? 10 : 1, max)] } },
      axes: [{ ...axis }, { ...axis, size: 48, values: (_u, ticks) => ticks.map((v) => compact(v)) }],
      series: [
        { value: (_u, t) => (t === null || t === undefined ? "–" : new Date(t * 1000).toLocaleTimeString()) },
        ...chart.series.map((s) => ({
          label: s.label,
          stroke: s.stroke,
          width: 2,
          spanGaps: false,
          // Percentiles exist only for steps in which runs ended: each is a dot as well,
          // so a lone step is seen.
          points: chart.unit === "ms" ? { show: true, size: 5, fill: s.stroke } : { show: false },
          value: formatValue(chart.unit),
        })),
      ],
    };
  }

  widthOf(figure) {
    return Math.max(200, Math.floor(figure.querySelector(".chart-canvas").clientWidth || figure.clientWidth || 300));
  }

  resize() {
    for (const chart of CHARTS) {
      const plot = this.plots.get(chart.id);
      if (plot) plot.setSize({ width: this.widthOf(byId(chart.id)), height: HEIGHT });
    }
  }
}

function compact(value) {
  if (Math.abs(value) >= 1_000_000) return `${+(value / 1_000_000).toFixed(1)}M`;
  if (Math.abs(value) >= 1000) return `${+(value / 1000).toFixed(1)}k`;
  return String(+value.toFixed(2));
}

function parseDuration(text) {
  const match = /^(\d+)(s|m|h)$/.exec(String(text ?? ""));
  return match ? Number(match[1]) * { s: 1, m: 60, h: 3600 }[match[2]] : 0;
}
