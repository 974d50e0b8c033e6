/**
 * Times kept exact: a time re-expressed in other units, or a template step that is a fraction of the
 * file's unit, is a whole number of some unit; through floats it decoded a nanosecond or two off in
 * xarray (an hourly template from a "days since" file read 2,166 of a leap year's 8,784 hours as
 * hh:59:59.999999999). The archive then stores whole numbers of that unit, and xarray reads them exactly.
 */
import test, { describe } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";

import { formatDate, decodeValue, inferFreq, InexactTimeError, parseUnits, reencode, timeAxis, parseDate, parseFreq, wholeTimes } from "../dist/cf/time.js";
import { assertMatchesSources, BACKEND, cli, fixture, outDir, python, runPython } from "./helpers.js";
import { hashTree } from "./series.js";

/** Convert `files` as one series, and the first then append the rest: both read as xarray reads the files. */
function joinedAndAppended(dir: string, name: string, files: string[]): { joined: string; appended: string } {
  const joined = path.join(dir, `${name}.zarr`);
  let r = cli(["convert", ...files, joined]);
  assert.equal(r.status, 0, r.stderr);
  assertMatchesSources(joined, files, ["--concat-dim", "time"]);
  const appended = path.join(dir, `${name}-appended.zarr`);
  assert.equal(cli(["convert", files[0]!, appended]).status, 0);
  r = cli(["append", ...files.slice(1), appended]);
  assert.equal(r.status, 0, r.stderr);
  assertMatchesSources(appended, files, ["--concat-dim", "time"]);
  return { joined, appended };
}

describe(`times kept exact [${BACKEND}]`, () => {
  const hoursA = parseUnits("hours since 2020-01-01 00:00:00", "standard");
  const hoursB = parseUnits("hours since 2020-04-14 04:00:00", "standard");
  const minutes = Array.from({ length: 150_000 }, (_, i) => i / 60);

  test("re-expressed times are whole numbers wherever the instant is one, far from the reference", () => {
    const out = reencode(minutes, hoursB, parseUnits("minutes since 2020-01-01", "standard"));
    assert.equal(out[0], 150_000);
    assert.ok(out.every((x, i) => x === 150_000 + i), "every minute a whole number of minutes");
    // Into hours: whole hours come out whole, the rest the nearest float.
    const hours = reencode(minutes, hoursB, hoursA);
    assert.equal(hours[60], 2501);
    assert.equal(hours[149_940], 2500 + 2499);
    assert.equal(hours[1], 2500 + 1 / 60);
  });

  test("a joined axis is whole numbers of the coarsest unit that holds every time", () => {
    const whole = wholeTimes([{ values: minutes.slice(0, 10), units: hoursA }, { values: minutes.slice(0, 10), units: hoursB }], hoursA)!;
    assert.equal(whole.units.text, "minutes since 2020-01-01 00:00:00");
    assert.deepEqual(whole.values.slice(8, 12), [8, 9, 150_000, 150_001]);
    const millis = wholeTimes([{ values: [0, 1.5 / 3600], units: hoursA }], hoursA)!;
    assert.equal(millis.units.text, "milliseconds since 2020-01-01 00:00:00");
    assert.deepEqual(millis.values, [0, 1500]);
    const nanos = wholeTimes([{ values: [0, 1e-10], units: hoursA }], hoursA)!;
    assert.equal(nanos.units.text, "nanoseconds since 2020-01-01 00:00:00", "a fraction of a microsecond: nanoseconds");
    assert.deepEqual(nanos.values, [0, 360]);
  });

  test("'nanoseconds since' (xarray's units for sub-microsecond times) are read; whole numbers beyond 2^53 are never rounded", () => {
    const ns = parseUnits("nanoseconds since 2021-03-01 00:00:00.000000123", "proleptic_gregorian");
    assert.equal(ns.unitName, "nanoseconds");
    assert.equal(formatDate(decodeValue(3_600_000_000_007, ns)), "2021-03-01 01:00:00");
    const later = parseUnits("nanoseconds since 2021-03-01 04:00:00.000000123", "proleptic_gregorian");
    assert.deepEqual(reencode([0, 7], later, ns), [14_400_000_000_000, 14_400_000_000_007]);
    // 153 days on, in nanoseconds: beyond 2^53, which a float64 would round by up to 2 ns.
    const august = parseUnits("nanoseconds since 2021-08-01", "proleptic_gregorian");
    const january = parseUnits("nanoseconds since 2021-01-01", "proleptic_gregorian");
    assert.throws(() => reencode([0, 3_600_000_000_000], august, january), (e: Error) => e instanceof InexactTimeError && /beyond the 2\^53/.test(e.message));
    // A series that far apart is stored in the coarsest unit that holds every time whole...
    const hours = wholeTimes([{ values: [0, 3_600_000_000_000], units: january }, { values: [0, 3_600_000_000_000], units: august }], january)!;
    assert.equal(hours.units.text, "hours since 2021-01-01");
    assert.deepEqual(hours.values, [0, 1, 5088, 5089]);
    // ...and is refused when only nanoseconds would (none holds it exactly).
    assert.equal(wholeTimes([{ values: [0], units: january }, { values: [7], units: august }], january), undefined);
  });

  test("sub-second frequencies (pandas' 100ms, 500us) step a template axis in whole units", () => {
    assert.equal((parseFreq("100ms") as { seconds: number }).seconds, 0.1);
    assert.equal((parseFreq("500us") as { seconds: number }).seconds, 0.0005);
    assert.equal(parseFreq("1MS").kind, "months", "MS is month start, as in pandas");
    const ms = parseUnits("milliseconds since 2020-01-01", "standard");
    assert.deepEqual(timeAxis(parseDate("2020-01-01"), parseDate("2020-01-01T00:00:00.5"), parseFreq("100ms"), ms), [0, 100, 200, 300, 400, 500]);
  });

  test("a template axis stepping by a fraction of the unit is counted in whole nanoseconds", () => {
    const days = parseUnits("days since 2000-01-01", "standard");
    const values = timeAxis(parseDate("2000-01-01"), parseDate("2000-12-31T23:00"), parseFreq("1h"), days);
    assert.equal(values.length, 8784);
    const whole = wholeTimes([{ values, units: days }], days)!;
    assert.equal(whole.units.text, "hours since 2000-01-01");
    assert.ok(whole.values.every((x, i) => x === i));
  });

  test("month ends ('ME', pandas' 'M'): an axis from a month's last day keeps to month ends, and is inferred so", () => {
    const days = parseUnits("days since 1950-01-01", "standard");
    const dates = (values: number[]) => values.map((v) => formatDate(decodeValue(v, days)).slice(0, 10));
    const ends = timeAxis(parseDate("1999-02-28"), parseDate("1999-06-30"), parseFreq("1ME"), days);
    assert.deepEqual(dates(ends), ["1999-02-28", "1999-03-31", "1999-04-30", "1999-05-31", "1999-06-30"]);
    // Month starts (and any other day) keep their day; a day past a short month's end is clamped.
    assert.deepEqual(dates(timeAxis(parseDate("1999-02-28"), parseDate("1999-04-30"), parseFreq("1MS"), days)), ["1999-02-28", "1999-03-28", "1999-04-28"]);
    assert.deepEqual(dates(timeAxis(parseDate("1999-01-31"), parseDate("1999-03-31"), parseFreq("1MS"), days)), ["1999-01-31", "1999-02-28", "1999-03-31"]);
    assert.deepEqual(inferFreq(ends, days), { kind: "months", months: 1, text: "1ME", monthEnd: true });
    const starts = timeAxis(parseDate("1999-01-01"), parseDate("1999-12-01"), parseFreq("3MS"), days);
    assert.equal(inferFreq(starts, days)?.text, "3MS");
    // Noleap: February always ends on the 28th.
    const noleap = parseUnits("days since 2000-01-01", "noleap");
    assert.deepEqual(timeAxis(parseDate("2000-01-31"), parseDate("2000-03-31"), parseFreq("1M"), noleap).map((v) => formatDate(decodeValue(v, noleap)).slice(0, 10)), ["2000-01-31", "2000-02-28", "2000-03-31"]);
  });

  test("validate passes a month-end axis (CDO's, pandas' 'ME') and names the step it found", () => {
    const dir = outDir("time-month-end");
    const file = path.join(dir, "monthly.nc");
    runPython(
      `import sys, numpy as np, pandas as pd, xarray as xr
t = pd.date_range("1999-01-31", periods=12, freq="ME")
ds = xr.Dataset({"pr": (("time", "x"), np.arange(24, dtype="f4").reshape(12, 2))}, coords={"time": t, "x": [0, 1]})
ds.time.encoding["units"] = "days since 1950-01-01"
ds.to_netcdf(sys.argv[1])`,
      file,
    );
    const archive = path.join(dir, "m.zarr");
    assert.equal(cli(["convert", file, archive]).status, 0);
    for (const freq of [[], ["--freq", "1ME"], ["--freq", "1M"]]) {
      const r = cli(["validate", archive, file, "--json", ...freq]);
      assert.equal(r.status, 0, r.stdout + r.stderr);
      assert.equal(JSON.parse(r.stdout).time.step, freq[1] ?? "1ME");
    }
    // Month starts are not month ends: told so.
    const r = cli(["validate", archive, "--freq", "1MS"]);
    assert.equal(r.status, 10);
    assert.match(r.stdout, /step\(s\) are not 1MS \(time.freq\), first: 1999-03-31 00:00:00 follows 1999-02-28 00:00:00/);
  });

  test("the standard and proleptic Gregorian calendars join from 1582-10-15 on, where they agree, and not before", () => {
    const standard = parseUnits("days since 2000-01-01", "standard");
    const proleptic = parseUnits("hours since 1990-01-01", "proleptic_gregorian");
    assert.deepEqual(reencode([0, 1.5], standard, proleptic), [87648, 87684]);
    const early = parseUnits("days since 1582-10-10", "proleptic_gregorian");
    assert.throws(() => reencode([0, 10], early, standard), /cannot mix calendars 'proleptic_gregorian' and 'standard' for 1582-10-10 00:00:00: before 1582-10-15 they give other dates/);
    assert.throws(() => reencode([0], parseUnits("days since 2000-01-01", "noleap"), standard), /cannot mix calendars 'noleap' and 'standard'/);
  });

  test("a file naming no calendar appends to an archive xarray wrote from such files (which it marks proleptic_gregorian)", () => {
    const dir = outDir("time-calendar-join");
    runPython(
      `import sys, numpy as np, xarray as xr
d = sys.argv[1]
for name, t0 in (("a.nc", 0), ("b.nc", 2)):
    xr.Dataset({"v": ("time", np.arange(2, dtype="f4") + t0)}, coords={"time": ("time", np.array([t0, t0 + 1], "f8"), {"units": "days since 2000-01-01"})}).to_netcdf(d + "/" + name)
xr.open_dataset(d + "/a.nc").to_zarr(d + "/archive.zarr", zarr_format=3, mode="w", consolidated=True)`,
      dir,
    );
    const archive = path.join(dir, "archive.zarr");
    const r = cli(["append", path.join(dir, "b.nc"), archive]);
    assert.equal(r.status, 0, r.stderr);
    // (compare.py would also compare the calendar attribute, which xarray wrote otherwise.)
    const same = runPython(
      "import sys, numpy as np, xarray as xr; z = xr.open_zarr(sys.argv[1]); s = xr.concat([xr.open_dataset(f) for f in sys.argv[2:]], 'time'); print(np.array_equal(z.time.values, s.time.values), np.array_equal(z.v.values, s.v.values))",
      archive,
      path.join(dir, "a.nc"),
      path.join(dir, "b.nc"),
    );
    assert.equal(same, "True True");
  });

  test("validate passes monthly means stamped mid-month (CMIP's, on days and hours that vary)", () => {
    const dir = outDir("time-mid-month");
    const file = path.join(dir, "monthly.nc");
    runPython(
      `import sys, numpy as np, pandas as pd, xarray as xr
s = pd.date_range("2006-04-01", periods=13, freq="MS"); t = s[:-1] + (s[1:] - s[:-1]) / 2
xr.Dataset({"sst": ("time", np.arange(12, dtype="f4"))}, coords={"time": t}).to_netcdf(sys.argv[1])`,
      file,
    );
    const archive = path.join(dir, "m.zarr");
    assert.equal(cli(["convert", file, archive]).status, 0);
    const r = cli(["validate", archive, file, "--json"]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.equal(JSON.parse(r.stdout).time.step, "1 month, on varying days");
    // A month skipped is still found: the step then is not one month.
    const gap = path.join(dir, "gap.nc");
    runPython("import sys, xarray as xr; xr.open_dataset(sys.argv[1]).isel(time=[0, 1, 2, 4, 5]).to_netcdf(sys.argv[2])", file, gap);
    const gapped = path.join(dir, "gap.zarr");
    assert.equal(cli(["convert", gap, gapped]).status, 0);
    assert.equal(cli(["validate", gapped]).status, 10);
  });

  test("xarray's 'nanoseconds since' files: a series joins exactly; months apart, convert, create-template and write-region store whole hours, append refuses", () => {
    const dir = outDir("time-nanoseconds");
    // As xarray writes them: each file in nanoseconds since its own first time (sub-microsecond
    // stamps), or (w*) whole hours that an earlier writer kept in nanoseconds since the 1st.
    runPython(
      `import sys, numpy as np, pandas as pd, xarray as xr
d = sys.argv[1]
def write(name, start, extra_ns, units=None):
    t = pd.date_range(start, periods=4, freq="h") + pd.to_timedelta(extra_ns * np.arange(4), unit="ns")
    ds = xr.Dataset({"sst": (("time", "lat"), np.arange(12, dtype="f4").reshape(4, 3) + t.hour.values[:, None])}, coords={"time": t, "lat": [1.0, 2.0, 3.0]})
    ds.to_netcdf(f"{d}/{name}", encoding={"time": {"units": units, "dtype": "int64"}} if units else None)
for i in range(3):
    write(f"n{i}.nc", pd.Timestamp("2021-03-01T00:00:00.000000123") + pd.Timedelta(hours=4 * i), 7)
write("w0.nc", "2021-01-01", 0, "nanoseconds since 2021-01-01")
write("w1.nc", "2021-08-01", 0, "nanoseconds since 2021-08-01")
write("far.nc", "2021-08-01", 7)`,
      dir,
    );
    const at = (f: string) => path.join(dir, f);
    const units = (zarr: string) => runPython("import sys, xarray as xr; print(xr.open_zarr(sys.argv[1]).time.encoding['units'])", zarr);
    const series = at("n.zarr");
    let r = cli(["convert", at("n0.nc"), at("n1.nc"), at("n2.nc"), series]);
    assert.equal(r.status, 0, r.stderr);
    assertMatchesSources(series, [at("n0.nc"), at("n1.nc"), at("n2.nc")], ["--concat-dim", "time"]);
    assert.equal(units(series), "nanoseconds since 2021-03-01 00:00:00.000000123");

    const joined = at("w.zarr");
    r = cli(["convert", at("w0.nc"), at("w1.nc"), joined, "-v"]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /stored as int64 'hours since 2021-01-01'.*beyond 2\^53/);
    assertMatchesSources(joined, [at("w0.nc"), at("w1.nc")], ["--concat-dim", "time"]);

    // Sub-microsecond times 153 days apart: no unit holds them exactly; refused, nothing written.
    r = cli(["convert", at("n0.nc"), at("far.nc"), at("far.zarr")]);
    assert.equal(r.status, 4, r.stderr);
    assert.match(r.stderr, /no time unit holds this series exactly/);

    const template = at("t.zarr");
    r = cli(["create-template", at("w0.nc"), template, "--global-start", "2021-01-01", "--global-end", "2021-12-31T23:00", "--freq", "1h"]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(units(template), "hours since 2021-01-01");
    for (const f of ["w1.nc", "w0.nc"]) assert.equal(cli(["write-region", at(f), template]).status, 0);
    assertMatchesSources(template, [at("w1.nc")], ["--isel", "time=5088:5092"]);
    assertMatchesSources(template, [at("w0.nc")], ["--isel", "time=0:4"]);

    // An archive kept in nanoseconds since 2021-01-01 cannot hold August's times exactly.
    const archive = at("a.zarr");
    assert.equal(cli(["convert", at("w0.nc"), archive]).status, 0);
    const before = hashTree(archive);
    r = cli(["append", at("w1.nc"), archive]);
    assert.equal(r.status, 4, r.stderr);
    assert.match(r.stderr, /w1\.nc: 2021-08-01 00:00:00 is 18316800000000000 nanoseconds from 2021-01-01 00:00:00, beyond the 2\^53/);
    assert.equal(hashTree(archive), before, "a refused append leaves the archive byte-identical");
  });

  test("times are stored in a type that holds them: int16 hours reaching past 32,767 widen to int64 (convert, create-template); a fixed archive type that cannot hold them refuses (append)", () => {
    const dir = outDir("time-types");
    runPython(
      `import sys, netCDF4 as nc, numpy as np
d = sys.argv[1]
def write(name, dtype, units, values, nat=False):
    f = nc.Dataset(f"{d}/{name}", "w"); f.createDimension("time", None); f.createDimension("x", 2)
    t = f.createVariable("time", dtype, ("time",)); t.units = units; t.calendar = "standard"; t[:] = np.array(values, dtype)
    v = f.createVariable("v", "f4", ("time", "x")); v[:] = np.arange(2 * len(values)).reshape(len(values), 2) + values[0]
    f.close()
# int16 hours since each file's year: 2023-12-31 is 35,040 hours after 2020-01-01.
write("i0.nc", "i2", "hours since 2020-01-01", [0, 1]); write("i1.nc", "i2", "hours since 2023-12-31", [0, 1])
# float32 hours since 1900 (GrADS, CDO -b F32): seconds after 02:00 are not float32 numbers of hours.
write("f0.nc", "f4", "hours since 1900-01-01", [1051896, 1051897]); write("f1.nc", "f4", "seconds since 2020-01-01 02:00", [1, 2])
# xarray writes a missing time (NaT) as int64's least value, with no _FillValue.
write("nat.nc", "i8", "days since 2020-01-01", [2, -2**63])`,
      dir,
    );
    const at = (f: string) => path.join(dir, f);
    const times = (zarr: string) => runPython("import sys, xarray as xr; t = xr.open_zarr(sys.argv[1]).time; print(t.encoding['dtype'], *[str(x)[:19] for x in t.values])", zarr);
    let r = cli(["convert", at("i0.nc"), at("i1.nc"), at("i.zarr")]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(times(at("i.zarr")), "int64 2020-01-01T00:00:00 2020-01-01T01:00:00 2023-12-31T00:00:00 2023-12-31T01:00:00");
    r = cli(["create-template", at("i0.nc"), at("t.zarr"), "--global-start", "2020-01-01", "--global-end", "2023-12-31T01:00", "--freq", "1h"]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(times(at("t.zarr")), /^int64 2020-01-01T00:00:00 .* 2023-12-31T00:00:00 2023-12-31T01:00:00$/);
    // The archive's int16 cannot hold 35,040: refused, untouched.
    assert.equal(cli(["convert", at("i0.nc"), at("a.zarr")]).status, 0);
    let before = hashTree(at("a.zarr"));
    r = cli(["append", at("i1.nc"), at("a.zarr")]);
    assert.equal(r.status, 4, r.stderr);
    assert.match(r.stderr, /i1\.nc: time 2023-12-31 00:00:00 is 35040 in the archive's 'hours since 2020-01-01', which its int16 cannot hold exactly/);
    assert.equal(hashTree(at("a.zarr")), before);
    // float32: 02:00:01 and 02:00:02 would both be stored as 02:00:00.
    assert.equal(cli(["convert", at("f0.nc"), at("f.zarr")]).status, 0);
    before = hashTree(at("f.zarr"));
    r = cli(["append", at("f1.nc"), at("f.zarr")]);
    assert.equal(r.status, 4, r.stderr);
    assert.match(r.stderr, /f1\.nc: time 2020-01-01 02:00:01 is 1051898\.000277\d* in the archive's 'hours since 1900-01-01', which its float32 cannot hold exactly/);
    assert.equal(hashTree(at("f.zarr")), before);
    // Joined by convert, the same files are exact.
    r = cli(["convert", at("f0.nc"), at("f1.nc"), at("fj.zarr")]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(times(at("fj.zarr")), "int64 2020-01-01T00:00:00 2020-01-01T01:00:00 2020-01-01T02:00:01 2020-01-01T02:00:02");
    r = cli(["convert", at("i0.nc"), at("nat.nc"), at("nat.zarr")]);
    assert.equal(r.status, 4, r.stderr);
    assert.match(r.stderr, /nat\.nc, variable '\/time': time step 1 has no valid value \(NaT, a missing time as xarray writes it\)/);
  });

  test("time bounds as xarray writes them (int64, in units of their own: 'days since' the first bound, the time 'days since' the first time) join in convert, append, create-template + write-region; an archive's own bounds units are kept", () => {
    const dir = outDir("time-bounds-own-units");
    runPython(
      `import sys, numpy as np, pandas as pd, xarray as xr
d = sys.argv[1]
def daily(i, units=None):
    t = pd.date_range(f"2020-01-0{1 + 2 * i}T12:00", periods=2, freq="D")
    ds = xr.Dataset({"tas": ("time", np.array([1.0, 2.0], "f4") + i), "time_bnds": (("time", "nv"), np.stack([t.values - np.timedelta64(12, "h"), t.values + np.timedelta64(12, "h")], axis=1))}, coords={"time": t})
    ds.time.attrs["bounds"] = "time_bnds"
    return ds
for i in range(3): daily(i).to_netcdf(f"{d}/f{i}.nc")
# An archive xarray wrote with whole hours in both: the bounds' reference is 12 hours before the time's.
daily(0).to_zarr(f"{d}/hours.zarr", zarr_format=3, consolidated=True, encoding={"time": {"units": "hours since 2020-01-01 12:00:00", "dtype": "int64"}, "time_bnds": {"units": "hours since 2020-01-01 00:00:00", "dtype": "int64"}})`,
      dir,
    );
    const files = [0, 1, 2].map((i) => path.join(dir, `f${i}.nc`));
    joinedAndAppended(dir, "daily", files);
    let r;
    const template = path.join(dir, "template.zarr");
    r = cli(["create-template", files[0]!, template, "--global-start", "2020-01-01T12:00", "--global-end", "2020-01-07T12:00", "--freq", "1D"]);
    assert.equal(r.status, 0, r.stderr);
    r = cli(["write-region", files[2]!, files[1]!, files[0]!, template]);
    assert.equal(r.status, 0, r.stderr);
    assertMatchesSources(template, files, ["--concat-dim", "time", "--isel", "time=0:6"]);
    // A step no file filled: its bounds read as missing, not as the units' reference date.
    assert.equal(runPython("import sys, xarray as xr; print(xr.open_zarr(sys.argv[1]).time_bnds.values[6])", template), "['NaT' 'NaT']");
    const hours = path.join(dir, "hours.zarr");
    r = cli(["append", files[1]!, hours]);
    assert.equal(r.status, 0, r.stderr);
    assertMatchesSources(hours, files.slice(0, 2), ["--concat-dim", "time"]);
    assert.equal(runPython("import sys, zarr; print(zarr.open(sys.argv[1])['time_bnds'].attrs['units'])", hours), "hours since 2020-01-01", "as xarray wrote them");
  });

  test("times of their own beside the coordinate (cfgrib's valid_time) and durations (a lead in 'days', then 'hours'), in units xarray picks per file, are re-expressed, not refused", () => {
    const dir = outDir("time-own-units");
    runPython(
      `import sys, os, numpy as np, pandas as pd, xarray as xr
d = sys.argv[1]
steps = pd.to_timedelta([0, 6, 12], unit="h")
for i in range(3):
    times = pd.date_range(f"2020-01-0{1 + i}", periods=2, freq="12h")
    xr.Dataset({"t2m": (("time", "step", "latitude"), np.random.default_rng(i).random((2, 3, 2)).astype("f4"))},
               coords={"time": times, "step": steps, "latitude": [50.0, 49.75], "valid_time": (("time", "step"), times.values[:, None] + steps.values[None, :])}).to_netcdf(f"{d}/fc{i}.nc")
    t = pd.date_range(f"2020-01-0{1 + 2 * i}", periods=2, freq="D")
    lead = np.array([[48, 72], [6, 9], [24, 30]][i], dtype="timedelta64[h]").astype("timedelta64[ns]")
    xr.Dataset({"x": ("time", np.arange(2.0)), "lead": ("time", lead)}, coords={"time": t}).to_netcdf(f"{d}/lead{i}.nc")`,
      dir,
    );
    const fc = [0, 1, 2].map((i) => path.join(dir, `fc${i}.nc`));
    const lead = [0, 1, 2].map((i) => path.join(dir, `lead${i}.nc`));
    const units = runPython("import sys, netCDF4; a, b, c, d = sys.argv[1:]; print(netCDF4.Dataset(a)['valid_time'].units, netCDF4.Dataset(b)['valid_time'].units, netCDF4.Dataset(c)['lead'].units, netCDF4.Dataset(d)['lead'].units, sep='|')", fc[0]!, fc[1]!, lead[0]!, lead[1]!);
    assert.equal(units, "hours since 2020-01-01 00:00:00|hours since 2020-01-02 00:00:00|days|hours", "xarray picked other units per file");
    const { appended } = joinedAndAppended(dir, "fc", fc);
    assert.equal(cli(["validate", appended, ...fc]).status, 0);
    let r;
    const template = path.join(dir, "fc-template.zarr");
    r = cli(["create-template", fc[0]!, template, "--global-start", "2020-01-01", "--global-end", "2020-01-03T12:00", "--freq", "12h"]);
    assert.equal(r.status, 0, r.stderr);
    r = cli(["write-region", fc[2]!, fc[0]!, fc[1]!, template]);
    assert.equal(r.status, 0, r.stderr);
    assertMatchesSources(template, fc, ["--concat-dim", "time"]);
    const leads = path.join(dir, "lead.zarr");
    r = cli(["convert", ...lead, leads]);
    assert.equal(r.status, 0, r.stderr);
    assertMatchesSources(leads, lead, ["--concat-dim", "time"]);
    // An archive holding whole days as int64 cannot hold 6 hours: refused, untouched.
    const days = path.join(dir, "lead-days.zarr");
    assert.equal(cli(["convert", lead[0]!, days]).status, 0);
    const before = hashTree(days);
    r = cli(["append", lead[1]!, days]);
    assert.equal(r.status, 4, r.stderr);
    assert.match(r.stderr, /lead1\.nc, variable '\/lead': value 6 'hours' is 0\.25 in the archive's 'days', which its int64 cannot hold exactly/);
    assert.equal(hashTree(days), before);
    // A lead as int64 hours, then as float64 days with NaN for missing; an int64 ns valid_time
    // 7 months apart (stored in the axis's whole seconds, as the coordinate is).
    runPython(
      `import sys, netCDF4 as nc, numpy as np
d = sys.argv[1]
for i, (dtype, units, lead) in enumerate((("i8", "hours", [1, 2]), ("f8", "days", [0.125, np.nan]))):
    f = nc.Dataset(f"{d}/mixed{i}.nc", "w"); f.createDimension("time", None)
    t = f.createVariable("time", "f8", ("time",)); t.units = "hours since 2020-01-01"; t[:] = [2 * i, 2 * i + 1]
    l = f.createVariable("lead", dtype, ("time",), fill_value=np.nan if dtype == "f8" else None); l.units = units; l.setncattr("dtype", "timedelta64[ns]"); l[:] = lead
    f.close()
for i, base in enumerate(("2020-01-01", "2020-08-01")):
    f = nc.Dataset(f"{d}/vt{i}.nc", "w"); f.createDimension("time", None)
    t = f.createVariable("time", "i8", ("time",)); t.units = "nanoseconds since " + base; t[:] = [0, 1_000_000_000]
    v = f.createVariable("valid_time", "i8", ("time",), fill_value=np.int64(-9223372036854775806)); v.units = "nanoseconds since " + base
    v[:] = np.ma.masked_array([3_600_000_000_000, 0], mask=[False, True]); f.close()`,
      dir,
    );
    for (const name of ["mixed", "vt"]) {
      const parts = [0, 1].map((i) => path.join(dir, `${name}${i}.nc`));
      const out = path.join(dir, `${name}.zarr`);
      r = cli(["convert", ...parts, out]);
      assert.equal(r.status, 0, r.stderr);
      assertMatchesSources(out, parts, ["--concat-dim", "time"]);
    }
  });

  test("times of their own are re-expressed only where they can be: not along an axis that is not CF time, not when packed, not in units zarrio does not read", () => {
    const dir = outDir("time-own-limits");
    runPython(
      `import sys, netCDF4 as nc, numpy as np
d = sys.argv[1]
def part(name, i, time_units, var_units, scale=None):
    f = nc.Dataset(f"{d}/{name}{i}.nc", "w"); f.createDimension("time", None)
    t = f.createVariable("time", "f8", ("time",)); t.units = time_units; t[:] = [20200101.0 + 2 * i, 20200102.0 + 2 * i] if "%" in time_units else [2 * i, 2 * i + 1]
    v = f.createVariable("obs_time", "i2" if scale else "f8", ("time",)); v.units = var_units
    if scale: v.scale_factor = np.float32(scale); v.set_auto_maskandscale(False); v[:] = np.array([4, 8], "i2") if i == 0 else np.array([2, 4], "i2")
    else: v[:] = [1.0, 2.0]
    f.close()
for i in range(2):
    part("raw", i, "day as %Y%m%d.%f", f"hours since 2020-01-0{1 + i}")
    part("packed", i, "hours since 2020-01-01", "hours since 2020-01-01", [0.5, 1.0][i])
    part("months", i, "hours since 2020-01-01", "months since 2020-01")`,
      dir,
    );
    const at = (name: string) => [0, 1].map((i) => path.join(dir, `${name}${i}.nc`));
    // Without a CF time axis nothing is re-expressed: other units are refused, as before.
    let r = cli(["convert", ...at("raw"), path.join(dir, "raw.zarr")]);
    assert.equal(r.status, 4, r.stderr);
    assert.match(r.stderr, /raw1\.nc, variable 'obs_time': has units 'hours since 2020-01-02', the archive has 'hours since 2020-01-01'/);
    // Packed times are data: decoded with each file's own scale, as xarray reads them.
    for (const name of ["packed", "months"]) {
      const out = path.join(dir, `${name}.zarr`);
      r = cli(["convert", ...at(name), out]);
      assert.equal(r.status, 0, `${name}: ${r.stderr}`);
      assertMatchesSources(out, at(name), ["--concat-dim", "time"]);
    }
    // One file alone, with times of its own in units zarrio does not read: copied as stored.
    r = cli(["convert", at("months")[0]!, path.join(dir, "months-one.zarr")]);
    assert.equal(r.status, 0, r.stderr);
  });

  test("create-template of hourly steps from a 'days since' file: xarray reads every hour exactly", () => {
    const archive = path.join(outDir("time-template-hourly"), "t.zarr");
    // (The daily file itself would not fit this hourly axis: the CLI warns so, and that is all.)
    const r = cli(["create-template", fixture("classic.nc"), archive, "--global-start", "2000-01-01", "--global-end", "2000-12-31T23:00", "--freq", "1h", "-v"]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /stored as int64 'hours since 2000-01-01 00:00:00'/, "the log says why the units differ from the file's");
    const check = python([
      "-c",
      `import xarray as xr, numpy as np
t = xr.open_zarr(${JSON.stringify(archive)}).time
ns = t.values.astype("int64")
print(t.encoding["units"], t.encoding["dtype"], t.size, int((ns % 3_600_000_000_000 != 0).sum()), str(t.values[-1])[:19])`,
    ]);
    assert.equal(check.status, 0, check.stderr);
    assert.equal(check.stdout.trim(), "hours since 2000-01-01 00:00:00 int64 8784 0 2000-12-31T23:00:00");
  });
  test("a missing time bound (its _FillValue) stays missing when re-expressed, and validate agrees with the archive", () => {
    const dir = outDir("time-bounds-missing");
    const made = python([
      "-c",
      `import netCDF4, numpy as np
paths = []
for k, start in enumerate(["2024-01-01 00:00", "2024-01-01 02:00"]):
    p = ${JSON.stringify(dir)} + f"/m{k}.nc"
    with netCDF4.Dataset(p, "w") as d:
        d.createDimension("time", None); d.createDimension("nv", 2); d.createDimension("x", 3)
        t = d.createVariable("time", "f8", ("time",)); t.units = f"hours since {start}"; t.calendar = "standard"; t.bounds = "time_bnds"
        t[:] = [0, 1]
        b = d.createVariable("time_bnds", "f8", ("time", "nv"), fill_value=-999.0)
        b[:] = [[0, 1], [1, -999.0 if k else 2]]
        v = d.createVariable("v", "f4", ("time", "x")); v[:] = np.arange(6, dtype="f4").reshape(2, 3) + 10 * k
    paths.append(p)
print("\\n".join(paths))`,
    ]);
    assert.equal(made.status, 0, made.stderr);
    const files = made.stdout.trim().split("\n");
    const joined = path.join(dir, "joined.zarr");
    let r = cli(["convert", ...files, joined, "-q"]);
    assert.equal(r.status, 0, r.stderr);
    assertMatchesSources(joined, files);
    r = cli(["validate", joined, ...files, "-q"]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });
  test("time bounds in each file's own units (no units of their own, as CF allows): convert, append and write-region store them in the archive's", () => {
    const dir = outDir("time-bounds");
    // Three files of 24 hourly steps at half past, each counting hours from its own midnight: the
    // times are fractions of an hour, so the joined axis is whole minutes.
    const made = python([
      "-c",
      `import netCDF4, numpy as np, datetime as dt
paths = []
for k, (start, offset) in enumerate([("2020-01-01 00:00", 0.5), ("2020-01-02 00:00", 0.5), ("2020-01-03 00:00", 0.5)]):
    p = ${JSON.stringify(dir)} + f"/b{k}.nc"
    with netCDF4.Dataset(p, "w") as d:
        d.createDimension("time", 24); d.createDimension("nv", 2); d.createDimension("x", 3)
        t = d.createVariable("time", "f8", ("time",)); t.units = f"hours since {start}"; t.calendar = "standard"; t.bounds = "time_bnds"
        t[:] = np.arange(24) + offset
        b = d.createVariable("time_bnds", "f8", ("time", "nv")); b[:, 0] = np.arange(24) + offset - 0.5; b[:, 1] = np.arange(24) + offset + 0.5
        v = d.createVariable("v", "f4", ("time", "x")); v[:] = np.arange(72, dtype="f4").reshape(24, 3) + 100 * k
    paths.append(p)
print("\\n".join(paths))`,
    ]);
    assert.equal(made.status, 0, made.stderr);
    const files = made.stdout.trim().split("\n");
    const joined = path.join(dir, "joined.zarr");
    let r = cli(["convert", ...files, joined, "-q"]);
    assert.equal(r.status, 0, r.stderr);
    assertMatchesSources(joined, files);
    // validate re-expresses the files' bounds as the writers do before comparing them.
    r = cli(["validate", joined, ...files, "-q"]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const appended = path.join(dir, "appended.zarr");
    r = cli(["convert", files[0]!, appended, "-q"]);
    assert.equal(r.status, 0, r.stderr);
    r = cli(["append", files[1]!, appended, "-q"]);
    assert.equal(r.status, 0, r.stderr);
    assertMatchesSources(appended, files.slice(0, 2));
    const regions = path.join(dir, "regions.zarr");
    r = cli(["create-template", files[0]!, regions, "--global-start", "2020-01-01T00:30", "--global-end", "2020-01-02T23:30", "--freq", "1h", "-q"]);
    assert.equal(r.status, 0, r.stderr);
    r = cli(["write-region", files[1]!, files[0]!, regions, "-q"]);
    assert.equal(r.status, 0, r.stderr);
    assertMatchesSources(regions, files.slice(0, 2));
  });
});
