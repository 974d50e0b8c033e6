/**
 * create-template: the time axis (inferred and given steps, monthly, noleap and 360_day
 * calendars), metadata only (unwritten times read as NaN in xarray, static variables written in
 * full), packing ranges for a whole archive (template data with a margin, manual ranges) and the
 * range policy when a later file goes beyond them, refusals, library and CLI.
 */
import test, { before, describe } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import path from "node:path";

import { ConfigError, IncompatibleSourceError, PackingRangeError, TEMPLATE_RANGE_MARGIN, ZarrConverter } from "../dist/index.js";
import { assertMatchesSources, BACKEND, cli, outDir, python, ROOT, zarrInfo } from "./helpers.js";
import { filesUnder, hashTree, makeSeries, makeVariants } from "./series.js";

interface Probe {
  sizes: Record<string, number>;
  times: string[];
  calendar: string;
  missing: Record<string, number[]>;
  points: Record<string, number | null>;
}

function probe(store: string, points: string[] = []): Probe {
  const r = python([path.join(ROOT, "test", "python", "xr_probe.py"), store, ...points.flatMap((p) => ["--point", p])]);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Probe;
}

describe(`create-template [${BACKEND}]`, () => {
  let days: string[] = [];
  before(() => {
    days = makeSeries(outDir("template-src"), 4);
  });

  test("a template longer than the files: written times equal the sources, the rest read NaN, static variables in full", async () => {
    const dir = outDir("template-long");
    const archive = path.join(dir, "archive.zarr");
    const conv = new ZarrConverter({ backend: BACKEND, chunking: { time: 48 } });
    const s = await conv.createTemplate({ templateDataset: days[0]!, outputPath: archive, globalStart: "2020-01-01", globalEnd: "2020-01-10T23:00", compute: false });
    assert.equal(s.timeSteps, 240);
    assert.equal(s.freq, "1h", "step inferred from the template");
    assert.equal(s.last, "2020-01-10 23:00:00");
    // Only coordinates and static variables hold chunks.
    assert.deepEqual(filesUnder(archive, /^(temperature|salinity)\/c\//), [], "no data chunk of a time variable");
    assert.ok(filesUnder(archive, /^mask\/c\//).length > 0 && filesUnder(archive, /^depth\/c\//).length > 0);
    for (const f of [days[0]!, days[2]!, days[3]!]) await conv.writeRegion(f, archive);
    const p = probe(archive);
    assert.equal(p.times.length, 240);
    assert.equal(p.times[0], "2020-01-01 00:00:00");
    assert.equal(p.times[239], "2020-01-10 23:00:00");
    for (const v of ["temperature", "salinity"]) {
      const m = p.missing[v]!;
      assert.ok(m.slice(24, 48).every((x) => x === 1), `${v}: the day no file filled reads NaN`);
      assert.ok(m.slice(96).every((x) => x === 1), `${v}: times after the files read NaN`);
      assert.ok(m.slice(0, 24).every((x) => x < 0.1), `${v}: written times hold data`);
    }
    for (const [i, f] of [[0, days[0]!], [2, days[2]!], [3, days[3]!]] as const) {
      assertMatchesSources(archive, [f], ["--isel", `time=${i * 24}:${(i + 1) * 24}`]);
    }
  });

  test("monthly steps in the 360_day calendar, written by files of six months each", async () => {
    const dir = outDir("template-360");
    const months = makeSeries(path.join(dir, "src"), 2, ["--steps", "6", "--step-hours", "720", "--calendar", "360_day", "--start", "2000-01-01"]);
    const archive = path.join(dir, "archive.zarr");
    const t = cli(["create-template", months[0]!, archive, "--global-start", "2000-01-01", "--global-end", "2001-12-01", "--freq", "1MS"]);
    assert.equal(t.status, 0, t.stderr);
    assert.match(t.stdout, /24 time steps, 2000-01-01 00:00:00 to 2001-12-01 00:00:00 every 1MS/);
    for (const f of months) assert.equal(cli(["write-region", f, archive]).status, 0);
    const p = probe(archive);
    assert.equal(p.calendar, "360_day");
    assert.deepEqual(p.times.slice(0, 3), ["2000-01-01 00:00:00", "2000-02-01 00:00:00", "2000-03-01 00:00:00"]);
    assert.equal(p.times[23], "2001-12-01 00:00:00");
    assertMatchesSources(archive, months, ["--isel", "time=0:12"]);
    assert.ok(p.missing.temperature!.slice(12).every((x) => x === 1));
  });

  test("daily steps in the noleap calendar skip 29 February", async () => {
    const dir = outDir("template-noleap");
    const src = makeSeries(path.join(dir, "src"), 1, ["--steps", "10", "--step-hours", "24", "--calendar", "noleap", "--start", "2004-02-20"]);
    const archive = path.join(dir, "archive.zarr");
    const s = await new ZarrConverter({ backend: BACKEND }).createTemplate({ templateDataset: src[0]!, outputPath: archive, globalStart: "2004-02-01", globalEnd: "2004-03-31", freq: "1D" });
    assert.equal(s.timeSteps, 59);
    const w = await new ZarrConverter({ backend: BACKEND }).writeRegion(src[0]!, archive);
    assert.deepEqual(w.region, { time: [19, 29] });
    const p = probe(archive);
    assert.equal(p.calendar, "noleap");
    assert.equal(p.times[27], "2004-02-28 00:00:00");
    assert.equal(p.times[28], "2004-03-01 00:00:00");
    assertMatchesSources(archive, src, ["--isel", "time=19:29"]);
  });

  test("monthly steps of the standard calendar follow the months' lengths; '1H' is read as hourly", async () => {
    const dir = outDir("template-monthly");
    const monthly = path.join(dir, "monthly.zarr");
    assert.equal(cli(["create-template", days[0]!, monthly, "--global-start", "2020-01-01", "--global-end", "2020-12-01", "--freq", "1MS"]).status, 0);
    const p = probe(monthly);
    assert.deepEqual(p.times.slice(0, 4), ["2020-01-01 00:00:00", "2020-02-01 00:00:00", "2020-03-01 00:00:00", "2020-04-01 00:00:00"]);
    assert.equal(p.times.length, 12);
    const hourly = path.join(dir, "hourly.zarr");
    const r = cli(["create-template", days[0]!, hourly, "--global-start", "2020-01-01", "--global-end", "2020-01-02T23:00", "--freq", "1H"]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(probe(hourly).times.length, 48);
  });

  test("the chunking of a template is chosen for the whole archive's length and the access pattern", () => {
    const dir = outDir("template-chunks");
    const chunksOf = (pattern: string) => {
      const out = path.join(dir, `${pattern}.zarr`);
      const r = cli(["create-template", days[0]!, out, "--global-start", "2020-01-01", "--global-end", "2020-12-31T23:00", "--intelligent-chunking", "--access-pattern", pattern]);
      assert.equal(r.status, 0, r.stderr);
      return zarrInfo(out).arrays["/temperature"].chunks as number[];
    };
    const temporal = chunksOf("temporal");
    const spatial = chunksOf("spatial");
    assert.deepEqual(spatial.slice(1), [20, 30], "spatial: whole maps");
    assert.ok(temporal[0]! > 24, `temporal: time chunks sized from the archive's 8784 steps, not the template's 24 (${temporal})`);
    assert.ok(temporal[0]! >= spatial[0]!);
  });

  describe("packing", () => {
    let variants: Record<string, string> = {};
    before(() => {
      variants = makeVariants(days[1]!, outDir("template-variants"), ["hot"]);
    });

    test(`a packed template takes its ranges from its data widened by ${TEMPLATE_RANGE_MARGIN * 100}% each side; later files fit and read back within scale_factor/2`, async () => {
      const archive = path.join(outDir("template-packed"), "archive.zarr");
      const conv = new ZarrConverter({ backend: BACKEND, packing: { enabled: true, bits: 16 } });
      const s = await conv.createTemplate({ templateDataset: days[0]!, outputPath: archive, globalStart: "2020-01-01", globalEnd: "2020-01-04T23:00" });
      const r = s.packed.temperature!;
      assert.equal(r.source, "data");
      assert.ok(r.max - r.min > 20, `range widened: [${r.min}, ${r.max}]`);
      for (const f of days) await conv.writeRegion(f, archive);
      const info = zarrInfo(archive);
      assert.equal(info.arrays["/temperature"].dtype, "<i2");
      assertMatchesSources(archive, days, ["--packed-tolerance", "auto"]);
    });

    test("a value beyond a manual range: refused under 'error' (archive unchanged), clipped under 'clip', missing under 'fill' — never wrapped", async () => {
      const archive = path.join(outDir("template-range"), "archive.zarr");
      const t = cli([
        "create-template", days[0]!, archive, "--global-start", "2020-01-01", "--global-end", "2020-01-04T23:00",
        "--packing", "--packing-bits", "16", "--packing-manual-ranges", '{"temperature":{"min":-10,"max":40},"salinity":{"min":30,"max":40}}',
      ]);
      assert.equal(t.status, 0, t.stderr);
      const scale = zarrInfo(archive).arrays["/temperature"].attributes.scale_factor as number;
      assert.ok(Math.abs(scale - 50 / 65534) < 1e-9, `scale_factor ${scale}`);
      const before = hashTree(archive);
      await assert.rejects(new ZarrConverter({ backend: BACKEND }).writeRegion(variants.hot!, archive), (e: Error) => {
        assert.ok(e instanceof PackingRangeError, `${e.name}: ${e.message}`);
        assert.match(e.message, /hot\.nc, variable 'temperature': holds 1000, outside the archive's packing range \[-10, 40\] \(int16\); nothing was written/);
        return true;
      });
      assert.equal(hashTree(archive), before, "archive bytes unchanged");
      const refused = cli(["write-region", variants.hot!, archive]);
      assert.equal(refused.status, 6);
      const last = "temperature:47,0,0";
      const clip = cli(["write-region", variants.hot!, archive, "--packing-range-exceeded-action", "clip"]);
      assert.equal(clip.status, 0, clip.stderr);
      assert.match(clip.stderr, /1 values outside the packing range of temperature were clipped/);
      const clipped = probe(archive, [last]).points[last]!;
      assert.ok(Math.abs(clipped - 40) <= scale, `clipped to the top of the range: ${clipped}`);
      const fill = cli(["write-region", variants.hot!, archive, "--packing-range-exceeded-action", "fill"]);
      assert.equal(fill.status, 0, fill.stderr);
      assert.equal(probe(archive, [last]).points[last], null, "stored as missing");
    });
  });

  test("refusals: no start or end (ConfigError, exit 2), no CF time in the template (IncompatibleSourceError), a step that cannot be inferred, an existing output", async () => {
    const dir = outDir("template-refusals");
    const out = path.join(dir, "x.zarr");
    const conv = new ZarrConverter({ backend: BACKEND });
    const noStart = cli(["create-template", days[0]!, out, "--global-end", "2020-01-02"]);
    assert.equal(noStart.status, 2);
    assert.match(noStart.stderr, /time\.globalStart: a template needs the archive's first time \(--global-start\)/);
    assert.equal(cli(["create-template", days[0]!, out, "--global-start", "2020-02-01", "--global-end", "2020-01-01"]).status, 2);
    const v = makeVariants(days[0]!, path.join(dir, "variants"), ["no_time_units", "unordered"]);
    await assert.rejects(
      conv.createTemplate({ templateDataset: v.no_time_units!, outputPath: out, globalStart: "2020-01-01", globalEnd: "2020-01-02" }),
      (e: Error) => e instanceof IncompatibleSourceError && /no_time_units\.nc: has 'time' without units, which are not CF time/.test(e.message),
    );
    await assert.rejects(
      conv.createTemplate({ templateDataset: v.unordered!, outputPath: out, globalStart: "2020-01-01", globalEnd: "2020-01-02" }),
      (e: Error) => e instanceof ConfigError && /cannot be inferred.*give --freq/.test(e.message),
    );
    assert.ok(!existsSync(out), "nothing left behind");
    assert.equal(cli(["create-template", days[0]!, out, "--global-start", "2020-01-01", "--global-end", "2020-01-01T23:00"]).status, 0);
    const again = cli(["create-template", days[0]!, out, "--global-start", "2020-01-01", "--global-end", "2020-01-01T23:00"]);
    assert.equal(again.status, 2);
    assert.match(again.stderr, /--overwrite/);
  });
});
