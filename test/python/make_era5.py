#!/usr/bin/env python3
"""Write a series shaped like ERA5 NetCDF downloads from the Climate Data Store's legacy service:
every file packs its own data, so the encodings differ file to file.

    python make_era5.py OUTDIR [--files 12] [--steps 6] [--lat 9] [--lon 16] [--seed 3]

File k holds `steps` hourly steps from 2021-06-01 00:00 + k * steps hours. Variables, as in those files:
- time: int32 "hours since 1900-01-01 00:00:00.0", calendar gregorian;
- latitude (descending) / longitude: float32;
- t2m, tp: int16 with per-file scale_factor / add_offset (float64, the CDS formula over the file's own
  range) and _FillValue = missing_value = -32767; a few missing points; the files' ranges differ a lot
  (a raw copy under the first file's scale would be off by degrees);
- sst: float32 whose _FillValue changes file to file (-999, 1e20, -9999 in turn), with land points missing.
Prints the file paths, one per line. Deterministic for a given seed.
"""
import argparse
import os

import netCDF4
import numpy as np

FILLS = [-999.0, 1e20, -9999.0]


def pack(values: np.ndarray) -> tuple[np.ndarray, float, float]:
    """The CDS/ECMWF packing: 16 bits over the file's own range, -32767 kept for missing."""
    valid = values[np.isfinite(values)]
    lo, hi = float(valid.min()), float(valid.max())
    scale = (hi - lo) / (2**16 - 2) if hi > lo else 1.0
    offset = (hi + lo) / 2
    packed = np.round((values - offset) / scale)
    packed = np.where(np.isfinite(values), packed, -32767).astype("i2")
    return packed, scale, offset


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    ap.add_argument("--files", type=int, default=12)
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--lat", type=int, default=9)
    ap.add_argument("--lon", type=int, default=16)
    ap.add_argument("--seed", type=int, default=3)
    opts = ap.parse_args()
    os.makedirs(opts.outdir, exist_ok=True)
    lat = np.linspace(60.0, 20.0, opts.lat, dtype="f4")
    lon = np.linspace(-30.0, 45.0, opts.lon, dtype="f4")
    land = np.random.default_rng(opts.seed).random((opts.lat, opts.lon)) < 0.3
    hours0 = 1_064_304  # 2021-06-01 00:00 in hours since 1900-01-01
    for k in range(opts.files):
        rng = np.random.default_rng(opts.seed * 100 + k)
        path = os.path.join(opts.outdir, f"era5_{k:03d}.nc")
        shape = (opts.steps, opts.lat, opts.lon)
        # Each file's own climate: means and spreads move a lot between files.
        t2m = 270 + 6 * k + (3 + k) * rng.standard_normal(shape)
        t2m[rng.random(shape) < 0.02] = np.nan
        tp = np.abs(rng.gamma(0.5, 0.002 * (k + 1), shape))
        sst = (285 + k + rng.standard_normal(shape)).astype("f4")
        with netCDF4.Dataset(path, "w", format="NETCDF4") as ds:
            ds.Conventions = "CF-1.6"
            ds.history = "zarrio test series modelled on CDS ERA5 NetCDF downloads"
            ds.createDimension("longitude", opts.lon)
            ds.createDimension("latitude", opts.lat)
            ds.createDimension("time", None)
            lo = ds.createVariable("longitude", "f4", ("longitude",))
            lo.units, lo.long_name = "degrees_east", "longitude"
            lo[:] = lon
            la = ds.createVariable("latitude", "f4", ("latitude",))
            la.units, la.long_name = "degrees_north", "latitude"
            la[:] = lat
            t = ds.createVariable("time", "i4", ("time",))
            t.units, t.long_name, t.calendar = "hours since 1900-01-01 00:00:00.0", "time", "gregorian"
            t[:] = hours0 + k * opts.steps + np.arange(opts.steps)
            for name, values, units, long_name in [
                ("t2m", t2m, "K", "2 metre temperature"),
                ("tp", tp, "m", "Total precipitation"),
            ]:
                packed, scale, offset = pack(values)
                v = ds.createVariable(name, "i2", ("time", "latitude", "longitude"), fill_value=np.int16(-32767))
                v.set_auto_maskandscale(False)
                v.scale_factor = np.float64(scale)
                v.add_offset = np.float64(offset)
                v.missing_value = np.int16(-32767)
                v.units, v.long_name = units, long_name
                v[:] = packed
            fill = np.float32(FILLS[k % len(FILLS)])
            s = ds.createVariable("sst", "f4", ("time", "latitude", "longitude"), fill_value=fill)
            s.set_auto_maskandscale(False)
            s.units, s.long_name = "K", "Sea surface temperature"
            s[:] = np.where(land[None], fill, sst)
        print(path)


if __name__ == "__main__":
    main()
