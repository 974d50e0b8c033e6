/**
 * Many small files (issue #15): files whose steps fill the same chunks are read together and each
 * chunk is encoded and written once — by convert, by write-region in one process, and by shares
 * of a job array cut at chunk boundaries. Counted on the store itself, and the values read back
 * by xarray.
 */
import test, { before, describe } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

import { filesByChunk, FsStore, MemoryStore, takeGroups, ZarrConverter, type Store } from "../dist/index.js";
import { convertSources } from "../dist/commands/convert-core.js";
import { writerShare } from "../dist/commands/write-region.js";
import { appendFiles } from "../dist/commands/append.js";
import { openSource, openSourceBytes, park } from "../dist/pipeline/source.js";
import { resolveConfig } from "../dist/config/resolve.js";
import { loadBackend } from "../dist/backend/index.js";
import { assertMatchesSources, BACKEND, cli, ForwardingStore, outDir, python, ROOT } from "./helpers.js";
import { makeSeries, makeVariants, startCli } from "./series.js";

/** Counts every write of every key: `set` (a whole chunk) and `update` (a merge under the lock). */
class CountingStore extends ForwardingStore {
  readonly sets = new Map<string, number>();
  readonly updates = new Map<string, number>();
  override set(key: string, value: Uint8Array) {
    this.sets.set(key, (this.sets.get(key) ?? 0) + 1);
    return super.set(key, value);
  }
  override update(key: string, fn: (current: Uint8Array | undefined) => Uint8Array | Promise<Uint8Array>) {
    this.updates.set(key, (this.updates.get(key) ?? 0) + 1);
    return super.update(key, fn);
  }
  /** Data chunk keys (not metadata) of the named arrays. */
  chunkWrites(arrays: string[]): [string, number][] {
    return [...this.sets].filter(([k]) => arrays.some((a) => k.startsWith(`${a}/`)) && !/zarr\.json$|\.z(array|attrs|group|metadata)$/.test(k));
  }
}

const DATA = ["temperature", "salinity"];

describe(`many small files [${BACKEND}]`, () => {
  let hourly: string[] = [];
  let fives: string[] = [];
  before(() => {
    // 60 files of one hourly step, and 12 files of 5 steps (files that straddle 12-step chunks).
    hourly = makeSeries(outDir("many-hourly-src"), 60, ["--steps", "1", "--prefix", "hour"]);
    fives = makeSeries(outDir("many-fives-src"), 12, ["--steps", "5", "--prefix", "five"]);
  });

  async function convertInto(store: Store, files: string[], chunking: Record<string, number>) {
    const backend = await loadBackend(BACKEND);
    const config = resolveConfig({ chunking });
    const sources = [];
    for (const f of files) sources.push(await openSource(backend, f, config));
    return convertSources(sources, config, {
      backend,
      output: "memory",
      target: async () => ({ store, commit: async () => {}, abandon: async () => {} }),
    });
  }

  for (const [label, which, chunking, chunks] of [
    ["60 one-step files into 24-step chunks", () => hourly, { time: 24 }, 3],
    ["12 five-step files into 12-step chunks (files straddle chunks)", () => fives, { time: 12 }, 5],
  ] as const) {
    test(`convert writes every chunk once: ${label}`, async () => {
      const store = new CountingStore(new MemoryStore());
      const summary = await convertInto(store, which(), chunking);
      const writes = store.chunkWrites(DATA);
      assert.equal(writes.length, DATA.length * chunks, "every chunk of every variable is written");
      assert.deepEqual(writes.filter(([, n]) => n !== 1), [], "and each exactly once");
      assert.equal(store.updates.size, 0, "nothing is merged");
      assert.equal(summary.stats.chunksMerged, 0);
      assert.equal(summary.stats.bytesReplaced, 0);
    });
  }

  test("a chunk's memory is freed once stored only where the store keeps no reference to it", async () => {
    /** Keeps every chunk value it is given, to look at after the run. */
    class GivenStore extends ForwardingStore {
      readonly given: Uint8Array[] = [];
      constructor(inner: Store, readonly keepsNoValues: boolean | undefined) {
        super(inner);
      }
      override set(key: string, value: Uint8Array) {
        if (DATA.some((a) => key.startsWith(`${a}/`)) && !key.endsWith("zarr.json")) this.given.push(value);
        return super.set(key, value);
      }
    }
    // A memory store holds the very bytes it is given: they must stay whole.
    const memory = new GivenStore(new MemoryStore(), undefined);
    await convertInto(memory, fives, { time: 12 });
    assert.ok(memory.given.length > 0);
    assert.deepEqual(memory.given.filter((b) => b.length === 0), [], "nothing the memory store holds was freed");
    // A folder has written the bytes out once `set` resolves: the native core's are freed then, and the archive
    // on disk is whole.
    const archive = path.join(outDir("many-free-fs"), "out.zarr");
    const files = new GivenStore(new FsStore(archive), true);
    await convertInto(files, fives, { time: 12 });
    const freed = files.given.filter((b) => b.length === 0).length;
    assert.equal(freed, BACKEND === "native" ? files.given.length : 0, "every stored chunk freed (native only)");
    assertMatchesSources(archive, fives);
  });

  test("convert of the straddling files reads back in xarray as the files, with the true figures in the log", () => {
    const out = path.join(outDir("many-fives-convert"), "out.zarr");
    const r = cli(["convert", ...fives, out, "--chunking", "time:12", "-v"]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /convert done .* merged=0/);
    assert.doesNotMatch(r.stderr, /write_amplification/, "nothing is written twice");
    assertMatchesSources(out, fives);
  });

  test("convert refuses a file that differs from the first in what is written once: grid, a field without time, an extra variable", () => {
    // Six files are checked after opening; seventy while they are opened (closed between passes).
    const dir = outDir("many-agree");
    const long = makeSeries(path.join(dir, "src"), 70, ["--steps", "1", "--prefix", "agree"]);
    for (const files of [long.slice(0, 6), long]) {
      const at = files.length === 6 ? 3 : 40;
      const variant = (kind: string, of = at) => makeVariants(files[of]!, path.join(dir, `${files.length}-${of}`), [kind])[kind]!;
      const run = (list: string[], ...flags: string[]) => {
        const listFile = path.join(dir, "files.txt");
        writeFileSync(listFile, list.join("\n"));
        const out = path.join(dir, `out-${files.length}.zarr`);
        return { r: cli(["convert", "--files-from", listFile, out, "--chunking", "time:24", "--overwrite", ...flags]), out };
      };
      const swap = (i: number, f: string, list = files) => list.map((x, k) => (k === i ? f : x));

      // A file on a grid shifted by half a degree: same shape, other latitudes.
      let { r, out } = run(swap(at, variant("moved_grid")));
      assert.equal(r.status, 4, r.stderr);
      assert.match(r.stderr, /IncompatibleSourceError: .*moved_grid\.nc, variable '\/lat': differs from the first file's at \[0\]/);
      assert.ok(!existsSync(out), "nothing written");

      // A field without time that differs in one cell, and one that does not differ.
      const first = variant("area", 0);
      ({ r, out } = run(swap(0, first, swap(at, variant("area_other")))));
      assert.equal(r.status, 4, r.stderr);
      assert.match(r.stderr, /area_other\.nc, variable '\/area': differs from the first file's at \[1, 2\]: 2 here, 1 there/);
      assert.match(r.stderr, /--drop-variables area/);
      ({ r, out } = run(swap(0, first, swap(at, variant("area")))));
      assert.equal(r.status, 0, r.stderr);
      // Stored otherwise (int16 × 0.5) but the same values once decoded: the file joins.
      ({ r, out } = run(swap(0, first, swap(at, variant("area_packed")))));
      assert.equal(r.status, 0, r.stderr);
      // The user's choice: leave the field out, and the rest converts.
      ({ r, out } = run(swap(0, first, swap(at, variant("area_other"))), "--drop-variables", "area"));
      assert.equal(r.status, 0, r.stderr);

      // A variable the first file lacks would be left out of the archive: refused, then dropped by choice.
      ({ r, out } = run(swap(at, variant("extra_var"))));
      assert.equal(r.status, 4, r.stderr);
      assert.match(r.stderr, /extra_var\.nc, variable '\/wind': is in this file but not in the first file .*--drop-variables wind/);
      ({ r, out } = run(swap(at, variant("extra_var")), "--drop-variables", "wind"));
      assert.equal(r.status, 0, r.stderr);
      assertMatchesSources(out, files);
    }
  });

  test("convert takes a quoted glob (name order) and --files-from (list order); a file listed twice is refused", () => {
    const dir = outDir("many-fives-inputs");
    const pattern = path.join(path.dirname(fives[0]!), "five*.nc");
    const fromGlob = path.join(dir, "glob.zarr");
    let r = cli(["convert", pattern, fromGlob, "--chunking", "time:12"]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /12 file\(s\)/);
    assertMatchesSources(fromGlob, fives);

    const list = path.join(dir, "files.txt");
    writeFileSync(list, ["# the series, first file given as an argument", ...fives.slice(1), ""].join("\n"));
    const fromList = path.join(dir, "list.zarr");
    r = cli(["convert", fives[0]!, "--files-from", list, fromList, "--chunking", "time:12"]);
    assert.equal(r.status, 0, r.stderr);
    assertMatchesSources(fromList, fives);

    writeFileSync(list, [...fives.slice(0, 3), fives[2]!, ...fives.slice(3)].join("\n"));
    r = cli(["convert", "--files-from", list, path.join(dir, "twice.zarr")]);
    assert.equal(r.status, 4, r.stderr);
    assert.ok(r.stderr.includes(path.basename(fives[2]!)), r.stderr);
    assert.ok(!existsSync(path.join(dir, "twice.zarr")), "nothing written");
    r = cli(["convert", path.join(dir, "none*.nc"), path.join(dir, "none.zarr")]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /matches no files/);
  });

  test("append takes its files from --files-from, as convert does", () => {
    const dir = outDir("many-fives-append-list");
    const out = path.join(dir, "a.zarr");
    let r = cli(["convert", ...fives.slice(0, 4), out, "--chunking", "time:12"]);
    assert.equal(r.status, 0, r.stderr);
    const list = path.join(dir, "rest.txt");
    writeFileSync(list, fives.slice(4).join("\n") + "\n");
    r = cli(["append", "--files-from", list, out]);
    assert.equal(r.status, 0, r.stderr);
    assertMatchesSources(out, fives);
    r = cli(["append", out]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /--files-from/);
  });

  test("time axes longer than a call takes arguments (150,000 minute steps a file): convert, append, write-region", () => {
    // V8 refuses a call with more than about 120,000 arguments: a file's times spread into one
    // call (push(...values)) failed with "Maximum call stack size exceeded". The files' times are
    // whole minutes in fractional "hours since" their own start: re-expressed through floats, they
    // decoded a nanosecond off; the joined axis is whole minutes. xarray's own float decoding of
    // the files is off by up to a nanosecond or two, hence the slack in the comparison.
    const slack = ["--time-slack-ns", "2"];
    const wholeMinutes = (zarr: string) => {
      const r = python(["-c", `import xarray as xr, numpy as np; t = xr.open_zarr(${JSON.stringify(zarr)}).time; print(t.encoding["units"], int((t.values.astype("int64") % 60_000_000_000 != 0).sum()))`]);
      assert.equal(r.status, 0, r.stderr);
      return r.stdout.trim();
    };
    const dir = outDir("many-long-axis");
    const files = makeSeries(path.join(dir, "src"), 2, ["--steps", "150000", "--step-hours", String(1 / 60), "--lat", "1", "--lon", "2", "--prefix", "minute"]);
    const converted = path.join(dir, "converted.zarr");
    let r = cli(["convert", ...files, converted, "--chunking", "time:50000", "-q"]);
    assert.equal(r.status, 0, r.stderr);
    assertMatchesSources(converted, files, slack);
    assert.equal(wholeMinutes(converted), "minutes since 2020-01-01 00:00:00 0", "every time a whole minute, stored as such");
    const appended = path.join(dir, "appended.zarr");
    r = cli(["convert", files[0]!, appended, "--chunking", "time:50000", "-q"]);
    assert.equal(r.status, 0, r.stderr);
    r = cli(["append", files[1]!, appended, "-q"]);
    assert.equal(r.status, 0, r.stderr);
    assertMatchesSources(appended, files, slack);
    const regions = path.join(dir, "regions.zarr");
    // 300,000 minutes from make_series.py's start, 2020-01-01.
    r = cli(["create-template", files[0]!, regions, "--global-start", "2020-01-01", "--global-end", "2020-07-27T07:59", "--freq", "1min", "--chunking", "time:50000", "-q"]);
    assert.equal(r.status, 0, r.stderr);
    r = cli(["write-region", ...files, regions, "-q"]);
    assert.equal(r.status, 0, r.stderr);
    assertMatchesSources(regions, files, slack);
    assert.match(wholeMinutes(regions), / 0$/);
  });

  test("write-region of many files in one process writes each chunk once, files read together", async () => {
    const dir = outDir("many-wr-one");
    const archive = path.join(dir, "archive.zarr");
    const t = cli(["create-template", hourly[0]!, archive, "--global-start", "2020-01-01", "--global-end", "2020-01-03T11:00", "--chunking", "time:24", "--freq", "1h"]);
    assert.equal(t.status, 0, t.stderr);
    const store = new CountingStore(new FsStore(archive));
    const z = new ZarrConverter({ backend: BACKEND });
    const s = await z.writeRegions([...hourly].reverse(), store);
    assert.deepEqual(s.failed, []);
    assert.equal(s.written.length, 60);
    assert.equal(s.groups, 3, "60 hourly files fill three 24-step chunks: three groups");
    const writes = store.chunkWrites(DATA);
    assert.equal(writes.length, DATA.length * 3);
    assert.deepEqual(writes.filter(([, n]) => n !== 1), [], "each chunk written once");
    assert.equal(store.updates.size, 0, "no chunk merged: the groups follow chunk boundaries");
    assert.equal(s.stats.bytesReplaced, 0);
    assertMatchesSources(archive, hourly);
  });

  test("append of many files writes each chunk once: the files' steps are gathered past the archive's end", async () => {
    const archive = path.join(outDir("many-append"), "archive.zarr");
    const c = cli(["convert", ...hourly.slice(0, 30), archive, "--chunking", "time:24"]);
    assert.equal(c.status, 0, c.stderr);
    const store = new CountingStore(new FsStore(archive));
    const s = await new ZarrConverter({ backend: BACKEND }).appendFiles(hourly.slice(30), store);
    assert.equal(s.length, 60);
    assert.deepEqual(s.files.map((f) => f.appended), hourly.slice(30).map(() => 1));
    // Time chunk 1 holds the archive's last 6 steps: merged once with 18 new ones. Time chunk 2 is new: written
    // once. Time chunk 0 is not touched.
    // A merge writes through the store's own set: every chunk key is set exactly once.
    const writes = store.chunkWrites(DATA);
    const merges = [...store.updates].filter(([k]) => DATA.some((a) => k.startsWith(`${a}/`)));
    const timeChunk = ([k]: [string, number]) => Number(k.split("/c/")[1]!.split("/")[0]);
    assert.deepEqual([...writes, ...merges].filter(([, n]) => n !== 1), [], "each chunk written once");
    assert.ok(merges.length >= DATA.length);
    assert.deepEqual([0, 1, 2].map((t) => writes.filter((w) => timeChunk(w) === t).length), [0, merges.length, merges.length], "chunks 1 and 2 of every variable");
    assert.deepEqual([...new Set(merges.map(timeChunk))], [1], "only the chunks the archive already held part of are merged");
    assert.equal(s.stats.chunksMerged, merges.length);
    assertMatchesSources(archive, hourly);
  });

  test("append of a list with a file out of order refuses it by name before anything is written", async () => {
    const archive = path.join(outDir("many-append-bad"), "archive.zarr");
    const c = cli(["convert", ...hourly.slice(0, 30), archive, "--chunking", "time:24"]);
    assert.equal(c.status, 0, c.stderr);
    const store = new CountingStore(new FsStore(archive));
    const backend = await loadBackend(BACKEND);
    await assert.rejects(appendFiles([hourly[31]!, hourly[32]!, hourly[30]!], store, resolveConfig({}), { backend }), (e: Error & { file?: string }) => {
      assert.equal(e.name, "RegionError");
      assert.equal(e.file, hourly[30]);
      assert.ok(e.message.includes(`is not after ${hourly[32]}'s last time`), e.message);
      return true;
    });
    assert.deepEqual([...store.sets.keys()].filter((k) => !k.startsWith(".zarrio")), [], "nothing written");
  });

  test("parking closes files that reopen themselves, never one that cannot (bytes, or fetched from an object store)", async () => {
    const backend = await loadBackend(BACKEND);
    const config = resolveConfig({});
    const onDisk = await openSource(backend, hourly[0]!, config);
    const inMemory = openSourceBytes(backend, "in memory", readFileSync(hourly[0]!));
    for (const s of [onDisk, inMemory]) {
      park(s);
      const v = s.root.vars.find((x) => x.name === "temperature")!;
      const slab = await s.ds.read(v.path, v.shape.map(() => 0), v.shape);
      assert.equal(slab.shape.reduce((a, b) => a * b, 1), v.shape.reduce((a, b) => a * b, 1), `${s.file} still reads after parking`);
      slab.release();
      s.ds.close();
    }
  });

  test("files are grouped by the chunks they fill; job-array shares are cut between groups", () => {
    // One-step files from step 5 on 24-step chunks: the first group ends where step 24 starts.
    const groups = filesByChunk(60, 5, 1, 24);
    assert.deepEqual(groups.map((g) => [g[0], g[g.length - 1]]), [[0, 18], [19, 42], [43, 59]]);
    // Five-step files on 12-step chunks start one together every 12 files (60 steps); 25-step files on 24-step chunks
    // only every 24 files, so groups are also cut after 8 chunks' worth of steps (and share the chunk they are cut in).
    assert.deepEqual(filesByChunk(30, 0, 5, 12).map((g) => g.length), [12, 12, 6]);
    assert.deepEqual(filesByChunk(30, 0, 25, 24).map((g) => g.length), [8, 8, 8, 6]);
    const named = filesByChunk(100, 0, 1, 24).map((g) => g.map((i) => `f${String(i).padStart(3, "0")}`));
    const shares = [0, 1, 2].map((index) => takeGroups(named, { index, count: 3, from: "test" }));
    assert.deepEqual(shares.flat().flat(), named.flat(), "every file once, in order");
    for (const share of shares) for (const g of share) assert.ok(named.some((n) => n.join() === g.join()), "groups are never split");
    assert.deepEqual(shares.map((s) => s.flat().length), [24, 48, 28], "cuts moved to the nearest chunk boundary (33 → 24, 67 → 72)");
    // Fewer groups than shares: cuts fall inside groups, every share still gets files.
    const few = filesByChunk(12, 0, 24, 36).map((g) => g.map((i) => `d${i}`));
    assert.deepEqual([0, 1, 2, 3, 4, 5].map((index) => takeGroups(few, { index, count: 6, from: "test" }).flat().length), [3, 1, 2, 3, 1, 2]);
  });

  test("writer processes share the machine: cores and slab budget split between them", () => {
    assert.deepEqual(writerShare(64, 2, 2), { slabSizeMb: 32, threads: 1 });
    assert.deepEqual(writerShare(64, 3, 8), { slabSizeMb: 21, threads: 2 });
    assert.deepEqual(writerShare(4, 8, 2), { slabSizeMb: 1, threads: 1 }, "never below 1 MiB and one thread");
  });

  test("two job-array tasks started at once, shares cut at chunk boundaries: no chunk shared, none merged", async () => {
    const dir = outDir("many-shards");
    const archive = path.join(dir, "archive.zarr");
    const t = cli(["create-template", hourly[0]!, archive, "--global-start", "2020-01-01", "--global-end", "2020-01-03T11:00", "--chunking", "time:24", "--freq", "1h"]);
    assert.equal(t.status, 0, t.stderr);
    const tasks = [0, 1].map((i) => startCli(["write-region", ...hourly, archive, "--shard", `${i}/2`]));
    const runs = await Promise.all(tasks.map((x) => x.done));
    const written = runs.map((r) => {
      assert.equal(r.status, 0, r.stderr);
      assert.doesNotMatch(r.stdout, /shared chunks/, "no rewrites");
      return Number(/(\d+) of \d+ file\(s\) written/.exec(r.stdout)![1]);
    });
    assert.deepEqual(written, [24, 36], "shares of whole chunks (24 + 24 + 12 files)");
    assert.ok(!existsSync(path.join(archive, ".zarrio-locks")), "no chunk lock was ever taken");
    assertMatchesSources(archive, hourly);
  });

  test("a file that fails while its group is written is reported alone; the rest of its group is written", async () => {
    const dir = outDir("many-bad");
    const files = hourly.slice(0, 24).map((f) => {
      const to = path.join(dir, path.basename(f));
      copyFileSync(f, to);
      return to;
    });
    // One file damaged in its data: it opens and is placed fine, its temperature fails to inflate.
    const bad = files[10]!;
    const r = python([path.join(ROOT, "test", "python", "corrupt_chunk.py"), hourly[10]!, bad, "temperature"]);
    assert.equal(r.status, 0, r.stderr);
    const archive = path.join(dir, "archive.zarr");
    const t = cli(["create-template", files[0]!, archive, "--global-start", "2020-01-01", "--global-end", "2020-01-01T23:00", "--chunking", "time:24", "--freq", "1h"]);
    assert.equal(t.status, 0, t.stderr);
    const s = await new ZarrConverter({ backend: BACKEND }).writeRegions(files, archive);
    assert.deepEqual(s.failed.map((f) => [path.basename(f.file), f.error]), [[path.basename(bad), "SourceReadError"]]);
    assert.equal(s.written.length, 23);
    // The other 23 files' values are in the archive, on both sides of the bad file's step.
    assertMatchesSources(archive, files.slice(0, 10), ["--isel", "time=0:10"]);
    assertMatchesSources(archive, files.slice(11), ["--isel", "time=11:24"]);
  });
});
