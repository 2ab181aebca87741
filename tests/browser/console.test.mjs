// The console in a real browser (scripts/browser-tests.sh runs it against a real server):
// sign-in with a wrong and a right token, the functions, an invocation from the page with
// its output, log and copy button, jobs filtered by status, a failed job's log, a function
// deployed by choosing a file, a shop instance run from the page cart -> ordered -> paid,
// the seed 002 sample flow drawn, started from the page and turning green live, a task's
// detail, a failed task in red, a state machine's Choice/Map/Parallel/Catch drawn, a
// waiting execution stopped from the page. No request leaves the server; no error
// reaches the browser console.
// Arguments: base URL, app token, Chromium path, screenshot directory, admin token.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const [base, token, executablePath, shots, adminToken] = process.argv.slice(2);
const require = createRequire(path.join(process.env.BROWSER_TOOLS, "node_modules", "x.js"));
const { chromium } = require("playwright-core");

const failures = [];
function check(ok, what) {
  if (!ok) failures.push(what);
  console.log(`${ok ? "ok    " : "FAILED"} ${what}`);
}

async function api(method, route, body) {
  const response = await fetch(base + route, {
    method,
    headers: { Authorization: "Bearer " + token, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return response.json();
}

const browser = await chromium.launch({
  executablePath,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"],
});
const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });
const page = await context.newPage();
const outside = [];
const consoleErrors = [];
page.on("request", (request) => {
  const url = request.url();
  if (!url.startsWith(base) && !url.startsWith("data:") && !url.startsWith("about:")) outside.push(url);
});
page.on("console", (message) => { if (message.type() === "error") consoleErrors.push(message.text()); });
page.on("pageerror", (error) => consoleErrors.push(String(error)));
// Opens a page and waits for its own title: a hash change keeps the page before it on
// screen until the new one is drawn, and its controls must not be mistaken for the new ones.
async function open(url, title) {
  await page.goto(url);
  await page.waitForFunction((t) => document.querySelector("#view h1")?.textContent === t, title);
}
const shot = (name) => page.screenshot({ path: path.join(shots, name + ".png"), fullPage: true });

try {
  await page.goto(base + "/");
  check(page.url().startsWith(base + "/console/"), "/ leads to the console");
  await page.fill("#token", "not-a-token");
  await page.click("#sign-in button[type=submit]");
  await page.waitForSelector("#sign-in-error:not(:empty)");
  check((await page.textContent("#sign-in-error")).includes("not valid"), "a wrong token shows the message");
  await shot("sign-in");
  // The refused sign-in's 401 is logged by the browser as a failed load: expected there.
  consoleErrors.length = 0;

  await page.fill("#token", token);
  await page.click("#sign-in button[type=submit]");
  await page.waitForSelector(".counts");
  const counted = await page.$$eval(".counts [data-count]", (ds) => ds.map((d) => d.getAttribute("data-count")));
  check(counted.join(",") === "functions,flows,bins,instances", "the overview counts functions, flows, bins and instances");
  await shot("overview");

  await open(base + "/console/#/functions", "Functions");
  await page.waitForSelector("table td");
  const listed = await page.textContent("#view");
  check(["hello", "hostile", "flow-start-node"].every((f) => listed.includes(f)), "the example functions are listed");
  await shot("functions");

  await open(base + "/console/#/functions/hello", "hello");
  await page.waitForSelector("#input");
  await page.fill("#input", '{"name": "Ada"}');
  await page.click("#invoke");
  await page.waitForSelector("#invoke-log");
  check((await page.textContent("#output")).includes("Hello, Ada!"), "invoking hello from the page shows its output");
  check((await page.textContent("#invoke-log")).includes("Ada"), "and its log: " + await page.textContent("#invoke-log"));
  await page.click("#result .copy");
  check(JSON.parse(await page.evaluate(() => navigator.clipboard.readText())).greeting === "Hello, Ada!", "the copy button copies the output");
  await shot("invoke");

  const failedJob = await api("POST", "/v1/functions/hostile/invoke", { action: "error" });
  await api("POST", "/v1/functions/hostile/invoke", { action: "echo" });
  await open(base + "/console/#/functions/hostile", "hostile");
  await page.waitForSelector("#jobs table");
  await page.selectOption("#job-status", "execution_failed");
  await page.click("#job-filters button[type=submit]");
  await page.waitForSelector('#jobs[data-query*="status=execution_failed"]');
  const statuses = await page.$$eval("#jobs table .status", (s) => s.map((x) => x.textContent));
  check(statuses.length > 0 && statuses.every((x) => x === "execution_failed"), "the jobs filter keeps only failed jobs: " + statuses.join(","));
  await shot("jobs-filtered");
  await page.click(`#jobs a[href="#/jobs/${failedJob.id}"]`);
  await page.waitForSelector("#log");
  const jobText = await page.textContent("#view");
  check(jobText.includes("execution_failed") && jobText.includes("guest chose to fail"), "a failed job shows its status and error");
  await shot("failed-job");
  await open(base + "/console/#/", "Overview");
  await page.waitForSelector("#failures");
  check(Number(await page.textContent('#jobs-by-status [data-status="execution_failed"] b')) >= 1, "the overview counts the last hour's jobs by status");
  await page.click(`#failures a[href="#/jobs/${failedJob.id}"]`);
  await page.waitForSelector("#log");
  check(page.url().endsWith("#/jobs/" + failedJob.id), "a recent failure is one click from its job and log");
  await shot("overview-failures");

  // A function deployed by choosing a file, then a new version of it.
  await open(base + "/console/#/functions", "Functions");
  await page.waitForSelector("#deploy-file");
  await page.fill("#deploy-name", "chosen");
  await page.setInputFiles("#deploy-file", path.join(process.env.GUESTS_DIR, "hello.wasm"));
  await page.click("#deploy button[type=submit]");
  // The function's own page (its version cell), not the list's form still on screen.
  await page.waitForFunction(() => location.hash === "#/functions/chosen" && document.getElementById("version")?.textContent === "1");
  await page.setInputFiles("#deploy-file", path.join(process.env.GUESTS_DIR, "flow_end_node.wasm"));
  await page.click("#deploy button[type=submit]");
  await page.waitForFunction(() => document.getElementById("version")?.textContent === "2");
  check((await page.textContent("#deploy-message")).includes("version 2"), "the page says which version it deployed");
  check((await api("GET", "/v1/functions/chosen")).version === 2, "a chosen .wasm file deploys a function and a new version");
  check(await page.$$eval("#versions tr", (rows) => rows.length) === 3, "the function's page lists both versions");
  await shot("function");

  // The shop bin walked cart -> ordered -> paid through the example functions, from the page.
  const key = "utcook.jar:com.ut.BuzMethod.";
  for (const [name, fn] of [["shoppingCart", "cart"], ["order", "order"], ["payOrder", "pay"]]) {
    await api("PUT", "/v1/bindings/" + key + name, { function: fn });
  }
  const wasm = readFileSync(path.join(process.env.GUESTS_DIR, "shop.wasm"));
  const uploaded = await (await fetch(base + "/v1/bins", {
    method: "POST", headers: { Authorization: "Bearer " + token, "Content-Type": "application/wasm" }, body: wasm,
  })).json();
  const instance = await api("POST", "/v1/instances", { binId: uploaded.binId });
  const id = instance.executeInstanceId;
  await open(base + "/console/#/instances/" + id, "Instance " + id);
  for (const [run, updates] of [{ item: "apple" }, { amount: 2.5 }, { pay: true }].entries()) {
    await page.waitForSelector("#updates");
    await page.fill("#updates", JSON.stringify(updates));
    await page.click("#run");
    await page.waitForFunction((n) => document.getElementById("runs")?.textContent === String(n), run + 1);
  }
  const states = await page.$$eval('.machine[data-machine="1"] .path li', (lis) => lis.map((li) => li.getAttribute("data-state")));
  check(states.join(",") === "cart,ordered,paid", "runs from the page walk the shop instance cart, ordered, paid: " + states.join(","));
  check((await page.textContent("#variables")).includes("order-apple-250"), "its variables are shown");
  await shot("instance");

  // The bin, its manifest and instances; the instances and services lists.
  await api("POST", "/v1/services", { alias: "shop", category: 1, binId: uploaded.binId });
  await open(base + "/console/#/bins", "Bins");
  await page.waitForSelector("#bins");
  await page.click(`#bins a[href="#/bins/${uploaded.binId}"]`);
  await page.waitForSelector("#function-keys");
  const keys = await page.textContent("#function-keys");
  check(["shoppingCart", "order", "payOrder"].every((k) => keys.includes(key + k)), "the bin's page lists its function keys");
  check(await page.$('.machine[data-machine="1"]') !== null, "and its state machine");
  check((await page.textContent("#instances")).includes(id), "and its instances");
  await shot("bin");
  await open(base + "/console/#/instances", "Instances");
  await page.waitForSelector("#instances");
  check((await page.textContent("#instances")).includes("1: paid"), "the instances list shows each one's current state");
  await open(base + "/console/#/services", "Services");
  await page.waitForSelector("#services");
  check((await page.textContent("#services")).includes("dynamic flow (1)"), "the services list shows the category");
  check((await page.textContent("#bindings")).includes(key + "payOrder"), "and the bindings");
  await shot("services");

  // The seed 002 sample flow, drawn from its definition, started from the page, turning green live.
  await open(base + "/console/#/flows/sample", "sample");
  await page.waitForSelector("#outline svg .node");
  const drawn = await page.$$eval("#outline svg .node", (gs) => gs.map((g) => g.getAttribute("data-node")));
  check(drawn.join(",") === "startNode,endNode", "the sample flow's definition is drawn: " + drawn.join(","));
  await page.fill("#start-input", '{"left": 512, "right": 512}');
  await page.click("#start");
  await page.waitForSelector("#graph g.node");
  await page.waitForFunction(() => document.querySelectorAll('#graph g.node[data-status="SUCCEED"]').length === 2,
    null, { timeout: 30000 });
  const nodes = await page.$$eval("#graph g.node", (gs) => gs.map((g) => g.getAttribute("data-task")));
  check(nodes.join(",") === "startNode,endNode", "the started flow is drawn as its two nodes, both succeeded");
  check(await page.$$eval("#graph .edge", (ls) => ls.length) === 1, "one edge: startNode to endNode");
  await page.waitForSelector("#events tbody tr");
  await page.click('#graph g.node[data-task="endNode"] a');
  await page.waitForSelector('#task-detail[data-task="endNode"]');
  check((await page.textContent("#task-output")).includes("1024"), "a task's detail shows its output: " + await page.textContent("#task-output"));
  check(page.url().includes("/tasks/endNode"), "the task's detail has its own URL");
  await shot("execution-succeeded");
  await page.reload();
  await page.waitForSelector('#task-detail[data-task="endNode"]');
  check(true, "reloading the task's URL shows the same task");

  const broken = await api("POST", "/v1/flows/broken/executions", { input: { action: "error" } });
  await open(base + "/console/#/executions/" + broken.execution_id, "Execution " + broken.execution_id);
  await page.waitForSelector('#graph g.node[data-status="FAILED"]', { timeout: 30000 });
  check((await page.textContent("#tasks")).includes("guest chose to fail"), "the failed task shows its error");
  await shot("execution-failed");

  // A state machine with a Choice, a Map body, Parallel branches and a Catch, drawn.
  await open(base + "/console/#/flows/shapes", "shapes");
  await page.waitForSelector("#outline svg .node");
  const kinds = await page.$$eval("#outline svg .node", (gs) => gs.map((g) => g.getAttribute("data-node") + ":" + g.getAttribute("data-kind")));
  check(["Route:choice", "EachItem:map", "Both:parallel", "Greet:task", "Left:pass", "Right:task"].every((k) => kinds.includes(k)),
    "Choice, Map, Parallel and their nested nodes are drawn: " + kinds.join(","));
  const edgeKinds = await page.$$eval("#outline .edge", (es) => es.map((e) => e.getAttribute("class")));
  check(["choice", "default", "catch"].every((k) => edgeKinds.some((c) => c.includes(k))), "choice, default and catch edges are drawn");
  check((await page.$$eval("figure.block figcaption", (fs) => fs.map((f) => f.textContent))).includes("Both: branch 2"), "each Parallel branch is titled");
  await shot("flow-outline");

  // A waiting execution stopped from the page.
  page.once("dialog", (dialog) => dialog.accept());
  await open(base + "/console/#/flows/pause", "pause");
  await page.waitForSelector("#start");
  await page.click("#start");
  await page.waitForSelector("#stop");
  await page.click("#stop");
  await page.waitForFunction(() => document.querySelector("#execution-status .status")?.textContent === "Stopped", null, { timeout: 30000 });
  check(!(await page.$("#stop")), "a stopped execution shows Stopped and no stop button");
  await shot("execution-stopped");

  await open(base + "/console/#/flows", "Flows");
  await page.waitForSelector("#flows");
  await shot("flows");

  // The admin token: the apps, an app's tokens issued and revoked from the page.
  await page.click("#sign-out");
  await page.waitForSelector("#token");
  await page.fill("#token", adminToken);
  await page.click("#sign-in button[type=submit]");
  await page.waitForSelector("#apps");
  // Sign-in tells the admin token by its 403 on an app's route: the browser logs that load.
  for (let i = consoleErrors.length - 1; i >= 0; i--) if (consoleErrors[i].includes("403")) consoleErrors.splice(i, 1);
  check(!(await page.isVisible('#nav a[href="#/functions"]')) && await page.isVisible('#nav a[href="#/apps"]'), "the admin sees the apps, not an app's pages");
  await shot("apps");
  await page.click('#apps a[href="#/apps/1"]');
  await page.waitForSelector("#tokens");
  await page.selectOption("#token-role", "service_user");
  await page.click("#issue");
  await page.waitForSelector("#new-token");
  const issuedToken = (await page.textContent("#new-token")).trim();
  const issuedOk = await fetch(base + "/v1/services", { headers: { Authorization: "Bearer " + issuedToken } });
  // A service user's token is known (403 on what only developers may do, not 401).
  check(issuedOk.status === 403, "a service-user token issued from the page is valid: " + issuedOk.status);
  const issuedId = await page.$$eval("#tokens tr", (rows) => rows.map((r) => r.querySelector("td")?.textContent).filter(Boolean).map(Number).sort((a, b) => b - a)[0]);
  const issuedRow = await page.$eval(`#tokens .revoke[data-token="${issuedId}"]`, (b) => b.closest("tr").textContent);
  check(issuedRow.includes("service_user"), "its row says service_user: " + issuedRow);
  await shot("app-tokens");
  page.once("dialog", (dialog) => dialog.accept());
  await page.click(`#tokens .revoke[data-token="${issuedId}"]`);
  await page.waitForFunction((id) => !document.querySelector(`#tokens .revoke[data-token="${id}"]`), issuedId);
  const revoked = await fetch(base + "/v1/services", { headers: { Authorization: "Bearer " + issuedToken } });
  check(revoked.status === 401, "and is unknown once revoked from the page: " + revoked.status);

  check(outside.length === 0, "no request leaves the server: " + outside.join(", "));
  check(consoleErrors.length === 0, "no error in the browser console: " + consoleErrors.join(" | "));
} catch (error) {
  failures.push(String(error));
  const where = (error.stack || "").split("\n").find((l) => l.includes("console.test.mjs")) || "";
  console.log("FAILED " + error + " " + where.trim() + (consoleErrors.length ? "; browser console: " + consoleErrors.join(" | ") : ""));
  await shot("failure").catch(() => {});
} finally {
  await browser.close();
}
if (failures.length) {
  console.log(`${failures.length} browser check(s) failed`);
  process.exit(1);
}
console.log("browser checks passed");
