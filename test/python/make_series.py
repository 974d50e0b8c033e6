#!/usr/bin/env python3
"""Write a series of small NetCDF files, one per period, for the parallel-writing tests.

    python make_series.py OUTDIR [--files 30] [--steps 24] [--step-hours 1] [--lat 20] [--lon 30]
                          [--start 2020-01-01] [--calendar standard] [--prefix day] [--seed 1]

File k holds `steps` time steps starting at start + k * steps * step-hours, with its own time
units ("hours since <its first time>"), so placing it needs re-encoding. Variables:
temperature (time, lat, lon) float32 with _FillValue and a few NaN; salinity (time, lat, lon)
float64; mask (lat, lon) int8 and depth (lat, lon) float32 (static); lat, lon coordinates.
Prints the file paths, one per line. Deterministic for a given seed.
"""
import argparse
import os

import cftime
import netCDF4
import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    ap.add_argument("--files", type=int, default=30)
    ap.add_argument("--steps", type=int, default=24)
    ap.add_argument("--step-hours", type=float, default=1.0)
    ap.add_argument("--lat", type=int, default=20)
    ap.add_argument("--lon", type=int, default=30)
    ap.add_argument("--start", default="2020-01-01")
    ap.add_argument("--calendar", default="standard")
    ap.add_argument("--prefix", default="day")
    ap.add_argument("--seed", type=int, default=1)
    opts = ap.parse_args()

    os.makedirs(opts.outdir, exist_ok=True)
    y, m, d = (int(x) for x in opts.start.split("-"))
    origin = cftime.datetime(y, m, d, calendar=opts.calendar)
    base_units = f"hours since {opts.start}"
    lat = np.linspace(-45.0, 45.0, opts.lat)
    lon = np.linspace(0.0, 357.0, opts.lon)
    rng0 = np.random.default_rng(opts.seed)
    mask = (rng0.random((opts.lat, opts.lon)) > 0.2).astype("i1")
    depth = (1000 + 3000 * rng0.random((opts.lat, opts.lon))).astype("f4")
    for k in range(opts.files):
        first_hours = k * opts.steps * opts.step_hours
        first = cftime.num2date(first_hours, base_units, calendar=opts.calendar)
        units = f"hours since {first.strftime('%Y-%m-%d %H:%M:%S')}"
        path = os.path.join(opts.outdir, f"{opts.prefix}_{k:03d}.nc")
        rng = np.random.default_rng(opts.seed * 1000 + k)
        with netCDF4.Dataset(path, "w", format="NETCDF4") as ds:
            ds.title = "zarrio parallel test series"
            ds.createDimension("time", None)
            ds.createDimension("lat", opts.lat)
            ds.createDimension("lon", opts.lon)
            t = ds.createVariable("time", "f8", ("time",))
            t.units = units
            t.calendar = opts.calendar
            t.standard_name = "time"
            t[:] = np.arange(opts.steps) * opts.step_hours
            la = ds.createVariable("lat", "f8", ("lat",))
            la.units = "degrees_north"
            la[:] = lat
            lo = ds.createVariable("lon", "f8", ("lon",))
            lo.units = "degrees_east"
            lo[:] = lon
            hours = first_hours + np.arange(opts.steps) * opts.step_hours
            temp = 15 + 10 * np.sin(hours[:, None, None] / 24 * 2 * np.pi) * np.cos(np.radians(lat))[None, :, None] \
                + rng.normal(0, 0.5, (opts.steps, opts.lat, opts.lon))
            temp[rng.random(temp.shape) < 0.03] = np.nan
            tv = ds.createVariable("temperature", "f4", ("time", "lat", "lon"), fill_value=np.float32(-999.0))
            tv.units = "degC"
            tv.long_name = "sea temperature"
            tv[:] = np.ma.masked_invalid(temp.astype("f4"))
            sv = ds.createVariable("salinity", "f8", ("time", "lat", "lon"))
            sv.units = "psu"
            sv[:] = 35 + rng.normal(0, 0.3, (opts.steps, opts.lat, opts.lon))
            mv = ds.createVariable("mask", "i1", ("lat", "lon"))
            mv.long_name = "land-sea mask"
            mv[:] = mask
            dv = ds.createVariable("depth", "f4", ("lat", "lon"))
            dv.units = "m"
            dv[:] = depth
        print(path)


if __name__ == "__main__":
    main()
