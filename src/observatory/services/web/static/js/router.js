// Hash routes: #/ (overview), #/jobs?status=&type= (jobs), #/jobs/<id> (one job),
// #/dead-letters, #/audit. Hash routing keeps deep links working with a plain static server.

/** Parse a location hash into {view, id?, params}. */
export function parseRoute(hash) {
  const raw = (hash || "").replace(/^#/, "") || "/";
  const [path, query = ""] = raw.split("?");
  const params = new URLSearchParams(query);
  const parts = path.split("/").filter(Boolean);
  if (parts[0] === "jobs" && parts.length === 2) {
    let id = parts[1];
    try {
      id = decodeURIComponent(id);
    } catch {
      /* keep the raw text */
    }
    return { view: "job", id, params };
  }
  if (parts[0] === "jobs" && parts.length === 1) return { view: "jobs", params };
  if (parts[0] === "dead-letters") return { view: "dead-letters", params };
  if (parts[0] === "audit") return { view: "audit", params };
  return { view: "overview", params };
}

export class Router {
  /** onRoute(route, {initial}) is called for the current hash and every change. */
  constructor(onRoute) {
    this.onRoute = onRoute;
  }

  start() {
    window.addEventListener("hashchange", () => this.onRoute(parseRoute(location.hash), { initial: false }));
    this.onRoute(parseRoute(location.hash), { initial: true });
  }

  navigate(hash) {
    if (location.hash === hash) this.onRoute(parseRoute(hash), { initial: false });
    else location.hash = hash;
  }
}

/** Call `fn` at most once per `ms`; a call during the wait runs once at its end. */
export function throttle(fn, ms) {
  let last = 0;
  let timer = null;
  return () => {
    const wait = last + ms - Date.now();
    if (wait <= 0 && !timer) {
      last = Date.now();
      fn();
    } else if (!timer) {
      timer = setTimeout(() => {
        timer = null;
        last = Date.now();
        fn();
      }, Math.max(wait, 0));
    }
  };
}
