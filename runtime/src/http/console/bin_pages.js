// Pages of bins, their instances, services and function-key bindings.
"use strict";

import { api, el, empty, link, postJson, pretty, show, status, table, when } from "./core.js";

const enc = encodeURIComponent;
const PAGE = 20;

function pager(id, page, go) {
  const { total, offset, items } = page;
  return el("p", { class: "pager" }, `${total ? offset + 1 : 0}–${offset + items.length} of ${total}`,
    el("button", { type: "button", id: id + "-newer", disabled: offset === 0, onclick: () => go(Math.max(0, offset - PAGE)) }, "Newer"),
    el("button", { type: "button", id: id + "-older", disabled: offset + items.length >= total, onclick: () => go(offset + PAGE) }, "Older"));
}

function instanceRows(items) {
  return items.map((i) => [link("#/instances/" + enc(i.executeInstanceId), i.executeInstanceId), status(i.status), i.runs,
    Object.entries(i.currentStates).map(([m, s]) => m + ": " + s).join(", "), i.service || "", when(i.updatedAtMs)]);
}

export async function binsPage(query) {
  const offset = Number(query.offset || 0);
  const page = await api(`/v1/bins?limit=${PAGE}&offset=${offset}`);
  const rows = page.items.map((b) => [link("#/bins/" + enc(b.binId), b.binId), b.manifest.stateMachines.length, b.manifest.functions.length, b.codeTier || "not loaded"]);
  show(el("h1", {}, "Bins"), rows.length ? table(["bin", "state machines", "function keys", "code"], rows, { id: "bins" })
    : empty("No bins yet: upload one with `cloudexec bin upload` (or POST /v1/bins)."),
  pager("bins", page, (o) => { location.hash = "#/bins?offset=" + o; }));
}

export async function binPage(id, query) {
  const offset = Number(query.offset || 0);
  const [bin, page] = await Promise.all([api("/v1/bins/" + enc(id)), api(`/v1/instances?binId=${enc(id)}&limit=${PAGE}&offset=${offset}`)]);
  const m = bin.manifest;
  const machines = m.stateMachines.map((sm) => el("section", { class: "machine", "data-machine": sm.id },
    el("h3", {}, `State machine ${sm.id}: ${sm.name}`),
    el("p", {}, "states: ", ...sm.states.map((s) => el("span", { class: "state" + (s === sm.initial ? " initial" : "") }, s)), " (initial: " + sm.initial + ")"),
    table(["from", "to"], sm.transitions.map((t) => [t.from, t.to]))));
  const create = el("button", { type: "button", id: "create-instance", onclick: async () => {
    const made = await postJson("/v1/instances", { binId: id });
    location.hash = "#/instances/" + enc(made.executeInstanceId);
  } }, "Create an instance");
  show(el("h1", {}, "Bin " + id), el("p", {}, "code: " + (bin.codeTier || "not loaded"), " · sha256 ", el("code", {}, bin.moduleSha256.slice(0, 16) + "…")),
    el("h2", {}, "Function keys"), m.functions.length ? table(["key", "name", "parameters", "returns"], m.functions.map((f) =>
      [f.functionKey, f.functionName, f.paramsTypelist.join(", "), f.returnType]), { id: "function-keys" }) : empty("The bin calls no functions."),
    el("h2", {}, "State machines"), ...(machines.length ? machines : [empty("The bin declares no state machine.")]),
    el("details", {}, el("summary", {}, "Manifest"), pretty(m, { id: "manifest" })),
    el("h2", {}, "Instances"), create,
    page.items.length ? table(["instance", "status", "runs", "current states", "service", "updated"], instanceRows(page.items), { id: "instances" })
      : empty("No instances yet: create one above."),
    pager("instances", page, (o) => { location.hash = "#/bins/" + enc(id) + "?offset=" + o; }));
}

export async function instancesPage(query) {
  const offset = Number(query.offset || 0);
  const page = await api(`/v1/instances?limit=${PAGE}&offset=${offset}`);
  show(el("h1", {}, "Instances"), page.items.length
    ? table(["instance", "status", "runs", "current states", "service", "updated"], instanceRows(page.items), { id: "instances" })
    : empty("No instances yet: create one on a bin's page, or with POST /v1/instances."),
  pager("instances", page, (o) => { location.hash = "#/instances?offset=" + o; }));
}

export async function servicesPage() {
  const [services, bindings] = await Promise.all([api("/v1/services"), api("/v1/bindings")]);
  const category = (c) => (c === 0 ? "static flow (0)" : c === 1 ? "dynamic flow (1)" : String(c));
  show(el("h1", {}, "Services"), services.items.length
    ? table(["alias", "category", "bin", "state"], services.items.map((s) =>
      [s.alias, category(s.category), link("#/bins/" + enc(s.binId), s.binId), s.revoked ? "revoked" : "live"]), { id: "services" })
    : empty("No services yet: publish a bin with POST /v1/services."),
  el("h2", {}, "Bindings"), (bindings.items || bindings).length
    ? table(["function key", "bound to"], (bindings.items || bindings).map((b) => [b.functionKey, b.function ? "function " + b.function : b.url]), { id: "bindings" })
    : empty("No bindings yet: bind a function key with PUT /v1/bindings/{functionKey}."));
}
