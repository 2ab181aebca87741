// Pages of flows and executions: a definition's graph and versions, starting an
// execution, and one execution on its graph, live, with its tasks, history and a stop button.
"use strict";

import { api, el, empty, field, link, parseInput, postJson, pretty, show, status, table, token, when, whenSeconds } from "./core.js";
import { executionGraph, outlineGraph } from "./graphs.js";

const enc = encodeURIComponent;
const HISTORY_PAGE = 50;
let following = null; // the AbortController of a live event stream

/// Ends the live stream of the page being left.
export function leave() {
  if (following) { following.abort(); following = null; }
}

export async function flowsPage() {
  const page = await api("/v1/flows?limit=100");
  const rows = page.items.map((f) => [link("#/flows/" + enc(f.name), f.name), f.version, f.format, f.description, whenSeconds(f.updated_at)]);
  show(el("h1", {}, "Flows"), rows.length ? table(["name", "version", "format", "description", "updated"], rows, { id: "flows" })
    : empty("No flows yet: deploy one with `cloudexec flow deploy FILE --name NAME`."));
}

export async function flowPage(name, version) {
  const q = version ? "?version=" + enc(version) : "";
  const [flow, outline, page] = await Promise.all([api("/v1/flows/" + enc(name) + q), api("/v1/flows/" + enc(name) + "/outline" + q),
    api("/v1/flows/" + enc(name) + "/executions?limit=50")]);
  const latest = version ? (await api("/v1/flows/" + enc(name))).version : flow.version;
  const versions = el("select", { id: "version", onchange: (e) => { location.hash = "#/flows/" + enc(name) + "/versions/" + e.target.value; } },
    ...Array.from({ length: latest }, (_, i) => latest - i).map((v) => el("option", { value: v, selected: v === flow.version }, "version " + v + (v === latest ? " (latest)" : ""))));
  const input = el("textarea", { id: "start-input" }, "{}");
  const message = el("p", { id: "start-message", role: "status" });
  const start = el("button", { type: "button", id: "start", onclick: async () => {
    try {
      const started = await postJson("/v1/flows/" + enc(name) + "/executions", { input: parseInput(input.value) });
      location.hash = "#/executions/" + enc(started.execution_id);
    } catch (error) { message.textContent = error.message; }
  } }, "Start execution");
  const rows = page.items.map((x) => [link("#/executions/" + enc(x.execution_id), x.execution_id), status(x.status), x.flow_version, when(x.started_time), when(x.stopped_time)]);
  show(el("h1", {}, name), el("p", {}, field("Version", versions), " ", flow.format, flow.description ? " · " + flow.description : ""),
    el("h2", {}, "Definition"), el("div", { id: "outline" }, outlineGraph(outline)),
    el("details", {}, el("summary", {}, "Definition text"), pretty(flow.definition, { id: "definition" })),
    el("h2", {}, "Start an execution"), field("Input (JSON)", input), start, message,
    el("h2", {}, "Executions"), rows.length ? table(["execution", "status", "version", "started", "stopped"], rows, { id: "executions" })
      : empty("No executions yet: start one above."));
}

function taskDetail(t) {
  if (!t) return empty("Choose a task on the graph or in the table to see its input, output and error.");
  const took = t.started_at && t.finished_at ? ((t.finished_at - t.started_at) / 1000).toFixed(1) + " ms" : "";
  return el("section", { id: "task-detail", "data-task": t.key },
    el("h2", {}, "Task " + t.key), el("p", {}, status(t.status), ` attempts: ${t.attempt}`),
    table(["started", "finished", "took"], [[t.started_at ? when(t.started_at / 1000) : "", t.finished_at ? when(t.finished_at / 1000) : "", took]]),
    t.error ? el("p", { class: "error" }, t.error.error + ": " + t.error.cause) : "",
    el("h3", {}, "Input"), pretty(t.input ?? null, { id: "task-input" }), el("h3", {}, "Output"), pretty(t.output ?? null, { id: "task-output" }),
    el("details", {}, el("summary", {}, "Definition"), pretty(t.task)));
}

/// The history table, paged from the oldest; live events are added once the last page is shown.
function history(id) {
  const rows = el("tbody", {});
  const more = el("button", { type: "button", id: "history-more" }, "Load more");
  const state = { after: 0, atEnd: false, last: 0 };
  const add = (e) => {
    if (e.seq <= state.last) return;
    state.last = e.seq;
    rows.append(el("tr", { "data-seq": e.seq }, el("td", {}, e.seq), el("td", {}, when(e.time)), el("td", {}, e.kind), el("td", {}, e.node || "")));
  };
  const load = async () => {
    const page = await api(`/v1/executions/${enc(id)}/history?after=${state.after}&limit=${HISTORY_PAGE}`);
    page.events.forEach(add);
    state.after = page.next_after ?? state.last;
    state.atEnd = page.next_after === null || page.next_after === undefined;
    more.hidden = state.atEnd;
  };
  more.addEventListener("click", () => load());
  const node = el("section", {}, el("h2", {}, "History"),
    el("table", { id: "events" }, el("thead", {}, el("tr", {}, ...["seq", "time", "kind", "task"].map((h) => el("th", { scope: "col" }, h)))), rows), more);
  return { node, load, live: (e) => { if (state.atEnd) add(e); } };
}

async function follow(id, onEvent) {
  following = new AbortController();
  const response = await fetch("/v1/executions/" + enc(id) + "/events", { headers: { "Authorization": "Bearer " + token() }, signal: following.signal });
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
      if (data) await onEvent(kind, JSON.parse(data));
    }
  }
}

export async function executionPage(id, selected) {
  const pictured = el("div", { id: "graph-box" });
  const tasks = el("div", { id: "tasks" });
  const detail = el("div", { id: "detail" });
  const head = el("div", { id: "execution-status" });
  const log = history(id);
  const taskHref = (key) => "#/executions/" + enc(id) + "/tasks/" + enc(key);
  async function refresh() {
    const x = await api("/v1/executions/" + enc(id));
    const running = x.status === "Running" || x.status === "Starting";
    const stop = el("button", { type: "button", id: "stop", onclick: async () => {
      if (!confirm("Stop execution " + id + "?")) return;
      await postJson("/v1/executions/" + enc(id) + "/stop", {});
      await refresh();
    } }, "Stop");
    head.replaceChildren(el("p", {}, status(x.status), ` ${x.process ?? 0}% · flow `, link("#/flows/" + enc(x.flow_name) + "/versions/" + x.flow_version, x.flow_name + " v" + x.flow_version),
      " · started ", when(x.started_time), x.stopped_time ? [" · ended ", when(x.stopped_time)] : "", " ", running ? stop : ""),
    x.error ? el("p", { class: "error" }, JSON.stringify(x.error)) : "");
    pictured.replaceChildren(executionGraph(x.tasks, taskHref));
    tasks.replaceChildren(table(["task", "status", "attempts", "error"], x.tasks.map((t) =>
      [link(taskHref(t.key), t.key), status(t.status), t.attempt, t.error ? t.error.error + ": " + t.error.cause : ""])));
    detail.replaceChildren(taskDetail(x.tasks.find((t) => t.key === selected)));
  }
  show(el("h1", {}, "Execution " + id), head, pictured, detail, el("h2", {}, "Tasks"), tasks, log.node);
  await Promise.all([refresh(), log.load()]);
  // Events come in bursts (a replay, a fan-out): one refresh at a time, one more after it.
  let pending = null, again = false;
  const refreshSoon = () => {
    if (pending) { again = true; return; }
    pending = refresh().finally(() => { pending = null; if (again) { again = false; refreshSoon(); } });
  };
  await follow(id, async (kind, event) => {
    if (kind !== "end") log.live(event);
    refreshSoon();
  });
  if (pending) await pending;
}
