// Bulk retry from the Jobs view: count the FAILED jobs the filter selects (a dry run),
// ask, then POST gateway/jobs/retry and show what happened (SPEC §13).
import { gateway } from "./api.js";
import { byId, setText } from "./dom.js";

const CAP = 1000; // POST /jobs/retry's cap per request

export class BulkRetry {
  /** filter() returns the Jobs view's current filters (the URL's). */
  constructor({ filter, onDone }) {
    this.filter = filter;
    this.onDone = onDone;
    this.start = byId("bulk-retry-start");
    this.question = byId("bulk-retry-question");
    this.confirm = byId("bulk-retry-confirm");
    this.cancel = byId("bulk-retry-cancel");
    this.result = byId("bulk-retry-result");
    this.asked = null;
    this.start.addEventListener("click", () => this.count());
    this.confirm.addEventListener("click", () => this.retry());
    this.cancel.addEventListener("click", () => this.reset("", ""));
  }

  /** The retry filter (type, error, from, to); null with a message when it cannot be one. */
  body() {
    const f = this.filter();
    if (f.idPrefix || Object.keys(f.meta).length) {
      this.show("error", "✗ Bulk retry filters by type, error text and created range only: clear id and metadata first");
      return null;
    }
    if (f.status && f.status !== "FAILED") {
      this.show("error", `✗ Only FAILED jobs are retried; the filter shows ${f.status}`);
      return null;
    }
    const filter = {};
    for (const key of ["type", "error", "from", "to"]) if (f[key]) filter[key] = f[key];
    return filter;
  }

  async count() {
    const filter = this.body();
    if (!filter) return;
    this.show("pending", "⏳ Counting FAILED jobs…");
    try {
      const answer = await gateway("jobs/retry", { filter, dryRun: true });
      const matched = Number(answer?.matched ?? 0);
      if (!matched) {
        this.reset("", "No FAILED job matches these filters");
        return;
      }
      const limit = Math.min(matched, CAP);
      this.asked = { filter, limit, matched };
      const which = Object.entries(filter).map(([k, v]) => `${k}=${v}`).join(" ") || "any type";
      const more = matched > CAP ? ` (the newest ${CAP.toLocaleString("en")} of ${matched.toLocaleString("en")})` : "";
      setText(this.question, `Retry ${limit.toLocaleString("en")} FAILED jobs (${which})${more}?`);
      setText(this.confirm, `Retry ${limit.toLocaleString("en")} jobs`);
      this.question.hidden = this.confirm.hidden = this.cancel.hidden = false;
      this.start.hidden = true;
      this.show("", "");
      this.confirm.focus();
    } catch (error) {
      this.show("error", `✗ ${error.message}`);
    }
  }

  async retry() {
    if (!this.asked) return;
    const { filter, limit } = this.asked;
    this.confirm.disabled = true;
    this.show("pending", "⏳ Retrying…");
    try {
      const done = await gateway("jobs/retry", { filter, limit }, { timeoutMs: 30000 });
      this.reset("success", `✓ Retried ${done.retried} of ${done.matched} matched FAILED jobs`);
      this.onDone();
    } catch (error) {
      const partial = error.body && typeof error.body.retried === "number" ? ` (${error.body.retried} were retried; repeat to resume)` : "";
      this.reset("error", `✗ ${error.message}${partial}`);
    } finally {
      this.confirm.disabled = false;
    }
  }

  reset(kind, text) {
    this.asked = null;
    this.question.hidden = this.confirm.hidden = this.cancel.hidden = true;
    this.start.hidden = false;
    this.show(kind, text);
  }

  show(kind, text) {
    this.result.className = `form-result ${kind}`;
    setText(this.result, text);
  }
}
