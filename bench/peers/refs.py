#!/usr/bin/env python3
"""Physical references, one core each. Prints one line `@bench {json}` with the timed
part only (wall_s, cpu_s), so interpreter start-up and imports don't count.

read   : read every variable of every file through libnetcdf (netCDF4-python):
         zlib inflate + unshuffle + copy out; no masking or scaling.
codec  : Blosc zstd-3 + byte shuffle (numcodecs, one thread) on the same bytes, cut
         into the output chunks; the reads and the chunk copies are not timed.
         --pack 16: quantise float32 to int16 (CF scale/offset from the data's range)
         and then encode; the quantisation is timed.
"""
import argparse
import json
import os
import time

import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("mode", choices=["read", "codec"])
ap.add_argument("--chunks", default="24,181,360")
ap.add_argument("--clevel", type=int, default=3)
ap.add_argument("--pack", type=int, default=0)
ap.add_argument("--write-size-to", default=None, help="file to store the compressed byte count")
ap.add_argument("files", nargs="+")
a = ap.parse_args()

import netCDF4  # noqa: E402


def cpu():
    return time.process_time()


def data_vars(ds):
    return [v for v in ds.variables.values() if v.ndim >= 2]


wall = cpu_s = 0.0
nbytes = 0
out_bytes = 0
if a.mode == "read":
    w0, c0 = time.perf_counter(), cpu()
    for f in a.files:
        with netCDF4.Dataset(f) as ds:
            ds.set_auto_maskandscale(False)
            for v in ds.variables.values():
                arr = v[...]
                nbytes += arr.nbytes
    wall, cpu_s = time.perf_counter() - w0, cpu() - c0
else:
    import numcodecs
    from numcodecs import blosc
    blosc.use_threads = False
    blosc.set_nthreads(1)
    codec = numcodecs.Blosc(cname="zstd", clevel=a.clevel, shuffle=numcodecs.Blosc.SHUFFLE)
    ct, cy, cx = (int(x) for x in a.chunks.split(","))
    for f in a.files:
        with netCDF4.Dataset(f) as ds:
            ds.set_auto_maskandscale(False)
            arrays = [v[...] for v in data_vars(ds)]
        for arr in arrays:
            nt, ny, nx = arr.shape
            if a.pack:
                w0, c0 = time.perf_counter(), cpu()
                lo, hi = np.nanmin(arr), np.nanmax(arr)
                nlev = 2 ** a.pack - 2  # one code kept for _FillValue
                scale = (float(hi) - float(lo)) / nlev or 1.0
                q = np.round((arr - lo) / np.float32(scale)) - (2 ** (a.pack - 1) - 1)
                q = np.where(np.isnan(arr), -(2 ** (a.pack - 1)), q).astype(f"i{a.pack // 8}")
                wall += time.perf_counter() - w0
                cpu_s += cpu() - c0
                src = q
            else:
                src = arr
            pieces = [np.ascontiguousarray(src[t:t + ct, y:y + cy, x:x + cx])
                      for t in range(0, nt, ct) for y in range(0, ny, cy) for x in range(0, nx, cx)]
            w0, c0 = time.perf_counter(), cpu()
            for p in pieces:
                out_bytes += len(codec.encode(p))
            wall += time.perf_counter() - w0
            cpu_s += cpu() - c0
            nbytes += arr.nbytes
    if a.write_size_to:
        with open(a.write_size_to, "w") as fh:
            fh.write(str(out_bytes))
print("@bench " + json.dumps(dict(wall_s=wall, cpu_s=cpu_s, bytes=nbytes, out_bytes=out_bytes)))
