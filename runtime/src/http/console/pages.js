// Pages of functions, jobs and instances.
"use strict";

import { api, el, empty, field, link, parseInput, postJson, pretty, show, status, table, when, whenSeconds } from "./core.js";

const enc = encodeURIComponent;
const JOB_STATUSES = ["", "waiting", "executing", "fulfilled", "execution_failed", "deadline_exceeded", "execution_rejected", "schedule_failed"];

export async function overview() {
  const kinds = ["functions", "flows", "bins", "instances"];
  const [recent, ...counts] = await Promise.all([api("/v1/overview?since_seconds=3600&failures=10"),
    ...kinds.map((what) => api("/v1/" + what + "?limit=1"))]);
  const byStatus = Object.entries(recent.jobs_by_status);
  const capped = recent.scanned >= recent.window ? ` (of the latest ${recent.window} jobs)` : "";
  show(el("h1", {}, "Overview"), el("div", { class: "counts" }, ...kinds.map((what, i) =>
    el("div", { "data-count": what }, el("b", {}, counts[i].total), link("#/" + what, what)))),
  el("h2", {}, "Jobs in the last hour" + capped),
  byStatus.length ? el("div", { class: "counts", id: "jobs-by-status" }, ...byStatus.map(([name, n]) =>
    el("div", { "data-status": name }, el("b", {}, n), status(name)))) : empty("No jobs in the last hour: invoke a function on its page."),
  el("h2", {}, "Recent failures"),
  recent.recent_failures.length ? table(["job", "function", "status", "error", "created"], recent.recent_failures.map((f) =>
    [link("#/jobs/" + f.id, f.id), link("#/functions/" + encodeURIComponent(f.function), f.function), status(f.status),
      (f.error.code || "") + (f.error.message ? ": " + f.error.message : ""), whenSeconds(f.created_at)]), { id: "failures" })
    : empty("No failed jobs among the latest ones."));
}

/// Uploads a chosen .wasm file as a new function, or as a new version of `name`.
async function deploy(name, file, update) {
  const path = update ? "/v1/functions/" + enc(name) : "/v1/functions?name=" + enc(name);
  return api(path, { method: update ? "PATCH" : "POST", body: await file.arrayBuffer(), headers: { "Content-Type": "application/wasm" } });
}

function deployForm(fixedName, done) {
  const name = el("input", { id: "deploy-name", required: true, value: fixedName || "", readonly: !!fixedName });
  const file = el("input", { id: "deploy-file", type: "file", accept: ".wasm,application/wasm", required: true });
  const message = el("p", { id: "deploy-message", role: "status" });
  const form = el("form", { class: "inline", id: "deploy", onsubmit: async (event) => {
    event.preventDefault();
    try {
      const f = await deploy(name.value.trim(), file.files[0], !!fixedName);
      const text = `Deployed ${f.name} version ${f.version} (${f.code_tier || "compiled"} code).`;
      message.textContent = text;
      await done(f);
      const shown = document.getElementById("deploy-message");
      if (shown) shown.textContent = text;
    } catch (error) { message.textContent = error.message; }
  } }, fixedName ? "" : field("Name", name), field(fixedName ? "New version (.wasm)" : "Component (.wasm)", file),
    el("button", { type: "submit" }, fixedName ? "Upload new version" : "Deploy"));
  return el("section", {}, form, message);
}

export async function functionsPage() {
  const page = await api("/v1/functions?limit=100");
  const rows = page.items.map((f) => [link("#/functions/" + enc(f.name), f.name), f.version, f.plan, f.code_tier || "not loaded", whenSeconds(f.updated_at)]);
  show(el("h1", {}, "Functions"), deployForm(null, (f) => { location.hash = "#/functions/" + enc(f.name); }),
    rows.length ? table(["name", "version", "plan", "code", "updated"], rows, { id: "functions" })
      : empty("No functions yet: deploy one with `cloudexec deploy`, or choose a .wasm file above."));
}

function jobsSection(name, query) {
  const box = el("div", { id: "jobs" });
  const statusSelect = el("select", { id: "job-status" }, ...JOB_STATUSES.map((s) => el("option", { value: s, selected: s === (query.status || "") }, s || "any")));
  const source = el("input", { id: "job-source", value: query.source || "", placeholder: "any" });
  const service = el("select", { id: "job-service" }, ...["", "time_sensitive", "batch"].map((s) => el("option", { value: s, selected: s === (query.service_type || "") }, s || "any")));
  const apply = (offset) => {
    const q = new URLSearchParams();
    if (statusSelect.value) q.set("status", statusSelect.value);
    if (source.value.trim()) q.set("source", source.value.trim());
    if (service.value) q.set("service_type", service.value);
    if (offset) q.set("offset", offset);
    location.hash = "#/functions/" + enc(name) + (q.toString() ? "?" + q : "");
  };
  const filters = el("form", { class: "inline", id: "job-filters", onsubmit: (e) => { e.preventDefault(); apply(0); } },
    field("Status", statusSelect), field("Source", source), field("Service type", service), el("button", { type: "submit" }, "Filter"));
  const offset = Number(query.offset || 0);
  const params = new URLSearchParams(Object.entries({ status: query.status, source: query.source, service_type: query.service_type })
    .filter(([, v]) => v));
  params.set("limit", 20);
  params.set("offset", offset);
  api("/v1/functions/" + enc(name) + "/jobs?" + params).then((jobs) => {
    const rows = jobs.items.map((j) => [link("#/jobs/" + j.id, j.id), status(j.status), j.version, j.source, j.service_type, whenSeconds(j.created_at)]);
    const pager = el("p", { class: "pager" }, `${jobs.total ? offset + 1 : 0}–${offset + jobs.items.length} of ${jobs.total}`,
      el("button", { type: "button", id: "jobs-newer", disabled: offset === 0, onclick: () => apply(Math.max(0, offset - 20)) }, "Newer"),
      el("button", { type: "button", id: "jobs-older", disabled: offset + jobs.items.length >= jobs.total, onclick: () => apply(offset + 20) }, "Older"));
    box.setAttribute("data-query", params.toString());
    box.replaceChildren(rows.length ? table(["id", "status", "version", "source", "service type", "created"], rows) : empty("No jobs match: invoke the function above."), pager);
  }).catch((error) => box.replaceChildren(el("p", { class: "error" }, error.message)));
  return el("section", {}, el("h2", {}, "Jobs"), filters, box);
}

export async function functionPage(name, query) {
  const [f, versions] = await Promise.all([api("/v1/functions/" + enc(name)), api("/v1/functions/" + enc(name) + "/versions")]);
  const input = el("textarea", { id: "input", "aria-label": "Input (JSON)" }, "{}");
  const result = el("div", { id: "result", role: "status" });
  const invoke = el("button", { type: "button", id: "invoke", onclick: async () => {
    try {
      const job = await postJson("/v1/functions/" + enc(name) + "/invoke", parseInput(input.value));
      const log = await api("/v1/jobs/" + job.id + "/log");
      const took = job.started_at && job.finished_at ? ` · ${((job.finished_at - job.started_at) * 1000).toFixed(1)} ms` : "";
      result.replaceChildren(el("p", {}, status(job.status), " job ", link("#/jobs/" + job.id, job.id), ` · ${job.mem_usage} bytes peak${took}`),
        el("h3", {}, "Output"), pretty(job.output ?? job.error, { id: "output" }), el("h3", {}, "Log"), pretty(log || "(empty)", { id: "invoke-log", class: "log" }));
    } catch (error) { result.replaceChildren(el("p", { class: "error" }, error.message)); }
  } }, "Invoke");
  const facts = table(["version", "plan", "code", "sync deadline", "async deadline", "sha256", "created", "updated"],
    [[el("span", { id: "version" }, f.version), f.plan, f.code_tier || "not loaded", f.sync_timeout_ms + " ms", f.async_timeout_ms + " ms", el("code", {}, f.module_sha256.slice(0, 16) + "…"), whenSeconds(f.created_at), whenSeconds(f.updated_at)]]);
  const history = table(["version", "sha256", "created"], versions.items.map((v) =>
    [v.version, el("code", {}, v.module_sha256.slice(0, 16) + "…"), whenSeconds(v.created_at)]), { id: "versions" });
  show(el("h1", {}, name), facts, el("details", {}, el("summary", {}, `Versions (${versions.items.length})`), history),
    deployForm(name, () => functionPage(name, query)),
    el("h2", {}, "Invoke"), field("Input (JSON)", input), invoke, result, jobsSection(name, query));
}

export async function jobPage(id) {
  const [job, log] = await Promise.all([api("/v1/jobs/" + id), api("/v1/jobs/" + id + "/log")]);
  const took = job.started_at && job.finished_at ? ((job.finished_at - job.started_at) * 1000).toFixed(1) + " ms" : "";
  show(el("h1", {}, "Job " + id), el("p", {}, status(job.status)),
    table(["created", "started", "finished", "took", "peak memory", "restarts"],
      [[whenSeconds(job.created_at), whenSeconds(job.started_at), whenSeconds(job.finished_at), took, job.mem_usage + " bytes", job.restarts]]),
    job.error ? el("p", { class: "error" }, job.error.code + ": " + (job.error.message || "")) : "",
    el("h2", {}, "Job"), pretty(job, { id: "job" }), el("h2", {}, "Log"), pretty(log || "(empty)", { id: "log", class: "log" }));
}

export async function instancePage(id) {
  const x = await api("/v1/instances/" + enc(id));
  const entries = Object.entries(x.variables);
  const variables = entries.length ? table(["variable", "data", "len", "type"], entries.map(([key, v]) => [key, JSON.stringify(v.data), v.len, v.type]), { id: "variables" })
    : empty("No variables yet: run the instance with variable updates below.");
  const machines = Object.entries(x.stateMachines).map(([number, m]) => el("section", { class: "machine", "data-machine": number },
    el("h3", {}, "State machine " + number + ": " + m.current),
    el("ol", { class: "path" }, ...m.path.map((p) => el("li", { "data-state": p.state }, el("b", {}, p.state), " ", when(p.at_ms))))));
  const updates = el("textarea", { id: "updates" }, "{}");
  const outcome = el("div", { id: "run-result", role: "status" });
  const run = el("button", { type: "button", id: "run", onclick: async () => {
    try {
      const report = await postJson("/v1/instances/" + enc(id) + "/runs", parseInput(updates.value));
      await instancePage(id);
      document.getElementById("run-result").replaceChildren(el("p", {}, "Run " + report.result + (report.error ? ": " + report.error.message : "")), pretty(report.log || "(no log)", { class: "log" }));
    } catch (error) { outcome.replaceChildren(el("p", { class: "error" }, error.message)); }
  } }, "Run");
  show(el("h1", {}, "Instance " + id), el("p", {}, status(x.status), " runs: ", el("span", { id: "runs" }, x.runs), ", bin " + x.binId),
    el("h2", {}, "Variables"), variables, el("h2", {}, "State paths"), ...(machines.length ? machines : [empty("No state machine has moved yet.")]),
    el("h2", {}, "Run with variable updates"), field("Updates (JSON object of variable: value)", updates), run, outcome);
}
