// The console's building blocks: the API call with the session's token, elements, tables,
// JSON with a copy button, local times with UTC on hover, empty states.
"use strict";

export const TOKEN_KEY = "cloudexec-token";

export function token() { return sessionStorage.getItem(TOKEN_KEY); }

/// Set by the app: what to do when the token is refused.
export const hooks = { unauthorized: () => {} };

export async function api(path, options = {}) {
  const headers = Object.assign({ "Authorization": "Bearer " + token() }, options.headers || {});
  const response = await fetch(path, Object.assign({}, options, { headers }));
  if (response.status === 401) { hooks.unauthorized("The token is not valid (or was revoked)."); throw new Error("unauthorized"); }
  const text = await response.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch (_) { body = text; }
  if (!response.ok) { throw new Error((body && body.message) || response.status + " " + text); }
  return body;
}

export function postJson(path, value, method = "POST") {
  return api(path, { method, body: JSON.stringify(value), headers: { "Content-Type": "application/json" } });
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v === true ? "" : v);
  }
  for (const child of children.flat()) node.append(child instanceof Node ? child : document.createTextNode(String(child ?? "")));
  return node;
}

// The SVG namespace, read off the empty <svg> of the page (so no URL is written here).
const SVG = () => document.getElementById("svg-namespace").namespaceURI;

export function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG(), tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const child of children.flat()) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}

export function status(text) { return el("span", { class: "status " + text }, text); }

export function table(headings, rows, attrs = {}) {
  return el("table", attrs, el("tr", {}, ...headings.map((h) => el("th", { scope: "col" }, h))),
    ...rows.map((cells) => el("tr", {}, ...cells.map((c) => el("td", {}, c)))));
}

export function link(href, text) { return el("a", { href }, text); }

export function view() { return document.getElementById("view"); }

export function show(...nodes) { view().replaceChildren(...nodes); }

export function failed(error) { show(el("p", { class: "error", role: "alert" }, error.message)); }

/// What to do next when a list is empty.
export function empty(text) { return el("p", { class: "empty" }, text); }

async function copy(text, button) {
  try {
    await navigator.clipboard.writeText(text);
  } catch (_) {
    const area = el("textarea", { "aria-hidden": "true" }, text);
    document.body.append(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }
  button.textContent = "Copied";
  setTimeout(() => { button.textContent = "Copy"; }, 1500);
}

/// A value shown as pretty JSON (text as it is) with a button that copies it.
export function pretty(value, attrs = {}) {
  const text = typeof value === "string" ? value : JSON.stringify(value, null, 2);
  const pre = el("pre", attrs, text ?? "");
  const button = el("button", { type: "button", class: "copy", "aria-label": "Copy" + (attrs.id ? " " + attrs.id : "") }, "Copy");
  button.addEventListener("click", () => copy(pre.textContent, button));
  return el("div", { class: "copyable" }, button, pre);
}

/// A time in the browser's zone, with the UTC value on hover: from ms, or an RFC 3339 text.
export function when(value) {
  if (value === null || value === undefined || value === "") return "";
  const at = new Date(value);
  if (Number.isNaN(at.getTime())) return String(value);
  return el("time", { datetime: at.toISOString(), title: at.toISOString() }, at.toLocaleString());
}

/// Epoch seconds (the native API's job and function times) as [`when`].
export function whenSeconds(s) { return s === null || s === undefined ? "" : when(s * 1000); }

/// A labelled control.
export function field(label, control) {
  if (!control.id) control.id = "f-" + label.toLowerCase().replace(/[^a-z0-9]+/g, "-");
  return el("label", { for: control.id, class: "field" }, el("span", {}, label), control);
}

export function parseInput(text) {
  try { return JSON.parse(text); } catch (error) { throw new Error("The input is not JSON: " + error.message); }
}
