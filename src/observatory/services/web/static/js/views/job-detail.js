// One job: status, attempts, error, attempt history and event timeline, with Retry for
// FAILED jobs and Cancel for jobs that wait (the gateway answers 409 for a running one). Opened from any job row or by URL (#/jobs/<id>).
import { ApiError, gateway, readModel } from "../api.js";
import { byId, el, fill, messageRow, setText } from "../dom.js";
import { prettyJson, shortId, statusPill, timeNode } from "../format.js";
import { traceSection } from "../trace.js";

export class JobDetail {
  constructor() {
    this.title = byId("job-title");
    this.pill = byId("job-status");
    this.retry = byId("job-retry");
    this.cancel = byId("job-cancel");
    this.result = byId("job-action-result");
    this.summary = byId("job-summary");
    this.attempts = byId("job-attempts-body");
    this.timeline = byId("job-timeline");
    this.trace = byId("job-trace");
    this.payload = byId("job-payload");
    this.metadata = byId("job-metadata");
    this.content = byId("job-content");
    this.id = null;
    this.job = null;
    this.loading = null;
    this.retry.addEventListener("click", () => this.requestRetry());
    this.cancel.addEventListener("click", () => this.requestCancel());
  }

  show(id) {
    if (this.id !== id) {
      this.id = id;
      this.job = null;
      setText(this.title, `Job ${id}`);
      fill(this.pill);
      fill(this.result);
      this.retry.hidden = true;
      this.cancel.hidden = true;
      this.content.hidden = true;
      this.result.className = "form-result pending";
      setText(this.result, "Loading…");
    }
    return this.refresh();
  }

  hide() {
    this.id = null;
  }

  /** A job event arrived: reload when it is about this job. */
  onJobEvent(envelope) {
    if (this.id && envelope?.payload?.id === this.id) this.refresh();
  }

  refresh() {
    if (!this.id) return Promise.resolve();
    // One request at a time; a refresh asked for meanwhile runs once it is done.
    if (this.loading) {
      this.again = true;
      return this.loading;
    }
    const id = this.id;
    this.loading = readModel(`jobs/${encodeURIComponent(id)}`)
      .then((job) => {
        if (this.id !== id) return;
        if (this.result.textContent === "Loading…") fill(this.result);
        this.render(job);
      })
      .catch((error) => {
        if (this.id !== id) return;
        this.content.hidden = !this.job;
        this.result.className = "form-result error";
        const text = error instanceof ApiError && error.status === 404 ? `Job not found: ${id}` : `Could not load the job: ${error.message}`;
        setText(this.result, text);
      })
      .finally(() => {
        this.loading = null;
        if (this.again) {
          this.again = false;
          this.refresh();
        }
      });
    return this.loading;
  }

  render(job) {
    this.job = job;
    this.content.hidden = false;
    fill(this.pill, statusPill(job.status));
    this.retry.hidden = job.status !== "FAILED";
    this.cancel.hidden = !["PENDING", "VALIDATED", "EXECUTING"].includes(job.status);
    fill(
      this.summary,
      field("Type", job.type ?? "–"),
      field("Status", statusPill(job.status)),
      field("Attempts", String(job.attempts ?? 0)),
      field("Created", timeNode(job.createdAt, true)),
      field("Updated", timeNode(job.updatedAt, true)),
      field("Completed", timeNode(job.completedAt, true)),
      job.error ? field("Error", el("span", { className: "error-text", text: job.error }), "wide") : null,
    );
    const history = Array.isArray(job.attemptHistory) ? job.attemptHistory : [];
    fill(
      this.attempts,
      history.length
        ? history.map((attempt) =>
            el(
              "tr",
              {},
              el("td", { className: "num", text: attempt.attempt ?? "–" }),
              el("td", {}, timeNode(attempt.startedAt)),
              el("td", { className: "col-optional" }, timeNode(attempt.finishedAt)),
              el("td", {}, el("span", { className: `outcome outcome-${outcomeClass(attempt.outcome)}`, text: attempt.outcome ?? "running" })),
              el("td", { className: "error-text", text: attempt.error ?? "" }),
            ),
          )
        : messageRow(5, "No attempts yet"),
    );
    fill(this.trace, traceSection(job));
    const events = Array.isArray(job.events) ? job.events : [];
    fill(
      this.timeline,
      events.length
        ? events.map((event) =>
            el(
              "li",
              { className: "timeline-item", dataset: { eventType: String(event.eventType ?? "") } },
              el("span", { className: "timeline-time" }, timeNode(event.occurredAt, true)),
              el("strong", { className: "timeline-type", text: event.eventType ?? "–" }),
              el("span", { className: "muted", text: producer(event.producer) }),
              el("span", { className: "mono muted", text: `event ${shortId(event.eventId)}`, title: event.eventId }),
            ),
          )
        : el("li", { className: "muted", text: "No events yet" }),
    );
    setText(this.payload, prettyJson(job.payload ?? {}));
    setText(this.metadata, prettyJson(job.metadata ?? {}));
  }

  async requestRetry() {
    if (!this.id) return;
    const id = this.id;
    this.retry.disabled = true;
    this.result.className = "form-result pending";
    setText(this.result, "⏳ Requesting a retry…");
    try {
      const accepted = await gateway(`jobs/${encodeURIComponent(id)}/retry`, {});
      this.result.className = "form-result success";
      setText(this.result, `✓ Retry accepted (event ${accepted?.eventId ?? "?"})`);
      this.refresh();
    } catch (error) {
      this.result.className = "form-result error";
      setText(this.result, `✗ ${error.message}`);
    } finally {
      this.retry.disabled = false;
    }
  }
}

JobDetail.prototype.requestCancel = async function requestCancel() {
  if (!this.id) return;
  const id = this.id;
  if (!window.confirm(`Cancel job ${id}? It will not run.`)) return;
  this.cancel.disabled = true;
  this.result.className = "form-result pending";
  setText(this.result, "⏳ Cancelling…");
  try {
    const answer = await gateway(`jobs/${encodeURIComponent(id)}/cancel`, {});
    this.result.className = "form-result success";
    setText(this.result, `✓ Job ${answer?.status ?? "CANCELLED"}`);
    this.refresh();
  } catch (error) {
    this.result.className = "form-result error";
    const state = error instanceof ApiError && error.status === 409 && error.body?.status ? ` (job is ${error.body.status})` : "";
    setText(this.result, `✗ ${error.message}${state}`);
  } finally {
    this.cancel.disabled = false;
  }
};

function field(label, value, className = "") {
  return el("div", { className: `field ${className}` }, el("dt", { text: label }), el("dd", {}, value));
}

function producer(p) {
  if (!p || typeof p !== "object") return "";
  return [p.service, p.version ? `v${p.version}` : ""].filter(Boolean).join(" ");
}

function outcomeClass(outcome) {
  return outcome === "completed" || outcome === "failed" ? outcome : "running";
}
