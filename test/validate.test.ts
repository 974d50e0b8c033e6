/**
 * validate on archives made by convert, then damaged on purpose: a chunk with flipped bytes, a
 * truncated chunk, time ranges never written (chunks missing, chunks of nothing but fill), an
 * irregular or backwards time axis, metadata out of step with its consolidated copy, and source
 * files that do not match. A sound archive passes, packed ones within half a packing step.
 */
import test, { before, describe } from "node:test";
import assert from "node:assert/strict";
import { cpSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import path from "node:path";

import { convertToZarr, loadBackend, resolveConfig, StoreError, validate, ZarrConverter, type ValidationReport } from "../dist/index.js";
import { BACKEND, cli, fixture, outDir } from "./helpers.js";

const SERIES = ["series_01.nc", "series_02.nc", "series_03.nc"];
const BLOSC = { id: "blosc", cname: "zstd", clevel: 3, shuffle: "byte", blocksize: 0 } as const;

let base: string;
let work: string;

/** A fresh copy of the 12-day series archive (time chunks of 2, Zarr v3) to damage. */
function copyOf(name: string): string {
  const dest = path.join(work, `${name}.zarr`);
  rmSync(dest, { recursive: true, force: true });
  cpSync(base, dest, { recursive: true });
  return dest;
}

async function check(archive: string, sources: string[] = [], config = {}): Promise<ValidationReport> {
  return validate(archive, sources, resolveConfig(config), { backend: await loadBackend(BACKEND) });
}

/** Store `values` (float64) as the archive's whole time coordinate chunk. */
async function rewriteTimes(archive: string, values: number[]): Promise<void> {
  const backend = await loadBackend(BACKEND);
  const spec = { shape: [values.length], chunks: [values.length], dtype: "float64" as const, fill: "NaN" as const, pipeline: { compressor: BLOSC } };
  const slab = backend.slabFromBytes("float64", [values.length], new Uint8Array(Float64Array.from(values).buffer));
  const enc = await slab.encode(spec, [0]);
  writeFileSync(path.join(archive, "time", "c", "0"), enc.chunks[0]!.bytes);
}

const kinds = (r: ValidationReport) => r.problems.map((p) => p.kind);

describe(`validate [${BACKEND}]`, () => {
  before(async () => {
    work = outDir("validate");
    base = path.join(work, "base.zarr");
    await convertToZarr(SERIES.map(fixture), base, { chunking: { time: 2 }, backend: BACKEND });
  });

  test("a sound archive passes, and each source file is found on the axis and matches", async () => {
    const r = await new ZarrConverter({ backend: BACKEND }).validate(base, SERIES.map(fixture));
    assert.deepEqual(r.problems, []);
    assert.ok(r.ok);
    assert.equal(r.format, 3);
    assert.ok(r.consolidated);
    assert.deepEqual(r.time, { dim: "time", length: 12, start: "2000-01-01 00:00:00", end: "2000-01-12 00:00:00", step: "1D", units: "days since 2000-01-01", calendar: "standard" });
    assert.deepEqual(r.sources.map((s) => [s.ok, s.region?.start, s.region?.stop, s.region?.from]), [
      [true, 0, 4, "2000-01-01 00:00:00"],
      [true, 4, 8, "2000-01-05 00:00:00"],
      [true, 8, 12, "2000-01-09 00:00:00"],
    ]);
    assert.ok(r.sources.every((s) => s.valuesCompared === 4 * 5 * 6 + 5 + 6));
    const temp = r.arrays.find((a) => a.path === "temperature")!;
    assert.equal(temp.chunksStored, 6);
    assert.equal(temp.missingFraction, 0);
    const cmd = cli(["validate", base, ...SERIES.map(fixture)]);
    assert.equal(cmd.status, 0, cmd.stderr);
    assert.match(cmd.stdout, /^OK +.*series_02\.nc \(2000-01-05 00:00:00 \.\. 2000-01-08 00:00:00/m);
    assert.match(cmd.stdout, /\nvalid\n$/);
  });

  test("packed archives (Zarr v2, 8 and 16 bits) match their source within half a packing step", async () => {
    for (const bits of [8, 16] as const) {
      const out = path.join(work, `packed${bits}.zarr`);
      const variables = { include: ["temperature", "precipitation", "wind_speed", "elevation"] };
      await convertToZarr(fixture("nc4_zlib.nc"), out, { packing: { enabled: true, bits }, zarrFormat: 2, chunking: { time: 3 }, variables, backend: BACKEND });
      const r = await check(out, [fixture("nc4_zlib.nc")], { variables });
      assert.deepEqual(r.problems, [], `${bits} bits`);
      // wind_speed is all _FillValue at the last three steps in the source: data missing, not unwritten.
      assert.deepEqual(r.allMissing.map((m) => [m.variables, m.ranges.map((x) => [x.start, x.stop])]), [[["wind_speed"], [[4, 7]]]]);
      assert.ok(r.sources[0]!.variablesCompared >= 6);
    }
  });

  test(
    "scalar (0-d) variables are compared too",
    async () => {
      const out = path.join(work, "scalar.zarr");
      await convertToZarr(fixture("nc4_zlib.nc"), out, { backend: BACKEND });
      const r = await check(out, [fixture("nc4_zlib.nc")]);
      assert.deepEqual(r.problems, []);
      assert.equal(r.arrays.find((a) => a.path === "reference_height")!.max, 2);
    },
  );

  test("a chunk with flipped bytes and a truncated chunk are named; the CLI exits 10", async () => {
    const archive = copyOf("corrupt");
    const flipped = path.join(archive, "temperature", "c", "1", "0", "0");
    const bytes = readFileSync(flipped);
    for (let i = 16; i < bytes.length; i++) bytes[i] ^= 0xa5;
    writeFileSync(flipped, bytes);
    const cut = path.join(archive, "temperature", "c", "4", "0", "0");
    truncateSync(cut, Math.floor(readFileSync(cut).length / 2));
    const r = await check(archive);
    const chunks = r.problems.filter((p) => p.kind === "chunk");
    assert.deepEqual(chunks.map((p) => p.message.split(" ")[1]).sort(), ["temperature/c/1/0/0", "temperature/c/4/0/0"]);
    assert.ok(chunks.every((p) => p.variable === "temperature" && /does not decode/.test(p.message)));
    assert.ok(!kinds(r).includes("unwritten"), "a corrupt chunk is reported once, not also as never written");
    const cmd = cli(["validate", archive]);
    assert.equal(cmd.status, 10, cmd.stderr);
    assert.match(cmd.stdout, /problem \(chunk\): temperature: chunk temperature\/c\/1\/0\/0 does not decode/);
    assert.match(cmd.stderr, /^zarrio: ValidationError: .*corrupt\.zarr: 2 problem\(s\): 2 chunk\n$/);
    // With the sources, the damaged steps cannot be compared: the files say so too.
    const withSources = await check(archive, SERIES.map(fixture));
    assert.deepEqual(withSources.sources.map((s) => s.ok), [false, true, false], "chunks 1 and 4 hold steps of the first and third files");
  });

  test("time ranges never written — chunks missing, or nothing but fill — are reported with their dates", async () => {
    const archive = copyOf("gaps");
    rmSync(path.join(archive, "temperature", "c", "2"), { recursive: true });
    // A chunk that holds nothing but NaN (what a writer that wrote no data leaves).
    const backend = await loadBackend(BACKEND);
    const spec = { shape: [12, 5, 6], chunks: [2, 5, 6], dtype: "float32" as const, fill: "NaN" as const, pipeline: { compressor: BLOSC } };
    const nan = backend.slabFromBytes("float32", [2, 5, 6], new Uint8Array(new Float32Array(60).fill(NaN).buffer));
    writeFileSync(path.join(archive, "temperature", "c", "5", "0", "0"), (await nan.encode(spec, [10, 0, 0])).chunks[0]!.bytes);
    const r = await check(archive);
    assert.deepEqual(kinds(r), ["unwritten"]);
    assert.deepEqual(r.unwritten, [
      { start: 4, stop: 6, from: "2000-01-05 00:00:00", to: "2000-01-06 00:00:00" },
      { start: 10, stop: 12, from: "2000-01-11 00:00:00", to: "2000-01-12 00:00:00" },
    ]);
    assert.match(r.problems[0]!.message, /4 time step\(s\) never written \(no array along 'time' holds a value there\): 2000-01-05 00:00:00 \.\. 2000-01-06 00:00:00 \(steps 4\.\.5\)/);
    const withSource = await check(archive, [fixture("series_03.nc")]);
    assert.match(withSource.sources[0]!.mismatches[0]!.message, /60 value\(s\) differ, first at \[10, 0, 0\]: .* in the file, NaN in the archive/);
    const cmd = cli(["validate", archive, "--json"]);
    assert.equal(cmd.status, 10);
    assert.deepEqual(JSON.parse(cmd.stdout).unwritten, r.unwritten);
  });

  test("the time axis: a skipped step, a step backwards, and a step that is not time.freq", async () => {
    const days = Array.from({ length: 12 }, (_, i) => i);
    const gap = copyOf("time-gap");
    await rewriteTimes(gap, [...days.slice(0, 11), 12]);
    const r1 = await check(gap);
    assert.deepEqual(kinds(r1), ["time"]);
    assert.match(r1.problems[0]!.message, /1 step\(s\) are not 1D, first: 2000-01-13 00:00:00 follows 2000-01-11 00:00:00/);
    const back = copyOf("time-back");
    await rewriteTimes(back, [0, 1, 2, 3, 5, 4, 6, 7, 8, 9, 10, 11]);
    const r2 = await check(back);
    assert.match(r2.problems.find((p) => p.kind === "time")!.message, /not increasing at 1 position\(s\), first: 2000-01-05 00:00:00 follows 2000-01-06 00:00:00/);
    const hourly = await check(base, [], { time: { freq: "6h" } });
    assert.match(hourly.problems[0]!.message, /11 step\(s\) are not 6h \(time.freq\)/);
    const cmd = cli(["validate", base, "--freq", "1D"]);
    assert.equal(cmd.status, 0, cmd.stdout + cmd.stderr);
  });

  test("metadata: an array document out of step with the consolidated metadata, none consolidated, dimension lengths that disagree", async () => {
    const stale = copyOf("stale");
    const doc = path.join(stale, "temperature", "zarr.json");
    const meta = JSON.parse(readFileSync(doc, "utf8"));
    meta.shape = [13, 5, 6];
    writeFileSync(doc, JSON.stringify(meta));
    const r1 = await check(stale);
    assert.ok(r1.problems.some((p) => p.kind === "metadata" && p.variable === "temperature" && /differs from the consolidated metadata/.test(p.message)), JSON.stringify(r1.problems));
    const loose = copyOf("unconsolidated");
    const root = path.join(loose, "zarr.json");
    const rootDoc = JSON.parse(readFileSync(root, "utf8"));
    delete rootDoc.consolidated_metadata;
    writeFileSync(root, JSON.stringify(rootDoc));
    // Without consolidated metadata the documents are what readers see: the stale shape now disagrees with time's.
    writeFileSync(path.join(loose, "temperature", "zarr.json"), JSON.stringify(meta));
    const r2 = await check(loose);
    assert.ok(r2.problems.some((p) => /has no consolidated metadata/.test(p.message)));
    assert.ok(r2.problems.some((p) => /dimension 'time' has different lengths: 13 in temperature; 12 in time|dimension 'time' has different lengths: 12 in time; 13 in temperature/.test(p.message)), JSON.stringify(r2.problems));
    const notZarr = path.join(work, "not-zarr");
    rmSync(notZarr, { recursive: true, force: true });
    cpSync(fixture("nc4_zlib.nc"), path.join(work, "plain.nc"));
    const r3 = await check(path.join(work, "plain.nc"));
    assert.deepEqual(kinds(r3), ["metadata"]);
    assert.match(r3.problems[0]!.message, /does not open/);
  });

  test("sources that do not match: other values, times not on the axis, variables missing", async () => {
    const other = await check(base, [fixture("series_units_hours.nc")]);
    assert.equal(other.sources[0]!.ok, false);
    assert.deepEqual([other.sources[0]!.region?.start, other.sources[0]!.region?.stop], [4, 8], "hours since … re-encoded onto the days axis");
    assert.match(other.sources[0]!.mismatches[0]!.message, /^120 value\(s\) differ, first at \[4, 0, 0\]/);
    const elsewhere = await check(base, [fixture("calendar_noleap.nc")]);
    assert.match(elsewhere.sources[0]!.error!, /calendar_noleap\.nc/);
    const unrelated = await check(base, [fixture("missing.nc")]);
    assert.ok(unrelated.sources[0]!.mismatches.some((m) => m.variable === "temperature" && /not in the file/.test(m.message)), JSON.stringify(unrelated.sources[0]));
    const cmd = cli(["validate", base, fixture("series_01.nc"), fixture("series_units_hours.nc")]);
    assert.equal(cmd.status, 10);
    assert.match(cmd.stdout, /^OK +.*series_01\.nc/m);
    assert.match(cmd.stdout, /^MISMATCH .*series_units_hours\.nc/m);
  });

  test("a variable of the file that the archive lacks is reported, unless the check leaves it out too", async () => {
    const partial = path.join(outDir("validate-partial"), "partial.zarr");
    await convertToZarr(fixture("nc4_zlib.nc"), partial, { variables: { exclude: ["precipitation"] }, backend: BACKEND, overwrite: true });
    const r = await check(partial, [fixture("nc4_zlib.nc")]);
    assert.equal(r.sources[0]!.ok, false);
    assert.ok(r.sources[0]!.mismatches.some((m) => m.variable === "precipitation" && /is in the file but not in the archive/.test(m.message)), JSON.stringify(r.sources[0]));
    const left = await check(partial, [fixture("nc4_zlib.nc")], { variables: { exclude: ["precipitation"] } });
    assert.equal(left.sources[0]!.ok, true, JSON.stringify(left.sources[0]));
  });

  test("no archive at the path: StoreError, exit 8", async () => {
    const absent = path.join(work, "absent.zarr");
    await assert.rejects(check(absent), (e: Error) => e instanceof StoreError && /absent\.zarr: no archive here/.test(e.message));
    const cmd = cli(["validate", absent]);
    assert.equal(cmd.status, 8);
  });
});
