// The cloudexec console: pages over the /v1 API with the bearer token kept for the
// browser session. No framework, no external URL: everything it loads comes from the
// binary. This module signs in and routes `#/...` URLs (each page can be shared and reloaded).
"use strict";

import { TOKEN_KEY, failed, hooks, show, token } from "./core.js";
import { executionPage, flowPage, flowsPage, leave } from "./flow_pages.js";
import { appPage, appsPage } from "./admin_pages.js";
import { binPage, binsPage, instancesPage, servicesPage } from "./bin_pages.js";
import { functionPage, functionsPage, instancePage, jobPage, overview } from "./pages.js";

function signOut(message) {
  leave();
  sessionStorage.removeItem(TOKEN_KEY);
  document.getElementById("nav").hidden = true;
  document.getElementById("sign-in").hidden = false;
  document.getElementById("sign-in-error").textContent = message || "";
  show();
}
hooks.unauthorized = signOut;

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
  route();
}

/// `#/functions/NAME?status=...` → ["functions", "NAME"] and the query.
function parse(hash) {
  const [path, search] = hash.replace(/^#\/?/, "").split("?");
  return { parts: path.split("/").filter((p) => p !== "").map(decodeURIComponent), query: Object.fromEntries(new URLSearchParams(search || "")) };
}

async function route() {
  leave();
  if (!token()) return signOut();
  document.getElementById("sign-in").hidden = true;
  document.getElementById("nav").hidden = false;
  const { parts: [kind, id, sub, subId], query } = parse(location.hash);
  const admin = !!sessionStorage.getItem(TOKEN_KEY + "-admin");
  for (const a of document.querySelectorAll("#nav a")) a.hidden = admin !== a.hasAttribute("data-admin");
  try {
    if (admin) await (kind === "apps" && id ? appPage(id) : appsPage());
    else if (kind === "functions" && id) await functionPage(id, query);
    else if (kind === "functions") await functionsPage();
    else if (kind === "jobs" && id) await jobPage(id);
    else if (kind === "flows" && id) await flowPage(id, sub === "versions" ? subId : undefined);
    else if (kind === "flows") await flowsPage();
    else if (kind === "executions" && id) await executionPage(id, sub === "tasks" ? subId : undefined);
    else if (kind === "instances" && id) await instancePage(id);
    else if (kind === "instances") await instancesPage(query);
    else if (kind === "bins" && id) await binPage(id, query);
    else if (kind === "bins") await binsPage(query);
    else if (kind === "services") await servicesPage();
    else await overview();
  } catch (error) { if (error.name !== "AbortError" && error.message !== "unauthorized") failed(error); }
}

document.getElementById("sign-in").addEventListener("submit", signIn);
document.getElementById("sign-out").addEventListener("click", () => signOut());
window.addEventListener("hashchange", route);
route();
