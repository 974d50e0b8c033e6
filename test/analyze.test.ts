/**
 * analyze on fixtures: what it reports is checked against what netCDF4-python read from the same
 * files (the fixtures' expected.json), chunking against the plan convert writes, packing errors
 * against the core's packing parameters; codec trials are real round trips; the interactive walk
 * writes a config file from piped answers.
 */
import test, { describe } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import path from "node:path";

import { parse as parseYaml } from "yaml";

import { analyze, loadBackend, loadConfigFile, resolveConfig, SourceReadError, ZarrConverter } from "../dist/index.js";
import { BACKEND, cli, CLI, FIXTURES, fixture, outDir } from "./helpers.js";

const expected = JSON.parse(readFileSync(path.join(FIXTURES, "expected.json"), "utf8")).fixtures;
const values = (file: string, v: string): number[] => expected[file].data[v].values.map(Number);

describe(`analyze [${BACKEND}]`, () => {
  test("nc4_zlib.nc: dims, variables, value ranges, fill fractions, time axis, source encoding", async () => {
    const r = await new ZarrConverter({ backend: BACKEND }).analyze(fixture("nc4_zlib.nc"));
    assert.equal(r.backend, BACKEND);
    assert.equal(r.format, "netcdf4");
    assert.deepEqual(r.dims.map((d) => [d.name, d.length, d.unlimited]), [["time", 7, true], ["lat", 25, false], ["lon", 36, false]]);
    assert.deepEqual(r.time && { ...r.time }, {
      dim: "time", length: 7, start: "2001-03-01 00:00:00", end: "2001-03-02 12:00:00", step: "6h", units: "hours since 2001-03-01 00:00:00", calendar: "standard",
    });
    const temp = r.variables.find((v) => v.path === "/temperature")!;
    const t = values("nc4_zlib.nc", "/temperature").filter((x) => x !== -9999);
    assert.equal(temp.min, Math.min(...t));
    assert.equal(temp.max, Math.max(...t));
    assert.equal(temp.bytes, 7 * 25 * 36 * 4);
    assert.deepEqual(temp.encoding.chunks, [1, 10, 16]);
    assert.ok(temp.encoding.filters.some((f) => /zlib/.test(f)), temp.encoding.filters.join());
    const wind = r.variables.find((v) => v.path === "/wind_speed")!;
    const w = values("nc4_zlib.nc", "/wind_speed");
    assert.equal(wind.fillFraction, w.filter((x) => x === -1).length / w.length);
    assert.ok(wind.fillFraction! > 0);
    assert.ok(r.variables.find((v) => v.path === "/lat")!.coordinate);
  });

  test("chunking per access pattern is what convert plans, within the target", async () => {
    const r = await analyze(fixture("four_d.nc"), resolveConfig({ targetChunkSizeMb: 0.001 }), { backend: await loadBackend(BACKEND) });
    assert.deepEqual(r.chunking.map((c) => c.pattern), ["temporal", "spatial", "balanced"]);
    for (const c of r.chunking) {
      assert.ok(c.groups.length >= 1);
      for (const g of c.groups) {
        assert.ok(g.chunkBytes <= 0.001 * 2 ** 20, `${c.pattern}: ${g.chunks.join("×")} is ${g.chunkBytes} B`);
        assert.ok(g.chunksPerArray > 1);
        assert.equal(g.why.length, g.dims.length);
      }
    }
    const spatial = r.chunking.find((c) => c.pattern === "spatial")!.groups.find((g) => g.arrays.includes("temperature"))!;
    assert.equal(spatial.chunks[0], 1, "spatial: one time step per chunk at this target");
  });

  test("packing: each width's maximum error is half the core's scale_factor; 16 bits recommended", async () => {
    const backend = await loadBackend(BACKEND);
    const r = await analyze(fixture("nc4_zlib.nc"), resolveConfig({ packing: { manualRanges: { precipitation: { min: 0, max: 1 } } } }), { backend });
    const byName = new Map(r.packing.map((p) => [p.variable, p]));
    assert.deepEqual([...byName.keys()].sort(), ["/precipitation", "/temperature", "/wind_speed"]);
    const temp = byName.get("/temperature")!;
    assert.equal(temp.range.source, "data");
    const t = values("nc4_zlib.nc", "/temperature").filter((x) => x !== -9999);
    const pad = (Math.max(...t) - Math.min(...t)) * 0.01;
    assert.ok(Math.abs(temp.range.min - (Math.min(...t) - pad)) < 1e-9);
    for (const bits of [8, 16, 32] as const) {
      assert.equal(temp.maxError[bits], backend.packParams(temp.range.min, temp.range.max, bits, "float32").scale_factor / 2);
    }
    assert.equal(temp.recommendedBits, 16);
    assert.deepEqual(byName.get("/precipitation")!.range, { min: 0, max: 1, source: "manual" });
    // An already-packed source is noted, not packed again.
    const packed = await analyze(fixture("packed.nc"), resolveConfig({}), { backend });
    assert.ok(packed.notes.some((n) => /already packed/.test(n)), packed.notes.join("\n"));
  });

  test("--test-performance and --run-tests measure real round trips with each candidate", async () => {
    const r = await new ZarrConverter({ backend: BACKEND }).analyze(fixture("nc4_zlib.nc"), { testPerformance: true, runTests: true });
    const quick = r.performance!;
    assert.deepEqual(quick.results.map((x) => x.codec), ["blosc:lz4:5:shuffle", "blosc:zstd:3:shuffle", "blosc:zstd:3:bitshuffle", "zstd:3", "gzip:5"]);
    const full = r.trials!;
    assert.equal(full.results.length, 3 * 4 * 3 + 3 + 3);
    for (const cname of ["zstd", "lz4", "zlib"]) {
      for (const s of ["noshuffle", "shuffle", "bitshuffle"]) assert.ok(full.results.some((x) => x.codec === `blosc:${cname}:5:${s}`), `${cname} ${s}`);
    }
    for (const t of [quick, full]) {
      assert.ok(t.sampleBytes > 0 && t.variables.includes("temperature"), t.variables.join());
      for (const x of t.results) {
        assert.ok(x.roundTrip, `${x.codec} round trip`);
        assert.ok(x.ratio > 0.5 && x.compressMBps > 0 && x.decompressMBps > 0, JSON.stringify(x));
      }
      assert.ok(t.results.some((x) => x.codec === t.recommended));
    }
    // Smooth data compresses better with byte shuffle than without (a real measurement, not a table).
    const ratio = (c: string) => full.results.find((x) => x.codec === c)!.ratio;
    assert.ok(ratio("blosc:zstd:5:shuffle") > ratio("blosc:zstd:5:noshuffle"));
  });

  test("CLI: a readable table, --json, and errors with exit codes", () => {
    const r = cli(["analyze", fixture("nc4_zlib.nc"), "--test-performance", "--target-chunk-size-mb", "0.01"]);
    assert.equal(r.status, 0, r.stderr);
    for (const want of [/dimensions: time=7 \(unlimited\), lat=25, lon=36/, /time: 2001-03-01 00:00:00 \.\. 2001-03-02 12:00:00, 7 steps of 6h/, /^temperature +float32 +time=7 lat=25 lon=36/m, /recommended chunking \(target 0.01 MiB/, /^temporal /m, /^spatial /m, /^balanced /m, /compression estimate/, /recommended: /]) {
      assert.match(r.stdout, want);
    }
    const json = cli(["analyze", fixture("four_d.nc"), "--json"]);
    assert.equal(json.status, 0, json.stderr);
    const report = JSON.parse(json.stdout);
    assert.equal(report.variables.length, 6);
    assert.equal(report.time.step, "1D");
    const missing = cli(["analyze", path.join(outDir("analyze-cli"), "absent.nc")]);
    assert.equal(missing.status, 3);
    assert.match(missing.stderr, /SourceReadError: .*absent\.nc: no such file/);
  });

  test("library: an unreadable file is a SourceReadError naming it", async () => {
    await assert.rejects(new ZarrConverter({ backend: BACKEND }).analyze(fixture("corrupt_not_netcdf.nc")), (e: Error) => e instanceof SourceReadError && /corrupt_not_netcdf/.test(e.message));
  });

  test("--interactive writes a config file from piped answers, asking again after a refused one", () => {
    const dir = outDir("analyze-interactive");
    const target = path.join(dir, "site.yaml");
    // pattern, target MiB, compression (refused, then given), pack?, bits (refused, then 8), variables, format, file
    const answers = ["temporal", "16", "blosc:snappy", "zstd:5", "y", "12", "8", "temperature", "2", target].join("\n") + "\n";
    const r = spawnSync(process.execPath, [CLI, "analyze", fixture("nc4_zlib.nc"), "-i"], { input: answers, encoding: "utf8", env: { ...process.env, ZARRIO_BACKEND: BACKEND } });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /compression: unknown compression 'blosc:snappy'|blosc cname must be one of/);
    assert.match(r.stderr, /packing\.bits: must be one of 8, 16, 32, not '12'/);
    const written = parseYaml(readFileSync(target, "utf8"));
    assert.deepEqual(written, { accessPattern: "temporal", targetChunkSizeMb: 16, compression: "zstd:5", packing: { enabled: true, bits: 8 }, variables: { include: ["temperature"] }, zarrFormat: 2 });
    const c = resolveConfig(loadConfigFile(target));
    assert.equal(c.packing.bits, 8);
    // Enter takes the defaults; an existing file is only replaced when confirmed.
    writeFileSync(target, "old: true\n");
    const defaults = spawnSync(process.execPath, [CLI, "analyze", fixture("nc4_zlib.nc"), "-i"], { input: ["", "", "", "", "", "", target, "n", target, "y"].join("\n") + "\n", encoding: "utf8", env: { ...process.env, ZARRIO_BACKEND: BACKEND } });
    assert.equal(defaults.status, 0, defaults.stderr);
    assert.deepEqual(parseYaml(readFileSync(target, "utf8")), { accessPattern: "balanced", targetChunkSizeMb: 8, compression: "blosc:zstd:3:shuffle", packing: { enabled: false }, zarrFormat: 3 });
    // Input that ends early is a ConfigError (exit 2), and nothing is written.
    const short = path.join(dir, "short.yaml");
    const early = spawnSync(process.execPath, [CLI, "analyze", fixture("nc4_zlib.nc"), "-i"], { input: "spatial\n", encoding: "utf8", env: { ...process.env, ZARRIO_BACKEND: BACKEND } });
    assert.equal(early.status, 2, early.stderr);
    assert.match(early.stderr, /input ended before every question was answered/);
    assert.ok(!existsSync(short));
  });
});
