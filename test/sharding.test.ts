/**
 * Zarr v3 sharding: sharded convert read back by xarray (zarr-python 3) and zarrita.js, the
 * metadata spelled as zarr-python writes it, one object per shard; many writers sharing shards
 * (regions misaligned to chunks and shards, random order) with nothing lost; a writer killed in
 * the middle of a shard and run again; validate reading shard indexes.
 */
import test, { before, describe } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import * as zarr from "zarrita";
import FileSystemStore from "@zarrita/storage/fs";

import { FsStore, MemoryStore, setPieces } from "../ts/index.js";
import { HeldRootStore } from "../ts/zarr/held-root-store.js";
import { assertMatchesSources, BACKEND, cli, outDir } from "./helpers.js";
import { filesUnder, makeSeries, shuffle, sleep, startCli } from "./series.js";

async function zarritaValues(archive: string, name: string): Promise<number[]> {
  const root = zarr.root(new FileSystemStore(archive));
  const arr = await zarr.open(root.resolve(name), { kind: "array" });
  const got = await zarr.get(arr);
  return Array.from(got.data as Float32Array, (x) => (Number.isNaN(x) ? -1e300 : x));
}

describe(`sharding [${BACKEND}]`, () => {
  let days: string[] = [];
  before(() => {
    days = makeSeries(outDir("sharding-src"), 30);
  });

  test("convert --shards: one object per shard, spelled as zarr-python writes it, identical in xarray and zarrita to the unsharded archive", async () => {
    const dir = outDir("shard-convert");
    const sharded = path.join(dir, "sharded.zarr");
    const plain = path.join(dir, "plain.zarr");
    const files = days.slice(0, 10);
    const r = cli(["convert", ...files, sharded, "--chunking", "time:12,lat:10,lon:15", "--shards", "time:48,lat:20", "-v"]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /shards time×lat×lon = 48×20×15/);
    assert.equal(cli(["convert", ...files, plain, "--chunking", "time:12,lat:10,lon:15"]).status, 0);

    const meta = JSON.parse(readFileSync(path.join(sharded, "temperature", "zarr.json"), "utf8"));
    assert.deepEqual(meta.chunk_grid.configuration.chunk_shape, [48, 20, 15]);
    assert.equal(meta.codecs.length, 1);
    const sh = meta.codecs[0];
    assert.equal(sh.name, "sharding_indexed");
    assert.deepEqual(sh.configuration.chunk_shape, [12, 10, 15]);
    assert.deepEqual(sh.configuration.index_codecs.map((c: { name: string }) => c.name), ["bytes", "crc32c"]);
    assert.equal(sh.configuration.index_location, "end");
    // 240 steps in shards of 48, 20 lats in one, 30 lons in two: 10 objects instead of 80 chunks.
    assert.equal(filesUnder(path.join(sharded, "temperature"), /^c\//).length, 5 * 1 * 2);
    assert.equal(filesUnder(path.join(plain, "temperature"), /^c\//).length, 20 * 2 * 2);
    // Coordinates stay one chunk, unsharded.
    assert.equal(JSON.parse(readFileSync(path.join(sharded, "time", "zarr.json"), "utf8")).codecs[0].name, "bytes");

    assertMatchesSources(sharded, files);
    for (const v of ["temperature", "salinity"]) {
      assert.deepEqual(await zarritaValues(sharded, v), await zarritaValues(plain, v), `zarrita reads ${v} the same sharded or not`);
    }
    const v = cli(["validate", sharded, "--json"]);
    assert.equal(v.status, 0, v.stdout + v.stderr);
    const report = JSON.parse(v.stdout);
    const t = report.arrays.find((a: { path: string }) => a.path === "temperature");
    assert.deepEqual(t.shards, { shape: [48, 20, 15], total: 10, stored: 10, incomplete: [] });
    assert.equal(t.chunksStored, 80);

    // Files (24 steps) that do not end on chunk edges (36): shards gathered from the files' values.
    const odd = path.join(dir, "odd.zarr");
    assert.equal(cli(["convert", ...files, odd, "--chunking", "time:36", "--shards", "time:72"]).status, 0);
    assertMatchesSources(odd, files);
    assert.equal(filesUnder(path.join(odd, "temperature"), /^c\//).length, 4);
  });

  test("--shards auto sizes shards for the access pattern; Zarr v2 refuses sharding (ConfigError)", () => {
    const dir = outDir("shard-auto");
    const out = path.join(dir, "auto.zarr");
    // Chunks of 24×20×30 float32 (56 KiB); a 1 MiB target holds 18 of them, all along time.
    const r = cli(["convert", ...days.slice(0, 4), out, "--chunking", "time:24", "--shards", "auto", "--target-shard-size-mb", "1", "--access-pattern", "temporal", "-v"]);
    assert.equal(r.status, 0, r.stderr);
    const meta = JSON.parse(readFileSync(path.join(out, "temperature", "zarr.json"), "utf8"));
    assert.deepEqual(meta.chunk_grid.configuration.chunk_shape, [96, 20, 30], "time grows first, up to the 96 steps there are");
    assertMatchesSources(out, days.slice(0, 4));
    // analyze recommends shards of about the target for a long archive, whole chunks each.
    const a = cli(["analyze", days[0]!, "--json", "--target-shard-size-mb", "64"]);
    assert.equal(a.status, 0, a.stderr);
    for (const rec of JSON.parse(a.stdout).chunking) {
      for (const g of rec.groups) {
        g.shards.forEach((s: number, k: number) => assert.equal(s % g.chunks[k], 0, JSON.stringify(g)));
        // Arrays along time fill the target; a 20×30 map without time is one shard already.
        if (g.dims.includes("time")) assert.ok(g.shardBytes <= 64 * 2 ** 20 && g.shardBytes > 32 * 2 ** 20, JSON.stringify(g));
        else assert.deepEqual(g.shards, g.chunks);
      }
    }
    const v2 = cli(["convert", days[0]!, path.join(dir, "v2.zarr"), "--zarr-format", "2", "--shards", "time:48"]);
    assert.notEqual(v2.status, 0);
    assert.match(v2.stderr, /sharding needs Zarr v3/);
  });

  test("template + 30 files by 8 writer processes, random order, regions misaligned to chunks (36) and shards (72): shared shards merged, nothing lost", async () => {
    const dir = outDir("shard-writers");
    const archive = path.join(dir, "archive.zarr");
    const t = cli(["create-template", days[0]!, archive, "--global-start", "2020-01-01", "--global-end", "2020-01-30T23:00", "--chunking", "time:36,lat:10,lon:15", "--shards", "time:72,lat:20,lon:30"]);
    assert.equal(t.status, 0, t.stderr);
    // Each writer gets files dealt round-robin from a shuffled list: neighbours go to different
    // writers, so most shards are filled by several processes at once.
    const order = shuffle(days, 5);
    const writers = Array.from({ length: 8 }, (_, w) => startCli(["write-region", ...order.filter((_, i) => i % 8 === w), archive, "-v"]));
    const runs = await Promise.all(writers.map((x) => x.done));
    let merged = 0;
    for (const r of runs) {
      assert.equal(r.status, 0, r.stderr);
      merged += r.stderr.match(/merged=(\d+)/g)?.map((m) => Number(m.slice(7))).reduce((a, b) => a + b, 0) ?? 0;
    }
    assert.ok(merged > 0, "writers merged into shared shards");
    assertMatchesSources(archive, days);
    // 720 steps in shards of 72: 10 objects per variable along time.
    assert.equal(filesUnder(path.join(archive, "temperature"), /^c\//).length, 10);
    const v = cli(["validate", archive, "--json"]);
    assert.equal(v.status, 0, v.stdout + v.stderr);
  });

  test("a writer SIGKILLed in the middle of its shards, then run again: every stored shard is whole, and the archive completes", async () => {
    const dir = outDir("shard-sigkill");
    const big = makeSeries(path.join(dir, "src"), 2, ["--steps", "48", "--lat", "150", "--lon", "200"]);
    const archive = path.join(dir, "archive.zarr");
    const t = cli(["create-template", big[0]!, archive, "--global-start", "2020-01-01", "--global-end", "2020-01-04T23:00", "--chunking", "time:2,lat:50,lon:50", "--shards", "time:10,lat:150,lon:200"]);
    assert.equal(t.status, 0, t.stderr);
    // 96 steps in 10 shards; the first file ends inside shard 4 (steps 40-47 of 40-49): the
    // second file merges into it.
    assert.equal(cli(["write-region", big[0]!, archive]).status, 0);
    const slow = path.join(dir, "slow.json");
    writeFileSync(slow, JSON.stringify({ concurrency: 1, slabSizeMb: 1 }));
    const shards = () => filesUnder(path.join(archive, "salinity"), /^c\//).length;
    const before = shards();
    const writer = startCli(["write-region", big[1]!, archive, "--config", slow]);
    while (shards() <= before) await sleep(2);
    writer.kill("SIGKILL");
    assert.equal((await writer.done).signal, "SIGKILL");
    assert.ok(shards() < 10, "killed before it finished");
    // What the killed writer left: whole shards only (write-then-rename), some time steps unwritten.
    const half = cli(["validate", archive, "--json"]);
    const report = JSON.parse(half.stdout);
    assert.deepEqual(report.problems.filter((p: { kind: string }) => p.kind === "chunk"), [], "no damaged shard");
    assert.ok(report.unwritten.length > 0);
    const again = cli(["write-region", big[1]!, archive]);
    assert.equal(again.status, 0, again.stderr);
    assert.equal(shards(), 10);
    assertMatchesSources(archive, big);
  });

  test("append into a sharded archive: the last, partial shard is merged, new shards are written whole", () => {
    const dir = outDir("shard-append");
    const archive = path.join(dir, "archive.zarr");
    // 3 days = 72 steps in shards of 48: shard 1 holds 24 of its 48 steps.
    const c = cli(["convert", ...days.slice(0, 3), archive, "--chunking", "time:12", "--shards", "time:48"]);
    assert.equal(c.status, 0, c.stderr);
    const a = cli(["append", ...days.slice(3, 6), archive, "-v"]);
    assert.equal(a.status, 0, a.stderr);
    assert.match(a.stderr, /merged=[1-9]/);
    assertMatchesSources(archive, days.slice(0, 6));
    assert.equal(filesUnder(path.join(archive, "temperature"), /^c\//).length, 3);
    assert.equal(cli(["validate", archive]).status, 0);
  });

  test("validate reads shard indexes: a damaged index is named, a shard lacking inner chunks is reported", async () => {
    const dir = outDir("shard-validate");
    const archive = path.join(dir, "archive.zarr");
    const t = cli(["create-template", days[0]!, archive, "--global-start", "2020-01-01", "--global-end", "2020-01-03T23:00", "--chunking", "time:12", "--shards", "time:48"]);
    assert.equal(t.status, 0, t.stderr);
    // One day of the two the first shard holds: its second half is never written.
    assert.equal(cli(["write-region", days[0]!, days[2]!, archive]).status, 0);
    const v = cli(["validate", archive, "--json"]);
    const report = JSON.parse(v.stdout);
    const temp = report.arrays.find((a: { path: string }) => a.path === "temperature");
    assert.deepEqual(temp.shards.incomplete, [{ key: "temperature/c/0/0/0", missing: 2, chunks: 4 }]);
    assert.ok(report.problems.some((p: { kind: string; message: string }) => p.kind === "unwritten" && /1 shard\(s\) lack inner chunks/.test(p.message)), v.stdout);

    // Flip one bit of the index of shard 1 (its last bytes): the checksum no longer matches.
    const shard = path.join(archive, "temperature", "c", "1", "0", "0");
    const bytes = readFileSync(shard);
    bytes[bytes.length - 10] ^= 1;
    writeFileSync(shard, bytes);
    const bad = cli(["validate", archive]);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stdout, /temperature: shard temperature\/c\/1\/0\/0 has a damaged index \(.*checksum mismatch/);
  });

  test("a shard stored from its pieces (inner chunks, then the index) is the pieces joined, in every store", async () => {
    // 2,000 pieces: more than one writev takes (IOV_MAX is 1,024), with empty ones between.
    const pieces = Array.from({ length: 2000 }, (_, i) => new Uint8Array(i % 7 === 0 ? 0 : 1 + (i % 300)).fill(i % 251));
    const joined = Buffer.concat(pieces);
    const fsStore = new FsStore(outDir("shard-pieces"));
    const memory = new MemoryStore();
    for (const store of [fsStore, memory, new HeldRootStore(fsStore), new HeldRootStore(memory)]) {
      await setPieces(store, "a/c/0/0/0", pieces);
      assert.deepEqual(Buffer.from((await store.get("a/c/0/0/0"))!), joined, store.constructor.name);
      await setPieces(store, "a/c/0/0/1", [new Uint8Array(0)]);
      assert.equal((await store.get("a/c/0/0/1"))!.length, 0);
    }
  });
});
