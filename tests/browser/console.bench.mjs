// Time to first paint and to content of console pages, in headless Chromium (see
// scripts/bench-console.sh, which fills the store first). For each page: a fresh tab with
// the token already in the session, navigation timed from its start to the first
// contentful paint and to the page's content (its table or graph) being in the DOM.
// Arguments: base URL, app token, Chromium path, runs, then "name|hash|selector" pages.
import { createRequire } from "node:module";
import path from "node:path";

const [base, token, executablePath, runsText, ...pages] = process.argv.slice(2);
const require = createRequire(path.join(process.env.BROWSER_TOOLS, "node_modules", "x.js"));
const { chromium } = require("playwright-core");
const runs = Number(runsText);

const browser = await chromium.launch({ executablePath, args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"] });
const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
await context.addInitScript((t) => sessionStorage.setItem("cloudexec-token", t), token);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log("page                      first paint (median, min-max)   content (median, min-max)");
for (const spec of pages) {
  const [name, hash, selector] = spec.split("|");
  const paints = [], contents = [];
  for (let i = 0; i < runs + 1; i++) {
    const page = await context.newPage();
    // Records when the content first appears, from inside the page.
    await page.addInitScript((sel) => {
      const seen = () => { if (!window.__contentAt && document.querySelector(sel)) window.__contentAt = performance.now(); };
      new MutationObserver(seen).observe(document, { childList: true, subtree: true });
    }, selector);
    await page.goto(base + "/console/" + hash);
    await page.waitForSelector(selector, { timeout: 30000 });
    const [paint, content] = await page.evaluate(() => {
      const fcp = performance.getEntriesByName("first-contentful-paint")[0];
      return [fcp ? fcp.startTime : NaN, window.__contentAt];
    });
    await page.close();
    if (i === 0) continue; // the first load warms the server's caches and the browser's
    paints.push(paint);
    contents.push(content);
  }
  const fmt = (xs) => `${median(xs).toFixed(0)} ms (${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)})`;
  console.log(`${name.padEnd(26)}${fmt(paints).padEnd(32)}${fmt(contents)}`);
}
await browser.close();
