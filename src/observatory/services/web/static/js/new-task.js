// The New Task form: the gateway's job-type rule checked here too, optional simulation
// (duration, failure probability), the job id on success and the server's message on error.
// Each job carries an id chosen here and is sent again with it while its fate is open
// (submit.js); if the tries run out, submitting the unchanged form resends that same job.
import { ApiError } from "./api.js";
import { byId, el, fill } from "./dom.js";
import { jobLink, jobTypeError } from "./format.js";
import { closeOnBackdrop } from "./registry.js";
import { newJobId, submitJob, SubmitUnsettled } from "./submit.js";

const MAX_DURATION_MS = 60000; // the gateway's limit for payload.simulate.durationMs

export class NewTaskForm {
  /** onCreated(jobId) is called after the gateway accepted a job. */
  constructor({ onCreated }) {
    this.onCreated = onCreated;
    this.dialog = byId("new-task-dialog");
    this.form = byId("new-task-form");
    this.type = byId("task-type");
    this.duration = byId("task-duration");
    this.failure = byId("task-failure");
    this.submit = byId("task-submit");
    this.result = byId("task-result");
    this.unsettled = null; // {key, jobId} of a submission whose tries ran out with its fate open
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
    this.unsettled = null;
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
    const key = JSON.stringify(body);
    const id = this.unsettled?.key === key ? this.unsettled.jobId : newJobId();
    this.submit.disabled = true;
    this.show("pending", "⏳ Submitting…");
    try {
      const accepted = await submitJob({ id, ...body }, { onRetry: (retry) => this.showRetry(retry) });
      this.unsettled = null;
      const jobId = String(accepted?.jobId ?? id);
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
      this.unsettled = failure instanceof SubmitUnsettled ? { key, jobId: id } : null;
      this.showError(failure);
    } finally {
      this.submit.disabled = false;
    }
  }

  showRetry({ jobId, attempt, attempts, waitMs, reason }) {
    this.show(
      "pending",
      `⟳ Retrying… try ${attempt} of ${attempts} in ${Math.round(waitMs / 100) / 10}s (${reason}) · job `,
      el("code", { className: "mono", text: jobId, dataset: { unsettledJobId: jobId } }),
    );
  }

  showError(failure) {
    if (failure instanceof SubmitUnsettled) {
      const [before, after] = failure.note.split(failure.jobId);
      this.show(
        "error",
        `✗ ${failure.reason}. ${before}`,
        el("code", { className: "mono", text: failure.jobId, dataset: { unsettledJobId: failure.jobId } }),
        `${after} Submit again to resend the same job.`,
      );
      return;
    }
    const message = failure instanceof ApiError ? failure.message : String(failure);
    const details = failure instanceof ApiError ? failure.details : [];
    this.show(
      "error",
      `✗ ${message}`,
      details.length
        ? el("ul", { className: "details" }, details.map((d) => el("li", { text: d.path ? `${d.path}: ${d.message}` : d.message })))
        : null,
    );
  }
}
