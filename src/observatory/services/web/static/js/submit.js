// Submitting a job so that sending it again is safe (README, "HTTP API in brief"). The browser picks the job's
// id; while an answer leaves the job's fate open (503, the proxy's 502/504, a timeout, a
// network error) the very same body goes out again after Retry-After, at most three more
// times within about 30 s. Any other answer (400, 401, 413, 415, …) is final.
import { ApiError, gateway } from "./api.js";

export const RETRY = Object.freeze({ attempts: 4, budgetMs: 30000, backoffMs: 1000, maxWaitMs: 10000 });
const OPEN_STATUSES = new Set([502, 503, 504]);

/** A fresh job id (UUID v4). crypto.randomUUID exists only in secure contexts (https,
 *  localhost); over plain http from another host getRandomValues still does. */
export function newJobId() {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40; // version 4
  bytes[8] = (bytes[8] & 0x3f) | 0x80; // the RFC 4122 variant
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The tries ran out while the job's fate was open; `note` names the job and what is safe. */
export class SubmitUnsettled extends ApiError {
  constructor(jobId, attempts, maybePublished, last) {
    const note = maybePublished
      ? `Job ${jobId} was not confirmed after ${attempts} tries: its outcome is unknown and it may still run. ` +
        "Resubmitting it with the same id is safe (it runs once)."
      : `Job ${jobId} was not accepted after ${attempts} tries (nothing was published). ` +
        "Resubmitting it with the same id is safe.";
    super(`${last.message}. ${note}`, { status: last.status, body: last.body, kind: last.kind });
    this.name = "SubmitUnsettled";
    this.jobId = jobId;
    this.attempts = attempts;
    this.maybePublished = maybePublished;
    this.reason = last.message;
    this.note = note;
  }
}

const isOpen = (failure) => failure.kind !== "http" || OPEN_STATUSES.has(failure.status);

// A plain 503 means the gateway published nothing; everything else open may have gone out.
const mayHaveBeenPublished = (failure) =>
  failure.kind !== "http" || failure.status !== 503 || failure.body?.outcome === "unknown";

function retryAfterMs(failure) {
  const raw = failure.retryAfter;
  const seconds = raw === null || raw === undefined || raw === "" ? NaN : Number(raw);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : null;
}

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * POST `body` (carrying its own `id`) to the gateway, sending it again while its fate is
 * open. onRetry({jobId, attempt, attempts, waitMs, reason}) is called before each wait.
 * Resolves to the gateway's answer; rejects with the final ApiError, or SubmitUnsettled.
 */
export async function submitJob(body, { onRetry = () => {}, sleep = pause, policy = RETRY } = {}) {
  const started = performance.now();
  let maybePublished = false;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await gateway("jobs", body);
    } catch (failure) {
      if (!(failure instanceof ApiError) || !isOpen(failure)) throw failure;
      maybePublished ||= mayHaveBeenPublished(failure);
      const waitMs = Math.min(retryAfterMs(failure) ?? policy.backoffMs * 2 ** (attempt - 1), policy.maxWaitMs);
      if (attempt >= policy.attempts || performance.now() - started + waitMs > policy.budgetMs) {
        throw new SubmitUnsettled(body.id, attempt, maybePublished, failure);
      }
      onRetry({ jobId: body.id, attempt: attempt + 1, attempts: policy.attempts, waitMs, reason: failure.message });
      await sleep(waitMs);
    }
  }
}
