#!/usr/bin/env python3
"""Python zarrio (PyPI 0.1.4) through its API, as its README shows: create_template
(metadata only) from the first file, then write_region per file in separate processes
(multiprocessing.Pool(N)). Runs with the zarrio venv's interpreter.

compression="blosc:zstd:3" is what a user asks for; 0.1.4 turns it into "no compressor"
(uncompressed chunks). Without a compression argument zarr 2 writes its default Blosc lz4.
"""
import argparse
import multiprocessing as mp

ap = argparse.ArgumentParser()
ap.add_argument("--out", required=True)
ap.add_argument("--start", required=True)
ap.add_argument("--end", required=True)
ap.add_argument("--freq", default="1h")
ap.add_argument("--chunking", required=True, help="time:24,lat:181,lon:360")
ap.add_argument("--compression", default=None)
ap.add_argument("--jobs", type=int, default=2)
ap.add_argument("files", nargs="+")
a = ap.parse_args()
CHUNKS = {k: int(v) for k, v in (kv.split(":") for kv in a.chunking.split(","))}


def converter():
    from zarrio import ZarrConverter
    kw = dict(chunking=CHUNKS)
    if a.compression:
        kw["compression"] = a.compression
    return ZarrConverter(**kw)


def write_one(path):
    converter().write_region(path, a.out)
    return path


if __name__ == "__main__":
    import xarray as xr
    with xr.open_dataset(a.files[0]) as tmpl:
        converter().create_template(template_dataset=tmpl, output_path=a.out,
                                    global_start=a.start, global_end=a.end, freq=a.freq,
                                    compute=False)
    with mp.Pool(a.jobs) as pool:
        for _ in pool.imap_unordered(write_one, a.files):
            pass
