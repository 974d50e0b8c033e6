#!/usr/bin/env python3
"""Lay out an archive with xarray, the way its documentation shows for region writes: the full time
axis of a series, data variables as lazy dask arrays, `to_zarr(..., compute=False)` (metadata and
coordinates only), for zarrio write-region to fill.

    python make_xr_template.py OUT.zarr --format 2|3 --kind decoded|packed FILE [FILE ...]

Made for the make_era5.py series. --kind decoded: t2m and tp as float64, sst as float32, NaN fill
(xarray's defaults once the files' own encodings are dropped). --kind packed: t2m and tp packed by
hand with xarray encodings (int16, one scale_factor/add_offset for the whole archive, _FillValue
-32767), sst float32 with _FillValue -9999. Time chunks of 4 steps, so 6-step files share chunks.
"""
import argparse

import dask.array as da
import numpy as np
import xarray as xr


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("files", nargs="+")
    ap.add_argument("--format", type=int, choices=[2, 3], default=3)
    ap.add_argument("--kind", choices=["decoded", "packed"], default="decoded")
    opts = ap.parse_args()
    with xr.open_mfdataset(opts.files, combine="nested", concat_dim="time") as src:
        time = src.time.values
        lat, lon = src.latitude.load(), src.longitude.load()
        attrs = {k: dict(src[k].attrs) for k in ("t2m", "tp", "sst", "time", "latitude", "longitude")}
        global_attrs = dict(src.attrs)
    shape = (len(time), lat.size, lon.size)
    chunks = (4, lat.size, lon.size)
    data = {
        "t2m": da.zeros(shape, chunks=chunks, dtype="f8"),
        "tp": da.zeros(shape, chunks=chunks, dtype="f8"),
        "sst": da.zeros(shape, chunks=chunks, dtype="f4"),
    }
    ds = xr.Dataset(
        {k: (("time", "latitude", "longitude"), v) for k, v in data.items()},
        coords={"time": time, "latitude": lat.values, "longitude": lon.values},
    )
    ds.attrs.update(global_attrs)
    for k, a in attrs.items():
        ds[k].attrs.update(a)
    encoding = {k: {"chunks": chunks} for k in data}
    encoding["time"] = {"units": "hours since 2021-06-01 00:00:00", "calendar": "standard", "dtype": "int64"}
    if opts.kind == "packed":
        encoding["t2m"].update(dtype="int16", scale_factor=0.01, add_offset=300.0, _FillValue=np.int16(-32767))
        encoding["tp"].update(dtype="int16", scale_factor=1e-5, add_offset=0.3, _FillValue=np.int16(-32767))
        encoding["sst"].update(_FillValue=np.float32(-9999.0))
    ds.to_zarr(opts.out, mode="w", compute=False, zarr_format=opts.format, consolidated=True, encoding=encoding)
    print(opts.out)


if __name__ == "__main__":
    main()
