#!/usr/bin/env python3
"""Record arrays (NetCDF-4 compound and opaque variables) of zarrio archives against h5py.

xarray reads compound variables through netCDF-C but never sees opaque ones (netCDF-C hides them), and
netCDF4-python aborts on some compound layouts; h5py reads every HDF5 dataset as stored. For each job
({"name", "zarr", "source"}) on stdin, every array of the archive whose dtype is structured or raw
bytes is compared with the HDF5 dataset at the same path: the same field names, equal values field by
field (NaN equal to NaN; the file's offsets, padding and byte order may differ from the archive's
packed little-endian layout), or equal bytes for opaque values. Prints {name: {"records": n,
"problems": [...]}} as JSON.
"""
import json
import sys
import warnings

import h5py
import numpy as np
import zarr

warnings.simplefilter("ignore")


def walk(group: "zarr.Group", prefix: str = ""):
    for name, node in group.members():
        path = f"{prefix}/{name}"
        if isinstance(node, zarr.Group):
            yield from walk(node, path)
        else:
            yield path, node


def same(a: np.ndarray, b: np.ndarray) -> bool:
    if a.dtype.kind == "c" and b.dtype.names == ("r", "i"):
        # h5py reads an {r, i} compound as complex numbers.
        return same(a.real, b["r"]) and same(a.imag, b["i"])
    if a.dtype.names or b.dtype.names:
        if a.dtype.names != b.dtype.names:
            return False
        return all(same(a[k], b[k]) for k in a.dtype.names)
    if a.dtype.kind == "V" or b.dtype.kind == "V":
        return a.tobytes() == b.tobytes() and a.dtype.itemsize == b.dtype.itemsize
    eq = a == b
    if a.dtype.kind == "f":
        eq |= np.isnan(a) & np.isnan(b)
    return bool(np.all(eq))


def read(ds: "h5py.Dataset") -> np.ndarray:
    """The dataset's values; for a type numpy has no equivalent of (HDF5's deprecated time class,
    which the pure-Rust reader presents as opaque), its bytes as stored, read with the file's own
    type as the memory type so HDF5 converts nothing."""
    try:
        return ds[()]
    except TypeError:
        ftype = ds.id.get_type()
        out = np.empty(ds.shape, dtype=f"V{ftype.get_size()}")
        ds.id.read(h5py.h5s.ALL, h5py.h5s.ALL, out, mtype=ftype)
        return out


def check(zarr_path: str, source: str) -> dict:
    problems: list[str] = []
    records = 0
    with h5py.File(source, "r") as h5:
        for path, arr in walk(zarr.open_group(zarr_path, mode="r")):
            if arr.dtype.kind != "V":
                continue
            records += 1
            if path not in h5:
                problems.append(f"{path}: not in the HDF5 file")
                continue
            src = read(h5[path])
            got = arr[()]
            if src.shape != got.shape:
                problems.append(f"{path}: shape {src.shape} in the file, {got.shape} in zarr")
            elif not same(src, got):
                problems.append(f"{path}: values differ ({src.dtype} in the file, {got.dtype} in zarr)")
    return {"records": records, "problems": problems}


def main() -> int:
    out = {}
    for job in json.load(sys.stdin):
        try:
            out[job["name"]] = check(job["zarr"], job["source"])
        except Exception as e:  # noqa: BLE001 - reported per file
            out[job["name"]] = {"records": 0, "problems": [f"{type(e).__name__}: {e}"]}
    json.dump(out, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
