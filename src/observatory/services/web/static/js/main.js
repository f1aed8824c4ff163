// The dashboard: boot behind the splash, then live updates, routing and the two modals.
import { local } from "./api.js";
import { Charts } from "./charts.js";
import { byId, setText } from "./dom.js";
import { LiveFeed } from "./live.js";
import { NewTaskForm } from "./new-task.js";
import { RegistryUi } from "./registry.js";
import { loadSession } from "./session.js";
import { Router, throttle } from "./router.js";
import { Splash } from "./splash.js";
import { AuditView } from "./views/audit.js";
import { DeadLettersView } from "./views/dead-letters.js";
import { JobDetail } from "./views/job-detail.js";
import { JobsView } from "./views/jobs.js";
import { Overview } from "./views/overview.js";

const BOOT_ATTEMPTS = 3;
const BOOT_RETRY_MS = 1000;
const ALERTS_MS = 15000;
const MODE_LABELS = { connecting: "Connecting", live: "Live", polling: "Polling", offline: "Offline", paused: "Paused" };
const VIEW_TITLES = { overview: "Overview", jobs: "Jobs", job: "Job", "dead-letters": "Dead letters", audit: "Audit" };

const splash = new Splash();
const overview = new Overview();
const detail = new JobDetail();
const deadLetters = new DeadLettersView();
const audit = new AuditView();
const router = new Router(route);
const jobs = new JobsView({ navigate: (hash) => router.navigate(hash) });
const registry = new RegistryUi();
let current = { view: "overview" };
let started = false;

new NewTaskForm({ onCreated: () => refreshJobs() });

// Job events come in bursts: at most one re-fetch of the lists per JOBS_REFRESH_MS (the
// events themselves are drawn as they arrive, see Overview.pushEvent).
const JOBS_REFRESH_MS = 250;
const refreshJobs = throttle(() => {
  overview.refreshRecent().catch(() => {});
  overview.refreshEvents().catch(() => {});
  jobs.onJobEvent();
}, JOBS_REFRESH_MS);

const charts = new Charts({ paused: () => feed.paused });

const feed = new LiveFeed({
  onStats(stats) {
    overview.renderStats(stats);
    charts.onStats(stats);
    deadLetters.onStats(stats);
    markUpdated();
  },
  onJobEvent(envelope) {
    overview.pushEvent(envelope);
    refreshJobs();
    detail.onJobEvent(envelope);
  },
  refresh: refreshAll,
  onMode: showMode,
});

async function refreshAll() {
  const results = await Promise.allSettled([
    overview.refreshStats(),
    overview.refreshRecent(),
    overview.refreshEvents(),
    overview.refreshAlerts(),
    currentView()?.refresh(),
    charts.refresh(),
  ]);
  const ok = results.slice(0, 3).some((r) => r.status === "fulfilled");
  if (ok) markUpdated();
  return ok;
}

function markUpdated() {
  const now = new Date();
  const node = byId("last-updated");
  setText(node, now.toLocaleTimeString());
  node.setAttribute("datetime", now.toISOString());
}

function showMode(mode) {
  const indicator = byId("live-indicator");
  indicator.dataset.state = mode;
  setText(byId("live-label"), MODE_LABELS[mode] ?? mode);
  const toggle = byId("pause-toggle");
  toggle.setAttribute("aria-pressed", String(mode === "paused"));
  setText(toggle, mode === "paused" ? "▶ Resume" : "⏸ Pause");
}

function currentView() {
  return { jobs, job: detail, "dead-letters": deadLetters, audit }[current.view];
}

function route(next, { initial }) {
  const controllers = { jobs, job: detail, "dead-letters": deadLetters, audit };
  for (const [name, view] of Object.entries(controllers)) if (name !== next.view) view.hide();
  current = next;
  for (const section of document.querySelectorAll("main > .view")) {
    section.hidden = section.dataset.view !== next.view;
  }
  const tab = next.view === "job" ? "jobs" : next.view;
  for (const link of document.querySelectorAll("nav.tabs a")) {
    if (link.dataset.view === tab) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  document.title = `${VIEW_TITLES[next.view]}${next.id ? ` ${next.id}` : ""} · Distributed Task Observatory`;
  if (next.view === "jobs") jobs.show(next.params);
  else if (next.view === "job") detail.show(next.id);
  else if (next.view === "dead-letters") deadLetters.show();
  else if (next.view === "audit") audit.show();
  if (!initial) document.querySelector(`main > .view[data-view="${next.view}"] h2`)?.focus();
}

async function loadVersion() {
  try {
    const health = await local("healthz");
    const version = `v${health?.version ?? "-"}`;
    setText(byId("header-version"), version);
    setText(byId("footer-version"), version);
  } catch {
    /* stays "v-" */
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function boot() {
  splash.spin();
  let problem = null;
  for (let attempt = 0; attempt < BOOT_ATTEMPTS; attempt += 1) {
    try {
      await overview.refreshStats();
      problem = null;
      break;
    } catch (error) {
      problem = error;
      if (attempt + 1 < BOOT_ATTEMPTS) await sleep(BOOT_RETRY_MS);
    }
  }
  if (problem) {
    splash.fail(`${problem.message}.`, boot);
    return;
  }
  await Promise.allSettled([
    overview.refreshRecent(),
    overview.refreshEvents(),
    overview.refreshAlerts(),
    charts.refresh(),
  ]);
  markUpdated();
  splash.finish();
  if (started) return;
  started = true;
  router.start();
  feed.start();
  setInterval(() => {
    if (!feed.paused && !document.hidden) overview.refreshAlerts();
  }, ALERTS_MS);
}

// A click anywhere on a job row opens the job (the id cell is the keyboard-reachable link).
document.addEventListener("click", (event) => {
  const row = event.target.closest?.("tr.clickable[data-job-id]");
  if (!row || event.target.closest("a, button, summary, details")) return;
  if (window.getSelection()?.toString()) return; // the user is selecting text
  router.navigate(`#/jobs/${encodeURIComponent(row.dataset.jobId)}`);
});
byId("pause-toggle").addEventListener("click", () => feed.toggle());

loadVersion();
loadSession().then(() => {
  registry.load();
  boot();
});
