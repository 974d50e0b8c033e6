#!/usr/bin/env python3
"""The stress harness's Python side (test/stress/): one long-lived process, so a thousand runs pay
Python's and xarray's start-up once. Reads one JSON request per line on stdin, answers one JSON
line on stdout.

    {"op": "make", "dir": D, "seed": S, "steps": [3, 17, ...], "lat": 8, "lon": 12,
     "vars": ["temperature", "salinity", "level"], "start": "2020-01-01"}
        -> {"files": [paths]}   a series, file k holding steps[k] hourly steps right after file k-1's
    {"op": "bad", "kind": "truncated"|"grid", "like": PATH, "out": PATH}
        -> {"file": PATH}       a file the writers must refuse: cut inside its header, or on another grid
    {"op": "compare", "zarr": Z, "sources": [paths]}
        -> {"ok": bool, "problems": [...], "values": N}   compare.py's check (xarray on both sides)

Variables: temperature float32 with _FillValue -999 and ~3 % NaN; salinity float64; level int16
packed with scale_factor 0.01 / add_offset 20 and _FillValue -32768 (the same in every file).
Each file has its own time units ("hours since <its first step>"). Deterministic for a seed.
Test-only, never part of the package.
"""
from __future__ import annotations

import json
import os
import sys
import traceback
import warnings

import cftime
import netCDF4
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare  # noqa: E402  (the suite's reference check)


def make(req: dict) -> dict:
    os.makedirs(req["dir"], exist_ok=True)
    lat = np.linspace(-60.0, 60.0, req["lat"])
    lon = np.linspace(0.0, 350.0, req["lon"])
    base = f"hours since {req.get('start', '2020-01-01')}"
    files = []
    first = 0
    for k, steps in enumerate(req["steps"]):
        rng = np.random.default_rng(req["seed"] * 1000 + k)
        path = os.path.join(req["dir"], f"part_{k:03d}.nc")
        t0 = cftime.num2date(first, base, calendar="standard")
        with netCDF4.Dataset(path, "w", format="NETCDF4") as ds:
            ds.title = "zarrio stress series"
            ds.createDimension("time", None)
            ds.createDimension("lat", len(lat))
            ds.createDimension("lon", len(lon))
            t = ds.createVariable("time", "f8", ("time",))
            t.units = f"hours since {t0.strftime('%Y-%m-%d %H:%M:%S')}"
            t.calendar = "standard"
            t.standard_name = "time"
            t[:] = np.arange(steps, dtype="f8")
            for name, values, units in (("lat", lat, "degrees_north"), ("lon", lon, "degrees_east")):
                v = ds.createVariable(name, "f8", (name,))
                v.units = units
                v[:] = values
            shape = (steps, len(lat), len(lon))
            hours = first + np.arange(steps)
            if "temperature" in req["vars"]:
                temp = 15 + 10 * np.sin(hours[:, None, None] / 24 * 2 * np.pi) + rng.normal(0, 0.5, shape)
                temp[rng.random(shape) < 0.03] = np.nan
                v = ds.createVariable("temperature", "f4", ("time", "lat", "lon"), fill_value=np.float32(-999.0))
                v.units = "degC"
                v[:] = np.ma.masked_invalid(temp.astype("f4"))
            if "salinity" in req["vars"]:
                v = ds.createVariable("salinity", "f8", ("time", "lat", "lon"))
                v.units = "psu"
                v[:] = 35 + rng.normal(0, 0.3, shape)
            if "level" in req["vars"]:
                v = ds.createVariable("level", "i2", ("time", "lat", "lon"), fill_value=np.int16(-32768))
                v.set_auto_maskandscale(False)
                v.scale_factor = np.float32(0.01)
                v.add_offset = np.float32(20.0)
                raw = rng.integers(-3000, 3000, shape).astype("i2")
                raw[rng.random(shape) < 0.02] = -32768
                v[:] = raw
        files.append(path)
        first += steps
    return {"files": files}


def bad(req: dict) -> dict:
    like, out = req["like"], req["out"]
    os.makedirs(os.path.dirname(out), exist_ok=True)
    if req["kind"] == "truncated":
        with open(like, "rb") as f:
            head = f.read(700)
        with open(out, "wb") as f:
            f.write(head)
    else:
        # The same file on a grid one latitude smaller: readable, and refused against the archive.
        with netCDF4.Dataset(like) as src, netCDF4.Dataset(out, "w", format="NETCDF4") as dst:
            dst.setncatts({a: src.getncattr(a) for a in src.ncattrs()})
            for name, dim in src.dimensions.items():
                dst.createDimension(name, None if dim.isunlimited() else len(dim) - (name == "lat"))
            for name, var in src.variables.items():
                fill = var.getncattr("_FillValue") if "_FillValue" in var.ncattrs() else None
                v = dst.createVariable(name, var.dtype, var.dimensions, fill_value=fill)
                v.set_auto_maskandscale(False)
                var.set_auto_maskandscale(False)
                v.setncatts({a: var.getncattr(a) for a in var.ncattrs() if a != "_FillValue"})
                data = var[:]
                if "lat" in var.dimensions:
                    data = np.take(data, range(data.shape[var.dimensions.index("lat")] - 1), axis=var.dimensions.index("lat"))
                v[:] = data
    return {"file": out}


def check(req: dict) -> dict:
    argv = ["--zarr", req["zarr"], "--concat-dim", "time"]
    for s in req["sources"]:
        argv += ["--source", s]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = compare.run(compare.parse_args(argv))
    compare.close_all()
    return {"ok": report.ok, "problems": report.problems[:10], "values": report.checked.get("values", 0)}


OPS = {"make": make, "bad": bad, "compare": check}


def main() -> None:
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            req = json.loads(line)
            out = OPS[req["op"]](req)
        except Exception as e:  # answer, and stay up for the next request
            out = {"error": f"{type(e).__name__}: {e}", "trace": traceback.format_exc(limit=5)}
        sys.stdout.write(json.dumps(out, default=str) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
