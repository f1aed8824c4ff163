// Dead letters: messages the pipeline refused, with why, when, by whom and their raw text.
// The raw text is whatever someone published, so it is shown strictly as text.
import { readModel } from "../api.js";
import { byId, el, fill, messageRow } from "../dom.js";
import { prettyJson, shortId, timeNode } from "../format.js";

const LIMIT = 50;
const PREVIEW_CHARS = 160;

export class DeadLettersView {
  constructor() {
    this.body = byId("dead-letters-body");
    this.active = false;
    this.shownCount = null;
  }

  show() {
    this.active = true;
    return this.refresh();
  }

  hide() {
    this.active = false;
  }

  /** Stats from the stream: reload when the dead-letter count moved. */
  onStats(stats) {
    if (this.active && typeof stats?.deadLetters === "number" && stats.deadLetters !== this.shownCount) {
      this.shownCount = stats.deadLetters;
      this.refresh();
    }
  }

  async refresh() {
    if (!this.active) return;
    try {
      const letters = await readModel("dead-letters", { limit: LIMIT });
      this.render(Array.isArray(letters) ? letters : []);
    } catch (error) {
      fill(this.body, messageRow(5, `Could not load dead letters: ${error.message}`, "warn"));
    }
  }

  render(letters) {
    if (!letters.length) {
      fill(this.body, messageRow(5, "No dead letters - every message so far was valid"));
      return;
    }
    // Keep open <details> open across refreshes.
    const open = new Set([...this.body.querySelectorAll("details[open]")].map((d) => d.dataset.letterId));
    fill(
      this.body,
      letters.map((letter) => {
        const id = String(letter.id ?? "");
        const raw = prettyJson(letter.original_event ?? "");
        const details = el(
          "details",
          { dataset: { letterId: id } },
          el("summary", { className: "mono raw-preview", text: raw.length > PREVIEW_CHARS ? `${raw.slice(0, PREVIEW_CHARS)}…` : raw }),
          el("pre", { className: "raw", text: raw }),
        );
        details.open = open.has(id);
        return el(
          "tr",
          { dataset: { letterId: id } },
          el("td", {}, timeNode(letter.rejected_at, true)),
          el("td", { className: "col-optional", text: [letter.service, letter.service_version].filter(Boolean).join(" ") || "–" }),
          el("td", { className: "error-text", text: letter.validation_error ?? "" }),
          el("td", { className: "col-optional mono", text: shortId(letter.correlation_id), title: letter.correlation_id }),
          el("td", { className: "raw-cell" }, details),
        );
      }),
    );
  }
}
