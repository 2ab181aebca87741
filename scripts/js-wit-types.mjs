// Generates the TypeScript declarations of the guest WIT (guest-sdk/wit/runtime.wit) with
// jco's guest-types, for the `function` and `bin` worlds, into guest-sdk/js/wit/: the
// modules `cloudexec:runtime/*` the JavaScript SDK imports. jco 1.35's own
// `jco guest-types` command gives its WIT reader no filesystem (no WASI preopen), so this
// calls the same generator with the root directory preopened.
//   node scripts/js-wit-types.mjs JS_TOOLS_DIR [OUT_DIR]
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const [tools, outArg] = process.argv.slice(2);
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const out = path.resolve(outArg ?? path.join(repo, "guest-sdk", "js", "wit"));
const transpile = path.join(path.resolve(tools), "node_modules", "@bytecodealliance", "jco-transpile");
const fs = await import(path.join(transpile, "node_modules", "@bytecodealliance", "preview2-shim", "dist", "nodejs", "filesystem.js"));
fs._setPreopens({ "/": "/" });
const { generateGuestTypes } = await import(path.join(transpile, "dist", "typegen.js"));
const wit = path.join(repo, "guest-sdk", "wit", "runtime.wit");
for (const world of ["function", "bin"]) {
  const files = await generateGuestTypes(wit, { worldName: world, outDir: "" });
  for (const [name, bytes] of Object.entries(files)) {
    const file = path.join(out, name);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, bytes);
  }
}
console.log(out);
