// The console in a real browser (scripts/browser-tests.sh runs it against a real server):
// sign-in with a wrong and a right token, the functions, an invocation from the page, a
// failed job's log, a shop instance's path cart -> ordered -> paid, the seed 002 sample
// flow's graph turning green and a failed task in red. No request leaves the server; no error reaches the browser console.
// Arguments: base URL, app token, Chromium path, screenshot directory.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const [base, token, executablePath, shots] = process.argv.slice(2);
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
const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
const outside = [];
const consoleErrors = [];
page.on("request", (request) => {
  const url = request.url();
  if (!url.startsWith(base) && !url.startsWith("data:") && !url.startsWith("about:")) outside.push(url);
});
page.on("console", (message) => { if (message.type() === "error") consoleErrors.push(message.text()); });
page.on("pageerror", (error) => consoleErrors.push(String(error)));
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
  check((await page.textContent(".counts")).includes("functions"), "the overview counts functions and flows");
  await shot("overview");

  await page.goto(base + "/console/#/functions");
  await page.waitForSelector("table td");
  const listed = await page.textContent("#view");
  check(["hello", "hostile", "flow-start-node"].every((f) => listed.includes(f)), "the example functions are listed");
  await shot("functions");

  await page.goto(base + "/console/#/functions/hello");
  await page.waitForSelector("#input");
  await page.fill("#input", '{"name": "Ada"}');
  await page.click("#invoke");
  await page.waitForFunction(() => document.getElementById("result").textContent.includes("Hello"));
  check((await page.textContent("#result")).includes("Hello, Ada!"), "invoking hello from the page shows its output");
  await shot("invoke");

  const failedJob = await api("POST", "/v1/functions/hostile/invoke", { action: "error" });
  await page.goto(base + "/console/#/jobs/" + failedJob.id);
  await page.waitForSelector("#view pre");
  const jobText = await page.textContent("#view");
  check(jobText.includes("execution_failed") && jobText.includes("guest chose to fail"), "a failed job shows its status and error");
  await shot("failed-job");

  // The shop bin walked cart -> ordered -> paid through the example functions.
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
  for (const updates of [{ item: "apple" }, { amount: 2.5 }, { pay: true }]) {
    await api("POST", "/v1/instances/" + id + "/runs", updates);
  }
  await page.goto(base + "/console/#/instances/" + id);
  await page.waitForSelector(".path li");
  const states = await page.$$eval('.machine[data-machine="1"] .path li', (lis) => lis.map((li) => li.getAttribute("data-state")));
  check(states.join(",") === "cart,ordered,paid", "the shop instance's path is cart, ordered, paid: " + states.join(","));
  check((await page.textContent("#view")).includes("order-apple-250"), "its variables are shown");
  await shot("instance");

  const started = await api("POST", "/v1/flows/sample/executions", { input: { left: 512, right: 512 } });
  await page.goto(base + "/console/#/executions/" + started.execution_id);
  await page.waitForSelector("#graph g.node");
  await page.waitForFunction(() => document.querySelectorAll('#graph g.node[data-status="SUCCEED"]').length === 2,
    null, { timeout: 30000 });
  const nodes = await page.$$eval("#graph g.node", (gs) => gs.map((g) => g.getAttribute("data-task")));
  check(nodes.join(",") === "startNode,endNode", "the sample flow is drawn as its two nodes, both succeeded");
  check(await page.$$eval("#graph line", (ls) => ls.length) === 1, "one edge: startNode to endNode");
  await shot("execution-succeeded");

  const broken = await api("POST", "/v1/flows/broken/executions", { input: { action: "error" } });
  await page.goto(base + "/console/#/executions/" + broken.execution_id);
  await page.waitForSelector('#graph g.node[data-status="FAILED"]', { timeout: 30000 });
  check((await page.textContent("#tasks")).includes("guest chose to fail"), "the failed task shows its error");
  await shot("execution-failed");

  check(outside.length === 0, "no request leaves the server: " + outside.join(", "));
  check(consoleErrors.length === 0, "no error in the browser console: " + consoleErrors.join(" | "));
} catch (error) {
  failures.push(String(error));
  console.log("FAILED " + error);
  await shot("failure").catch(() => {});
} finally {
  await browser.close();
}
if (failures.length) {
  console.log(`${failures.length} browser check(s) failed`);
  process.exit(1);
}
console.log("browser checks passed");
