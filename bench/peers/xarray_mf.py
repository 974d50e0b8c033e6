#!/usr/bin/env python3
"""xarray open_mfdataset(...).to_zarr with Blosc zstd-3 + byte shuffle (Zarr v2 by default).

--dask-chunks default : open_mfdataset's default chunks (the files' HDF5 chunks), then
                        .chunk() to the output chunks (needed: to_zarr refuses dask chunks
                        that straddle Zarr chunks).
--dask-chunks file    : one dask chunk per file and variable (chunks={time: steps per file});
                        each dask chunk holds whole output chunks, no rechunk.
Dask's default threaded scheduler (one thread per core).
"""
import argparse

import numcodecs
import xarray as xr
import zarr

ZARR3 = int(zarr.__version__.split(".")[0]) >= 3

ap = argparse.ArgumentParser()
ap.add_argument("--out", required=True)
ap.add_argument("--chunks", required=True, help="24,181,360 (time,lat,lon)")
ap.add_argument("--dask-chunks", choices=["default", "file"], default="default")
ap.add_argument("--zarr-format", type=int, default=2)
ap.add_argument("--clevel", type=int, default=3)
ap.add_argument("files", nargs="+")
a = ap.parse_args()
ct, cy, cx = (int(x) for x in a.chunks.split(","))

kw = dict(combine="nested", concat_dim="time", data_vars="minimal", coords="minimal",
          compat="override", join="override")
if a.dask_chunks == "file":
    ds = xr.open_mfdataset(a.files, chunks={"time": -1, "lat": -1, "lon": -1}, **kw)
else:
    ds = xr.open_mfdataset(a.files, **kw)
    ds = ds.chunk({"time": ct, "lat": cy, "lon": cx})

enc = {}
for v in ds.data_vars:
    if a.zarr_format == 2:
        blosc = numcodecs.Blosc(cname="zstd", clevel=a.clevel, shuffle=numcodecs.Blosc.SHUFFLE)
        # zarr-python 3 takes "compressors"; zarr 2 took "compressor"
        comp = {"compressors": [blosc]} if ZARR3 else {"compressor": blosc}
    else:
        comp = {"compressors": [zarr.codecs.BloscCodec(cname="zstd", clevel=a.clevel,
                                                       shuffle="shuffle")]}
    enc[v] = dict(chunks=(ct, cy, cx), **comp)
ds.to_zarr(a.out, mode="w", encoding=enc, zarr_format=a.zarr_format, consolidated=True)
