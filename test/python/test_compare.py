"""Self-tests of compare.py: it must say OK for a faithful copy and name each kind of damage.

Run with the test venv:  $ZARRIO_PYTHON -m pytest test/python -q
Faithful copies are written by xarray's own to_zarr (v2 and v3); damage is done afterwards with zarr-python.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import warnings

import netCDF4
import numpy as np
import pytest
import xarray as xr
import zarr

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import compare  # noqa: E402

warnings.filterwarnings("ignore")  # zarr's "unstable v3 dtype" and consolidated-metadata notices

NT, NLAT, NLON = 6, 4, 5


# ----------------------------------------------------------------------------------------------- fixtures
def make_netcdf(path: str, t0: int = 0, nt: int = NT) -> None:
    """A NetCDF-4 file with the awkward parts: fill values, packed ints, unsigned bytes, char and string
    variables, float-array attributes, nested groups, an empty group and a 360_day calendar."""
    rng = np.random.default_rng(42)
    with netCDF4.Dataset(path, "w") as nc:
        nc.title = "compare.py fixture"
        nc.history = "made by test_compare.py"
        nc.levels = np.array([1.5, 2.5, 10.0], "f4")
        nc.count = np.int32(7)
        nc.setncattr("_NCsecret", "hidden by xarray's zarr reader")
        nc.createDimension("time", None)
        nc.createDimension("lat", NLAT)
        nc.createDimension("lon", NLON)
        nc.createDimension("nv", 2)
        nc.createDimension("station", 3)
        nc.createDimension("strlen", 8)

        t = nc.createVariable("time", "f8", ("time",))
        t.units = "hours since 2000-01-01 00:00"
        t.calendar = "standard"
        t.standard_name = "time"
        t.bounds = "time_bnds"
        hours = np.arange(t0, t0 + nt, dtype="f8") * 6
        t[:] = hours
        tb = nc.createVariable("time_bnds", "f8", ("time", "nv"))
        tb[:] = np.stack([hours - 3, hours + 3], axis=1)

        lat = nc.createVariable("lat", "f4", ("lat",))
        lat.units = "degrees_north"
        lat[:] = np.linspace(-45, 45, NLAT)
        lon = nc.createVariable("lon", "f4", ("lon",))
        lon.units = "degrees_east"
        lon[:] = np.linspace(0, 80, NLON)

        temp = nc.createVariable("temp", "f4", ("time", "lat", "lon"), fill_value=np.float32(-999.0),
                                 zlib=True, chunksizes=(2, NLAT, NLON))
        temp.units = "K"
        temp.long_name = "air temperature"
        temp.valid_range = np.array([150, 350], "f4")
        data = (250 + 30 * rng.standard_normal((NT + 10, NLAT, NLON))).astype("f4")
        data[0, 0, 0] = -999.0  # masked: reads as NaN (at absolute time 0, so split files agree)
        temp[:] = data[t0:t0 + nt]

        precip = nc.createVariable("precip", "i2", ("time", "lat", "lon"), fill_value=np.int16(-32767))
        precip.scale_factor = np.float32(0.01)
        precip.add_offset = np.float32(5.0)
        precip.units = "mm"
        precip[:] = (5 + 2 * rng.random((NT + 10, NLAT, NLON)))[t0:t0 + nt]

        mask = nc.createVariable("mask", "i1", ("lat", "lon"))
        mask._Unsigned = "true"
        mask[:] = np.arange(NLAT * NLON, dtype="i1").reshape(NLAT, NLON) * 12  # wraps: >127 as unsigned

        name = nc.createVariable("station_name", "S1", ("station", "strlen"))
        name[:] = netCDF4.stringtochar(np.array(["alpha", "beta", "gamma"], "S8"))
        label = nc.createVariable("label", str, ("station",))
        for i, s in enumerate(["één", "two", "drei"]):
            label[i] = s

        fc = nc.createGroup("forecast")
        fc.comment = "group attribute"
        fc.createDimension("step", 3)
        ft = fc.createVariable("valid", "f8", ("step",))
        ft.units = "days since 2001-02-28"
        ft.calendar = "360_day"
        ft[:] = [0, 1, 2]  # 2001-02-28, 2001-02-29, 2001-02-30: only valid in 360_day
        fv = fc.createVariable("wind", "f8", ("step",))
        fv[:] = [1.0, np.nan, 3.0]
        deep = fc.createGroup("deep")
        dv = deep.createVariable("answer", "i8", ())
        dv[...] = 42
        nc.createGroup("empty")


def write_zarr(nc_path: str, store: str, fmt: int, encoding: dict | None = None, group: str = "/",
               variables: list[str] | None = None) -> None:
    """A faithful Zarr copy made by xarray: every NetCDF group, then consolidated metadata once, last."""
    encoding = encoding or {}
    for i, g in enumerate(compare.netcdf_groups(nc_path)):
        ds = xr.open_dataset(nc_path, engine="netcdf4", group=compare.xr_group(g))
        for v in ds.variables.values():
            # Forget the NetCDF storage encoding (chunks, zlib, _Unsigned int8 storage...): let xarray choose
            # Zarr-native ones; keep time units/calendar (else 'standard' becomes 'proleptic_gregorian').
            v.encoding = {k: v.encoding[k] for k in ("units", "calendar") if k in v.encoding}
        if variables is not None:  # like compare.py's --variables: the same names in every group
            ds = ds[[v for v in variables if v in ds.variables]]
        ds.to_zarr(store, group=compare.xr_group(compare.join_path(group, g)), mode="w" if i == 0 else "a",
                   zarr_format=fmt, consolidated=False, encoding=encoding.get(g))
        ds.close()  # explicitly, on this thread: see compare.close_all
    zarr.consolidate_metadata(store)


def run_compare(*args: str) -> tuple[int, dict]:
    out = subprocess.run([sys.executable, os.path.join(HERE, "compare.py"), "--json", *args],
                         capture_output=True, text=True)
    assert out.returncode in (0, 1), out.stderr
    return out.returncode, json.loads(out.stdout)


def compare_api(*args: str) -> compare.Report:
    """compare.run in-process (faster than a subprocess per case)."""
    return compare.run(compare.parse_args(list(args)))


def kinds(report: compare.Report) -> set[tuple[str, str]]:
    return {(p["where"], p["kind"]) for p in report.problems}


@pytest.fixture(scope="session")
def nc(tmp_path_factory) -> str:
    path = str(tmp_path_factory.mktemp("nc") / "src.nc")
    make_netcdf(path)
    return path


@pytest.fixture(scope="session", params=[2, 3], ids=["v2", "v3"])
def good(request, nc, tmp_path_factory) -> tuple[str, int]:
    store = str(tmp_path_factory.mktemp(f"z{request.param}") / "good.zarr")
    write_zarr(nc, store, request.param)
    return store, request.param


@pytest.fixture
def copy(good, tmp_path) -> tuple[str, int]:
    """A private copy of the good store to damage."""
    store, fmt = good
    dst = str(tmp_path / "damaged.zarr")
    shutil.copytree(store, dst)
    return dst, fmt


# ----------------------------------------------------------------------------------------------- OK cases
def test_faithful_copy_is_ok(good, nc):
    store, fmt = good
    r = compare_api("--zarr", store, "--source", nc)
    assert r.problems == [], r.problems
    assert r.checked["zarr_format"] == fmt
    assert r.checked["consolidated"] is True
    assert set(r.checked["groups"]) == {"/", "/forecast", "/forecast/deep", "/empty"}
    assert r.checked["variables"] >= 11
    assert "/_NCsecret" in r.checked["ignored_attrs"]


def test_cli_json_ok(good, nc):
    store, _ = good
    code, rep = run_compare("--zarr", store, "--source", nc)
    assert code == 0 and rep["ok"] is True and rep["problems"] == []
    assert rep["checked"]["values"] > NT * NLAT * NLON


def test_cli_human_summary(good, nc):
    store, _ = good
    out = subprocess.run([sys.executable, os.path.join(HERE, "compare.py"), "--zarr", store, "--source", nc],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.startswith("OK ")


def test_packed_within_half_step(nc, tmp_path):
    sf = 0.01
    for fmt in (2, 3):
        store = str(tmp_path / f"packed{fmt}.zarr")
        enc = {"/": {"temp": {"dtype": "int16", "scale_factor": np.float32(sf), "add_offset": np.float32(250.0),
                              "_FillValue": np.int16(-32768)}}}
        write_zarr(nc, store, fmt, encoding=enc)
        r = compare_api("--zarr", store, "--source", nc)
        assert r.problems == [], r.problems
        info = r.checked["packed"]["/temp"]
        assert info["tolerance"] == pytest.approx(sf / 2)
        assert 0 < info["max_abs_error"] <= sf / 2 * 1.001
        # A tolerance smaller than the rounding must fail: the check is really looking at the values.
        r = compare_api("--zarr", store, "--source", nc, "--packed-tolerance", "0.0001")
        assert ("/temp", "values") in kinds(r)


def test_packed_value_out_of_tolerance(nc, tmp_path):
    store = str(tmp_path / "packed.zarr")
    enc = {"/": {"temp": {"dtype": "int16", "scale_factor": np.float32(0.01), "add_offset": np.float32(250.0),
                          "_FillValue": np.int16(-32768)}}}
    write_zarr(nc, store, 3, encoding=enc)
    arr = zarr.open_array(store, path="temp", mode="r+")
    arr[1, 1, 1] = arr[1, 1, 1] + 2  # two steps off
    r = compare_api("--zarr", store, "--source", nc)
    assert ("/temp", "values") in kinds(r)
    arr[1, 1, 1] = -32768  # the fill value: NaN in the store where the source has a number
    r = compare_api("--zarr", store, "--source", nc)
    p = [p for p in r.problems if p["where"] == "/temp"][0]
    assert "only one side is NaN" in p["message"]


def test_several_sources_concatenated(tmp_path):
    a, b, full = (str(tmp_path / n) for n in ("a.nc", "b.nc", "full.nc"))
    make_netcdf(a, 0, 3)
    make_netcdf(b, 3, 3)
    make_netcdf(full, 0, 6)
    store = str(tmp_path / "full.zarr")
    write_zarr(full, store, 3)
    r = compare_api("--zarr", store, "--source", a, "--source", b, "--concat-dim", "time")
    assert r.problems == [], r.problems
    r = compare_api("--zarr", store, "--source", b, "--source", a)  # wrong order: times don't match
    assert ("/time", "values") in kinds(r)


def test_region_with_isel(tmp_path):
    part, full = str(tmp_path / "part.nc"), str(tmp_path / "full.nc")
    make_netcdf(part, 2, 3)
    make_netcdf(full, 0, 6)
    store = str(tmp_path / "archive.zarr")
    write_zarr(full, store, 2)
    assert compare_api("--zarr", store, "--source", part, "--isel", "time=2:5").problems == []
    assert ("/time", "values") in kinds(compare_api("--zarr", store, "--source", part, "--isel", "time=1:4"))


def test_variables_and_group_options(nc, tmp_path):
    store = str(tmp_path / "sel.zarr")
    write_zarr(nc, store, 3, variables=["temp"], group="/sub")
    # Without the options: the group is elsewhere and variables are missing.
    assert not compare_api("--zarr", store, "--source", nc).problems == []
    r = compare_api("--zarr", store, "--source", nc, "--group", "/sub", "--variables", "temp")
    assert r.problems == [], r.problems
    r = compare_api("--zarr", store, "--source", nc, "--group", "/sub", "--variables", "temp,nosuch")
    assert ("/", "variables") in kinds(r)


def test_undecodable_times_compared_raw(tmp_path):
    nc = str(tmp_path / "year0.nc")
    with netCDF4.Dataset(nc, "w") as ds:
        ds.createDimension("time", 3)
        t = ds.createVariable("time", "f8", ("time",))
        t.units = "days since 0000-01-01"
        t.calendar = "standard"
        t[:] = [0, 1, 2]
        t2 = ds.createVariable("ok_time", "f8", ("time",))
        t2.units = "days since 2000-01-01"
        t2[:] = [0, 1, 2]
    src = xr.open_dataset(nc, decode_times=False)
    for v in src.variables.values():
        v.encoding = {}
    store = str(tmp_path / "year0.zarr")
    src.to_zarr(store, zarr_format=3, mode="w")
    src.close()  # explicitly, on this thread: see compare.close_all
    r = compare_api("--zarr", store, "--source", nc)
    assert r.problems == [], r.problems
    assert r.checked["raw_times"] == ["/time"]
    # Raw means raw: a changed number is still found.
    zarr.open_array(store, path="time", mode="r+")[1] = 5
    assert ("/time", "values") in kinds(compare_api("--zarr", store, "--source", nc))


# ----------------------------------------------------------------------------------------------- damage
def test_corrupt_value(copy, nc):
    store, _ = copy
    arr = zarr.open_array(store, path="temp", mode="r+")
    arr[3, 2, 1] = arr[3, 2, 1] + 0.5
    code, rep = run_compare("--zarr", store, "--source", nc)
    assert code == 1 and rep["ok"] is False
    p = [p for p in rep["problems"] if p["where"] == "/temp" and p["kind"] == "values"][0]
    assert p["count"] == 1 and p["first"]["index"] == [3, 2, 1]


def test_nan_where_source_has_value(copy, nc):
    store, _ = copy
    zarr.open_array(store, path="forecast/wind", mode="r+")[0] = np.nan
    assert ("/forecast/wind", "values") in kinds(compare_api("--zarr", store, "--source", nc))


def _edit_attrs(store: str, path: str, fn) -> None:
    node = zarr.open(store, path=path, mode="r+") if path else zarr.open_group(store, mode="r+")
    attrs = dict(node.attrs)
    fn(attrs)
    node.attrs.clear()
    node.attrs.update(attrs)
    zarr.consolidate_metadata(store)


def test_dropped_variable_attribute(copy, nc):
    store, _ = copy
    _edit_attrs(store, "temp", lambda a: a.pop("long_name"))
    r = compare_api("--zarr", store, "--source", nc)
    assert ("/temp", "attrs") in kinds(r)
    assert "long_name" in " ".join(p["message"] for p in r.problems)


def test_changed_group_attribute(copy, nc):
    store, _ = copy
    _edit_attrs(store, "forecast", lambda a: a.update(comment="other"))
    assert ("/forecast", "attrs") in kinds(compare_api("--zarr", store, "--source", nc))
    _edit_attrs(store, "", lambda a: a.update(levels=[1.5, 2.5]))
    assert ("/", "attrs") in kinds(compare_api("--zarr", store, "--source", nc))


def test_extra_attribute_allowed_only_on_request(copy, nc):
    store, _ = copy
    _edit_attrs(store, "", lambda a: a.update(converted_by="zarrio"))
    assert ("/", "attrs") in kinds(compare_api("--zarr", store, "--source", nc))
    assert compare_api("--zarr", store, "--source", nc, "--allow-extra-attrs").problems == []
    assert compare_api("--zarr", store, "--source", nc, "--ignore-attrs", "converted_by").problems == []


def test_shifted_time(copy, nc):
    store, _ = copy
    arr = zarr.open_array(store, path="time", mode="r+")
    arr[:] = arr[:] + 1  # one unit (whatever xarray chose) later
    r = compare_api("--zarr", store, "--source", nc)
    assert ("/time", "values") in kinds(r)


def test_changed_calendar(copy, nc):
    store, _ = copy
    _edit_attrs(store, "forecast/valid", lambda a: a.update(calendar="noleap"))
    r = compare_api("--zarr", store, "--source", nc)
    # 2001-02-29 can't exist in noleap: it's either undecodable or a different date, plus the calendar.
    assert ("/forecast/valid", "calendar") in kinds(r) or ("/forecast", "open") in kinds(r)


def test_stale_consolidated_metadata(copy, nc):
    store, _ = copy
    node = zarr.open(store, path="temp", mode="r+")
    node.attrs["late"] = 1  # written after consolidation, which is not redone
    r = compare_api("--zarr", store, "--source", nc)
    assert ("/temp", "consolidated") in kinds(r)


def test_missing_consolidated_metadata(copy, nc):
    store, fmt = copy
    if fmt == 2:
        os.remove(os.path.join(store, ".zmetadata"))
    else:
        meta = json.load(open(os.path.join(store, "zarr.json")))
        meta.pop("consolidated_metadata", None)
        json.dump(meta, open(os.path.join(store, "zarr.json"), "w"))
    r = compare_api("--zarr", store, "--source", nc)
    assert ("/", "consolidated") in kinds(r)


def test_missing_group_and_variable(copy, nc):
    store, _ = copy
    g = zarr.open_group(store, mode="r+")
    del g["empty"]
    del g["forecast/wind"]
    zarr.consolidate_metadata(store)
    r = compare_api("--zarr", store, "--source", nc)
    assert ("/empty", "groups") in kinds(r)
    assert ("/forecast", "variables") in kinds(r)


def test_changed_text(copy, nc):
    store, _ = copy
    arr = zarr.open_array(store, path="station_name", mode="r+")
    arr[1] = b"betA"
    lab = zarr.open_array(store, path="label", mode="r+")
    lab[0] = "een"
    r = compare_api("--zarr", store, "--source", nc)
    assert ("/station_name", "values") in kinds(r)
    assert ("/label", "values") in kinds(r)


def test_signedness_lost(nc, tmp_path):
    # xarray's own to_zarr keeping the NetCDF int8 storage: the _Unsigned byte comes back signed.
    store = str(tmp_path / "signed.zarr")
    ds = xr.open_dataset(nc)
    ds["mask"] = ds["mask"].astype("int8")
    for v in ds.variables.values():
        v.encoding = {}
    ds.to_zarr(store, zarr_format=3, mode="w")
    ds.close()
    r = compare_api("--zarr", store, "--source", nc, "--source-group", "/", "--variables",
                    ",".join(k for k in ds.data_vars))
    assert ("/mask", "dtype") in kinds(r)
    assert ("/mask", "values") in kinds(r)


def test_bad_arguments_exit_2(nc):
    out = subprocess.run([sys.executable, os.path.join(HERE, "compare.py"), "--zarr", "x", "--source", nc,
                          "--packed-tolerance", "lots"], capture_output=True, text=True)
    assert out.returncode == 2


def test_unopenable_store_is_a_problem(nc, tmp_path):
    code, rep = run_compare("--zarr", str(tmp_path / "nothing.zarr"), "--source", nc)
    assert code == 1 and rep["problems"][0]["kind"] == "open"


# ----------------------------------------------------------------------------------------------- zarr_info.py
def test_zarr_info_reports_what_zarr_python_sees(good):
    store, fmt = good
    out = subprocess.run([sys.executable, os.path.join(HERE, "zarr_info.py"), store], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout)  # strict JSON: NaN fill values are strings
    assert info["zarr_format"] == fmt and info["consolidated"] is True
    assert set(info["groups"]) == {"/", "/forecast", "/forecast/deep", "/empty"}
    assert info["groups"]["/forecast"]["attributes"] == {"comment": "group attribute"}
    temp = info["arrays"]["/temp"]
    assert temp["shape"] == [NT, NLAT, NLON] and temp["dtype"] == "<f4" and temp["fill_value"] == "NaN"
    assert temp["dimension_names"] == ["time", "lat", "lon"]
    assert temp["attributes"]["long_name"] == "air temperature"
    assert info["arrays"]["/mask"]["dtype"] == "|u1"
    if fmt == 3:
        assert [c["name"] for c in temp["codecs"]][0] == "bytes"
    else:
        assert set(temp["codecs"]) == {"filters", "compressor"}


def test_zarr_info_missing_store(tmp_path):
    out = subprocess.run([sys.executable, os.path.join(HERE, "zarr_info.py"), str(tmp_path / "none.zarr")],
                         capture_output=True, text=True)
    assert out.returncode == 1 and "cannot read" in out.stderr
