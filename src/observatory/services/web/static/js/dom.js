// Building DOM nodes from data. Every string becomes a text node: server data is never
// parsed as HTML anywhere in the dashboard (no HTML-string sinks in this code base).

/** Element by id; throws early if the page and the script disagree. */
export function byId(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`missing element #${id}`);
  return node;
}

/**
 * Create an element.
 * props: { className, text, title, href, attrs: {name: value}, dataset: {}, on: {event: fn} }
 * children: nodes or strings (strings become text nodes); null/undefined/false are skipped.
 */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  const { className, text, title, href, attrs, dataset, on } = props;
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (title) node.title = String(title);
  if (href !== undefined) node.setAttribute("href", String(href));
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value !== undefined && value !== null && value !== false) {
      node.setAttribute(name, value === true ? "" : String(value));
    }
  }
  for (const [name, value] of Object.entries(dataset ?? {})) node.dataset[name] = String(value);
  for (const [event, handler] of Object.entries(on ?? {})) node.addEventListener(event, handler);
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace all children of `node`. */
export function fill(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

/** Set a node's text (no-op when unchanged, so screen readers are not spammed). */
export function setText(node, text) {
  const value = text === undefined || text === null ? "" : String(text);
  if (node.textContent !== value) node.textContent = value;
}

/** A table row that spans all columns with a message (loading, empty, error). */
export function messageRow(columns, text, className = "muted") {
  return el("tr", { className: "message-row" }, el("td", { className, text, attrs: { colspan: columns } }));
}
