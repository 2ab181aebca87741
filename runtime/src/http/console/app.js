// The cloudexec console: a page over the /v1 API with the bearer token kept for the
// browser session. No framework, no external URL: everything it loads comes from the binary.
"use strict";

const TOKEN_KEY = "cloudexec-token";
const view = () => document.getElementById("view");
let following = null; // the AbortController of a live event stream

function token() { return sessionStorage.getItem(TOKEN_KEY); }

async function api(path, options = {}) {
  const headers = Object.assign({ "Authorization": "Bearer " + token() }, options.headers || {});
  const response = await fetch(path, Object.assign({}, options, { headers }));
  if (response.status === 401) { signOut("The token is not valid (or was revoked)."); throw new Error("unauthorized"); }
  const text = await response.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch (_) { body = text; }
  if (!response.ok) { throw new Error((body && body.message) || response.status + " " + text); }
  return body;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "onclick") node.addEventListener("click", v); else node.setAttribute(k, v);
  }
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child ?? "")));
  return node;
}

function status(text) { return el("span", { class: "status " + text }, text); }

function table(headings, rows) {
  return el("table", {}, el("tr", {}, ...headings.map((h) => el("th", {}, h))),
    ...rows.map((cells) => el("tr", {}, ...cells.map((c) => el("td", {}, c)))));
}

function show(...nodes) { view().replaceChildren(...nodes); }

function failed(error) { show(el("p", { class: "error", role: "alert" }, error.message)); }

function signOut(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  document.getElementById("nav").hidden = true;
  document.getElementById("sign-in").hidden = false;
  document.getElementById("sign-in-error").textContent = message || "";
  show();
}

async function signIn(event) {
  event.preventDefault();
  const given = document.getElementById("token").value.trim();
  const response = await fetch("/v1/functions?limit=1", { headers: { "Authorization": "Bearer " + given } });
  const admin = response.status === 403 && (await fetch("/v1/apps", { headers: { "Authorization": "Bearer " + given } })).ok;
  if (!response.ok && !admin) {
    document.getElementById("sign-in-error").textContent = "The token is not valid: check it and try again.";
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, given);
  sessionStorage.setItem(TOKEN_KEY + "-admin", admin ? "1" : "");
  document.getElementById("sign-in").hidden = true;
  document.getElementById("nav").hidden = false;
  route();
}

async function overview() {
  if (sessionStorage.getItem(TOKEN_KEY + "-admin")) {
    const apps = await api("/v1/apps");
    return show(el("h1", {}, "Apps"), table(["key", "name"], apps.items.map((a) => [a.appKey, a.name])));
  }
  const [functions, flows] = await Promise.all([api("/v1/functions?limit=1"), api("/v1/flows?limit=1")]);
  show(el("h1", {}, "Overview"), el("div", { class: "counts" },
    el("div", {}, el("b", {}, functions.total), "functions"),
    el("div", {}, el("b", {}, flows.total), "flows")));
}

async function functionsPage() {
  const page = await api("/v1/functions?limit=100");
  show(el("h1", {}, "Functions"), table(["name", "version", ""], page.items.map((f) =>
    [f.name, f.version, el("a", { href: "#/functions/" + encodeURIComponent(f.name) }, "jobs and invoke")])));
}

async function functionPage(name) {
  const jobs = await api("/v1/functions/" + encodeURIComponent(name) + "/jobs?limit=20");
  const input = el("textarea", { id: "input" }, "{}");
  const result = el("pre", { id: "result" });
  const invoke = el("button", { type: "button", id: "invoke", onclick: async () => {
    try {
      const body = JSON.stringify(JSON.parse(input.value));
      const job = await api("/v1/functions/" + encodeURIComponent(name) + "/invoke", { method: "POST", body, headers: { "Content-Type": "application/json" } });
      result.textContent = JSON.stringify(job, null, 2);
    } catch (error) { result.textContent = error.message; }
  } }, "Invoke");
  show(el("h1", {}, name), el("h2", {}, "Invoke"), input, invoke, result, el("h2", {}, "Recent jobs"),
    table(["id", "status", "source", "created"], jobs.items.map((j) =>
      [el("a", { href: "#/jobs/" + j.id }, j.id), status(j.status), j.source, j.created_at])));
}

async function jobPage(id) {
  const [job, log] = await Promise.all([api("/v1/jobs/" + id), api("/v1/jobs/" + id + "/log")]);
  show(el("h1", {}, "Job " + id), status(job.status), el("pre", {}, JSON.stringify(job, null, 2)), el("h2", {}, "Log"), el("pre", {}, log || ""));
}

async function flowsPage() {
  const page = await api("/v1/flows?limit=100");
  show(el("h1", {}, "Flows"), table(["name", "version", ""], page.items.map((f) =>
    [f.name, f.version, el("a", { href: "#/flows/" + encodeURIComponent(f.name) }, "executions")])));
}

async function flowPage(name) {
  const page = await api("/v1/flows/" + encodeURIComponent(name) + "/executions?limit=50");
  show(el("h1", {}, name), table(["execution", "status", "started"], page.items.map((x) =>
    [el("a", { href: "#/executions/" + x.execution_id }, x.execution_id), status(x.status), x.started_time || ""])));
}

// The SVG namespace, read off the empty <svg> of the page (so no URL is written here).
const SVG = () => document.getElementById("svg-namespace").namespaceURI;

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG(), tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}

// The execution's top-level tasks as a graph, left to right: a task's column is one past
// the furthest task leading to it; each node is coloured by its status.
function graph(tasks) {
  const top = tasks.filter((t) => t.key === t.name);
  const byName = new Map(top.map((t) => [t.name, t]));
  const column = new Map();
  const depth = (t, seen = new Set()) => {
    if (column.has(t.name)) return column.get(t.name);
    if (seen.has(t.name)) return 0;
    seen.add(t.name);
    const before = top.filter((p) => (p.next || []).includes(t.name));
    const d = before.length ? Math.max(...before.map((p) => depth(p, seen) + 1)) : 0;
    column.set(t.name, d);
    return d;
  };
  top.forEach((t) => depth(t));
  const rows = new Map();
  const place = new Map();
  for (const t of top) {
    const c = column.get(t.name) || 0;
    const r = rows.get(c) || 0;
    rows.set(c, r + 1);
    place.set(t.name, { x: 20 + c * 200, y: 20 + r * 70 });
  }
  const width = 40 + 200 * Math.max(1, ...[...rows.keys()].map((c) => c + 1));
  const height = 40 + 70 * Math.max(1, ...rows.values());
  const picture = svg("svg", { id: "graph", width, height, role: "img", "aria-label": "the execution's tasks as a graph" },
    svg("defs", {}, svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: "10", refY: "5", markerWidth: "6", markerHeight: "6", orient: "auto" },
      svg("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#8a93a3" }))));
  for (const t of top) {
    const from = place.get(t.name);
    for (const n of t.next || []) {
      const to = place.get(n);
      if (!to || !byName.has(n)) continue;
      picture.append(svg("line", { x1: from.x + 150, y1: from.y + 20, x2: to.x, y2: to.y + 20, stroke: "#8a93a3", "marker-end": "url(#arrow)" }));
    }
  }
  for (const t of top) {
    const at = place.get(t.name);
    const link = svg("a", { href: "#task-" + encodeURIComponent(t.key) },
      svg("rect", { x: at.x, y: at.y, width: 150, height: 40, rx: 6 }),
      svg("text", { x: at.x + 75, y: at.y + 25, "text-anchor": "middle" }, t.name),
      svg("title", {}, t.name + ": " + t.status));
    picture.append(svg("g", { class: "node " + t.status, "data-task": t.key, "data-status": t.status }, link));
  }
  return picture;
}

async function executionPage(id) {
  const pictured = el("div", { id: "graph-box" });
  const tasks = el("div", { id: "tasks" });
  const events = el("table", { id: "events" }, el("tr", {}, el("th", {}, "seq"), el("th", {}, "kind"), el("th", {}, "task")));
  const head = el("p", { id: "execution-status" });
  async function refresh() {
    const x = await api("/v1/executions/" + id);
    head.replaceChildren(status(x.status), " " + (x.process ?? "") + "%");
    pictured.replaceChildren(graph(x.tasks));
    tasks.replaceChildren(table(["task", "status", "attempts", "error"], x.tasks.map((t) =>
      [el("span", { id: "task-" + t.key }, t.key), status(t.status), t.attempt, t.error ? t.error.error + ": " + t.error.cause : ""])));
  }
  show(el("h1", {}, "Execution " + id), head, pictured, tasks, el("h2", {}, "Events (live)"), events);
  await refresh();
  following = new AbortController();
  const response = await fetch("/v1/executions/" + id + "/events", { headers: { "Authorization": "Bearer " + token() }, signal: following.signal });
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = block.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trim()).join("");
      const kind = (block.split("\n").find((l) => l.startsWith("event:")) || "event: message").slice(6).trim();
      if (!data) continue;
      const event = JSON.parse(data);
      if (kind !== "end") events.append(el("tr", {}, el("td", {}, event.seq), el("td", {}, event.kind), el("td", {}, event.node || "")));
      await refresh();
    }
  }
}

// Milliseconds since the epoch, in the browser's zone, with the UTC value on hover.
function when(ms) {
  const at = new Date(ms);
  return el("time", { datetime: at.toISOString(), title: at.toISOString() }, at.toLocaleString());
}

async function instancePage(id) {
  const x = await api("/v1/instances/" + encodeURIComponent(id));
  const variables = table(["variable", "data", "len", "type"], Object.entries(x.variables).map(([key, v]) =>
    [key, JSON.stringify(v.data), v.len, v.type]));
  const machines = Object.entries(x.stateMachines).map(([number, m]) => el("section", { class: "machine", "data-machine": number },
    el("h3", {}, "State machine " + number + ": " + m.current),
    el("ol", { class: "path" }, ...m.path.map((p) => el("li", { "data-state": p.state }, el("b", {}, p.state), " ", when(p.at_ms))))));
  show(el("h1", {}, "Instance " + id), el("p", {}, status(x.status), " runs: " + x.runs + ", bin " + x.binId),
    el("h2", {}, "Variables"), variables, el("h2", {}, "State paths"), ...machines);
}

async function route() {
  if (following) { following.abort(); following = null; }
  if (!token()) return signOut();
  document.getElementById("sign-in").hidden = true;
  document.getElementById("nav").hidden = false;
  const parts = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  try {
    if (parts[0] === "functions" && parts[1]) await functionPage(parts[1]);
    else if (parts[0] === "functions") await functionsPage();
    else if (parts[0] === "jobs" && parts[1]) await jobPage(parts[1]);
    else if (parts[0] === "flows" && parts[1]) await flowPage(parts[1]);
    else if (parts[0] === "flows") await flowsPage();
    else if (parts[0] === "executions" && parts[1]) await executionPage(parts[1]);
    else if (parts[0] === "instances" && parts[1]) await instancePage(parts[1]);
    else await overview();
  } catch (error) { if (error.name !== "AbortError" && error.message !== "unauthorized") failed(error); }
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("sign-in").addEventListener("submit", signIn);
  document.getElementById("sign-out").addEventListener("click", () => signOut());
  window.addEventListener("hashchange", route);
  route();
});
