// The Jobs view: status and type filters and keyset paging over api/jobs.
// Filters live in the URL (#/jobs?status=FAILED&type=PROCESS); cursors in memory.
import { readModel } from "../api.js";
import { byId, el, fill, messageRow, setText } from "../dom.js";
import { jobLink, jobTypeError, STATUSES, statusPill, timeNode } from "../format.js";

const PAGE_SIZE = 25;

export class JobsView {
  /** navigate(hash) changes the URL; the router then calls show() with the new filters. */
  constructor({ navigate }) {
    this.navigate = navigate;
    this.form = byId("jobs-filters");
    this.status = byId("filter-status");
    this.type = byId("filter-type");
    this.body = byId("jobs-body");
    this.message = byId("jobs-message");
    this.prev = byId("jobs-prev");
    this.next = byId("jobs-next");
    this.page = byId("jobs-page");
    this.filters = { status: "", type: "" };
    this.cursors = [null];
    this.index = 0;
    this.nextCursor = null;
    this.active = false;
    fill(this.status, el("option", { text: "All statuses", attrs: { value: "" } }), STATUSES.map((s) => el("option", { text: s, attrs: { value: s } })));
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.apply();
    });
    byId("filter-clear").addEventListener("click", () => this.navigate("#/jobs"));
    this.prev.addEventListener("click", () => this.go(this.index - 1));
    this.next.addEventListener("click", () => this.go(this.index + 1));
  }

  apply() {
    const type = this.type.value.trim();
    if (type && jobTypeError(type)) {
      this.type.setAttribute("aria-invalid", "true");
      this.showMessage("error", `✗ ${jobTypeError(type)}`);
      return;
    }
    this.type.removeAttribute("aria-invalid");
    const query = new URLSearchParams();
    if (this.status.value) query.set("status", this.status.value);
    if (type) query.set("type", type);
    this.navigate(query.toString() ? `#/jobs?${query}` : "#/jobs");
  }

  show(params) {
    this.active = true;
    const status = STATUSES.includes(params.get("status")) ? params.get("status") : "";
    const type = params.get("type") ?? "";
    this.status.value = status;
    this.type.value = type;
    if (status !== this.filters.status || type !== this.filters.type || !this.loaded) {
      this.filters = { status, type };
      this.cursors = [null];
      this.index = 0;
    }
    return this.load();
  }

  hide() {
    this.active = false;
  }

  /** New events only matter on the first page: later pages would shift under the reader. */
  onJobEvent() {
    if (this.active && this.index === 0) this.load();
  }

  refresh() {
    return this.active ? this.load() : Promise.resolve();
  }

  go(index) {
    if (index < 0 || index >= this.cursors.length + (this.nextCursor ? 1 : 0)) return;
    if (index === this.cursors.length) this.cursors.push(this.nextCursor);
    this.index = index;
    this.load();
  }

  showMessage(kind, text) {
    this.message.className = `form-result ${kind}`;
    setText(this.message, text);
  }

  async load() {
    if (this.loading) {
      this.again = true;
      return;
    }
    this.loading = true;
    const { status, type } = this.filters;
    const cursor = this.cursors[this.index];
    try {
      const page = await readModel("jobs", { status, type, limit: PAGE_SIZE, cursor });
      this.loaded = true;
      this.render(Array.isArray(page?.items) ? page.items : []);
      this.nextCursor = page?.nextCursor ?? null;
      this.showMessage("", "");
    } catch (error) {
      this.showMessage("error", `Could not load jobs: ${error.message}`);
    } finally {
      this.loading = false;
      this.prev.disabled = this.index === 0;
      this.next.disabled = !this.nextCursor;
      setText(this.page, `Page ${this.index + 1}`);
      if (this.again) {
        this.again = false;
        this.load();
      }
    }
  }

  render(jobs) {
    if (!jobs.length) {
      const filtered = this.filters.status || this.filters.type;
      fill(this.body, messageRow(6, filtered ? "No jobs match these filters" : "No jobs yet"));
      return;
    }
    fill(
      this.body,
      jobs.map((job) =>
        el(
          "tr",
          { className: "clickable", dataset: { jobId: String(job.id ?? "") } },
          el("td", {}, jobLink(job.id)),
          el("td", { className: "type", text: job.type ?? "–" }),
          el("td", {}, statusPill(job.status)),
          el("td", { className: "col-optional num", text: job.attempts ?? 0 }),
          el("td", { className: "col-optional" }, timeNode(job.createdAt, true)),
          el("td", { className: "col-optional error-text", text: job.error ?? "" }),
        ),
      ),
    );
  }
}
