/**
 * Sharded against unsharded archives of the same corpus, side by side in one run (issue #17):
 * objects written, wall time, MB/s, CPU and peak memory on a filesystem (convert, and
 * create-template + write-region --jobs 2), and on S3 (moto on loopback) the requests and PUTs.
 * Runs alternate A, B, A, B so the machine's drift falls on both; medians are reported. Every
 * archive of the first repetition is read back with xarray (test/python/compare.py).
 *
 *   npm run bench:sharding                                  large corpus (16 files, 1.2 GB), 3 reps
 *   npm run bench:sharding -- --preset small --reps 1
 *
 * Chunks (24,181,360) float32 = 6.25 MB; shards (96,362,720) = 16 chunks, 100 MB uncompressed.
 * Writes bench/results/<date>-sharding-<preset>.md.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { S3_ENV, startMoto } from "../test/s3/servers.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const PYTHON = process.env.ZARRIO_PYTHON ?? path.join(os.homedir(), ".cache/zarrio/venv/bin/python");
const CLI = path.join(ROOT, "dist", "cli.js");
const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : def;
};
const preset = arg("preset", "large");
const reps = Number(arg("reps", "3"));
const s3Files = Number(arg("s3-files", "4"));

const corpus = path.join(ROOT, "bench", ".corpus", preset);
const made = spawnSync(PYTHON, [path.join(ROOT, "bench", "corpus.py"), "--preset", preset, "--out", corpus], { encoding: "utf8" });
if (made.status !== 0) throw new Error(`corpus.py failed: ${made.stderr}`);
const files = readdirSync(corpus).filter((f) => f.endsWith(".nc")).sort().map((f) => path.join(corpus, f));
const meta = JSON.parse(
  spawnSync(PYTHON, ["-c", `import json,sys,netCDF4
t=0; steps=0
for f in sys.argv[1:]:
    with netCDF4.Dataset(f) as d:
        t+=sum(v.size*v.dtype.itemsize for v in d.variables.values()); steps+=len(d.dimensions["time"])
print(json.dumps({"mb": t/1e6, "steps": steps}))`, ...files], { encoding: "utf8" }).stdout,
) as { mb: number; steps: number };

const chunking = ["--chunking", "time:24,lat:181,lon:360", "--compression", "blosc:zstd:3"];
const SHARDS = ["--shards", "time:96,lat:362,lon:720"];

interface Run {
  wall: number;
  cpu: number;
  rssMb: number;
  stderr: string;
}

/** Run the CLI under /usr/bin/time -v: wall, CPU (user + sys) and peak RSS of the process. */
function run(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn("/usr/bin/time", ["-v", process.execPath, CLI, ...args], { env: { ...process.env, ...env } });
    let stderr = "";
    child.stderr.on("data", (c) => (stderr += c));
    child.stdout.resume();
    child.on("close", (status) => {
      const wall = (performance.now() - t0) / 1000;
      if (status !== 0) return reject(new Error(`zarrio ${args.join(" ")} failed (${status}):\n${stderr.slice(-2000)}`));
      const num = (re: RegExp) => Number(re.exec(stderr)?.[1] ?? NaN);
      resolve({ wall, cpu: num(/User time \(seconds\): ([\d.]+)/) + num(/System time \(seconds\): ([\d.]+)/), rssMb: num(/Maximum resident set size \(kbytes\): (\d+)/) / 1024, stderr });
    });
  });
}

/** Objects (files) and bytes under a directory, zarrio's own housekeeping folders left out. */
function tree(dir: string): { objects: number; bytes: number } {
  let objects = 0;
  let bytes = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const p = path.join(e.parentPath, e.name);
    if (!e.isFile() || p.includes(".zarrio-")) continue;
    objects++;
    bytes += statSync(p).size;
  }
  return { objects, bytes };
}

const check = (archive: string, sources: string[]) => {
  const r = spawnSync(PYTHON, [path.join(ROOT, "test", "python", "compare.py"), "--zarr", archive, ...sources.flatMap((f) => ["--source", f])], { encoding: "utf8", env: { ...process.env } });
  return r.status === 0 ? "ok" : `FAILED: ${(r.stdout + r.stderr).slice(0, 200)}`;
};

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
const out = path.join(ROOT, "bench", ".out", "sharding");
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

interface Row {
  workflow: string;
  layout: string;
  runs: Run[];
  objects: number;
  bytes: number;
  check: string;
  requests?: string;
}
const rows: Row[] = [];
const end = `2024-01-${String(files.length).padStart(2, "0")}T23:00`;
const workflows: { name: string; go(dest: string, extra: string[]): Promise<Run> }[] = [
  { name: "convert", go: (dest, extra) => run(["convert", ...files, dest, ...chunking, ...extra]) },
  {
    name: "create-template + write-region --jobs 2",
    go: async (dest, extra) => {
      const t = await run(["create-template", files[0]!, dest, "--global-start", "2024-01-01", "--global-end", end, "--freq", "1h", ...chunking, ...extra]);
      const w = await run(["write-region", "--jobs", "2", ...files, dest, "-v"]);
      return { wall: t.wall + w.wall, cpu: t.cpu + w.cpu, rssMb: Math.max(t.rssMb, w.rssMb), stderr: w.stderr };
    },
  },
];
for (const wf of workflows) {
  const pair = [
    { layout: "chunks", extra: [] as string[] },
    { layout: "shards", extra: SHARDS },
  ].map((p) => ({ ...p, row: { workflow: wf.name, layout: p.layout, runs: [] as Run[], objects: 0, bytes: 0, check: "" } as Row }));
  for (let r = 0; r < reps; r++) {
    for (const p of pair) {
      const dest = path.join(out, `${p.layout}.zarr`);
      rmSync(dest, { recursive: true, force: true });
      spawnSync("sync");
      p.row.runs.push(await wf.go(dest, p.extra));
      process.stderr.write(`${wf.name} ${p.layout} #${r + 1}: ${p.row.runs.at(-1)!.wall.toFixed(2)} s\n`);
      if (r === 0) {
        Object.assign(p.row, tree(dest));
        p.row.check = check(dest, files);
      }
    }
  }
  rows.push(...pair.map((p) => p.row));
}

// S3: the requests each layout costs (moto on loopback; a few files, moto holds objects in memory).
const moto = await startMoto(path.join(out, "moto.log"));
Object.assign(process.env, S3_ENV, { AWS_ENDPOINT_URL: moto.endpoint, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" });
try {
  await moto.bucket("zarrio-bench");
  const some = files.slice(0, s3Files);
  for (const [layout, extra] of [["chunks", []], ["shards", SHARDS]] as const) {
    const dest = `s3://zarrio-bench/${layout}.zarr`;
    const r = await run(["convert", ...some, dest, ...chunking, ...extra, "-v"]);
    const s3 = /(\d+) requests \((.*?)\)/.exec(r.stderr);
    const puts = Number(/(\d+) PUT/.exec(s3?.[2] ?? "")?.[1] ?? 0);
    rows.push({ workflow: `convert → S3 (moto), ${some.length} files`, layout, runs: [r], objects: puts, bytes: NaN, check: check(dest, some), requests: s3 ? `${s3[1]} (${s3[2]})` : "?" });
  }
} finally {
  await moto.stop();
}

const lines = [
  `# zarrio: sharded vs unsharded archives — ${new Date().toISOString().slice(0, 10)}`,
  "",
  `${files.length} files of the ${preset} corpus (${meta.steps} hourly steps, 361×720, 3 float32 variables), ${meta.mb.toFixed(0)} MB uncompressed; ` +
    `chunks (24,181,360) blosc zstd-3 = 6.25 MB; shards (96,362,720) = 16 chunks, 100 MB uncompressed. ` +
    `${os.cpus().length} cores, load ${os.loadavg()[0]!.toFixed(2)} at the end; median of ${reps} runs alternating chunks/shards (S3: one run).`,
  "",
  "| workflow | layout | objects | stored MB | wall s | MB/s | vs chunks | CPU s | peak RSS MB | S3 requests | xarray check |",
  "|---|---|---|---|---|---|---|---|---|---|---|",
];
for (let i = 0; i < rows.length; i += 2) {
  const base = median(rows[i]!.runs.map((r) => r.wall));
  for (const r of [rows[i]!, rows[i + 1]!]) {
    const wall = median(r.runs.map((x) => x.wall));
    const mb = r.workflow.includes("S3") ? (meta.mb * s3Files) / files.length : meta.mb;
    lines.push(
      `| ${r.workflow} | ${r.layout} | ${r.requests ? `${r.objects} PUT` : r.objects} | ${Number.isNaN(r.bytes) ? "-" : (r.bytes / 1e6).toFixed(0)} | ${wall.toFixed(2)} | ${(mb / wall).toFixed(0)} | ${(wall / base).toFixed(2)}× | ${median(r.runs.map((x) => x.cpu)).toFixed(1)} | ${Math.max(...r.runs.map((x) => x.rssMb)).toFixed(0)} | ${r.requests ?? "-"} | ${r.check} |`,
    );
  }
}
lines.push("");
const text = lines.join("\n");
process.stdout.write(text);
mkdirSync(path.join(ROOT, "bench", "results"), { recursive: true });
writeFileSync(path.join(ROOT, "bench", "results", `${new Date().toISOString().slice(0, 10)}-sharding-${preset}.md`), text);
