// Formatting values for display. Everything returns plain strings or text-only nodes.
import { el } from "./dom.js";

export const STATUSES = ["PENDING", "VALIDATED", "EXECUTING", "COMPLETED", "FAILED", "CANCELLED"];
export const JOB_TYPE_RULE = /^[A-Za-z0-9_-]{1,50}$/;

/** First 8 characters of an id and an ellipsis (the full id goes in a title). */
export function shortId(id) {
  const text = String(id ?? "");
  return text.length > 8 ? `${text.slice(0, 8)}…` : text || "–";
}

function parse(iso) {
  if (!iso) return null;
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** Local time of day, or "–". */
export function time(iso) {
  const date = parse(iso);
  return date ? date.toLocaleTimeString() : "–";
}

/** Local date and time, or "–". */
export function dateTime(iso) {
  const date = parse(iso);
  return date ? date.toLocaleString() : "–";
}

/** A <time> element showing local time with the exact timestamp on hover. */
export function timeNode(iso, full = false) {
  const date = parse(iso);
  if (!date) return el("span", { className: "muted", text: "–" });
  return el("time", {
    text: full ? date.toLocaleString() : date.toLocaleTimeString(),
    title: date.toISOString(),
    attrs: { datetime: date.toISOString() },
  });
}

/** A coloured status pill. Unknown statuses get a neutral pill, still as text. */
export function statusPill(status) {
  const text = String(status ?? "UNKNOWN");
  const known = STATUSES.includes(text) ? text.toLowerCase() : "unknown";
  return el("span", { className: `pill pill-${known}`, text, dataset: { status: text } });
}

/** A link to a job's detail view. */
export function jobLink(id, label) {
  const text = String(id ?? "");
  return el("a", {
    className: "job-link mono",
    href: `#/jobs/${encodeURIComponent(text)}`,
    text: label ?? shortId(text),
    title: text,
    dataset: { jobId: text },
  });
}

/** Pretty JSON for a <pre>, tolerant of anything. */
export function prettyJson(value) {
  if (typeof value === "string") return value;
  try {
    return JSON.stringify(value, null, 2) ?? String(value);
  } catch {
    return String(value);
  }
}

/** A number for a stat card ("–" when unknown). */
export function count(value) {
  return typeof value === "number" && Number.isFinite(value) ? value.toLocaleString() : "–";
}

/**
 * Check a job type the way the gateway does; returns an error message or "".
 * The type is trimmed first, as it is before submitting.
 */
export function jobTypeError(raw) {
  const value = String(raw ?? "").trim();
  if (!value) return "Job type cannot be empty";
  if (value.length > 50) return "Job type too long (max 50 chars)";
  if (!JOB_TYPE_RULE.test(value)) return "Job type must be alphanumeric (underscores/hyphens allowed)";
  return "";
}
