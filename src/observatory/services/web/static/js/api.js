// Talking to the web service's same-origin proxies: `api/*` (read model) and `gateway/*`.
// URLs are relative so the dashboard also works under a path prefix behind an ingress.

// With tokens configured the browser holds its token in an HttpOnly cookie the web
// service turns into the Authorization header (services/web/signin.py): scripts never see it.
let onUnauthorised = null;

/** `handler()` runs when an API answers 401 (a sign-in that expired or was revoked). */
export function whenUnauthorised(handler) {
  onUnauthorised = handler;
}

/** A failed request, with the message to show the user. */
export class ApiError extends Error {
  constructor(message, { status = 0, body = null, kind = "http", retryAfter = null } = {}) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.body = body;
    this.kind = kind; // "http" | "network" | "timeout"
    this.retryAfter = retryAfter; // the Retry-After header (a 503 says when to send again)
  }

  /** Validation details from an {error, details:[{path, message}]} body. */
  get details() {
    const details = this.body && Array.isArray(this.body.details) ? this.body.details : [];
    return details.map((d) => ({ path: String(d?.path ?? ""), message: String(d?.message ?? "") }));
  }
}

async function request(url, { method = "GET", body, timeoutMs = 8000, what = "Server" } = {}) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
      signal: controller.signal,
    });
  } catch (error) {
    if (controller.signal.aborted) {
      throw new ApiError(`Request timed out - ${what} may be unavailable`, { kind: "timeout" });
    }
    throw new ApiError(`Network error - ${what} not reachable`, { kind: "network" });
  } finally {
    clearTimeout(timer);
  }
  let data = null;
  const text = await response.text();
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (response.status === 401 && onUnauthorised) onUnauthorised();
  if (!response.ok) {
    const message = data && typeof data.error === "string" && data.error ? data.error : `HTTP ${response.status}`;
    const retryAfter = response.headers.get("Retry-After");
    throw new ApiError(message, { status: response.status, body: data, retryAfter });
  }
  return data;
}

/** GET a read-model resource, e.g. readModel("stats"). */
export function readModel(path, params = {}) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") query.set(key, String(value));
  }
  const suffix = query.toString() ? `?${query}` : "";
  return request(`api/${path}${suffix}`, { what: "Read model" });
}

/** POST to the gateway, e.g. gateway("jobs", {type}). */
export function gateway(path, body, { timeoutMs = 5000 } = {}) {
  return request(`gateway/${path}`, { method: "POST", body, timeoutMs, what: "Gateway" });
}

/** GET something the web service answers itself (healthz, ui-registry.json). */
export function local(path) {
  return request(path, { what: "Web service" });
}
