#!/usr/bin/env python3
"""GDAL gdalmdimtranslate, one Zarr store per file, N processes at a time.

Compression options need the ARRAY: prefix. GDAL 3.6 (Debian 12) has no per-array block
size: -co ARRAY:BLOCKSIZE=24,181,360 is applied to the 1-D coordinates too, which are then
not written at all (exit code 0). So the output keeps GDAL's default chunking (1,256,256)
unless --blocksize is given (which loses the coordinates: kept for the record).
"""
import argparse
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor

ap = argparse.ArgumentParser()
ap.add_argument("--outdir", required=True)
ap.add_argument("--jobs", type=int, default=2)
ap.add_argument("--format", default="ZARR_V2", choices=["ZARR_V2", "ZARR_V3"])
ap.add_argument("--blocksize", default=None)
ap.add_argument("--clevel", type=int, default=3)
ap.add_argument("files", nargs="+")
a = ap.parse_args()
os.makedirs(a.outdir, exist_ok=True)


def one(path):
    out = os.path.join(a.outdir, os.path.basename(path).rsplit(".", 1)[0] + ".zarr")
    cmd = ["gdalmdimtranslate", "-q", "-of", "Zarr", "-co", f"FORMAT={a.format}",
           "-co", "ARRAY:COMPRESS=BLOSC", "-co", "ARRAY:BLOSC_CNAME=zstd",
           "-co", f"ARRAY:BLOSC_CLEVEL={a.clevel}", "-co", "ARRAY:BLOSC_SHUFFLE=BYTE",
           "-co", "ARRAY:BLOSC_NUM_THREADS=1"]
    if a.blocksize:
        cmd += ["-co", f"ARRAY:BLOCKSIZE={a.blocksize}"]
    subprocess.run(cmd + [path, out], check=True)


with ThreadPoolExecutor(a.jobs) as ex:
    list(ex.map(one, a.files))
