#!/usr/bin/env python3
"""nccopy (Debian netcdf-bin 4.9.0) to NCZarr in pure-Zarr mode, one store per file,
N processes at a time.

What it can do here: `-u` is required (unlimited time -> "NetCDF: Invalid dimension size"
without it); `#mode=nczarr,zarr` runs away in memory until killed, `#mode=zarr,file` works;
-d/-s/-F (deflate, shuffle, zstd filter 32015) are accepted with exit 0 but silently ignored
(no filter plugins installed): the chunks are written uncompressed.
"""
import argparse
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor

ap = argparse.ArgumentParser()
ap.add_argument("--outdir", required=True)
ap.add_argument("--jobs", type=int, default=2)
ap.add_argument("--chunks", required=True, help="time/24,lat/181,lon/360")
ap.add_argument("files", nargs="+")
a = ap.parse_args()
os.makedirs(a.outdir, exist_ok=True)


def one(path):
    out = os.path.abspath(os.path.join(a.outdir, os.path.basename(path).rsplit(".", 1)[0] + ".zarr"))
    subprocess.run(["nccopy", "-u", "-c", a.chunks, "-F", "*,32015,3", path,
                    f"file://{out}#mode=zarr,file"], check=True)


with ThreadPoolExecutor(a.jobs) as ex:
    list(ex.map(one, a.files))
