// Audit: who did what (submit, retry, cancel, replay, ...), newest first, with paging.
// Every field came from a server: shown as text only.
import { readModel } from "../api.js";
import { byId, el, fill, messageRow } from "../dom.js";
import { shortId, timeNode } from "../format.js";

const LIMIT = 50;

export class AuditView {
  constructor() {
    this.body = byId("audit-body");
    this.more = byId("audit-more");
    this.active = false;
    this.cursor = null;
    this.more.addEventListener("click", () => this.load(this.cursor, true));
  }

  show() {
    this.active = true;
    return this.refresh();
  }

  hide() {
    this.active = false;
  }

  refresh() {
    return this.load(null, false);
  }

  async load(cursor, append) {
    if (!this.active) return;
    try {
      const page = await readModel("audit", cursor ? { limit: LIMIT, cursor } : { limit: LIMIT });
      const items = Array.isArray(page?.items) ? page.items : [];
      this.cursor = page?.nextCursor ?? null;
      this.more.hidden = !this.cursor;
      const rows = items.map(row);
      if (append) this.body.append(...rows);
      else fill(this.body, rows.length ? rows : messageRow(6, "Nothing done yet"));
    } catch (error) {
      fill(this.body, messageRow(6, `Could not load the audit: ${error.message}`, "warn"));
    }
  }
}

function row(entry) {
  const target = String(entry.target ?? "");
  const isJob = /^[0-9a-f-]{36}$/i.test(target);
  return el(
    "tr",
    { dataset: { auditAction: String(entry.action ?? "") } },
    el("td", {}, timeNode(entry.occurredAt, true)),
    el("td", { className: "audit-action", text: entry.action ?? "–" }),
    el("td", { className: "col-optional audit-actor", text: entry.actor ?? "–" }),
    el(
      "td",
      { className: "mono" },
      isJob ? el("a", { href: `#/jobs/${encodeURIComponent(target)}`, text: shortId(target), title: target }) : el("span", { text: target }),
    ),
    el("td", { className: "col-optional mono audit-result", text: summary(entry.result, entry.filter) }),
    el("td", { className: "col-optional mono", text: shortId(entry.correlationId), title: entry.correlationId ?? "" }),
  );
}

function summary(result, filter) {
  const parts = [];
  if (result && typeof result === "object") for (const [key, value] of Object.entries(result)) parts.push(`${key}=${typeof value === "object" ? JSON.stringify(value) : value}`);
  if (filter && typeof filter === "object" && Object.keys(filter).length) parts.push(`filter=${JSON.stringify(filter)}`);
  return parts.join(" ");
}
