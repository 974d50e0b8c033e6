#!/usr/bin/env python3
"""What xarray reads from a Zarr store, as JSON, for assertions compare.py does not make.

    python xr_probe.py STORE [--point VAR:T,I,J ...]

Prints {"times": [decoded times as text], "calendar", "time_dtype", "sizes": {dim: n},
"missing": {var: [per time step: fraction of values missing]}, "points": {"VAR:T,I,J": value or null}}
for every variable along time. Opened with xr.open_zarr (consolidated metadata, CF decoding on).
"""
import argparse
import json
import math
import warnings

import numpy as np
import xarray as xr


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("store")
    ap.add_argument("--point", action="append", default=[])
    opts = ap.parse_args()
    warnings.simplefilter("ignore")
    ds = xr.open_zarr(opts.store, use_cftime=True)
    out = {"sizes": {k: int(v) for k, v in ds.sizes.items()}, "missing": {}, "points": {}}
    if "time" in ds:
        out["times"] = [str(t) for t in ds["time"].values]
        out["calendar"] = ds["time"].encoding.get("calendar")
        out["time_dtype"] = str(ds["time"].encoding.get("dtype"))
    for name, v in ds.data_vars.items():
        if "time" in v.dims and v.dtype.kind == "f":
            other = [d for d in v.dims if d != "time"]
            out["missing"][name] = [round(float(x), 6) for x in v.isnull().mean(dim=other).values]
    for spec in opts.point:
        name, _, idx = spec.partition(":")
        value = ds[name].values[tuple(int(i) for i in idx.split(","))]
        value = float(value)
        out["points"][spec] = None if math.isnan(value) else value
    print(json.dumps(out))


if __name__ == "__main__":
    main()
