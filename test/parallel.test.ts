/**
 * Many writers on one archive: the chunk lock under contention and after a SIGKILL, 30 daily
 * files written by 8 processes in random order (chunk-aligned and misaligned chunks, the --jobs
 * pool and job-array shards), a writer killed mid-write and re-run, every refusal of
 * write-region (typed error, archive bytes unchanged), idempotence and the missing-data retries.
 * The archive is always checked against xarray's reading of the sources (compare.py).
 */
import test, { before, describe } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { spawn } from "node:child_process";
import path from "node:path";

import {
  ConfigError,
  expandInputs,
  FsStore,
  IncompatibleSourceError,
  parseShard,
  RegionError,
  RetryLimitExceededError,
  shardFromEnv,
  takeShare,
  ZarrConverter,
  type Store,
} from "../dist/index.js";
import { assertMatchesSources, BACKEND, cli, ForwardingStore, outDir, ROOT } from "./helpers.js";
import { filesUnder, hashTree, makeSeries, makeVariants, shuffle, sleep, startCli } from "./series.js";

const LOCK_WORKER = path.join(ROOT, "test", "workers", "lock_counter.mjs");
/** The lock directory of chunk key temp/c/0/0/0 (zarr/lock.ts escapes keys into one name). */
const LOCK_NAME = "temp%2Fc%2F0%2F0%2F0";

function runNode(args: string[]): { pid: number; done: Promise<{ status: number | null; stdout: string; stderr: string }>; kill(s: NodeJS.Signals): void; stdoutLine(): Promise<string> } {
  const child = spawn(process.execPath, args);
  let stdout = "";
  let stderr = "";
  const waiters: ((l: string) => void)[] = [];
  child.stdout.on("data", (c) => {
    stdout += c;
    if (stdout.includes("\n")) waiters.splice(0).forEach((w) => w(stdout.split("\n")[0]!));
  });
  child.stderr.on("data", (c) => (stderr += c));
  return {
    pid: child.pid!,
    done: new Promise((resolve) => child.on("close", (status) => resolve({ status, stdout, stderr }))),
    kill: (s) => child.kill(s),
    stdoutLine: () => new Promise((resolve) => (stdout.includes("\n") ? resolve(stdout.split("\n")[0]!) : waiters.push(resolve))),
  };
}

describe(`parallel writers [${BACKEND}]`, () => {
  let days: string[] = [];
  before(() => {
    days = makeSeries(outDir("parallel-src"), 30);
  });

  test("file lists and shares: globs, --files-from, job-array variables, shares covering each file once", async () => {
    const dir = outDir("file-lists");
    for (const f of ["a/x_1.nc", "a/x_2.nc", "a/b/x_3.nc", "a/.x_4.nc", "a/y.txt"]) {
      mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
      writeFileSync(path.join(dir, f), "");
    }
    const at = (...names: string[]) => names.map((n) => path.join(dir, n));
    assert.deepEqual(await expandInputs([path.join(dir, "a/*.nc")]), at("a/x_1.nc", "a/x_2.nc"));
    assert.deepEqual(await expandInputs([path.join(dir, "**/x_[13].nc")]), at("a/b/x_3.nc", "a/x_1.nc"));
    const list = path.join(dir, "list.txt");
    writeFileSync(list, `# files\n${at("a/x_2.nc")[0]}\n\n${at("a/x_1.nc")[0]}\n`);
    assert.deepEqual(await expandInputs([], list), at("a/x_2.nc", "a/x_1.nc"));
    await assert.rejects(expandInputs([path.join(dir, "nothing*.nc")]), ConfigError);

    const files = Array.from({ length: 10 }, (_, i) => `f${i}.nc`).reverse();
    const shares = [0, 1, 2].map((index) => takeShare(files, { index, count: 3, from: "test" }));
    assert.deepEqual(shares.flat().sort(), [...files].sort(), "every file in exactly one share");
    assert.deepEqual(shares.map((s) => [...s].sort()), [["f0.nc", "f1.nc", "f2.nc"], ["f3.nc", "f4.nc", "f5.nc"], ["f6.nc", "f7.nc", "f8.nc", "f9.nc"]]);
    assert.deepEqual(shardFromEnv({ SLURM_ARRAY_TASK_ID: "5", SLURM_ARRAY_TASK_MIN: "1", SLURM_ARRAY_TASK_STEP: "2", SLURM_ARRAY_TASK_COUNT: "4" }), { index: 2, count: 4, from: "SLURM_ARRAY_TASK_ID" });
    assert.deepEqual(shardFromEnv({ AWS_BATCH_JOB_ARRAY_INDEX: "7", AWS_BATCH_JOB_ARRAY_SIZE: "8" }), { index: 7, count: 8, from: "AWS_BATCH_JOB_ARRAY_INDEX" });
    assert.deepEqual(shardFromEnv({ JOB_COMPLETION_INDEX: "3", ZARRIO_SHARD_COUNT: "16" }), { index: 3, count: 16, from: "JOB_COMPLETION_INDEX" });
    assert.equal(shardFromEnv({}), undefined);
    assert.throws(() => shardFromEnv({ JOB_COMPLETION_INDEX: "3" }), (e: Error) => e instanceof ConfigError && /ZARRIO_SHARD_COUNT/.test(e.message));
    assert.throws(() => parseShard("3/2"), ConfigError);
    assert.deepEqual(parseShard("1/4"), { index: 1, count: 4, from: "--shard" });
  });

  describe("the chunk lock", () => {
    test("admits one holder at a time across 8 processes (no lost update)", async () => {
      const root = outDir("lock-count");
      const runs = Array.from({ length: 8 }, () => runNode([LOCK_WORKER, root, "40"]));
      const results = await Promise.all(runs.map((r) => r.done));
      for (const r of results) assert.equal(r.status, 0, r.stderr);
      assert.equal(readFileSync(path.join(root, "counter"), "utf8"), "320");
      assert.deepEqual(readdirSync(path.join(root, ".zarrio-locks")), [], "every lock released");
    });

    test("a lock whose holder was SIGKILLed is taken over, still one holder at a time", async () => {
      const root = outDir("lock-killed");
      const holder = runNode([LOCK_WORKER, root, "0", "", "hold"]);
      assert.equal(await holder.stdoutLine(), "held");
      holder.kill("SIGKILL");
      await holder.done;
      assert.ok(existsSync(path.join(root, ".zarrio-locks", LOCK_NAME)), "the dead holder's lock is still there");
      const runs = Array.from({ length: 8 }, () => runNode([LOCK_WORKER, root, "20"]));
      const results = await Promise.all(runs.map((r) => r.done));
      for (const r of results) assert.equal(r.status, 0, r.stderr);
      assert.equal(readFileSync(path.join(root, "counter"), "utf8"), "160");
    });

    test("a lock of another machine is respected until stale (untouched for staleMs), then taken over", async () => {
      const root = outDir("lock-foreign");
      const dir = path.join(root, ".zarrio-locks", LOCK_NAME);
      mkdirSync(dir, { recursive: true });
      const owner = path.join(dir, "elsewhere-0.owner");
      writeFileSync(owner, JSON.stringify({ host: "another-node", boot: "x", pidns: "x", pid: 1, token: "elsewhere-0", since: Date.now() }));
      const started = Date.now();
      const r = await runNode([LOCK_WORKER, root, "1", "1500"]).done;
      assert.equal(r.status, 0, r.stderr);
      assert.ok(Date.now() - started >= 1400, `waited ${Date.now() - started} ms for a live foreign lock`);
      assert.equal(readFileSync(path.join(root, "counter"), "utf8"), "1");
      // An old one is taken over at once.
      mkdirSync(dir, { recursive: true });
      writeFileSync(owner, "{}");
      const old = new Date(Date.now() - 60_000);
      utimesSync(owner, old, old);
      const quick = Date.now();
      assert.equal((await runNode([LOCK_WORKER, root, "1", "1500"]).done).status, 0);
      assert.ok(Date.now() - quick < 1400);
      assert.equal(readFileSync(path.join(root, "counter"), "utf8"), "2");
    });
  });

  for (const [label, chunking, format] of [
    ["chunk-aligned (time chunks of 24 = one file)", "time:24", "3"],
    ["misaligned (time chunks of 36: 3 days fill 2 chunks)", "time:36,lat:10,lon:15", "3"],
    ["misaligned (time chunks of 100 shared by 5 files)", "time:100,lat:10,lon:15", "3"],
  ] as const) {
    test(`30 daily files by a pool of 8 writer processes, random order, ${label}`, async () => {
      const dir = outDir(`pool-${chunking.replace(/[:,]/g, "_")}`);
      const archive = path.join(dir, "archive.zarr");
      const t = cli(["create-template", days[0]!, archive, "--global-start", "2020-01-01", "--global-end", "2020-01-30T23:00", "--chunking", chunking, "--zarr-format", format]);
      assert.equal(t.status, 0, t.stderr);
      const started = performance.now();
      const w = await startCli(["write-region", "--jobs", "8", ...shuffle(days, 7), archive]).done;
      const seconds = (performance.now() - started) / 1000;
      assert.equal(w.status, 0, w.stderr);
      // One writer per group of files that fill the same chunks, at most 8: a group starts where a
      // file starts a chunk. Chunks of 36 hours: every third day (10 groups of 3 days); chunks of
      // 100 hours: day 0 and day 25 only (hour 600), so 2 groups and 2 writers.
      const writers = chunking.startsWith("time:100") ? 2 : 8;
      assert.match(w.stdout, new RegExp(`30 of 30 file\\(s\\) written by ${writers} writer\\(s\\)`));
      test.diagnostic?.(`30 files, 8 writers, ${label}: ${seconds.toFixed(1)} s`);
      assertMatchesSources(archive, days);
      const locks = path.join(archive, ".zarrio-locks");
      // Groups end where chunks end: no writer shares a chunk with another, so none takes a lock.
      assert.ok(!existsSync(locks), "no chunk shared between writers: no lock taken");
      assert.deepEqual(filesUnder(archive, /^\.zarrio-tmp\//), [], "no temporary files left");
    });
  }

  test("30 daily files by 8 job-array tasks started at once (SLURM_ARRAY_TASK_ID shares), misaligned chunks, Zarr v2", async () => {
    const dir = outDir("shards");
    const archive = path.join(dir, "archive.zarr");
    const t = cli(["create-template", days[0]!, archive, "--global-start", "2020-01-01", "--global-end", "2020-01-30T23:00", "--chunking", "time:50", "--zarr-format", "2"]);
    assert.equal(t.status, 0, t.stderr);
    const list = path.join(dir, "files.txt");
    writeFileSync(list, shuffle(days, 11).join("\n") + "\n");
    const tasks = Array.from({ length: 8 }, (_, i) =>
      startCli(["write-region", "--files-from", list, archive], { SLURM_ARRAY_TASK_ID: String(i + 1), SLURM_ARRAY_TASK_MIN: "1", SLURM_ARRAY_TASK_COUNT: "8" }),
    );
    const runs = await Promise.all(tasks.map((x) => x.done));
    let total = 0;
    runs.forEach((r, i) => {
      assert.equal(r.status, 0, r.stderr);
      const m = /(\d+) of (\d+) file\(s\) written .*\(shard (\d+)\/8 from SLURM_ARRAY_TASK_ID: \d+ of 30 files\)/.exec(r.stdout);
      assert.ok(m, r.stdout);
      assert.equal(m![1], m![2]);
      assert.equal(Number(m![3]), i);
      total += Number(m![1]);
    });
    assert.equal(total, 30, "the shares cover every file once");
    assertMatchesSources(archive, days);
  });

  test("a writer SIGKILLed mid-write, then run again: the archive is complete and correct", async () => {
    const dir = outDir("sigkill");
    const big = makeSeries(path.join(dir, "src"), 2, ["--steps", "48", "--lat", "150", "--lon", "200"]);
    const archive = path.join(dir, "archive.zarr");
    const t = cli(["create-template", big[0]!, archive, "--global-start", "2020-01-01", "--global-end", "2020-01-04T23:00", "--chunking", "time:10,lat:50,lon:50"]);
    assert.equal(t.status, 0, t.stderr);
    assert.equal(cli(["write-region", big[0]!, archive]).status, 0);
    const slow = path.join(dir, "slow.json");
    writeFileSync(slow, JSON.stringify({ concurrency: 1, slabSizeMb: 1 }));
    const before = filesUnder(path.join(archive, "salinity"), /^c\//).length;
    const writer = startCli(["write-region", big[1]!, archive, "--config", slow]);
    // Kill it as soon as it has stored something of the second file.
    while (filesUnder(path.join(archive, "salinity"), /^c\//).length <= before) await sleep(2);
    writer.kill("SIGKILL");
    const killed = await writer.done;
    assert.equal(killed.signal, "SIGKILL");
    const expected = 10 * 3 * 4;
    assert.ok(filesUnder(path.join(archive, "salinity"), /^c\//).length < expected, "killed before it finished");
    const again = cli(["write-region", big[1]!, archive]);
    assert.equal(again.status, 0, again.stderr);
    assert.equal(filesUnder(path.join(archive, "salinity"), /^c\//).length, expected);
    assertMatchesSources(archive, big);
    assert.deepEqual(readdirSync(path.join(archive, ".zarrio-locks")).filter((n) => !n.startsWith(".new-")), [], "no lock left behind");
    // What the killed writer left in flight is outside the hierarchy, and swept once old.
    await new FsStore(archive).sweep(0);
    assert.deepEqual(filesUnder(archive, /^\.zarrio-(tmp|locks)\/./), []);
  });

  describe("refusals leave the archive untouched", () => {
    let archive = "";
    let variants: Record<string, string> = {};
    const conv = () => new ZarrConverter({ backend: BACKEND });
    before(() => {
      const dir = outDir("refusals");
      archive = path.join(dir, "archive.zarr");
      const t = cli(["create-template", days[0]!, archive, "--global-start", "2020-01-01", "--global-end", "2020-01-30T23:00", "--chunking", "time:100"]);
      assert.equal(t.status, 0, t.stderr);
      assert.equal(cli(["write-region", days[1]!, archive]).status, 0);
      variants = makeVariants(days[2]!, path.join(dir, "variants"), [
        "shifted", "late", "unordered", "coarse", "no_salinity", "extra_var", "small_grid", "float32_sal", "float64_temp", "kelvin", "moved_grid", "no_time_units",
      ]);
    });

    const cases: [string, string, typeof RegionError | typeof IncompatibleSourceError, RegExp, Record<string, unknown>?][] = [
      ["times not on the archive's axis", "shifted", RegionError, /2020-01-03 00:30:00 \(step 0\) is not on the archive's time axis/],
      ["times outside the archive", "late", RegionError, /2029-12-31 00:00:00 \(step 0\) is after the archive's last time 2020-01-30 23:00:00/],
      ["times not increasing", "unordered", RegionError, /not increasing at step 4: 2020-01-03 03:00:00 follows 2020-01-03 04:00:00/],
      ["a time step unlike the archive's", "coarse", RegionError, /2020-01-03 02:00:00 \(step 1\) is archive step 50.*does not match/],
      ["no CF time to place it by", "no_time_units", RegionError, /has 'time' without units, which are not CF time.*--region/],
      ["a variable missing", "no_salinity", IncompatibleSourceError, /variable 'salinity': is in the archive but not in this file/],
      ["a variable the archive lacks", "extra_var", IncompatibleSourceError, /variable 'wind': is in this file but not in the archive/],
      ["another grid size", "small_grid", IncompatibleSourceError, /dimension 'lat' has length 19, the archive has 20/],
      ["a wider dtype", "float64_temp", IncompatibleSourceError, /variable 'temperature': decodes to float64 .*the archive stores float32: storing it would round its values/],
      ["other units", "kelvin", IncompatibleSourceError, /variable 'temperature': has units 'K', the archive has 'degC'/],
      ["other coordinate values", "moved_grid", IncompatibleSourceError, /variable 'lat': coordinate values differ from the archive's at index 0/],
    ];
    test("a field without time that differs from the archive's → IncompatibleSourceError (write-region and append); --drop-variables leaves it out", async () => {
      const dir = outDir("statics");
      const v = (i: number, kind: string) => makeVariants(days[i]!, path.join(dir, `v${i}`), [kind])[kind]!;
      const [a0, a1, b2] = [v(0, "area"), v(1, "area"), v(2, "area_other")];
      const template = path.join(dir, "template.zarr");
      const t = cli(["create-template", a0, template, "--global-start", "2020-01-01", "--global-end", "2020-01-30T23:00", "--chunking", "time:100", "--overwrite"]);
      assert.equal(t.status, 0, t.stderr);
      let r = cli(["write-region", a1, template]);
      assert.equal(r.status, 0, r.stderr);
      const appended = path.join(dir, "appended.zarr");
      r = cli(["convert", a0, a1, appended, "--overwrite"]);
      assert.equal(r.status, 0, r.stderr);
      for (const [cmd, archive] of [["write-region", template], ["append", appended]] as const) {
        const before = hashTree(archive);
        r = cli([cmd, b2, archive]);
        assert.equal(r.status, 4, r.stderr);
        assert.match(r.stderr, /area_other\.nc, variable '\/?area': values differ from the archive's at \[1, 2\]: 2 here, 1 in the archive.*--drop-variables area/);
        assert.equal(hashTree(archive), before, "archive bytes unchanged");
        r = cli([cmd, b2, archive, "--drop-variables", "area"]);
        assert.equal(r.status, 0, r.stderr);
      }
    });

    for (const [what, kind, type, message] of cases) {
      test(`${what} → ${type.name}`, async () => {
        const before = hashTree(archive);
        await assert.rejects(conv().writeRegion(variants[kind]!, archive), (e: Error) => {
          assert.ok(e instanceof type, `${e.name}: ${e.message}`);
          assert.ok(e.message.includes(`${kind}.nc`), `names the file: ${e.message}`);
          assert.match(e.message, message);
          return true;
        });
        assert.equal(hashTree(archive), before, "archive bytes unchanged");
      });
    }

    test("a hand-given region of the wrong length, or at odds with the file's times → RegionError", async () => {
      const before = hashTree(archive);
      await assert.rejects(conv().writeRegion(days[2]!, archive, { region: "time=48:71" }), (e: Error) => e instanceof RegionError && /is 23 long, but the file's 'time' has 24/.test(e.message));
      await assert.rejects(conv().writeRegion(days[2]!, archive, { region: { time: [0, 24] } }), (e: Error) => e instanceof RegionError && /disagrees with the file's times, which belong at time=48:72/.test(e.message));
      await assert.rejects(conv().writeRegion(days[2]!, archive, { region: "time=710:734" }), (e: Error) => e instanceof RegionError && /ends after the archive's time length 720/.test(e.message));
      assert.equal(hashTree(archive), before);
    });

    test("CLI: exit code 5 for a region refusal, 4 for an incompatible file, one line naming file and time", () => {
      const before = hashTree(archive);
      const r = cli(["write-region", variants.shifted!, archive]);
      assert.equal(r.status, 5);
      assert.match(r.stderr, /^zarrio: RegionError: .*shifted\.nc: time 2020-01-03 00:30:00/);
      assert.equal(cli(["write-region", variants.kelvin!, archive]).status, 4);
      assert.equal(hashTree(archive), before);
    });

    test("a file without CF times, or a tile of the grid, goes where a hand-given region puts it; a declared subset writes only its variables", async () => {
      const s = await conv().writeRegion(variants.no_time_units!, archive, { region: "time=48:72" });
      assert.deepEqual(s.region, { time: [48, 72] });
      const tile = await conv().writeRegion(variants.small_grid!, archive, { region: "time=48:72,lat=0:19" });
      assert.deepEqual(tile.region, { time: [48, 72], lat: [0, 19] });
      await assert.rejects(conv().writeRegion(variants.small_grid!, archive, { region: "time=48:72,lat=1:20" }), (e: Error) => e instanceof IncompatibleSourceError && /values differ from the archive's at \[?1\b/.test(e.message));
      const subset = new ZarrConverter({ backend: BACKEND, variables: { include: ["temperature"] } });
      const t = await subset.writeRegion(variants.no_salinity!, archive);
      assert.equal(t.variables, 1);
      assertMatchesSources(archive, [days[2]!], ["--isel", "time=48:72", "--allow-extra-variables"]);
    });
  });

  test("writing the same file twice gives the same archive, byte for byte", async () => {
    const dir = outDir("idempotent");
    const archive = path.join(dir, "archive.zarr");
    assert.equal(cli(["create-template", days[0]!, archive, "--global-start", "2020-01-01", "--global-end", "2020-01-05T23:00", "--chunking", "time:36"]).status, 0);
    const conv = new ZarrConverter({ backend: BACKEND });
    for (const f of days.slice(0, 3)) await conv.writeRegion(f, archive);
    const once = hashTree(archive);
    for (const f of days.slice(0, 3)) await conv.writeRegion(f, archive);
    assert.equal(hashTree(archive), once);
  });

  describe("missing-data check and retries", () => {
    /** A store that silently drops chunk writes of one array a number of times (an unreliable object store). */
    class DroppingStore extends ForwardingStore implements Store {
      dropped = 0;
      constructor(
        inner: FsStore,
        private readonly prefix: string,
        private drops: number,
      ) {
        super(inner);
      }
      override async set(key: string, value: Uint8Array) {
        if (key.startsWith(this.prefix) && this.drops > 0) {
          this.drops--;
          this.dropped++;
          return;
        }
        return this.inner.set(key, value);
      }
    }

    const template = () => {
      const archive = path.join(outDir(`retries-${Math.random().toString(36).slice(2)}`), "archive.zarr");
      assert.equal(cli(["create-template", days[0]!, archive, "--global-start", "2020-01-01", "--global-end", "2020-01-03T23:00", "--chunking", "time:12"]).status, 0);
      return archive;
    };

    test("data lost on the way is found by reading back and rewritten", async () => {
      const archive = template();
      const store = new DroppingStore(new FsStore(archive), "temperature/", 1);
      const s = await new ZarrConverter({ backend: BACKEND, missingData: { retriesOnMissing: 2 } }).writeRegion(days[1]!, store);
      assert.equal(store.dropped, 1);
      assert.equal(s.retries, 1);
      assertMatchesSources(archive, [days[1]!], ["--isel", "time=24:48"]);
    });

    test("data still missing after N rewrites → RetryLimitExceededError naming file and variable", async () => {
      const archive = template();
      const store = new DroppingStore(new FsStore(archive), "salinity/", 1000);
      await assert.rejects(
        new ZarrConverter({ backend: BACKEND, missingData: { retriesOnMissing: 2, checkVars: ["salinity"] } }).writeRegion(days[1]!, store),
        (e: Error) => {
          assert.ok(e instanceof RetryLimitExceededError, `${e.name}: ${e.message}`);
          assert.match(e.message, /day_001\.nc, variable 'salinity': data still missing in time=24:48 after 2 rewrite\(s\): salinity holds 0 of 14400 values/);
          return true;
        },
      );
      assert.equal(store.dropped, 3 * 2, "written three times (two chunks each)");
    });
  });

  test("--files-from with a bad file among good ones: the others are written, the summary names the failure, exit code is the failure's", async () => {
    const dir = outDir("batch-failure");
    const archive = path.join(dir, "archive.zarr");
    assert.equal(cli(["create-template", days[0]!, archive, "--global-start", "2020-01-01", "--global-end", "2020-01-30T23:00", "--chunking", "time:100"]).status, 0);
    const bad = makeVariants(days[4]!, path.join(dir, "bad"), ["shifted"]).shifted!;
    const list = path.join(dir, "files.txt");
    writeFileSync(list, `# four files\n${days[0]}\n${bad}\n\n${days[1]}\n${days[2]}\n`);
    const r = await startCli(["write-region", "--files-from", list, "--jobs", "2", archive]).done;
    assert.equal(r.status, 5, r.stderr);
    assert.match(r.stdout, /3 of 4 file\(s\) written by 2 writer\(s\).*1 failed/);
    assert.match(r.stderr, /1 file\(s\) failed:\n {2}.*shifted\.nc: RegionError: .*not on the archive's time axis/);
    assertMatchesSources(archive, days.slice(0, 3), ["--isel", "time=0:72"]);
  });
});

