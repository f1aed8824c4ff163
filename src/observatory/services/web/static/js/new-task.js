// The New Task form: the gateway's job-type rule checked here too, optional simulation
// (duration, failure probability), the job id on success and the server's message on error.
import { apiToken, ApiError, gateway, setApiToken } from "./api.js";
import { byId, el, fill } from "./dom.js";
import { jobLink, jobTypeError } from "./format.js";
import { closeOnBackdrop } from "./registry.js";

const MAX_DURATION_MS = 600000; // the gateway's limit for payload.simulate.durationMs

export class NewTaskForm {
  /** onCreated(jobId) is called after the gateway accepted a job. */
  constructor({ onCreated }) {
    this.onCreated = onCreated;
    this.dialog = byId("new-task-dialog");
    this.form = byId("new-task-form");
    this.type = byId("task-type");
    this.duration = byId("task-duration");
    this.failure = byId("task-failure");
    this.tokenRow = byId("task-token-row");
    this.token = byId("task-token");
    this.submit = byId("task-submit");
    this.result = byId("task-result");
    byId("open-new-task").addEventListener("click", () => this.open());
    byId("task-cancel").addEventListener("click", () => this.dialog.close());
    closeOnBackdrop(this.dialog);
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.send();
    });
    this.type.addEventListener("input", () => this.type.removeAttribute("aria-invalid"));
  }

  open() {
    this.form.reset();
    this.token.value = apiToken();
    this.tokenRow.hidden = !this.token.value;
    this.submit.disabled = false;
    this.show("", "");
    this.dialog.showModal();
    this.type.focus();
  }

  show(kind, ...content) {
    this.result.className = `form-result ${kind}`;
    fill(this.result, ...content);
  }

  /** The request body, or an error message naming the first bad field. */
  build() {
    const typeError = jobTypeError(this.type.value);
    if (typeError) return { error: typeError, field: this.type };
    const simulate = {};
    const duration = this.duration.value.trim();
    if (duration) {
      const ms = Number(duration);
      if (!Number.isInteger(ms) || ms < 0 || ms > MAX_DURATION_MS) {
        return { error: `Duration must be a whole number from 0 to ${MAX_DURATION_MS} (ms)`, field: this.duration };
      }
      simulate.durationMs = ms;
    }
    const failure = this.failure.value.trim();
    if (failure) {
      const p = Number(failure);
      if (!Number.isFinite(p) || p < 0 || p > 1) {
        return { error: "Failure probability must be a number from 0 to 1", field: this.failure };
      }
      simulate.failProbability = p;
    }
    const body = { type: this.type.value.trim().toUpperCase() };
    if (Object.keys(simulate).length) body.payload = { simulate };
    return { body };
  }

  async send() {
    for (const input of [this.type, this.duration, this.failure]) input.removeAttribute("aria-invalid");
    const { body, error, field } = this.build();
    if (error) {
      field.setAttribute("aria-invalid", "true");
      this.show("error", `✗ ${error}`);
      field.focus();
      return;
    }
    if (!this.tokenRow.hidden) setApiToken(this.token.value.trim());
    this.submit.disabled = true;
    this.show("pending", "⏳ Submitting…");
    try {
      const accepted = await gateway("jobs", body);
      const jobId = String(accepted?.jobId ?? "");
      this.show(
        "success",
        "✓ Job created: ",
        el("code", { className: "mono", text: jobId, dataset: { jobId } }),
        " ",
        jobLink(jobId, "View job →"),
      );
      this.result.querySelector("a")?.addEventListener("click", () => this.dialog.close());
      this.onCreated(jobId);
    } catch (failure) {
      this.showError(failure);
    } finally {
      this.submit.disabled = false;
    }
  }

  showError(failure) {
    const message = failure instanceof ApiError ? failure.message : String(failure);
    const details = failure instanceof ApiError ? failure.details : [];
    if (failure instanceof ApiError && failure.status === 401) {
      this.tokenRow.hidden = false;
      this.token.focus();
    }
    this.show(
      "error",
      `✗ ${message}`,
      details.length
        ? el("ul", { className: "details" }, details.map((d) => el("li", { text: d.path ? `${d.path}: ${d.message}` : d.message })))
        : null,
    );
  }
}
