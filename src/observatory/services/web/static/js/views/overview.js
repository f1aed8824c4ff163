// The overview: stat cards, Recent Jobs, Active Alerts and Raw Events.
import { readModel } from "../api.js";
import { byId, el, fill, messageRow, setText } from "../dom.js";
import { count, jobLink, shortId, statusPill, timeNode } from "../format.js";

const RECENT_LIMIT = 10;
const EVENTS_LIMIT = 10;
const SEVERITIES = ["critical", "warning", "info"];

export class Overview {
  constructor() {
    this.cards = {
      total: byId("stat-total"),
      completed: byId("stat-completed"),
      failed: byId("stat-failed"),
      inFlight: byId("stat-in-flight"),
      deadLetters: byId("stat-dead-letters"),
      alerts: byId("stat-alerts"),
    };
    this.recent = byId("recent-jobs-body");
    this.events = byId("raw-events-body");
    this.alerts = byId("alerts");
    this.stats = null;
    this.shownEvents = [];
    this.eventsTimer = 0;
  }

  renderStats(stats) {
    if (!stats || typeof stats !== "object") return;
    this.stats = stats;
    setText(this.cards.total, count(stats.totalJobs));
    setText(this.cards.completed, count(stats.completedJobs));
    setText(this.cards.failed, count(stats.failedJobs));
    setText(this.cards.inFlight, count(stats.inFlightJobs));
    setText(this.cards.deadLetters, count(stats.deadLetters));
  }

  async refreshStats() {
    this.renderStats(await readModel("stats")); // a failure keeps the last values shown
  }

  async refreshRecent() {
    try {
      const jobs = await readModel("jobs/recent", { limit: RECENT_LIMIT });
      this.renderRecent(Array.isArray(jobs) ? jobs : []);
    } catch (error) {
      if (!this.recent.querySelector("tr[data-job-id]")) {
        fill(this.recent, messageRow(5, `Could not load jobs: ${error.message}`, "warn"));
      }
      throw error;
    }
  }

  renderRecent(jobs) {
    if (!jobs.length) {
      fill(this.recent, messageRow(5, "No jobs yet"));
      return;
    }
    fill(
      this.recent,
      jobs.map((job) =>
        el(
          "tr",
          { className: "clickable", dataset: { jobId: String(job.id ?? "") } },
          el("td", {}, jobLink(job.id)),
          el("td", { className: "type", text: job.type ?? "–" }),
          el("td", {}, statusPill(job.status)),
          el("td", { className: "col-optional num", text: job.attempts ?? 0 }),
          el("td", { className: "col-optional" }, timeNode(job.createdAt)),
        ),
      ),
    );
  }

  async refreshEvents() {
    try {
      const events = await readModel("events", { limit: EVENTS_LIMIT });
      this.renderEvents(Array.isArray(events) ? events : []);
    } catch (error) {
      if (!this.events.querySelector("tr[data-event-id]")) {
        fill(this.events, messageRow(5, `Could not load events: ${error.message}`, "warn"));
      }
      throw error;
    }
  }

  // A job event pushed by the read model's stream: shown at once, without waiting for the
  // next fetch of /events. The events of one stream chunk are dispatched one after another
  // in a row, so a zero-delay timer draws them once, after the last. (Not an animation
  // frame: a browser may hold those back, e.g. headless, while the table is what the
  // operator is watching.)
  pushEvent(envelope) {
    if (!envelope?.eventId || this.shownEvents.some((e) => e.eventId === envelope.eventId)) return;
    this.shownEvents = [envelope, ...this.shownEvents].slice(0, EVENTS_LIMIT);
    if (!this.eventsTimer) {
      this.eventsTimer = setTimeout(() => {
        this.eventsTimer = 0;
        this.renderEvents(this.shownEvents);
      }, 0);
    }
  }

  renderEvents(events) {
    this.shownEvents = events;
    if (!events.length) {
      fill(this.events, messageRow(5, "No events yet"));
      return;
    }
    fill(
      this.events,
      events.map((event) => {
        const jobId = event?.payload?.id;
        return el(
          "tr",
          { dataset: { eventId: String(event.eventId ?? "") } },
          el("td", { className: "mono col-optional", text: shortId(event.eventId), title: event.eventId }),
          el("td", { className: "event-type", text: event.eventType ?? "–" }),
          el("td", {}, timeNode(event.occurredAt)),
          el("td", {}, jobId ? jobLink(jobId) : "–"),
          el("td", { className: "col-optional", text: event?.producer?.service ?? "–" }),
        );
      }),
    );
  }

  async refreshAlerts() {
    try {
      this.renderAlerts(await readModel("alerts"));
    } catch (error) {
      this.renderAlerts({ status: "unavailable", reason: error.message, alerts: [] });
    }
  }

  renderAlerts(result) {
    const alerts = Array.isArray(result?.alerts) ? result.alerts : [];
    if (result?.status !== "ok") {
      this.alerts.dataset.state = "unavailable";
      setText(this.cards.alerts, "–");
      fill(
        this.alerts,
        el(
          "div",
          { className: "alerts-unavailable" },
          el("strong", { text: "⚠ Alerts unavailable" }),
          el("p", { className: "muted", text: result?.reason || "Alertmanager did not answer" }),
        ),
      );
      return;
    }
    setText(this.cards.alerts, count(alerts.length));
    if (!alerts.length) {
      this.alerts.dataset.state = "none";
      fill(this.alerts, el("p", { className: "alerts-none", text: "✓ No active alerts" }));
      return;
    }
    this.alerts.dataset.state = "alerts";
    fill(
      this.alerts,
      el(
        "ul",
        { className: "alert-list" },
        alerts.map((alert) => {
          const severity = String(alert.severity ?? "warning").toLowerCase();
          const known = SEVERITIES.includes(severity) ? severity : "other";
          return el(
            "li",
            { className: `alert severity-${known}` },
            el(
              "div",
              { className: "alert-head" },
              el("strong", { className: "alert-name", text: alert.alertname || "Unknown" }),
              el("span", { className: "severity", text: severity }),
            ),
            el("div", { className: "muted", text: `Service: ${alert.service || "-"}` }),
            alert.summary ? el("p", { className: "alert-summary", text: alert.summary, title: alert.description || "" }) : null,
            /^https?:\/\//.test(alert.runbookUrl ?? "")
              ? el("a", { className: "runbook", href: alert.runbookUrl, text: "Runbook →", attrs: { target: "_blank", rel: "noopener noreferrer" } })
              : null,
          );
        }),
      ),
    );
  }
}
