/**
 * zarrio against an S3 server on loopback (moto, as in the tests) vs the filesystem, on the same
 * corpus files: wall time, MB/s, requests per chunk written, retries, and the same with a proxy
 * injecting faults. Every archive is checked with xarray (test/python/compare.py) against the sources.
 *
 *   npm run bench:s3                          2 files of the small preset (daily, 24 hourly steps)
 *   npm run bench:s3 -- --preset large --files 4
 *
 * moto keeps objects in memory and answers from one Python process, so the S3 rows measure zarrio's
 * request path against a slow-ish server; a real S3 endpoint is wider (and farther away).
 * Prints a table and writes it to bench/results/<date>-s3-<preset>.md.
 */
import { spawnSync, spawn } from "node:child_process";
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { S3_ENV, startFaultProxy, startMoto } from "../test/s3/servers.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const PYTHON = process.env.ZARRIO_PYTHON ?? path.join(os.homedir(), ".cache/zarrio/venv/bin/python");
const CLI = path.join(ROOT, "dist", "cli.js");
const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : def;
};
const preset = arg("preset", "small");
const nfiles = Number(arg("files", "2"));

const corpus = path.join(ROOT, "bench", ".corpus", preset);
const made = spawnSync(PYTHON, [path.join(ROOT, "bench", "corpus.py"), "--preset", preset, "--out", corpus], { encoding: "utf8" });
if (made.status !== 0) throw new Error(`corpus.py failed: ${made.stderr}`);
const files = readdirSync(corpus).filter((f) => f.endsWith(".nc")).sort().slice(0, nfiles).map((f) => path.join(corpus, f));
const { uncompressedMb } = JSON.parse(spawnSync(PYTHON, ["-c", `import json,sys,netCDF4
t=0
for f in sys.argv[1:]:
    with netCDF4.Dataset(f) as d:
        t+=sum(v.size*v.dtype.itemsize for v in d.variables.values())
print(json.dumps({"uncompressedMb": t/1e6}))`, ...files], { encoding: "utf8" }).stdout);

const common = ["--chunking", "time:24,lat:181,lon:360", "--compression", "blosc:zstd:3", "-v"];
const run = (args: string[], env: Record<string, string> = {}) =>
  new Promise<{ status: number | null; stderr: string; wall: number }>((resolve) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env } });
    let stderr = "";
    child.stderr.on("data", (c) => (stderr += c));
    child.stdout.resume();
    child.on("close", (status) => resolve({ status, stderr, wall: (performance.now() - t0) / 1000 }));
  });
const check = (archive: string) => {
  const r = spawnSync(PYTHON, [path.join(ROOT, "test", "python", "compare.py"), "--zarr", archive, ...files.flatMap((f) => ["--source", f])], { encoding: "utf8" });
  return r.status === 0 ? "ok" : `FAILED: ${r.stdout.slice(0, 200)}`;
};

interface Row {
  case: string;
  wall: number;
  chunks: number;
  requests: number;
  puts: number;
  retries: string;
  check: string;
}
const rows: Row[] = [];
const record = (name: string, r: { status: number | null; stderr: string; wall: number }, archive: string) => {
  if (r.status !== 0) throw new Error(`${name} failed (${r.status}):\n${r.stderr}`);
  const chunks = [...r.stderr.matchAll(/ chunks=(\d+)/g)].reduce((a, m) => a + Number(m[1]), 0);
  const s3 = /(\d+) requests \((.*?)\), (\d+) retries(?: \((.*?)\))?/.exec(r.stderr);
  const puts = s3 ? Number(/(\d+) PUT/.exec(s3[2]!)?.[1] ?? 0) : 0;
  rows.push({ case: name, wall: r.wall, chunks, requests: s3 ? Number(s3[1]) : 0, puts, retries: s3 ? `${s3[3]}${s3[4] ? ` (${s3[4]})` : ""}` : "-", check: check(archive) });
};

const out = path.join(ROOT, "bench", ".out", "s3");
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const moto = await startMoto(path.join(out, "moto.log"));
const env = { ...S3_ENV, AWS_ENDPOINT_URL: moto.endpoint, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" };
Object.assign(process.env, env);
try {
  await moto.bucket("zarrio-bench");
  const fsOut = path.join(out, "fs.zarr");
  record("convert → filesystem", await run(["convert", ...files, fsOut, ...common]), fsOut);
  record("convert → S3 (moto)", await run(["convert", ...files, "s3://zarrio-bench/convert.zarr", ...common]), "s3://zarrio-bench/convert.zarr");
  const tpl = ["create-template", files[0]!, "s3://zarrio-bench/regions.zarr", "--global-start", "2024-01-01", "--global-end", `2024-01-${String(files.length).padStart(2, "0")}T23:00`, "--freq", "1h", ...common.slice(0, 4)];
  const t = await run(tpl);
  if (t.status !== 0) throw new Error(t.stderr);
  record("template + write-region --jobs 2 → S3", await run(["write-region", "--jobs", "2", ...files, "s3://zarrio-bench/regions.zarr", "-v"]), "s3://zarrio-bench/regions.zarr");
  const proxy = await startFaultProxy(moto.endpoint, { slowDown: 0.05, cut: 0.02, seed: 3 });
  try {
    record("convert → S3, 5% 503 + 2% cut connections", await run(["convert", ...files, "s3://zarrio-bench/faults.zarr", ...common, "--s3-endpoint", proxy.endpoint]), "s3://zarrio-bench/faults.zarr");
  } finally {
    await proxy.stop();
  }
} finally {
  await moto.stop();
}

const mb = uncompressedMb as number;
const fsWall = rows[0]!.wall;
const lines = [
  `# zarrio: S3 (moto on loopback) vs filesystem — ${new Date().toISOString().slice(0, 10)}`,
  "",
  `${files.length} file(s) of the ${preset} corpus, ${mb.toFixed(0)} MB uncompressed; chunks (24,181,360), blosc zstd-3; ${os.cpus().length} cores, load ${os.loadavg()[0]!.toFixed(2)}.`,
  "",
  "| case | wall s | MB/s | vs filesystem | chunks | requests | PUT per chunk | retries | xarray check |",
  "|---|---|---|---|---|---|---|---|---|",
  ...rows.map((r) => `| ${r.case} | ${r.wall.toFixed(2)} | ${(mb / r.wall).toFixed(0)} | ${(r.wall / fsWall).toFixed(2)}× | ${r.chunks} | ${r.requests || "-"} | ${r.chunks && r.puts ? (r.puts / r.chunks).toFixed(2) : "-"} | ${r.retries} | ${r.check} |`),
  "",
];
const text = lines.join("\n");
process.stdout.write(text);
mkdirSync(path.join(ROOT, "bench", "results"), { recursive: true });
writeFileSync(path.join(ROOT, "bench", "results", `${new Date().toISOString().slice(0, 10)}-s3-${preset}.md`), text);
