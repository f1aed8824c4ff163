// A job's trace in its detail view: the link to the trace backend (the read model's
// `traceUrl`, from ODTO_TRACE_URL) and the job's own waterfall, drawn from its timeline
// (attempt history and events) so it needs no trace backend: how long the job waited,
// each attempt's span, the gaps between retries, and each event as a tick.
import { el } from "./dom.js";

/** The trace section of `job` (a /jobs/{id} answer), or null when there is nothing to show. */
export function traceSection(job) {
  const rows = waterfallRows(job);
  const link = traceLink(job);
  if (!rows.length && !link) return null;
  return el("div", { className: "trace-section" }, link, rows.length ? waterfall(rows) : null);
}

function traceLink(job) {
  const url = typeof job.traceUrl === "string" && /^https?:\/\//.test(job.traceUrl) ? job.traceUrl : null;
  if (url) {
    return el(
      "p",
      { className: "trace-link" },
      el("a", { href: url, text: "Open trace", attrs: { id: "job-trace-link", target: "_blank", rel: "noopener noreferrer" } }),
      el("span", { className: "mono muted", text: ` ${job.traceId ?? ""}` }),
    );
  }
  if (typeof job.traceId === "string") {
    return el("p", { className: "trace-link muted" }, "Trace ", el("span", { className: "mono", text: job.traceId }));
  }
  return null;
}

const ms = (iso) => {
  const value = typeof iso === "string" ? Date.parse(iso) : NaN;
  return Number.isFinite(value) ? value : null;
};

/** [{label, start, end, kind, title}] in milliseconds since the epoch; events have end = start. */
export function waterfallRows(job, now = Date.now()) {
  const history = Array.isArray(job.attemptHistory) ? job.attemptHistory : [];
  const events = Array.isArray(job.events) ? job.events : [];
  const created = ms(job.createdAt);
  const rows = [];
  const firstStart = history.map((a) => ms(a.startedAt)).find((t) => t !== null) ?? null;
  if (created !== null) {
    const waited = firstStart ?? (job.status === "PENDING" ? now : null);
    if (waited !== null) rows.push({ label: "queued", start: created, end: Math.max(created, waited), kind: "queued" });
  }
  for (const attempt of history) {
    const start = ms(attempt.startedAt);
    if (start === null) continue;
    const end = ms(attempt.finishedAt) ?? now;
    const outcome = attempt.outcome === "completed" || attempt.outcome === "failed" ? attempt.outcome : "running";
    rows.push({ label: `attempt ${attempt.attempt ?? "?"}`, start, end: Math.max(start, end), kind: outcome, title: attempt.error ?? "" });
  }
  for (const event of events) {
    const at = ms(event.occurredAt);
    if (at === null) continue;
    rows.push({ label: String(event.eventType ?? "event"), start: at, end: at, kind: "event", title: event.producer?.service ?? "" });
  }
  return rows;
}

function waterfall(rows) {
  const start = Math.min(...rows.map((r) => r.start));
  const end = Math.max(...rows.map((r) => r.end));
  const total = Math.max(end - start, 1);
  return el(
    "ol",
    { className: "waterfall", attrs: { id: "job-waterfall", "aria-label": "Job waterfall" } },
    rows.map((row) => {
      const bar = el("span", { className: `waterfall-bar waterfall-${row.kind}`, title: row.title || row.label });
      bar.style.left = `${((row.start - start) / total) * 100}%`;
      bar.style.width = row.kind === "event" ? "" : `${Math.max(((row.end - row.start) / total) * 100, 0.5)}%`;
      return el(
        "li",
        { className: "waterfall-row", dataset: { kind: row.kind } },
        el("span", { className: "waterfall-label", text: row.label }),
        el("span", { className: "waterfall-track" }, bar),
        el("span", { className: "waterfall-time num muted", text: row.kind === "event" ? `+${duration(row.start - start)}` : duration(row.end - row.start) }),
      );
    }),
  );
}

function duration(milliseconds) {
  if (milliseconds < 1000) return `${Math.round(milliseconds)} ms`;
  if (milliseconds < 60_000) return `${(milliseconds / 1000).toFixed(milliseconds < 10_000 ? 2 : 1)} s`;
  return `${(milliseconds / 60_000).toFixed(1)} min`;
}
