/**
 * Runs examples/serverless/convert.js the way a browser runs it, for serverless.test.ts. Started with
 * Node's permission model and no --allow-fs-write, so the conversion cannot touch the filesystem;
 * the example's modules may import only what a page can (serverless-hooks.mjs), and Node's own
 * globals are gone before they load. This runner plays the browser's part: it reads the NetCDF
 * file and the WebAssembly module (a page would fetch them) and prints the archive's keys as JSON.
 *
 *   node --experimental-permission --allow-fs-read=<repo> --allow-worker serverless-run.mjs <file.nc> <module.wasm>
 *
 * (--allow-worker: module hooks run on a worker thread; the permission model still applies there.)
 */
import { Buffer } from "node:buffer";
import { readFileSync, writeFileSync } from "node:fs";
import { register } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";

const repo = new URL("../../", import.meta.url);
const [ncPath, wasmPath] = process.argv.slice(2);
register("./serverless-hooks.mjs", import.meta.url, {
  data: { roots: [new URL("examples/", repo).href, new URL("dist/", repo).href, new URL("bindings/", repo).href] },
});

const nc = new Uint8Array(readFileSync(ncPath));
const wasm = new Uint8Array(readFileSync(wasmPath));
let writable = true;
try {
  writeFileSync(path.join(tmpdir(), `zarrio-sandbox-probe-${process.pid}`), "x");
} catch (e) {
  if (e.code !== "ERR_ACCESS_DENIED") throw e;
  writable = false;
}
const stdout = process.stdout;
const toBase64 = (bytes) => Buffer.from(bytes).toString("base64");

// Node defines fetch, Response and friends lazily, with code that needs `global` and `process`:
// load them now, as a page has them from the start.
void [globalThis.fetch, globalThis.Response, globalThis.Request, globalThis.Headers];
// What a page does not have.
for (const name of ["process", "Buffer", "global", "setImmediate", "clearImmediate", "require"]) delete globalThis[name];
const leftovers = ["process", "Buffer", "global", "setImmediate"].filter((n) => n in globalThis);

const { convertInMemory } = await import(new URL("examples/serverless/convert.js", repo).href);
const { summary, store, arrays } = await convertInMemory(path.basename(ncPath), nc, { wasm });
const keys = Object.fromEntries([...store.map].map(([k, v]) => [k, toBase64(v)]));
stdout.write(JSON.stringify({ writable, leftovers, summary, arrays, keys }) + "\n");
