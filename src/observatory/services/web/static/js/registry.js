// The UI registry: header links (Grafana, Prometheus, RabbitMQ) and the UI launcher modal.
// Read from the read model (api/registry); when that fails, from the copy the web service
// ships (ui-registry.json), so the launcher still works while the read model is down.
import { local, readModel } from "./api.js";
import { byId, el, fill } from "./dom.js";

const HEADER_LINKS = ["grafana", "prometheus", "rabbitmq"];

/** The launch URL of an entry, exactly as the other UIs build it: baseUrl:port + path. */
export function entryUrl(registry, entry) {
  return `${String(registry.baseUrl).replace(/\/+$/, "")}:${entry.port}${entry.path}`;
}

function usable(registry) {
  return (
    registry &&
    typeof registry.baseUrl === "string" &&
    /^https?:\/\//.test(registry.baseUrl) &&
    Array.isArray(registry.entries) &&
    registry.entries.every((e) => e && Number.isInteger(e.port) && typeof e.path === "string" && e.path.startsWith("/"))
  );
}

export class RegistryUi {
  constructor() {
    this.dialog = byId("launcher-dialog");
    this.list = byId("launcher-list");
    this.status = byId("launcher-status");
    this.headerLinks = byId("tool-links");
    this.registry = null;
    byId("open-launcher").addEventListener("click", () => this.open());
    byId("launcher-close").addEventListener("click", () => this.dialog.close());
    closeOnBackdrop(this.dialog);
  }

  async load() {
    let problem = "";
    for (const source of [() => readModel("registry"), () => local("ui-registry.json")]) {
      try {
        const registry = await source();
        if (usable(registry)) {
          this.registry = registry;
          this.render();
          return;
        }
        problem = "the registry has an unexpected shape";
      } catch (error) {
        problem = error.message;
      }
    }
    this.registry = null;
    this.render(problem);
  }

  render(problem = "") {
    if (!this.registry) {
      fill(this.headerLinks);
      fill(this.list);
      this.status.hidden = false;
      fill(
        this.status,
        `UI registry unavailable: ${problem}. `,
        el("button", { className: "btn btn-small", text: "Retry", attrs: { type: "button" }, on: { click: () => this.load() } }),
      );
      return;
    }
    this.status.hidden = true;
    const registry = this.registry;
    const byIdMap = new Map(registry.entries.map((entry) => [entry.id, entry]));
    fill(
      this.headerLinks,
      HEADER_LINKS.filter((id) => byIdMap.has(id)).map((id) => {
        const entry = byIdMap.get(id);
        return el("a", {
          className: "tool-link",
          href: entryUrl(registry, entry),
          text: `${entry.emoji} ${entry.name}`,
          title: entry.description,
          attrs: { target: "_blank", rel: "noopener noreferrer" },
          dataset: { entryId: entry.id },
        });
      }),
    );
    fill(
      this.list,
      registry.entries.map((entry) =>
        el(
          "li",
          {},
          el(
            "a",
            {
              className: "launch-card",
              href: entryUrl(registry, entry),
              attrs: { target: "_blank", rel: "noopener noreferrer" },
              dataset: { entryId: entry.id },
              on: { click: () => this.dialog.close() },
            },
            el("span", { className: "launch-emoji", text: entry.emoji, attrs: { "aria-hidden": "true" } }),
            el(
              "span",
              { className: "launch-text" },
              el("strong", { className: "launch-name", text: entry.name }),
              el("span", { className: "launch-description", text: entry.description }),
              el("span", { className: "launch-url mono", text: entryUrl(registry, entry) }),
            ),
            el("span", { className: "launch-arrow", text: "→", attrs: { "aria-hidden": "true" } }),
          ),
        ),
      ),
    );
  }

  open() {
    if (!this.registry) this.load();
    this.dialog.showModal();
  }
}

/** Close a <dialog> when its backdrop (the dialog element itself) is clicked. */
export function closeOnBackdrop(dialog) {
  dialog.addEventListener("click", (event) => {
    if (event.target === dialog) dialog.close();
  });
}
