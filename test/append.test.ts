/**
 * append: extending an archive along time with the archive's own encoding, refusing overlaps and
 * unordered times unless told to skip, and never leaving a damaged archive when it fails midway.
 */
import test, { before, describe } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";

import { appendToZarr, convertToZarr, FsStore, IncompatibleSourceError, RegionError, StoreError, ZarrConverter, type Store } from "../dist/index.js";
import { assertMatchesSources, BACKEND, cli, ForwardingStore, outDir, python, runPython, zarrInfo } from "./helpers.js";
import { hashTree, makeSeries, makeVariants } from "./series.js";

/** Join files along time with xarray (static variables once), as one NetCDF file. */
function concatFiles(files: string[], out: string): string {
  const code = [
    "import sys, xarray as xr",
    "out, *files = sys.argv[1:]",
    "ds = xr.concat([xr.open_dataset(f) for f in files], 'time', data_vars='minimal', coords='minimal', compat='override')",
    "ds.to_netcdf(out)",
  ].join("\n");
  const r = python(["-c", code, out, ...files]);
  assert.equal(r.status, 0, r.stderr);
  return out;
}

/**
 * A store that starts failing (a full disk, a lost connection) after `sets` successful writes of
 * the keys `counts` selects; other keys are written normally until then.
 */
class FailingStore extends ForwardingStore implements Store {
  constructor(
    inner: FsStore,
    private sets: number,
    private readonly counts: (key: string) => boolean = () => true,
  ) {
    super(inner);
  }
  override async set(key: string, value: Uint8Array) {
    if (this.sets < 0 || (this.counts(key) && this.sets-- <= 0)) {
      this.sets = -1;
      throw new StoreError(`cannot write '${key}': no space left on device`, { file: this.location });
    }
    return this.inner.set(key, value);
  }
}

describe(`append [${BACKEND}]`, () => {
  let days: string[] = [];
  before(() => {
    days = makeSeries(outDir("append-src"), 4);
  });

  for (const format of [3, 2] as const) {
    test(`files appended one after another equal xarray's concatenation (Zarr v${format})`, async () => {
      const archive = path.join(outDir(`append-v${format}`), "archive.zarr");
      await convertToZarr(days.slice(0, 2), archive, { zarrFormat: format, chunking: { time: 10 }, backend: BACKEND });
      const r = cli(["append", days[2]!, days[3]!, archive]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /appended 24 step\(s\) of .*day_003\.nc along time, 2020-01-04 00:00:00 to 2020-01-04 23:00:00; time now has 96/);
      assertMatchesSources(archive, days);
    });
  }

  test("files whose time dimension is empty (a day without data) join adding no steps, as xarray joins them; their other arrays are still checked", () => {
    const dir = outDir("append-empty-files");
    runPython(
      `import sys, numpy as np, pandas as pd, xarray as xr
d = sys.argv[1]
for i, (n, lat) in enumerate(((3, 1.0), (0, 1.0), (2, 1.0), (0, 1.0), (0, 1.5))):
    t = pd.date_range("2020-01-01", periods=n, freq="D") + pd.Timedelta(days=3 * i)
    xr.Dataset({"v": (("time", "lat"), np.arange(n * 2, dtype="f4").reshape(n, 2))}, coords={"time": t, "lat": [lat, 2.0]}).to_netcdf(f"{d}/e{i}.nc", encoding={"time": {"units": "days since 2020-01-01"}}, unlimited_dims=["time"])`,
      dir,
    );
    const e = (i: number) => path.join(dir, `e${i}.nc`);
    const joined = path.join(dir, "joined.zarr");
    let r = cli(["convert", e(1), e(0), e(3), e(2), joined, "-v"]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /4 file\(s\) \(2 without time steps\), 3 arrays, 5 time steps/);
    assert.match(r.stderr, /2 file\(s\) have no steps along 'time' and add none: .*e1\.nc, .*e3\.nc/);
    assertMatchesSources(joined, [e(1), e(0), e(3), e(2)]);
    const archive = path.join(dir, "appended.zarr");
    assert.equal(cli(["convert", e(0), archive]).status, 0);
    r = cli(["append", e(1), e(2), e(3), archive]);
    assert.equal(r.status, 0, r.stderr);
    assertMatchesSources(archive, [e(0), e(2)]);
    r = cli(["append", e(3), archive]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /nothing to append: .*e3\.nc has no steps along 'time'/);
    // An empty file on another grid is still another grid.
    const before = hashTree(archive);
    r = cli(["append", e(4), archive]);
    assert.equal(r.status, 4, r.stderr);
    assert.match(r.stderr, /e4\.nc, variable 'lat': coordinate values differ from the archive's at index 0: 1\.5 here, 1 in the archive/);
    assert.equal(hashTree(archive), before);
    r = cli(["convert", e(0), e(4), path.join(dir, "refused.zarr")]);
    assert.equal(r.status, 4, r.stderr);
    assert.match(r.stderr, /e4\.nc, variable '\/lat': differs from the first file's at \[0\]: 1\.5 here, 1 there/);
  });

  test("an archive that is a group of another (xarray's to_zarr(group='sub')): the enclosing archive's consolidated metadata follows, so opening it with group='sub' shows the appended steps", () => {
    const dir = outDir("append-enclosed-group");
    runPython(
      `import sys, numpy as np, pandas as pd, xarray as xr
d = sys.argv[1]
def part(t0):
    t = pd.date_range("2020-01-01", periods=4, freq="h")[t0:t0 + 2]
    return xr.Dataset({"v": (("time", "x"), np.arange(6.0, dtype="f4").reshape(2, 3) + t0)}, coords={"time": t, "x": [1.0, 2.0, 3.0]})
part(0).to_netcdf(d + "/a.nc"); part(2).to_netcdf(d + "/b.nc")
for fmt in (2, 3): part(0).to_zarr(f"{d}/v{fmt}.zarr", group="sub", zarr_format=fmt, consolidated=True, mode="w")`,
      dir,
    );
    for (const fmt of [2, 3]) {
      const root = path.join(dir, `v${fmt}.zarr`);
      const r = cli(["append", path.join(dir, "b.nc"), path.join(root, "sub")]);
      assert.equal(r.status, 0, r.stderr);
      assertMatchesSources(root, [path.join(dir, "a.nc"), path.join(dir, "b.nc")], ["--group", "sub"]);
      // A new group converted into the enclosing archive is listed there too.
      assert.equal(cli(["convert", path.join(dir, "a.nc"), path.join(root, "new"), "--zarr-format", String(fmt)]).status, 0);
      assert.equal(runPython("import sys, xarray as xr; print(xr.open_zarr(sys.argv[1], group='new').sizes['time'])", root), "2");
    }
  });

  test("appended data keeps the archive's encoding (packing, dtype, chunks, codecs)", async () => {
    const archive = path.join(outDir("append-packed"), "archive.zarr");
    await convertToZarr(days.slice(0, 2), archive, {
      packing: { enabled: true, bits: 16, manualRanges: { temperature: { min: -10, max: 40 }, salinity: { min: 30, max: 40 } } },
      compression: "zstd:5",
      chunking: { time: 10, lat: 10 },
      backend: BACKEND,
    });
    const before = zarrInfo(archive).arrays;
    const s = await appendToZarr(days[2]!, archive, { backend: BACKEND });
    assert.equal(s.appended, 24);
    const after = zarrInfo(archive).arrays;
    for (const name of ["/temperature", "/salinity", "/time"]) {
      const { shape: _a, nbytes_stored: _b, ...was } = before[name];
      const { shape, nbytes_stored: _c, ...now } = after[name];
      assert.deepEqual(now, was, `${name}: same encoding`);
      assert.equal(shape[0], 72);
    }
    assertMatchesSources(archive, days.slice(0, 3), ["--packed-tolerance", "auto"]);
  });

  describe("refusals and failures leave the archive as it was", () => {
    let archive = "";
    let dir = "";
    before(async () => {
      dir = outDir("append-refusals");
      archive = path.join(dir, "archive.zarr");
      await convertToZarr(days.slice(0, 2), archive, { chunking: { time: 10 }, backend: BACKEND });
    });

    test("times overlapping the archive → RegionError; --on-overlap skip keeps only the later steps", async () => {
      const overlap = concatFiles([days[1]!, days[2]!], path.join(dir, "days_1_2.nc"));
      const before = hashTree(archive);
      const r = cli(["append", overlap, archive]);
      assert.equal(r.status, 5);
      assert.match(r.stderr, /RegionError: .*days_1_2\.nc: time 2020-01-02 00:00:00 is not after the archive's last time 2020-01-02 23:00:00: 24 of the file's 48 steps overlap/);
      await assert.rejects(new ZarrConverter({ backend: BACKEND }).append(overlap, archive), RegionError);
      assert.equal(hashTree(archive), before);
      const s = await new ZarrConverter({ backend: BACKEND }).append(overlap, archive, { onOverlap: "skip" });
      assert.deepEqual([s.skipped, s.appended, s.length], [24, 24, 72]);
      assertMatchesSources(archive, days.slice(0, 3));
    });

    test("unordered times, other units → IncompatibleSourceError, archive unchanged", async () => {
      const v = makeVariants(days[3]!, path.join(dir, "variants"), ["unordered", "kelvin"]);
      const before = hashTree(archive);
      await assert.rejects(appendToZarr(v.unordered!, archive, { backend: BACKEND }), (e: Error) => e instanceof IncompatibleSourceError && /unordered\.nc: time is not increasing at step 4/.test(e.message));
      await assert.rejects(appendToZarr(v.kelvin!, archive, { backend: BACKEND }), (e: Error) => e instanceof IncompatibleSourceError && /variable 'temperature': has units 'K'/.test(e.message));
      assert.equal(hashTree(archive), before);
    });

    test("an append interrupted between array documents is not committed (consolidated metadata is written last); run again, it completes", async () => {
      const other = path.join(outDir("append-commit"), "archive.zarr");
      await convertToZarr(days.slice(0, 2), other, { chunking: { time: 10 }, backend: BACKEND });
      // Every data chunk and one array document get written, then the store fails.
      const store = new FailingStore(new FsStore(other), 1, (key) => /^[^/]+\/zarr\.json$/.test(key));
      await assert.rejects(new ZarrConverter({ backend: BACKEND }).append(days[2]!, store), StoreError);
      // What users open (xr.open_zarr, consolidated metadata) is still the old archive, values included.
      const code = [
        "import sys, xarray as xr",
        "store, *srcs = sys.argv[1:]",
        "z = xr.open_zarr(store)",
        "s = xr.concat([xr.open_dataset(f) for f in srcs], 'time', data_vars='minimal', coords='minimal', compat='override')",
        "assert z.sizes['time'] == 48, z.sizes",
        "xr.testing.assert_equal(z.load(), s.load())",
      ].join("\n");
      const r = python(["-c", code, other, ...days.slice(0, 2)]);
      assert.equal(r.status, 0, r.stderr);
      const s = await new ZarrConverter({ backend: BACKEND }).append(days[2]!, other);
      assert.deepEqual([s.skipped, s.appended, s.length], [0, 24, 72]);
      assertMatchesSources(other, days.slice(0, 3));
    });

    test("an append that fails while writing leaves what readers see unchanged; run again, it completes", async () => {
      const store = new FailingStore(new FsStore(archive), 3);
      await assert.rejects(new ZarrConverter({ backend: BACKEND }).append(days[3]!, store), StoreError);
      assertMatchesSources(archive, days.slice(0, 3));
      const s = await new ZarrConverter({ backend: BACKEND }).append(days[3]!, archive);
      assert.equal(s.length, 96);
      assertMatchesSources(archive, days);
    });
  });
});
