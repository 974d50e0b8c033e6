/**
 * Series whose files encode a variable differently (issue #14): ERA5-style per-file packing
 * (int16 with each file's own scale_factor/add_offset) and fill values that change file to file.
 * Every path that writes (convert, create-template + parallel write-region, append; with and
 * without --packing; into archives laid out by xarray) must give what xarray reads from the
 * files: exactly where the archive stores decoded values, within half the archive's packing step
 * where it packs them. Nothing is stored raw under another file's encoding.
 */
import test, { before, describe } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

import { convertToZarr } from "../dist/index.js";
import { assertMatchesSources, BACKEND, cli, outDir, python, ROOT, runPython, zarrInfo } from "./helpers.js";
import { hashTree } from "./series.js";

function makeEra5(dir: string, files = 12): string[] {
  const r = python([path.join(ROOT, "test", "python", "make_era5.py"), dir, "--files", String(files)]);
  assert.equal(r.status, 0, `make_era5.py failed: ${r.stderr}`);
  return r.stdout.trim().split("\n");
}

function xarrayTemplate(out: string, files: string[], format: 2 | 3, kind: "decoded" | "packed"): string {
  const r = python([path.join(ROOT, "test", "python", "make_xr_template.py"), out, "--format", String(format), "--kind", kind, ...files]);
  assert.equal(r.status, 0, `make_xr_template.py failed: ${r.stderr}`);
  return out;
}

const arrays = (info: any): Record<string, { dtype: string }> => Object.fromEntries(Object.entries(info.arrays as object).map(([k, a]) => [k.replace(/^\//, ""), a]));

/**
 * Python that makes one part of a small series: `part(path, i)` opens a NetCDF file with an
 * unlimited `time` (hours 2i and 2i+1 since 2000-01-01) and an `x` of 3, for the caller's
 * variables; the caller closes it.
 */
const SERIES_PART = `import sys, netCDF4 as nc, numpy as np
def part(path, i):
    f = nc.Dataset(path, "w"); f.createDimension("time", None); f.createDimension("x", 3)
    t = f.createVariable("time", "f8", ("time",)); t.units = "hours since 2000-01-01"; t[:] = [2 * i, 2 * i + 1]
    return f
`;

describe(`files encoded differently [${BACKEND}]`, () => {
  let files: string[] = [];
  before(() => {
    files = makeEra5(outDir("era5-src"));
  });

  test("convert decodes each file with its own packing and fill value, as xarray reads them", async () => {
    const out = path.join(outDir("era5-convert"), "out.zarr");
    const r = cli(["convert", ...files, out, "--chunking", "time:8", "-v"]);
    assert.equal(r.status, 0, r.stderr);
    // One line per decision: which files differ, in what, what the archive stores.
    assert.match(r.stderr, /t2m: the files encode it differently: int16, scale_factor .*and 9 other encodings; each file is decoded with its own encoding and the archive stores the decoded float64 values/);
    assert.match(r.stderr, /sst: the files encode it differently: float32, missing -999 \(4 files.*float32, missing 1\d{20} \(4 files.*float32, missing -9999 \(4 files/);
    const info = arrays(zarrInfo(out));
    assert.equal(info.t2m!.dtype, "<f8");
    assert.equal(info.sst!.dtype, "<f4");
    assertMatchesSources(out, files, ["--packed-tolerance", "0"]);
  });

  test("a file packed with float32 attributes beside one with float64 ones: its values are xarray's float32 decoding, widened", () => {
    const dir = outDir("mixed-float-attrs");
    const packed = (name: string, attrType: string, t0: number, seed: number) =>
      makeNc(
        path.join(dir, name),
        [
          "ds.createDimension('time', None); ds.createDimension('x', 6)",
          "t = ds.createVariable('time', 'f8', ('time',)); t.units = 'hours since 2000-01-01'",
          `t[:] = np.arange(${t0}, ${t0} + 4)`,
          "v = ds.createVariable('tas', 'i2', ('time', 'x'), fill_value=np.int16(-32767)); v.set_auto_maskandscale(False)",
          `v.scale_factor = np.${attrType}(0.01); v.add_offset = np.${attrType}(273.15)`,
          `v[:] = np.random.default_rng(${seed}).integers(-30000, 30000, size=(4, 6)).astype('i2')`,
        ].join("\n"),
      );
    const files = [packed("f32.nc", "float32", 0, 1), packed("f64.nc", "float64", 4, 2)];
    const out = path.join(dir, "out.zarr");
    const r = cli(["convert", ...files, out]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(arrays(zarrInfo(out)).tas!.dtype, "<f8");
    // Exact: computed in float64, the first file's values would differ from xarray's in the last digits.
    assertMatchesSources(out, files, ["--packed-tolerance", "0"]);
  });

  test("integers stored in different widths join in the narrowest integer type that holds them all, as xarray joins them", () => {
    const dir = outDir("int-widths");
    const plain = (name: string, type: string, t0: number, lo: number, hi: number) =>
      makeNc(
        path.join(dir, name),
        [
          "ds.createDimension('time', None); ds.createDimension('x', 5)",
          "t = ds.createVariable('time', 'f8', ('time',)); t.units = 'hours since 2000-01-01'",
          `t[:] = np.arange(${t0}, ${t0} + 3)`,
          `v = ds.createVariable('count', '${type}', ('time', 'x'), fill_value=False)`,
          `v[:] = np.linspace(${lo}, ${hi}, 15).round().reshape(3, 5).astype('${type}')`,
        ].join("\n"),
      );
    // int32 beside int16 and uint16 (extremes included): xarray reads int32, every value exact.
    const files = [plain("i4.nc", "i4", 0, -2e9, 2e9), plain("i2.nc", "i2", 3, -32768, 32767), plain("u2.nc", "u2", 6, 0, 65535)];
    const out = path.join(dir, "out.zarr");
    const r = cli(["convert", ...files, out, "-v"]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /count: the files encode it differently: int32, no fill value \(.*i4\.nc\); int16, no fill value .*; the archive stores them as int32, which holds every file's values exactly/);
    assert.equal(arrays(zarrInfo(out)).count!.dtype, "<i4");
    assertMatchesSources(out, files);
    // Appended, a narrower file is widened into the archive's int32; a wider one is stored when
    // every value fits, else refused before anything is written.
    const more = [plain("u1.nc", "u1", 9, 0, 255), plain("i8.nc", "i8", 12, -2e9, 2e9)];
    for (const f of more) {
      const a = cli(["append", f, out, "-v"]);
      assert.equal(a.status, 0, a.stderr);
    }
    // The archive keeps its int32 (xarray would join the int64 file as int64); every value as in the files.
    assert.equal(arrays(zarrInfo(out)).count!.dtype, "<i4");
    const same = runPython(
      "import sys, numpy as np, xarray as xr; z = xr.open_zarr(sys.argv[1])['count'].values; s = np.concatenate([xr.open_dataset(f)['count'].values for f in sys.argv[2:]]); print(z.dtype, np.array_equal(z, s))",
      out,
      ...files,
      ...more,
    );
    assert.equal(same, "int32 True");
    const before = hashTree(out);
    const a = cli(["append", plain("u4.nc", "u4", 15, 0, 4e9), out, "-v"]);
    assert.equal(a.status, 4, a.stderr);
    assert.match(a.stderr, /u4\.nc: count: uint32 here, int32 in the archive: stored as int32 \(every value is checked to fit before anything is written\)/);
    assert.match(a.stderr, /IncompatibleSourceError: .*u4\.nc, variable 'count': holds 4000000000, beyond the archive's int32 \(is uint32 here\); nothing was written/);
    assert.equal(hashTree(out), before, "a refused file leaves the archive byte-identical");
  });

  test("a missing_value beside a NaN _FillValue (as xarray writes ARM sonde files): append and write-region copy values as stored; validate agrees", () => {
    const dir = outDir("missing-value-nan-fill");
    const part = (name: string, t0: number) =>
      makeNc(
        path.join(dir, name),
        [
          "ds.createDimension('time', None)",
          "t = ds.createVariable('time', 'f8', ('time',)); t.units = 'seconds since 2011-05-20'",
          `t[:] = np.arange(${t0}, ${t0} + 4)`,
          "w = ds.createVariable('w', 'f4', ('time',), fill_value=np.float32(np.nan)); w.missing_value = np.float32(-9999); w.set_auto_maskandscale(False)",
          // The second and fourth steps hold nothing (the only variable along time): -9999, and NaN.
          "w[:] = np.array([1, -9999, 3, np.nan], 'f4')",
        ].join("\n"),
      );
    const files = [part("a.nc", 0), part("b.nc", 4)];
    const appended = path.join(dir, "appended.zarr");
    assert.equal(cli(["convert", files[0]!, appended]).status, 0);
    let r = cli(["append", files[1]!, appended]);
    assert.equal(r.status, 0, r.stderr);
    const template = path.join(dir, "template.zarr");
    r = cli(["create-template", files[0]!, template, "--global-start", "2011-05-20T00:00:00", "--global-end", "2011-05-20T00:00:07", "--freq", "1s"]);
    assert.equal(r.status, 0, r.stderr);
    r = cli(["write-region", ...files, template]);
    assert.equal(r.status, 0, r.stderr);
    for (const archive of [appended, template]) {
      // Stored as the files store them: -9999 (the archive's missing_value), not rewritten as NaN.
      const raw = runPython(`import sys, zarr; print(zarr.open(sys.argv[1], mode="r")["w"][:].tolist())`, archive);
      assert.equal(raw, "[1.0, -9999.0, 3.0, nan, 1.0, -9999.0, 3.0, nan]");
      assertMatchesSources(archive, files);
      // Steps the files hold nothing at are not "never written" when the files match there.
      const v = cli(["validate", archive, ...files]);
      assert.equal(v.status, 0, v.stdout + v.stderr);
      assert.match(cli(["validate", archive]).stdout, /2 time step\(s\) never written/, "without the files, a step of nothing but fill cannot be told from an unwritten one");
    }
  });

  test("a float fill value beyond 2^53 (1e20 as float32, CMIP's) in a Zarr v2 archive: append and write-region read it back as a float", () => {
    const dir = outDir("big-float-fill");
    const part = (name: string, t0: number) =>
      makeNc(
        path.join(dir, name),
        [
          "ds.createDimension('time', None); ds.createDimension('lat', 3)",
          "t = ds.createVariable('time', 'f8', ('time',)); t.units = 'days since 2000-01-01'",
          `t[:] = [${t0}, ${t0} + 1]`,
          "v = ds.createVariable('pr', 'f4', ('time', 'lat'), fill_value=np.float32(1e20))",
          `v[:] = np.ma.masked_equal(np.array([[1, 2, 1e20], [4, 5, 6]], 'f4') + ${t0}, np.float32(1e20) + ${t0})`,
        ].join("\n"),
      );
    const files = [part("a.nc", 0), part("b.nc", 2)];
    const appended = path.join(dir, "appended.zarr");
    assert.equal(cli(["convert", files[0]!, appended, "--zarr-format", "2"]).status, 0);
    assert.match(readFileSync(path.join(appended, "pr", ".zarray"), "utf8"), /"fill_value": 1\.0000000200408773e\+20,/);
    let r = cli(["append", files[1]!, appended]);
    assert.equal(r.status, 0, r.stderr);
    assertMatchesSources(appended, files);
    const template = path.join(dir, "template.zarr");
    r = cli(["create-template", files[0]!, template, "--zarr-format", "2", "--global-start", "2000-01-01", "--global-end", "2000-01-04", "--freq", "1D"]);
    assert.equal(r.status, 0, r.stderr);
    // Written by an earlier zarrio (or any tool) as bare digits, the fill reads back as the float it is.
    for (const doc of [path.join(template, "pr", ".zarray"), path.join(template, ".zmetadata")]) {
      writeFileSync(doc, readFileSync(doc, "utf8").replace("1.0000000200408773e+20", "100000002004087730000"));
    }
    r = cli(["write-region", ...files, template]);
    assert.equal(r.status, 0, r.stderr);
    assertMatchesSources(template, files);
  });

  test("an xarray v3 archive whose integer fill_value (0) is not its _FillValue (-900), chunks of 0 unstored: write-region and append keep the other times", () => {
    const dir = outDir("xarray-v3-zero-fill");
    runPython(
      `import sys, numpy as np, xarray as xr
d = sys.argv[1]
n = np.zeros(9, "i4"); n[4:6] = 7; n[8] = -900
full = xr.Dataset({"n": ("time", n)}, coords={"time": ("time", np.arange(9.0), {"units": "days since 2000-01-01", "calendar": "standard"})})
full.n.encoding["_FillValue"] = np.int32(-900)
full.isel(time=slice(0, 6)).to_zarr(d + "/archive.zarr", zarr_format=3, mode="w", consolidated=True, encoding={"n": {"chunks": (3,), "_FillValue": np.int32(-900)}})
full.isel(time=slice(2, 4)).to_netcdf(d + "/mid.nc")
full.isel(time=slice(6, 9)).to_netcdf(d + "/next.nc")
full.to_netcdf(d + "/all.nc")`,
      dir,
    );
    const archive = path.join(dir, "archive.zarr");
    assert.ok(!existsSync(path.join(archive, "n", "c", "0")), "xarray leaves the chunk of nothing but 0 unstored");
    let r = cli(["write-region", path.join(dir, "mid.nc"), archive]);
    assert.equal(r.status, 0, r.stderr);
    r = cli(["append", path.join(dir, "next.nc"), archive]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(JSON.parse(readFileSync(path.join(archive, "n", "zarr.json"), "utf8")).fill_value, 0, "append keeps the archive's fill_value");
    // Times 0 and 1 (in the chunk write-region merged into) still read 0, not -900 (masked).
    assertMatchesSources(archive, [path.join(dir, "all.nc")]);
  });

  test("archives laid out otherwise than zarrio writes: chunk keys spelt otherwise are written as spelt; order, filters, byte order, codec chains are refused by name", () => {
    const dir = outDir("foreign-layouts");
    // Each archive holds times 0-3 of t2m as xarray or zarr-python lays it out; the file holds times 4-7.
    const kinds: Record<string, string> = {
      // zarrio writes these in the archive's own spelling of chunk keys.
      "v3-chunk-keys-v2-slash": `ds.to_zarr(out, zarr_format=3, encoding={"t2m": {"chunks": (2, 5, 6), "chunk_key_encoding": {"name": "v2", "separator": "/"}}}, consolidated=True)`,
      "v2-separator-slash": `ds.to_zarr(out, zarr_format=2, encoding={"t2m": {"chunks": (2, 5, 6)}}, consolidated=True)
import json; p = out + "/t2m/.zarray"; z = json.load(open(p)); z["dimension_separator"] = "/"; json.dump(z, open(p, "w"))
import os, glob
for f in glob.glob(out + "/t2m/[0-9]*"): d, b = os.path.split(f); os.makedirs(os.path.join(d, *b.split(".")[:-1]), exist_ok=True); os.rename(f, os.path.join(d, *b.split(".")))
zarr.consolidate_metadata(out)`,
      "v2-order-F": `zarr.create_array(out + "/raw", shape=(4, 5, 6), dtype="f4", zarr_format=2, order="F")
ds.to_zarr(out, zarr_format=2, encoding={"t2m": {"chunks": (2, 5, 6)}}, consolidated=True, mode="w")
import json; p = out + "/t2m/.zarray"; z = json.load(open(p)); z["order"] = "F"; json.dump(z, open(p, "w"))
import numcodecs, numpy as np
zarr.consolidate_metadata(out)`,
      "v2-filter-delta": `import numcodecs
ds.to_zarr(out, zarr_format=2, encoding={"t2m": {"chunks": (2, 5, 6), "filters": [numcodecs.Delta(dtype="f4")]}}, consolidated=True)`,
      "v3-chunk-keys-v2": `ds.to_zarr(out, zarr_format=3, encoding={"t2m": {"chunks": (2, 5, 6), "chunk_key_encoding": {"name": "v2", "separator": "."}}}, consolidated=True)`,
      "v3-big-endian": `from zarr.codecs import BytesCodec
ds.to_zarr(out, zarr_format=3, encoding={"t2m": {"chunks": (2, 5, 6), "serializer": BytesCodec(endian="big")}}, consolidated=True)`,
      "v3-zstd-crc32c": `from zarr.codecs import ZstdCodec, Crc32cCodec
ds.to_zarr(out, zarr_format=3, encoding={"t2m": {"chunks": (2, 5, 6), "compressors": [ZstdCodec(), Crc32cCodec()]}}, consolidated=True)`,
    };
    // part0 and part1 follow each other; part0b holds part0's times with other values.
    const [part0, part1, part0b] = runPython(
      `import sys, numpy as np, xarray as xr
for name, k, t0 in (("part0", 0, 0), ("part1", 1, 4), ("part0b", 2, 0)):
    t = np.arange(4.0) + t0
    xr.Dataset({"t2m": (("time", "lat", "lon"), np.random.default_rng(k).random((4, 5, 6), dtype="f4"))}, coords={"time": ("time", t, {"units": "hours since 2000-01-01"}), "lat": np.arange(5.0), "lon": np.arange(6.0)}).to_netcdf(f"{sys.argv[1]}/{name}.nc")
    print(f"{sys.argv[1]}/{name}.nc")`,
      dir,
    ).split("\n") as [string, string, string];
    const reads = (archive: string, ...expected: string[]) =>
      runPython(
        "import sys, numpy as np, xarray as xr; z = xr.open_zarr(sys.argv[1]); s = xr.concat([xr.open_dataset(f) for f in sys.argv[2:]], 'time'); print(np.array_equal(z.t2m.values, s.t2m.values))",
        archive,
        ...expected,
      );
    const spelt = ["v2-separator-slash", "v3-chunk-keys-v2", "v3-chunk-keys-v2-slash"];
    for (const [kind, code] of Object.entries(kinds)) {
      const archive = path.join(dir, `${kind}.zarr`);
      runPython(`import sys, xarray as xr, zarr\nds = xr.open_dataset(sys.argv[1]); out = sys.argv[2]\n${code}`, part0, archive);
      if (spelt.includes(kind)) {
        // Appended, then a region rewritten with other values: xarray reads them all, in the archive's keys.
        let r = cli(["append", part1, archive]);
        assert.equal(r.status, 0, `${kind} append: ${r.stderr}`);
        assert.equal(reads(archive, part0, part1), "True", `${kind}: append`);
        r = cli(["write-region", part0b, archive]);
        assert.equal(r.status, 0, `${kind} write-region: ${r.stderr}`);
        assert.equal(reads(archive, part0b, part1), "True", `${kind}: write-region`);
        continue;
      }
      const before = hashTree(archive);
      for (const args of [["append", part1, archive], ["write-region", part1, archive]]) {
        const r = cli(args);
        assert.equal(r.status, 8, `${kind} ${args[0]}: ${r.stderr}`);
        assert.match(r.stderr, /StoreError: .*array 't2m' .*(is|are) not (what|one) zarrio writes/, `${kind} ${args[0]}`);
        assert.equal(hashTree(archive), before, `${kind} ${args[0]}: a refused archive is left byte-identical`);
      }
    }
  });

  test("xarray's fixed-width strings (<U, |S; fixed_length_utf32, null_terminated_bytes in v3) are read: append, write-region and validate compare them; strings along time are refused by name", () => {
    const dir = outDir("fixed-width-text");
    // Station names and codes as xarray writes them to Zarr from NetCDF strings and char arrays.
    runPython(
      `import sys, numpy as np, pandas as pd, xarray as xr
d = sys.argv[1]
def part(t0, names=("Brest", "Zürich", "東京")):
    return xr.Dataset({"v": (("time", "station"), np.arange(9, dtype="f4").reshape(3, 3) + t0)},
        coords={"time": pd.date_range("2020-01-01", periods=3, freq="D") + pd.Timedelta(days=t0), "station": ["ab", "cde", "f"],
                "name": ("station", np.array(names, dtype=object)), "code": ("station", np.array([b"X1", b"Y22", b"Z"]))})
part(0).to_netcdf(d + "/p0.nc"); part(3).to_netcdf(d + "/p3.nc"); part(0).to_netcdf(d + "/p0b.nc")
part(6, ("Brest", "Zurich", "東京")).to_netcdf(d + "/other.nc"); part(0, ("Brest", "Zurich", "東京")).to_netcdf(d + "/other0.nc")
for fmt in (2, 3):
    xr.open_dataset(d + "/p0.nc").to_zarr(f"{d}/v{fmt}.zarr", zarr_format=fmt, mode="w", consolidated=True)
    xr.open_dataset(d + "/p0.nc").assign(label=(("time",), np.array(["a", "b", "c"]))).to_zarr(f"{d}/along{fmt}.zarr", zarr_format=fmt, mode="w", consolidated=True)
part(6).assign(label=(("time",), np.array(["d", "e", "f"]))).to_netcdf(d + "/along.nc")`,
      dir,
    );
    const at = (f: string) => path.join(dir, f);
    for (const fmt of [2, 3]) {
      const archive = at(`v${fmt}.zarr`);
      const meta = runPython(`import sys, json; d = json.load(open(sys.argv[1])); print(d.get("dtype") or d["data_type"]["name"])`, path.join(archive, "name", fmt === 2 ? ".zarray" : "zarr.json"));
      assert.equal(meta, fmt === 2 ? "<U6" : "fixed_length_utf32", "xarray wrote fixed-width text");
      const docBefore = readFileSync(path.join(archive, "name", fmt === 2 ? ".zarray" : "zarr.json"), "utf8");
      let r = cli(["append", at("p3.nc"), archive]);
      assert.equal(r.status, 0, `v${fmt}: ${r.stderr}`);
      r = cli(["write-region", at("p0b.nc"), archive]);
      assert.equal(r.status, 0, `v${fmt}: ${r.stderr}`);
      assertMatchesSources(archive, [at("p0.nc"), at("p3.nc")], ["--concat-dim", "time"]);
      assert.equal(readFileSync(path.join(archive, "name", fmt === 2 ? ".zarray" : "zarr.json"), "utf8"), docBefore, "the text array's document is left as xarray wrote it");
      r = cli(["validate", archive, at("p0.nc"), at("p3.nc")]);
      assert.equal(r.status, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /name +<U6 +3 /, "validate names the type as numpy does");
      // Another name for a station: refused (append), reported (validate); the archive untouched.
      const before = hashTree(archive);
      r = cli(["append", at("other.nc"), archive]);
      assert.equal(r.status, 4, r.stderr);
      assert.match(r.stderr, /other\.nc, variable 'name': values differ from the archive's at index 1: "Zurich" here, "Zürich" in the archive/);
      assert.equal(hashTree(archive), before);
      r = cli(["validate", archive, at("other0.nc")]);
      assert.equal(r.status, 10, r.stdout);
      assert.match(r.stdout, /name: 1 value\(s\) differ, first at \[1\]: Zurich in the file, Zürich in the archive/);
      // Text along time would have to be written as fixed-width text, which zarrio does not write.
      const along = at(`along${fmt}.zarr`);
      const alongBefore = hashTree(along);
      r = cli(["append", at("along.nc"), along]);
      assert.equal(r.status, 4, r.stderr);
      assert.match(r.stderr, /variable 'label': the archive stores it as fixed-width text \(numpy's <U1\), which zarrio reads but does not write; leave it out with --drop-variables label/);
      assert.equal(hashTree(along), alongBefore);
    }
  });

  test("variables without time are compared as what they stand for: their scale, fill value and units, and times as instants", () => {
    const dir = outDir("statics-meaning");
    runPython(
      `${SERIES_PART}
import pandas as pd, xarray as xr
d = sys.argv[1]
# xarray writes a run's scalar forecast_reference_time as 0 'days since <run>'.
for name, run, units in (("run0", "2020-01-01", None), ("run1", "2020-01-02", None), ("same", "2020-01-01", "hours since 2019-12-31")):
    t0 = pd.Timestamp(run) + pd.Timedelta("6h") + pd.Timedelta(days=2 if name == "same" else 0)
    xr.Dataset({"tas": ("time", np.array([1.0, 2.0], "f4"))}, coords={"time": pd.date_range(t0, periods=2, freq="6h"), "forecast_reference_time": pd.Timestamp(run)}).to_netcdf(
        f"{d}/{name}.nc", encoding={"forecast_reference_time": {"units": units}} if units else None)
# The same stored numbers, standing for other values.
for c in ("scale", "fill", "units"):
    for i in range(2):
        f = part(f"{d}/{c}{i}.nc", i)
        if c == "scale":
            o = f.createVariable("orog", "i2", ("x",)); o.scale_factor = np.float32([1.0, 2.0][i]); o.set_auto_maskandscale(False); o[:] = np.array([10, 20, 30], "i2")
        if c == "fill":
            m = f.createVariable("mask", "i1", ("x",), fill_value=np.int8([-1, 1][i])); m.set_auto_maskandscale(False); m[:] = np.array([1, 0, -1], "i1")
        if c == "units":
            h = f.createVariable("height", "f4", ("x",)); h.units = ["m", "km"][i]; h[:] = [1, 2, 3]
        v = f.createVariable("v", "f4", ("time", "x")); v[:] = np.ones((2, 3)); f.close()`,
      dir,
    );
    const at = (f: string) => path.join(dir, f);
    const refusals: [string, string, RegExp, RegExp][] = [
      ["run0.nc", "run1.nc", /'\/forecast_reference_time': differs from the first file's at \[\]: 2020-01-02 00:00:00 here, 2020-01-01 00:00:00 there/, /'forecast_reference_time': values differ from the archive's at \[\]: 2020-01-02 00:00:00 here, 2020-01-01 00:00:00 in the archive/],
      ["scale0.nc", "scale1.nc", /'\/orog': differs from the first file's at \[0\]: 20 here, 10 there/, /'orog': values differ from the archive's at index 0: 20 here, 10 in the archive/],
      ["fill0.nc", "fill1.nc", /'\/mask': differs from the first file's at \[0\]: NaN here, 1 there/, /'mask': values differ from the archive's at index 0: NaN here, 1 in the archive/],
      ["units0.nc", "units1.nc", /'\/height': has units 'km' here, 'm' in the first file/, /'height': has units 'km' here, 'm' in the archive/],
    ];
    for (const [a, b, joined, appended] of refusals) {
      let r = cli(["convert", at(a), at(b), at(`${a}-joined.zarr`)]);
      assert.equal(r.status, 4, r.stderr);
      assert.match(r.stderr, joined);
      const archive = at(`${a}.zarr`);
      assert.equal(cli(["convert", at(a), archive]).status, 0);
      const before = hashTree(archive);
      r = cli(["append", at(b), archive]);
      assert.equal(r.status, 4, r.stderr);
      assert.match(r.stderr, appended);
      assert.equal(hashTree(archive), before);
    }
    // The same instant in other units is the same value.
    const r = cli(["convert", at("run0.nc"), at("same.nc"), at("same.zarr")]);
    assert.equal(r.status, 0, r.stderr);
    assertMatchesSources(at("same.zarr"), [at("run0.nc"), at("same.nc")], ["--concat-dim", "time"]);
  });

  test("attributes that differ between the files are the first file's, as xarray keeps them, and the log says which", () => {
    const dir = outDir("attrs-differ");
    const files = runPython(
      `${SERIES_PART}
for i in range(3):
    f = part(f"{sys.argv[1]}/f{i}.nc", i)
    v = f.createVariable("tas", "f4", ("time", "x")); v.units = "K"; v.valid_max = np.float32([350, 80, 350][i]); v[:] = 280.0
    w = f.createVariable("pr", "f4", ("time", "x")); w.units = "kg m-2 s-1"; w[:] = 1.0
    if i == 1: w.cell_methods = "time: sum"; f.comment = "only in the second file"
    f.history = f"run {i}"; f.close()
    print(f"{sys.argv[1]}/f{i}.nc")`,
      dir,
    ).split("\n");
    const out = path.join(dir, "out.zarr");
    const r = cli(["convert", ...files, out]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /warn +attributes that differ between the files are the first file's in the archive, as xarray's open_mfdataset keeps them: /);
    assert.match(r.stderr, /comment in 1 of 3 files \(.*f1\.nc: "only in the second file", the first file: \(none\)\)/);
    assert.match(r.stderr, /history in 2 of 3 files \(.*f1\.nc: "run 1", the first file: "run 0"\)/);
    assert.match(r.stderr, /tas:valid_max in 1 of 3 files \(.*f1\.nc: 80, the first file: 350\)/);
    assert.match(r.stderr, /pr:cell_methods in 1 of 3 files/);
    assert.equal(runPython("import sys, zarr; g = zarr.open_group(sys.argv[1], mode='r'); print(g.attrs['history'], 'comment' in g.attrs, g['tas'].attrs['valid_max'])", out), "run 0 False 350");
  });

  test("--packing packs data only: not 2-D coordinates, bounds (NEMO's time_centered_bounds hold times), times, nor floats a scale_factor of their own turns into other values", () => {
    const dir = outDir("packing-data-only");
    const file = path.join(dir, "nemo.nc");
    runPython(
      `import sys, netCDF4 as nc, numpy as np
f = nc.Dataset(sys.argv[1], "w")
for d, n in (("time", None), ("y", 3), ("x", 4), ("nv", 2)): f.createDimension(d, n)
t = f.createVariable("time", "f8", ("time",)); t.units = "seconds since 1900-01-01"; t[:] = [3786825600.0, 3786912000.0]
c = f.createVariable("time_centered", "f8", ("time",)); c.units = "seconds since 1900-01-01"; c.bounds = "time_centered_bounds"; c[:] = [3786782400.0, 3786868800.0]
b = f.createVariable("time_centered_bounds", "f8", ("time", "nv")); b[:] = [[3786739200.0, 3786825600.0], [3786825600.0, 3786912000.0]]
lat = f.createVariable("nav_lat", "f4", ("y", "x")); lat[:] = np.linspace(-60.123, 60.456, 12).reshape(3, 4)
sst = f.createVariable("sst", "f4", ("time", "y", "x")); sst.coordinates = "nav_lat"; sst[:] = np.linspace(-2, 30, 24).reshape(2, 3, 4)
ang = f.createVariable("angle", "f4", ("time", "y", "x")); ang.scale_factor = np.float32(57.29578); ang.set_auto_maskandscale(False); ang[:] = np.linspace(0, 3.1, 24).reshape(2, 3, 4).astype("f4")
f.close()`,
      file,
    );
    const out = path.join(dir, "packed.zarr");
    const r = cli(["convert", file, out, "--packing", "--packing-bits", "8"]);
    assert.equal(r.status, 0, r.stderr);
    const dtypes = runPython("import sys, zarr; g = zarr.open_group(sys.argv[1], mode='r'); print(*[f'{n}={g[n].dtype}' for n in ('sst', 'nav_lat', 'time_centered_bounds', 'time_centered', 'angle')])", out);
    assert.equal(dtypes, "sst=int8 nav_lat=float32 time_centered_bounds=float64 time_centered=float64 angle=float32");
    assertMatchesSources(out, [file]);
  });

  test("files packed exactly as the archive, with no fill value (NCEP's int16 with scale and offset only), are appended and written as stored", () => {
    const dir = outDir("packed-no-fill");
    const files = runPython(
      `${SERIES_PART}
for i in range(3):
    f = part(f"{sys.argv[1]}/f{i}.nc", i)
    v = f.createVariable("air", "i2", ("time", "x")); v.scale_factor = np.float32(0.01); v.add_offset = np.float32(250.0)
    v.set_auto_maskandscale(False); v[:] = np.arange(6, dtype="i2").reshape(2, 3) + 100 * i
    f.close()
    print(f"{sys.argv[1]}/f{i}.nc")`,
      dir,
    ).split("\n");
    const archive = path.join(dir, "a.zarr");
    assert.equal(cli(["convert", files[0]!, archive]).status, 0);
    let r = cli(["append", files[1]!, archive]);
    assert.equal(r.status, 0, r.stderr);
    assertMatchesSources(archive, files.slice(0, 2));
    const template = path.join(dir, "t.zarr");
    assert.equal(cli(["convert", ...files, template]).status, 0);
    r = cli(["write-region", files[1]!, template]);
    assert.equal(r.status, 0, r.stderr);
    assertMatchesSources(template, files);
  });

  test("64-bit integers beside another type are refused by name: float64, as xarray joins them, would round them", () => {
    const dir = outDir("int64-mixed");
    const files = [
      makeNc(path.join(dir, "ids64.nc"), ["ds.createDimension('time', None)", "t = ds.createVariable('time', 'f8', ('time',)); t.units = 'days since 2000-01-01'; t[:] = [0, 1]", "v = ds.createVariable('id', 'i8', ('time',), fill_value=False); v[:] = [2**53 + 1, 2**62]"].join("\n")),
      makeNc(path.join(dir, "ids32f.nc"), ["ds.createDimension('time', None)", "t = ds.createVariable('time', 'f8', ('time',)); t.units = 'days since 2000-01-01'; t[:] = [2, 3]", "v = ds.createVariable('id', 'f4', ('time',), fill_value=False); v[:] = [1, 2]"].join("\n")),
    ];
    const out = path.join(dir, "out.zarr");
    const r = cli(["convert", ...files, out]);
    assert.equal(r.status, 4, r.stderr);
    assert.match(r.stderr, /IncompatibleSourceError: .*ids32f\.nc, variable 'id': is float32, no fill value here and int64, no fill value in .*ids64\.nc: no type holds both exactly .*--drop-variables id/);
    assert.ok(!existsSync(out), "nothing is written");
  });

  test("convert --packing packs every file over one range covering all of them", async () => {
    const out = path.join(outDir("era5-convert-packed"), "out.zarr");
    const r = cli(["convert", ...files, out, "--chunking", "time:8", "--packing", "--packing-bits", "16", "-v"]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /t2m: the files encode it differently.*packed again to int16 over one range covering every file/);
    const info = arrays(zarrInfo(out));
    assert.equal(info.t2m!.dtype, "<i2");
    assertMatchesSources(out, files);
  });

  for (const packing of [false, true]) {
    test(`create-template + write-region --jobs 2, then append${packing ? ", --packing" : ""}`, async () => {
      const dir = outDir(`era5-template${packing ? "-packed" : ""}`);
      const archive = path.join(dir, "archive.zarr");
      const pack = packing ? ["--packing", "--packing-manual-ranges", '{"t2m":{"min":200,"max":400},"tp":{"min":0,"max":1},"sst":{"min":250,"max":320}}'] : [];
      const head = files.slice(0, 9);
      let r = cli(["create-template", files[0]!, archive, "--global-start", "2021-06-01", "--global-end", "2021-06-03T05:00", "--freq", "1h", "--chunking", "time:4", ...pack, "-v"]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, /t2m: .*era5_000\.nc packs it itself \(int16, scale_factor/);
      r = cli(["write-region", "--jobs", "2", ...head.slice().reverse(), archive, "-v"]);
      assert.equal(r.status, 0, r.stderr);
      assertMatchesSources(archive, head, packing ? [] : ["--packed-tolerance", "0"]);
      // One file alone, then the last two (packed differently from each other) as one run.
      r = cli(["append", files[9]!, archive]);
      assert.equal(r.status, 0, r.stderr);
      r = cli(["append", ...files.slice(10), archive, "-v"]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, /append of 2 files done/);
      assertMatchesSources(archive, files, packing ? [] : ["--packed-tolerance", "0"]);
      r = cli(["validate", archive, ...files]);
      assert.equal(r.status, 0, r.stdout + r.stderr);
      // Re-packed variables are compared within the bound the archive's packing allows, and it is said.
      if (packing) assert.match(r.stdout, /OK +.*era5_000\.nc.*\(re-packed: .*t2m within [0-9.e-]+/);
    });
  }

  for (const format of [2, 3] as const) {
    for (const kind of ["decoded", "packed"] as const) {
      test(`write-region fills a template laid out by xarray (compute=False, v${format}, ${kind})`, async () => {
        const archive = xarrayTemplate(path.join(outDir(`era5-xr-${kind}-v${format}`), "archive.zarr"), files, format, kind);
        const r = cli(["write-region", "--jobs", "2", ...files, archive, "-v"]);
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.stderr, kind === "packed" ? /packed again with the archive's scale and offset/ : /stored decoded \(exact\)/);
        assertMatchesSources(archive, files, kind === "packed" ? [] : ["--packed-tolerance", "0"]);
      });
    }
  }

  test("files of different lengths along time are each read whole (no step dropped or read past)", () => {
    const dir = outDir("lengths");
    const mk = (steps: number, start: string, prefix: string) => {
      const r = python([path.join(ROOT, "test", "python", "make_series.py"), dir, "--files", "1", "--steps", String(steps), "--start", start, "--prefix", prefix]);
      assert.equal(r.status, 0, r.stderr);
      return r.stdout.trim();
    };
    const inputs = [mk(24, "2020-01-01", "a"), mk(12, "2020-01-02", "b"), mk(30, "2020-01-03", "c")];
    const out = path.join(dir, "out.zarr");
    const r = cli(["convert", ...inputs, out, "--chunking", "time:10"]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /3 file\(s\), \d+ arrays, 66 time steps/);
    assertMatchesSources(out, inputs);
  });

  test("write-region refuses what an archive cannot hold without changing values, and writes nothing", async () => {
    const archive = path.join(outDir("era5-narrow"), "archive.zarr");
    // One file converted alone keeps its own packing; a later file's values reach beyond its range.
    await convertToZarr(files[0]!, archive, { backend: BACKEND, chunking: { time: 6 } });
    assert.equal(arrays(zarrInfo(archive)).t2m!.dtype, "<i2");
    const before = hashTree(archive);
    const r = cli(["append", files[5]!, archive]);
    assert.equal(r.status, 6, r.stderr);
    assert.match(r.stderr, /PackingRangeError: .*era5_005\.nc, variable 't2m': holds .*outside the archive's packing range/);
    assert.equal(hashTree(archive), before, "a refused file leaves the archive byte-identical");
    // Told to clip, it writes, and says how many values it clipped.
    const ok = cli(["append", files[5]!, archive, "--packing-range-exceeded-action", "clip", "-v"]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stderr, /values outside the packing range of t2m were clipped/);
  });
});

/** Write a small NetCDF file with `code` (netCDF4-python; `ds` is the open Dataset, `np` numpy). */
function makeNc(file: string, code: string): string {
  const r = python(["-c", ["import sys, numpy as np, netCDF4", "ds = netCDF4.Dataset(sys.argv[1], 'w', format='NETCDF4')", code, "ds.close()"].join("\n"), file]);
  assert.equal(r.status, 0, r.stderr);
  return file;
}

describe(`times that are not CF, user-defined types [${BACKEND}]`, () => {
  test("a time coordinate in 'day as %Y%m%d.%f' units is copied as stored, file after file", () => {
    const dir = outDir("icon-time");
    const files = [0, 1].map((k) =>
      makeNc(
        path.join(dir, `icon_${k}.nc`),
        [
          "ds.createDimension('time', None); ds.createDimension('ncells', 5)",
          "t = ds.createVariable('time', 'f8', ('time',)); t.units = 'day as %Y%m%d.%f'; t.calendar = 'proleptic_gregorian'",
          `t[:] = [20981118.0 + ${k}, 20981118.25 + ${k}, 20981118.5 + ${k}]`,
          "v = ds.createVariable('tas', 'f4', ('time', 'ncells')); v.units = 'K'",
          `v[:] = np.arange(15, dtype='f4').reshape(3, 5) + ${k}`,
        ].join("\n"),
      ),
    );
    const out = path.join(dir, "out.zarr");
    const r = cli(["convert", ...files, out, "-v"]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /time has units 'day as %Y%m%d\.%f', which are not CF time zarrio can decode: its values are copied as stored/);
    assertMatchesSources(out, files);
    const t = python(["-c", "import sys, xarray as xr; print(list(xr.open_zarr(sys.argv[1]).time.values))", out]);
    assert.equal(t.stdout.trim(), "[np.float64(20981118.0), np.float64(20981118.25), np.float64(20981118.5), np.float64(20981119.0), np.float64(20981119.25), np.float64(20981119.5)]");
  });

  test("'months since' (MSWEP's, which zarrio does not decode): copied as stored; append and validate match the values as stored, in the archive's very units", () => {
    const dir = outDir("months-since");
    const file = (k: number, units = "months since 1899-12 00:00:00") =>
      makeNc(
        path.join(dir, `m${k}${units.includes("1900") ? "-1900" : ""}.nc`),
        [
          "ds.createDimension('time', None); ds.createDimension('x', 3)",
          `t = ds.createVariable('time', 'f8', ('time',)); t.units = '${units}'; t.calendar = 'gregorian'; t[:] = [949 + ${k}]`,
          `v = ds.createVariable('v', 'f4', ('time', 'x')); v[0, :] = np.arange(3) + 10 * ${k}`,
        ].join("\n"),
      );
    const files = [0, 1, 2].map((k) => file(k));
    const archive = path.join(dir, "m.zarr");
    assert.equal(cli(["convert", files[0]!, files[1]!, archive]).status, 0);
    let r = cli(["append", files[2]!, archive]);
    assert.equal(r.status, 0, r.stderr);
    assertMatchesSources(archive, files);
    r = cli(["validate", archive, ...files]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    // The same number in months since another month is another time: refused, untouched.
    const other = file(3, "months since 1900-01 00:00:00");
    const before = hashTree(archive);
    r = cli(["append", other, archive]);
    assert.equal(r.status, 4, r.stderr);
    assert.match(r.stderr, /has 'time' in units 'months since 1900-01 00:00:00', the archive 'months since 1899-12 00:00:00': values zarrio does not read as CF time are appended as stored/);
    assert.equal(hashTree(archive), before);
  });

  test("enums are stored as their integers with their names, compounds as structured records; vlen is refused by name, never skipped", () => {
    const dir = outDir("udt");
    const file = makeNc(
      path.join(dir, "udt.nc"),
      [
        "g = ds.createGroup('level-3_binned_data'); g.createDimension('binListDim', 4)",
        "bl = g.createCompoundType(np.dtype([('bin_num', 'u4'), ('nobs', 'i2'), ('weights', 'f4')], align=True), 'binListType')",
        "v = g.createVariable('BinList', bl, ('binListDim',)); v[:] = np.array([(1, 2, 0.5), (7, -3, np.nan), (2**32 - 1, 0, -1e30), (0, 32767, 2.5)], dtype=bl.dtype)",
        "e = ds.createEnumType('u1', 'cloud_t', {'clear': 0, 'cloudy': 1, 'missing': 255})",
        "ds.createDimension('x', 3); c = ds.createVariable('cloud', e, ('x',), fill_value=255); c[:] = np.array([0, 1, 255], 'u1')",
        "vl = ds.createVLType('i4', 'ragged_t'); r = ds.createVariable('ragged', vl, ('x',))",
        "r[0] = np.array([1, 2], 'i4'); r[1] = np.array([3], 'i4'); r[2] = np.array([4, 5, 6], 'i4')",
        "s = ds.createVariable('sst', 'f4', ('x',)); s[:] = [1.5, 2.5, 3.5]",
      ].join("\n"),
    );
    const out = path.join(dir, "out.zarr");
    const r = cli(["convert", file, out]);
    assert.equal(r.status, 11, r.stderr);
    assert.match(r.stderr, /UnsupportedTypeError: .*udt\.nc: variable of NetCDF-4 user-defined types/);
    assert.match(r.stderr, /'\/ragged' \(group '\/', vlen of int, dims x\)/);
    assert.match(r.stderr, /--drop-variables ragged$/m);
    assert.ok(!existsSync(out), "nothing was written");
    for (const format of ["2", "3"]) {
      const ok = cli(["convert", file, out, "--drop-variables", "ragged", "--zarr-format", format, "--overwrite"]);
      assert.equal(ok.status, 0, ok.stderr);
      const info = arrays(zarrInfo(out));
      assert.deepEqual(Object.keys(info).sort(), ["cloud", "level-3_binned_data/BinList", "sst"]);
      assert.equal(info.cloud!.dtype, "|u1");
      // The compound's fields packed in order, as numpy lays out a structured dtype from its list.
      assert.equal(info["level-3_binned_data/BinList"]!.dtype, "[('bin_num', '<u4'), ('nobs', '<i2'), ('weights', '<f4')]");
      // xarray reads the archive's enum as it reads the file's (integers, 255 missing), names in the
      // attributes, and the compound field by field (NaN and extremes included).
      assertMatchesSources(out, [file], ["--drop-variables", "ragged"]);
      const g = python(["-c", "import sys, xarray as xr; print(xr.open_zarr(sys.argv[1], group='level-3_binned_data').BinList.values.tolist())", out]);
      assert.equal(g.stdout.trim(), "[(1, 2, 0.5), (7, -3, nan), (4294967295, 0, -1.0000000150474662e+30), (0, 32767, 2.5)]");
    }
    const attrs = python(["-c", "import sys, xarray as xr; a = xr.open_zarr(sys.argv[1]).cloud.attrs; print(list(a['flag_values']), a['flag_meanings'])", out]);
    assert.equal(attrs.stdout.trim(), "[0, 1, 255] clear cloudy missing");
    if (BACKEND === "native") {
      // netCDF-C hands compounds out in its own memory layout: the same stored records.
      const lib = cli(["convert", file, out, "--drop-variables", "ragged,cloud", "--reader", "libnetcdf", "--overwrite"]);
      assert.equal(lib.status, 0, lib.stderr);
      assertMatchesSources(out, [file], ["--drop-variables", "ragged,cloud"]);
    }
  });

  test("a compound variable along time goes through every write path: chunks shared by files, merges under locks, append, validate", () => {
    const dir = outDir("records-series");
    // Four files of 3 steps; chunks of 4 steps never line up with the files.
    const files = [0, 1, 2, 3].map((k) =>
      makeNc(
        path.join(dir, `obs_${k}.nc`),
        [
          "ds.createDimension('time', None); ds.createDimension('station', 5)",
          "t = ds.createVariable('time', 'f8', ('time',)); t.units = 'hours since 2020-01-01'",
          `t[:] = np.arange(3) + 3 * ${k}`,
          "ob = ds.createCompoundType(np.dtype([('temp', 'f4'), ('qc', 'u1'), ('count', 'i2')], align=True), 'obs_t')",
          "o = ds.createVariable('obs', ob, ('time', 'station'))",
          "a = np.zeros((3, 5), dtype=ob.dtype)",
          `a['temp'] = np.arange(15, dtype='f4').reshape(3, 5) + 100 * ${k}; a['qc'] = ${k}; a['count'] = -np.arange(15).reshape(3, 5)`,
          "o[:] = a; o.long_name = 'station observations'",
        ].join("\n"),
      ),
    );
    // Zarr v2 (a list of fields), three files converted, the fourth appended (the spelling read back).
    const converted = path.join(dir, "converted.zarr");
    let r = cli(["convert", ...files.slice(0, 3), converted, "--chunking", "time:4,station:5", "--zarr-format", "2", "-v"]);
    assert.equal(r.status, 0, r.stderr);
    r = cli(["append", files[3]!, converted]);
    assert.equal(r.status, 0, r.stderr);
    assertMatchesSources(converted, files);
    const archive = path.join(dir, "archive.zarr");
    r = cli(["create-template", files[0]!, archive, "--global-start", "2020-01-01", "--global-end", "2020-01-01T08:00", "--freq", "1h", "--chunking", "time:4,station:5", "--zarr-format", "3"]);
    assert.equal(r.status, 0, r.stderr);
    r = cli(["write-region", "--jobs", "2", files[2]!, files[0]!, files[1]!, archive, "-v"]);
    assert.equal(r.status, 0, r.stderr);
    r = cli(["append", files[3]!, archive]);
    assert.equal(r.status, 0, r.stderr);
    assertMatchesSources(archive, files);
    r = cli(["validate", archive, ...files]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /OK/);
    // validate compares records byte for byte: one field of one record changed is found.
    const poke = python(["-c", "import sys, zarr; a = zarr.open_array(sys.argv[1] + '/obs', mode='r+'); v = a[5, 2]; v['qc'] = 99; a[5, 2] = v", archive]);
    assert.equal(poke.status, 0, poke.stderr);
    r = cli(["validate", archive, ...files]);
    assert.notEqual(r.status, 0, r.stdout);
    assert.match(r.stdout + r.stderr, /obs.*1 value/);
  });
});
