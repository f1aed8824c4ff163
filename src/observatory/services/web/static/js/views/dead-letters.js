// Dead letters: messages the pipeline refused, with why, when, from which queue, their
// state (new, replayed, replay_failed) and raw text; Replay one, or all new ones matching
// the filter after a dry-run count and a confirmation. The raw text is whatever someone
// published, so it is shown strictly as text.
import { ApiError, gateway, readModel } from "../api.js";
import { byId, el, fill, messageRow, setText } from "../dom.js";
import { prettyJson, timeNode } from "../format.js";

const LIMIT = 50;
const PREVIEW_CHARS = 160;
const COLUMNS = 7;
const REPLAYABLE = new Set(["new", "replay_failed"]);

export class DeadLettersView {
  constructor() {
    this.body = byId("dead-letters-body");
    this.state = byId("dead-letters-state");
    this.reason = byId("dead-letters-reason");
    this.result = byId("dead-letters-result");
    this.active = false;
    this.shownCount = null;
    this.state.addEventListener("change", () => this.refresh());
    this.reason.addEventListener("change", () => this.refresh());
    byId("dead-letters-bulk").addEventListener("click", () => this.replayMatching());
    this.body.addEventListener("click", (event) => {
      const button = event.target.closest?.("button[data-replay]");
      if (button) this.replayOne(button.dataset.replay, button);
    });
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

  filter() {
    const filter = {};
    if (this.reason.value.trim()) filter.reason = this.reason.value.trim();
    return filter;
  }

  async refresh() {
    if (!this.active) return;
    const params = { limit: LIMIT, ...this.filter() };
    if (this.state.value) params.state = this.state.value;
    try {
      const letters = await readModel("dead-letters", params);
      this.render(Array.isArray(letters) ? letters : []);
    } catch (error) {
      fill(this.body, messageRow(COLUMNS, `Could not load dead letters: ${error.message}`, "warn"));
    }
  }

  async replayOne(id, button) {
    button.disabled = true;
    this.report("pending", `⏳ Replaying dead letter ${id}…`);
    try {
      const answer = await gateway(`dead-letters/${encodeURIComponent(id)}/replay`, {});
      this.report("success", `✓ Dead letter ${id} ${answer?.state ?? "replayed"}`);
    } catch (error) {
      const problems = error instanceof ApiError ? error.details.map((d) => `${d.path}: ${d.message}`).join("; ") : "";
      this.report("error", `✗ ${error.message}${problems ? ` (${problems})` : ""}`);
    } finally {
      button.disabled = false;
      this.refresh();
    }
  }

  async replayMatching() {
    const filter = this.filter();
    this.report("pending", "⏳ Counting the new dead letters that match…");
    try {
      const dry = await gateway("dead-letters/replay", { filter, dryRun: true });
      if (!dry?.matched) {
        this.report("success", "No new dead letters match");
        return;
      }
      if (!window.confirm(`Replay ${dry.matched} new dead letter(s)?`)) {
        this.report("success", "Nothing replayed");
        return;
      }
      this.report("pending", `⏳ Replaying ${dry.matched}…`);
      const done = await gateway("dead-letters/replay", { filter, limit: dry.matched }, { timeoutMs: 30000 });
      const failed = Array.isArray(done?.failed) ? done.failed.length : 0;
      this.report(failed ? "error" : "success", `✓ Replayed ${done?.replayed ?? 0} of ${done?.matched ?? 0}${failed ? `, ${failed} refused` : ""}`);
    } catch (error) {
      this.report("error", `✗ ${error.message}`);
    } finally {
      this.refresh();
    }
  }

  report(kind, text) {
    this.result.className = `form-result ${kind}`;
    setText(this.result, text);
  }

  render(letters) {
    if (!letters.length) {
      fill(this.body, messageRow(COLUMNS, "No dead letters here"));
      return;
    }
    // Keep open <details> open across refreshes.
    const open = new Set([...this.body.querySelectorAll("details[open]")].map((d) => d.dataset.letterId));
    fill(
      this.body,
      letters.map((letter) => {
        const id = String(letter.id ?? "");
        const state = String(letter.state ?? "new");
        const raw = prettyJson(letter.original_event ?? "");
        const details = el(
          "details",
          { dataset: { letterId: id } },
          el("summary", { className: "mono raw-preview", text: raw.length > PREVIEW_CHARS ? `${raw.slice(0, PREVIEW_CHARS)}…` : raw }),
          el("pre", { className: "raw", text: raw }),
        );
        details.open = open.has(id);
        const action = REPLAYABLE.has(state)
          ? el("button", { className: "btn btn-compact", text: "↻ Replay", attrs: { type: "button", "data-replay": id, "data-needs": "operator", "aria-label": `Replay dead letter ${id}` } })
          : el("span", { className: "muted", text: "–" });
        return el(
          "tr",
          { dataset: { letterId: id, state } },
          el("td", {}, timeNode(letter.rejected_at, true)),
          el("td", { className: "col-optional", text: [letter.service, letter.service_version].filter(Boolean).join(" ") || "–" }),
          el("td", { className: "col-optional mono", text: letter.queue ?? "–" }),
          el("td", { className: "error-text", text: letter.validation_error ?? "" }),
          el("td", { className: `letter-state state-${state.replace(/[^a-z_]/g, "")}`, text: state, title: letter.replayError ?? "" }),
          el("td", { className: "col-optional raw-cell" }, details),
          el("td", {}, action),
        );
      }),
    );
  }
}
