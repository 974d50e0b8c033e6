#!/usr/bin/env python3
"""Files larger than WebAssembly's memory (issue #19): the WebAssembly build reads them by range.

  python bench/wasm_big.py [--sizes-gb 0.5,5] [--backends wasm,native] [--check full|sample]

Makes (once, in bench/.corpus/big/) NetCDF-4 files of one float32 variable (time, lat, lon) at
0.25 degrees, zlib level 1 over chunks of one step, of about the given sizes on disk, converts each
with `zarrio convert` on each backend under /usr/bin/time -v, and reports wall time, CPU, peak
memory and MB/s. Every archive is then read back with xarray and compared with the file (`--check
full`: every value; `sample`: 50 steps spread over the file). Writes results/<date>-wasm-big.md and
.json.
"""
import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from run import NODE, OUR_CLI, machine_info  # noqa: E402
from scale import timed  # noqa: E402

RESULTS = HERE / "results"
CORPUS = HERE / ".corpus" / "big"
NLAT, NLON = 721, 1440


def make(path: Path, gb: float) -> None:
    """A file of about `gb` GB on disk: these noisy fields compress to ~0.72 of their size at zlib level 1."""
    import netCDF4

    if path.exists():
        return
    steps = max(1, round(gb * 1e9 / (NLAT * NLON * 4 * 0.72)))
    tmp = path.with_suffix(".part")
    rng = np.random.default_rng(1)
    lat = np.linspace(-90, 90, NLAT)
    base = (15 + 25 * np.cos(np.deg2rad(lat)))[:, None] + np.zeros((1, NLON))
    with netCDF4.Dataset(tmp, "w", format="NETCDF4") as ds:
        ds.createDimension("time", None)
        ds.createDimension("lat", NLAT)
        ds.createDimension("lon", NLON)
        t = ds.createVariable("time", "f8", ("time",))
        t.units = "hours since 2000-01-01"
        ds.createVariable("lat", "f8", ("lat",))[:] = lat
        ds.createVariable("lon", "f8", ("lon",))[:] = np.arange(NLON) * 0.25
        v = ds.createVariable("t2m", "f4", ("time", "lat", "lon"), zlib=True, complevel=1,
                              chunksizes=(1, NLAT, NLON))
        v.units = "degC"
        noise = rng.standard_normal((8, NLAT, NLON)).astype("f4")
        for k in range(steps):
            t[k] = k
            v[k] = base + noise[k % 8] * (1 + k % 5)
    tmp.rename(path)


def check(zarr: str, source: Path, full: bool) -> str:
    code = f"""
import sys, numpy as np, xarray as xr
s = xr.open_dataset({str(source)!r}).t2m
z = xr.open_zarr({zarr!r}).t2m
assert s.shape == z.shape, (s.shape, z.shape)
n = s.shape[0]
steps = range(n) if {full} else sorted(set(np.linspace(0, n - 1, 50).astype(int)))
bad = sum(int((s[k].values != z[k].values).sum()) for k in steps)
print(f"{{len(steps)}} of {{n}} steps compared, {{bad}} values differ")
sys.exit(1 if bad else 0)
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if r.returncode:
        sys.exit(f"read-back check failed for {zarr}:\n{r.stdout}{r.stderr[-2000:]}")
    return r.stdout.strip()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes-gb", default="0.5,5")
    ap.add_argument("--backends", default="wasm,native")
    ap.add_argument("--check", choices=["full", "sample"], default="full")
    args = ap.parse_args()
    CORPUS.mkdir(parents=True, exist_ok=True)
    rows = []
    for gb in [float(x) for x in args.sizes_gb.split(",")]:
        src = CORPUS / f"t2m_{gb:g}gb.nc"
        make(src, gb)
        size = src.stat().st_size
        for backend in args.backends.split(","):
            with tempfile.TemporaryDirectory(dir=CORPUS) as tmp:
                out = os.path.join(tmp, "out.zarr")
                os.environ["ZARRIO_BACKEND"] = backend
                r = timed([NODE, str(OUR_CLI), "convert", str(src), out, "--chunking", "time:4"])
                verdict = check(out, src, args.check == "full")
            row = dict(file=src.name, file_gb=size / 1e9, backend=backend, **{k: r[k] for k in ("wall_s", "cpu_s", "peak_mb")},
                       mb_s=size / 1e6 / r["wall_s"], check=verdict)
            rows.append(row)
            print(f"{src.name:>16} {size / 1e9:5.2f} GB {backend:>6}: {r['wall_s']:7.1f} s wall, {r['cpu_s']:7.1f} s CPU, "
                  f"peak {r['peak_mb']:6.0f} MB, {row['mb_s']:5.0f} MB/s; {verdict}", flush=True)
    stamp = dt.date.today().isoformat()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{stamp}-wasm-big.json").write_text(json.dumps(dict(machine=machine_info(), rows=rows), indent=2))
    lines = [f"# Large files on WebAssembly ({stamp})", "", f"Machine: {machine_info()}", "",
             "Files read by range in WebAssembly (no whole-file copy in module memory). Read-back: xarray, "
             f"{args.check} comparison.", "",
             "| file | size | backend | wall | CPU | peak memory | MB/s | read back |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['file']} | {r['file_gb']:.2f} GB | {r['backend']} | {r['wall_s']:.1f} s | {r['cpu_s']:.1f} s | "
                     f"{r['peak_mb']:.0f} MB | {r['mb_s']:.0f} | {r['check']} |")
    (RESULTS / f"{stamp}-wasm-big.md").write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
