// Pages of the admin token: the apps, and an app's tokens (issue, revoke) and limits.
"use strict";

import { api, el, empty, field, link, postJson, pretty, show, table, when } from "./core.js";

export async function appsPage() {
  const apps = await api("/v1/apps");
  const name = el("input", { id: "app-name", required: true });
  const made = el("div", { id: "app-made", role: "status" });
  const create = el("form", { class: "inline", id: "create-app", onsubmit: async (event) => {
    event.preventDefault();
    try {
      const app = await postJson("/v1/apps", { name: name.value.trim() });
      await appsPage();
      document.getElementById("app-made").replaceChildren(el("p", {}, `App ${app.appKey} created; its token (shown this once):`),
        pretty(app.token, { id: "new-app-token" }));
    } catch (error) { made.replaceChildren(el("p", { class: "error" }, error.message)); }
  } }, field("New app", name), el("button", { type: "submit" }, "Create"));
  show(el("h1", {}, "Apps"), apps.items.length ? table(["key", "name", ""], apps.items.map((a) =>
    [a.appKey, a.name, link("#/apps/" + a.appKey, "tokens and limits")]), { id: "apps" }) : empty("No apps yet: create one below."),
  create, made);
}

export async function appPage(key) {
  const [tokens, limits] = await Promise.all([api(`/v1/apps/${key}/tokens`), api(`/v1/apps/${key}/limits`)]);
  const issued = el("div", { id: "issued", role: "status" });
  const role = el("select", { id: "token-role" }, el("option", { value: "developer" }, "developer"), el("option", { value: "service_user" }, "service user"));
  const issue = el("button", { type: "button", id: "issue", onclick: async () => {
    try {
      const t = await postJson(`/v1/apps/${key}/tokens`, { role: role.value });
      await appPage(key);
      document.getElementById("issued").replaceChildren(el("p", {}, `Token ${t.id} (${t.role}), shown this once:`), pretty(t.token, { id: "new-token" }));
    } catch (error) { issued.replaceChildren(el("p", { class: "error" }, error.message)); }
  } }, "Issue a token");
  const revoke = (t) => el("button", { type: "button", class: "revoke", "data-token": t.id, "aria-label": "Revoke token " + t.id, onclick: async () => {
    if (!confirm(`Revoke token ${t.id}? Requests with it are refused from then on.`)) return;
    await api(`/v1/apps/${key}/tokens/${t.id}`, { method: "DELETE" });
    await appPage(key);
  } }, "Revoke");
  show(el("h1", {}, "App " + key), el("h2", {}, "Tokens"),
    tokens.items.length ? table(["id", "role", "origin", "created", ""], tokens.items.map((t) =>
      [t.id, t.role, t.origin, when(t.created_at / 1000), revoke(t)]), { id: "tokens" }) : empty("No tokens: issue one below."),
    el("p", {}, field("Role", role), issue), issued,
    el("h2", {}, "Admission limits"), pretty(limits, { id: "limits" }));
}
