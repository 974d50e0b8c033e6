/**
 * examples/serverless converts an in-memory NetCDF file into an in-memory Zarr store with no
 * filesystem. serverless-run.mjs runs the example's convert.js as a page would: under Node's
 * permission model with no write access anywhere, with `process`, `Buffer` and the other Node
 * globals removed, and with every import a page could not resolve (node: built-ins, bare package
 * names) refused. The keys it prints are written out here and checked with xarray.
 */
import test from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";

import { assertMatchesSources, ROOT } from "../helpers.js";

const SAMPLE = path.join(ROOT, "samples", "ocean_sample.nc");
const WASM = path.join(ROOT, "bindings", "wasm", "pkg", "zarrio_wasm_bg.wasm");

test("the serverless example converts in memory with no filesystem, no Node globals and no Node imports", () => {
  const r = spawnSync(
    process.execPath,
    // Reads only inside the repository, writes nowhere. Module hooks need a worker thread.
    ["--experimental-permission", `--allow-fs-read=${ROOT}`, "--allow-worker", path.join(ROOT, "test", "package", "serverless-run.mjs"), SAMPLE, WASM],
    { encoding: "utf8", maxBuffer: 64 << 20, env: { PATH: process.env.PATH ?? "" } },
  );
  assert.equal(r.status, 0, `serverless-run.mjs failed:\n${r.stderr}`);
  const res = JSON.parse(r.stdout) as {
    writable: boolean;
    leftovers: string[];
    summary: { backend: string; variables: number; timeSteps: number; output: string };
    arrays: { path: string; shape: number[] }[];
    keys: Record<string, string>;
  };
  assert.equal(res.writable, false, "the sandbox let a file be written");
  assert.deepEqual(res.leftovers, [], "Node globals were still there");
  assert.equal(res.summary.backend, "wasm");
  assert.equal(res.summary.output, "memory://");
  assert.deepEqual(
    res.arrays.map((a) => `${a.path}[${a.shape.join(",")}]`),
    ["lat[90]", "lon[180]", "salinity[24,90,180]", "sst[24,90,180]", "time[24]"],
  );

  const zarr = path.join(ROOT, "test", ".out", "package", "serverless", "ocean.zarr");
  rmSync(zarr, { recursive: true, force: true });
  for (const [key, b64] of Object.entries(res.keys)) {
    const file = path.join(zarr, ...key.split("/"));
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, Buffer.from(b64, "base64"));
  }
  assertMatchesSources(zarr, [SAMPLE]);
});
