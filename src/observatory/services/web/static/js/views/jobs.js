// The Jobs view: the read model's job search (status, type, id prefix, error text,
// metadata, created range) and keyset paging over api/jobs, with bulk retry.
// Filters live in the URL (#/jobs?status=FAILED&type=PROCESS&meta.tier=gold); cursors in memory.
import { readModel } from "../api.js";
import { BulkRetry } from "../bulk-retry.js";
import { byId, el, fill, messageRow, setText } from "../dom.js";
import { jobLink, jobTypeError, STATUSES, statusPill, timeNode } from "../format.js";

const PAGE_SIZE = 25;
const ID_SHAPE = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
const EMPTY = { status: "", type: "", idPrefix: "", error: "", from: "", to: "", meta: {} };

/** Why `prefix` cannot start a job id, or "" (the read model's own rule). */
function idPrefixError(prefix) {
  if (prefix.length > ID_SHAPE.length) return "Id prefix: at most 36 characters";
  for (let i = 0; i < prefix.length; i += 1) {
    const ok = ID_SHAPE[i] === "-" ? prefix[i] === "-" : /[0-9a-f]/.test(prefix[i]);
    if (!ok) return "Id prefix: hex digits, with hyphens where a UUID has them";
  }
  return "";
}

/** "a=1, b=2" → {a: "1", b: "2"}; throws with a message on anything else. */
function parseMeta(text) {
  const meta = {};
  for (const part of text.split(",").map((p) => p.trim()).filter(Boolean)) {
    const at = part.indexOf("=");
    if (at < 1) throw new Error(`Metadata: key=value pairs, not "${part}"`);
    meta[part.slice(0, at).trim()] = part.slice(at + 1).trim();
  }
  return meta;
}

/** A datetime-local value (the browser's time zone) as RFC 3339 UTC, or "". */
function isoOf(local) {
  const when = local ? new Date(local) : null;
  return when && !Number.isNaN(when.getTime()) ? when.toISOString() : "";
}

/** RFC 3339 as a datetime-local value in the browser's time zone, or "". */
function localOf(iso) {
  const when = iso ? new Date(iso) : null;
  if (!when || Number.isNaN(when.getTime())) return "";
  const shifted = new Date(when.getTime() - when.getTimezoneOffset() * 60000);
  return shifted.toISOString().slice(0, 19);
}

export class JobsView {
  /** navigate(hash) changes the URL; the router then calls show() with the new filters. */
  constructor({ navigate }) {
    this.navigate = navigate;
    this.form = byId("jobs-filters");
    this.status = byId("filter-status");
    this.type = byId("filter-type");
    this.idPrefix = byId("filter-id");
    this.error = byId("filter-error");
    this.meta = byId("filter-meta");
    this.from = byId("filter-from");
    this.to = byId("filter-to");
    this.body = byId("jobs-body");
    this.message = byId("jobs-message");
    this.prev = byId("jobs-prev");
    this.next = byId("jobs-next");
    this.page = byId("jobs-page");
    this.filters = { ...EMPTY };
    this.bulk = new BulkRetry({ filter: () => this.filters, onDone: () => this.load() });
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
    const idPrefix = this.idPrefix.value.trim().toLowerCase();
    let meta;
    let problem = type && jobTypeError(type) ? jobTypeError(type) : idPrefixError(idPrefix);
    try {
      meta = parseMeta(this.meta.value);
    } catch (error) {
      problem = problem || error.message;
    }
    if (problem) {
      this.showMessage("error", `✗ ${problem}`);
      return;
    }
    const query = new URLSearchParams();
    if (this.status.value) query.set("status", this.status.value);
    if (type) query.set("type", type);
    if (idPrefix) query.set("idPrefix", idPrefix);
    if (this.error.value.trim()) query.set("error", this.error.value.trim());
    if (isoOf(this.from.value)) query.set("from", isoOf(this.from.value));
    if (isoOf(this.to.value)) query.set("to", isoOf(this.to.value));
    for (const [key, value] of Object.entries(meta)) query.set(`meta.${key}`, value);
    this.navigate(query.toString() ? `#/jobs?${query}` : "#/jobs");
  }

  show(params) {
    this.active = true;
    const status = STATUSES.includes(params.get("status")) ? params.get("status") : "";
    const meta = {};
    for (const [key, value] of params.entries()) if (key.startsWith("meta.")) meta[key.slice(5)] = value;
    const next = {
      status,
      type: params.get("type") ?? "",
      idPrefix: params.get("idPrefix") ?? "",
      error: params.get("error") ?? "",
      from: params.get("from") ?? "",
      to: params.get("to") ?? "",
      meta,
    };
    this.status.value = status;
    this.type.value = next.type;
    this.idPrefix.value = next.idPrefix;
    this.error.value = next.error;
    this.from.value = localOf(next.from);
    this.to.value = localOf(next.to);
    this.meta.value = Object.entries(meta).map(([k, v]) => `${k}=${v}`).join(", ");
    if (JSON.stringify(next) !== JSON.stringify(this.filters) || !this.loaded) {
      this.filters = next;
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
    const { meta, ...plain } = this.filters;
    const cursor = this.cursors[this.index];
    const metaParams = Object.fromEntries(Object.entries(meta).map(([k, v]) => [`meta.${k}`, v]));
    try {
      const page = await readModel("jobs", { ...plain, ...metaParams, limit: PAGE_SIZE, cursor });
      this.loaded = true;
      this.render(Array.isArray(page?.items) ? page.items : []);
      this.nextCursor = page?.nextCursor ?? null;
      this.showMessage("", "");
    } catch (error) {
      const detail = error.details?.map((d) => `${d.path.replace("$.", "")}: ${d.message}`).join("; ");
      this.showMessage("error", `Could not load jobs: ${error.message}${detail ? ` (${detail})` : ""}`);
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
      const { meta, ...plain } = this.filters;
      const filtered = Object.values(plain).some(Boolean) || Object.keys(meta).length > 0;
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
