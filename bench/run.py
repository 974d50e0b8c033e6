#!/usr/bin/env python3
"""zarrio benchmark harness: ours and the peers, side by side, one table.

  python bench/run.py --preset small            # ours (if built) + peers + references
  python bench/run.py --preset tiny --reps 1    # harness self-test, seconds
  python bench/run.py --preset large --reps 1   # the issue's corpus (1.2 GB)
  python bench/run.py --list                    # the cases
  python bench/run.py --only 'ours-*,xarray-*'  # a subset (glob on case ids)

Every case runs as a child process under /usr/bin/time -v: wall clock (perf_counter),
CPU = user+sys of the whole child tree, peak RSS = max(largest single process from
time -v, sampled sum over the process tree at 10 Hz). Median of --reps runs. The corpus
is read once before the runs (warm page cache for everybody); outputs are removed and
`sync` is run before each run (not timed); outputs are not fsynced by anyone.

Every output is then opened with xarray and compared with the sources (values equal, or
within scale_factor/2 when packed; NaN masks equal; every source time present), so that
nobody wins by writing less. A failing output is marked in the table.

Writes bench/results/<date>-<preset>.md and .json.
"""
from __future__ import annotations

import argparse
import datetime as dt
import fnmatch
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
import corpus as corpusmod  # noqa: E402

PY = os.environ.get("ZARRIO_BENCH_PYTHON", sys.executable)
PYZ_VENV = Path(os.environ.get("ZARRIO_BENCH_PYZARRIO_VENV", "/root/.cache/zarrio/bench-venv-zarrio"))
NODE = os.environ.get("NODE", shutil.which("node") or "node")
OUR_CLI = Path(os.environ.get("ZARRIO_CLI", ROOT / "dist" / "cli.js"))
OUT_ROOT = HERE / ".out"
RESULTS = HERE / "results"
TIME_BIN = "/usr/bin/time"
PAGE = os.sysconf("SC_PAGE_SIZE")


# --------------------------------------------------------------------------- cases

class Case:
    def __init__(self, id, group, label, argv, *, env=None, outputs="single", packed=False,
                 requires=(), note="", internal=False, reference_size=False, corpus=None,
                 reps=None, prepare=None):
        self.id, self.group, self.label = id, group, label
        self.argv = argv          # list, or callable(ctx) -> list
        self.env = env or {}
        self.outputs = outputs    # "single" store | "per-file" stores | None (no output to check)
        self.packed = packed
        self.requires = requires  # list of (kind, thing): ("file", path) | ("bin", name)
        self.note = note
        self.internal = internal  # runner prints "@bench {json}" with its own timing
        self.corpus = corpus      # None = the preset's corpus; "single" = one small file
        self.reps = reps
        self.prepare = prepare


# Generous fixed ranges for the corpus' variables (bench/corpus.py), for packing without a scan.
PACK_RANGES = json.dumps({"t2m": {"min": 180, "max": 350}, "u10": {"min": -80, "max": 80},
                          "sst": {"min": 260, "max": 330}, "v10": {"min": -80, "max": 80},
                          "msl": {"min": 90000, "max": 110000}, "tcwv": {"min": 0, "max": 120}})


def build_cases(ctx) -> list[Case]:
    c = ctx
    ct, cy, cx = c["chunks"]
    chunking = f"time:{ct},lat:{cy},lon:{cx}"
    comp = "blosc:zstd:3"
    ours = [NODE, str(OUR_CLI)]
    need_ours = [("file", OUR_CLI), ("bin", NODE)]
    wasm = {"ZARRIO_BACKEND": "wasm"}
    tmpl = ["--global-start", c["start"], "--global-end", c["end"], "--freq", "1h",
            "--chunking", chunking, "--compression", comp]
    pack = ["--packing", "--packing-bits", "16"]

    def our_convert(extra=(), prefix=()):
        return lambda x: [*prefix, *ours, "convert", *x["files"], x["out"], "--chunking", chunking,
                          "--compression", comp, *extra]

    def our_template(jobs, extra=()):
        return lambda x: [PY, str(HERE / "peers" / "steps.py"),
                          "--", *ours, "create-template", x["files"][0], x["out"], *tmpl, *extra,
                          "::", *ours, "write-region", "--jobs", str(jobs), *x["files"], x["out"]]

    taskset = ["taskset", "-c", "0"]
    pyz = PYZ_VENV / "bin"
    cases = [
        # ---- ours
        Case("ours-convert", "ours", "zarrio convert (native)", our_convert(), requires=need_ours),
        Case("ours-convert-wasm", "ours", "zarrio convert (WASM)", our_convert(), env=wasm,
             requires=need_ours),
        Case("ours-convert-1core", "ours", "zarrio convert (native, 1 core)",
             our_convert(prefix=taskset), requires=need_ours + [("bin", "taskset")]),
        Case("ours-convert-wasm-1core", "ours", "zarrio convert (WASM, 1 core)",
             our_convert(prefix=taskset), env=wasm, requires=need_ours + [("bin", "taskset")]),
        Case("ours-convert-packed", "ours", "zarrio convert, 16-bit packing", our_convert(pack),
             packed=True, requires=need_ours),
        Case("ours-convert-packed-given", "ours", "zarrio convert, 16-bit packing, ranges given",
             our_convert(pack + ["--packing-manual-ranges", PACK_RANGES]), packed=True, requires=need_ours,
             note="ranges from --packing-manual-ranges (as from valid_min/valid_max): no pass over the data"),
        Case("ours-template-j1", "ours", "zarrio create-template + write-region --jobs 1",
             our_template(1), requires=need_ours),
        Case("ours-template-j2", "ours", "zarrio create-template + write-region --jobs 2",
             our_template(2), requires=need_ours),
        Case("ours-template-j2-packed", "ours", "zarrio template + write-region --jobs 2, packing",
             our_template(2, pack), packed=True, requires=need_ours),
        Case("ours-overhead", "ours", "zarrio convert, one small file (fixed overhead)",
             our_convert(), requires=need_ours, corpus="single", reps=5),
        # ---- peers
        Case("pyzarrio-cli", "peers", "Python zarrio CLI: create-template + write-region per file",
             lambda x: [PY, str(HERE / "peers" / "pyzarrio_cli.py"), "--zarrio", str(pyz / "zarrio"),
                        "--out", x["out"], "--start", c["start"], "--end", c["end"],
                        "--chunking", chunking, "--compression", comp, *x["files"]],
             requires=[("file", pyz / "zarrio")],
             note="--compression blosc:zstd:3 given; template --metadata-only"),
        Case("pyzarrio-api-pool2", "peers", "Python zarrio API, Pool(2), compression='blosc:zstd:3'",
             lambda x: [str(pyz / "python"), str(HERE / "peers" / "pyzarrio_api.py"), "--out", x["out"],
                        "--start", c["start"], "--end", c["end"], "--chunking", chunking,
                        "--compression", comp, "--jobs", "2", *x["files"]],
             requires=[("file", pyz / "python")]),
        Case("pyzarrio-api-pool2-lz4", "peers", "Python zarrio API, Pool(2), default compressor",
             lambda x: [str(pyz / "python"), str(HERE / "peers" / "pyzarrio_api.py"), "--out", x["out"],
                        "--start", c["start"], "--end", c["end"], "--chunking", chunking,
                        "--jobs", "2", *x["files"]],
             requires=[("file", pyz / "python")], note="no compression argument"),
        Case("xarray-default", "peers", "xarray open_mfdataset().chunk().to_zarr, zstd-3",
             lambda x: [PY, str(HERE / "peers" / "xarray_mf.py"), "--out", x["out"],
                        "--chunks", f"{ct},{cy},{cx}", "--dask-chunks", "default", *x["files"]],
             requires=[("py", "dask")], note="default open chunks, rechunked to the output's"),
        Case("xarray-filechunk", "peers", "xarray open_mfdataset(one dask chunk per file).to_zarr, zstd-3",
             lambda x: [PY, str(HERE / "peers" / "xarray_mf.py"), "--out", x["out"],
                        "--chunks", f"{ct},{cy},{cx}", "--dask-chunks", "file", *x["files"]],
             requires=[("py", "dask")]),
        Case("gdal-2proc", "peers", "GDAL gdalmdimtranslate, zstd-3, 2 processes",
             lambda x: [PY, str(HERE / "peers" / "gdal.py"), "--outdir", x["out"], "--jobs", "2",
                        *x["files"]],
             outputs="per-file", requires=[("bin", "gdalmdimtranslate")],
             note="one store per file; chunks are GDAL's default (1,256,256): ARRAY:BLOCKSIZE would also hit the 1-D coordinates, which are then not written"),
        Case("nccopy-2proc", "peers", "nccopy -u to NCZarr (zarr mode), 2 processes",
             lambda x: [PY, str(HERE / "peers" / "nccopy.py"), "--outdir", x["out"], "--jobs", "2",
                        "--chunks", f"time/{ct},lat/{cy},lon/{cx}", *x["files"]],
             outputs="per-file", requires=[("bin", "nccopy")],
             note="cannot compress: -d/-s/-F silently ignored (no filter plugins)"),
        # ---- physical references
        Case("ref-read", "refs", "reference: read all variables, netCDF4-python (1 core)",
             lambda x: [PY, str(HERE / "peers" / "refs.py"), "read", *x["files"]],
             outputs=None, internal=True),
        Case("ref-read-ours", "refs", "reference: read all variables, zarrio reader (1 core)",
             lambda x: [NODE, str(HERE / "peers" / "ours_read.mjs"), *x["files"]],
             outputs=None, internal=True, requires=[("file", HERE / "peers" / "ours_read.mjs")] + need_ours,
             note="zarrio's pure-Rust reader through the native addon, one rayon thread"),
        Case("ref-codec", "refs", "reference: Blosc zstd-3 + shuffle, numcodecs (1 core)",
             lambda x: [PY, str(HERE / "peers" / "refs.py"), "codec", "--chunks", f"{ct},{cy},{cx}",
                        "--write-size-to", str(OUT_ROOT / "codec-size.txt"), *x["files"]],
             outputs=None, internal=True),
        Case("ref-codec-int16", "refs", "reference: pack to int16 + Blosc zstd-3 + shuffle (1 core)",
             lambda x: [PY, str(HERE / "peers" / "refs.py"), "codec", "--pack", "16",
                        "--chunks", f"{ct},{cy},{cx}", *x["files"]],
             outputs=None, internal=True),
        Case("ref-disk", "refs", "reference: disk write (dd, compressed size, fdatasync)",
             lambda x: ["dd", "if=/dev/zero", f"of={x['out']}", "bs=4M",
                        f"count={max(1, math.ceil(x['codec_bytes'] / (4 << 20)))}",
                        "conv=fdatasync", "status=none"],
             outputs=None, requires=[("bin", "dd")]),
    ]
    return cases


# ------------------------------------------------------------------ measurement

def proc_tree_rss(root_pid: int) -> int:
    """Sum of RSS (bytes) of root_pid and all its descendants."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as fh:
                st = fh.read()
            ppid = int(st[st.rindex(")") + 2:].split()[1])
            with open(f"/proc/{d}/statm") as fh:
                rss[int(d)] = int(fh.read().split()[1]) * PAGE
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(d))
    total, stack = 0, [root_pid]
    while stack:
        p = stack.pop()
        total += rss.get(p, 0)
        stack.extend(children.get(p, ()))
    return total


def parse_time_v(text: str) -> dict:
    out = {}
    m = re.search(r"User time \(seconds\): ([\d.]+)", text)
    if m:
        out["user_s"] = float(m.group(1))
    m = re.search(r"System time \(seconds\): ([\d.]+)", text)
    if m:
        out["sys_s"] = float(m.group(1))
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    if m:
        out["maxrss_single"] = int(m.group(1)) * 1024
    m = re.search(r"Exit status: (\d+)", text)
    if m:
        out["exit"] = int(m.group(1))
    return out


def run_once(argv, env, timeout, log_path: Path) -> dict:
    tv = log_path.with_suffix(".time")
    full = [TIME_BIN, "-v", "-o", str(tv), *argv]
    e = dict(os.environ)
    e.update(env)
    peak = [0]
    stop = threading.Event()
    with open(log_path, "wb") as log:
        t0 = time.perf_counter()
        p = subprocess.Popen(full, stdout=subprocess.PIPE, stderr=log, env=e, start_new_session=True,
                             cwd=str(ROOT))

        def sample():
            while not stop.is_set():
                try:
                    peak[0] = max(peak[0], proc_tree_rss(p.pid))
                except Exception:
                    pass
                stop.wait(0.1)

        th = threading.Thread(target=sample, daemon=True)
        th.start()
        timed_out = False
        try:
            stdout, _ = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            try:
                os.killpg(p.pid, 9)
            except ProcessLookupError:
                pass
            stdout, _ = p.communicate()
        wall = time.perf_counter() - t0
        stop.set()
        th.join()
        log.write(stdout)
    r = dict(wall_s=wall, rc=p.returncode, timed_out=timed_out, rss_tree=peak[0])
    try:
        r.update(parse_time_v(tv.read_text()))
    except OSError:
        pass
    r["cpu_s"] = r.get("user_s", 0.0) + r.get("sys_s", 0.0)
    if timed_out:
        r["rc"] = "timeout"
    elif "exit" in r:
        r["rc"] = r["exit"]
    for line in stdout.decode(errors="replace").splitlines():
        if line.startswith("@bench "):
            try:
                r["internal"] = json.loads(line[7:])
            except ValueError:
                pass
    r["peak_rss"] = max(r["rss_tree"], r.get("maxrss_single", 0))
    return r


def tree_size(paths) -> int:
    total = 0
    for p in paths:
        p = Path(p)
        if p.is_file():
            total += p.stat().st_size
        elif p.is_dir():
            for dirpath, _, files in os.walk(p):
                for f in files:
                    try:
                        total += os.lstat(os.path.join(dirpath, f)).st_size
                    except OSError:
                        pass
    return total


def remove(path: Path):
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


# ------------------------------------------------------------------------ check

def describe_store(store: Path) -> str:
    """What was actually written: format, codec and chunks of the first data variable."""
    try:
        for meta in sorted(store.glob("*/.zarray")) + sorted(store.glob("*/zarr.json")):
            m = json.loads(meta.read_text())
            shape = m.get("shape", [])
            if len(shape) < 3:
                continue
            if meta.name == ".zarray":
                comp = m.get("compressor")
                if comp is None:
                    c = "uncompressed"
                elif comp.get("id") == "blosc":
                    c = f"blosc {comp.get('cname')}-{comp.get('clevel')} shuffle={comp.get('shuffle')}"
                else:
                    c = json.dumps(comp)
                filt = m.get("filters")
                if filt:
                    c += " + " + ",".join(f.get("id", "?") for f in filt)
                return f"v2 {meta.parent.name} {m.get('dtype')} chunks={tuple(m['chunks'])} {c}"
            codecs = [cd.get("name") + (f"({cd['configuration'].get('cname')}-{cd['configuration'].get('clevel')})"
                                        if cd.get("name") == "blosc" else "")
                      for cd in m.get("codecs", [])]
            ch = m.get("chunk_grid", {}).get("configuration", {}).get("chunk_shape")
            return f"v3 {meta.parent.name} {m.get('data_type')} chunks={tuple(ch or ())} {'+'.join(codecs)}"
    except Exception as e:  # pragma: no cover
        return f"? ({e})"
    return "?"


class Checker:
    """Compares outputs with the sources, per source file, with xarray."""

    def __init__(self, files, cache_limit=600e6):
        self.files = files
        self.cache = {}
        self.cache_ok = sum(os.path.getsize(f) for f in files) * 2.2 < cache_limit

    def source(self, f):
        import xarray as xr
        if f in self.cache:
            return self.cache[f]
        with xr.open_dataset(f) as ds:
            d = {"time": ds["time"].values, "vars": {v: ds[v].values for v in ds.data_vars},
                 "coords": {k: ds[k].values for k in ds.coords if k != "time"}}
        if self.cache_ok:
            self.cache[f] = d
        return d

    @staticmethod
    def tolerance(da):
        enc = da.encoding
        tol = 0.0
        if "scale_factor" in enc:
            tol = max(tol, abs(float(enc["scale_factor"])) / 2)
        for flt in list(enc.get("filters") or ()) + list(enc.get("compressors") or ()):
            scale = getattr(flt, "scale", None)
            if scale:
                tol = max(tol, 0.5 / float(scale))
        return tol

    def check(self, stores) -> tuple[bool, str]:
        import warnings

        import numpy as np
        import xarray as xr
        warnings.filterwarnings("ignore", category=RuntimeWarning)
        try:
            dss = [xr.open_zarr(str(s), consolidated=None, chunks=None) for s in stores]
        except Exception as e:
            return False, f"cannot open: {type(e).__name__}: {str(e)[:120]}"
        try:
            if len(dss) == 1:
                pairs = [(dss[0], f) for f in self.files]
            elif len(dss) == len(self.files):
                pairs = list(zip(dss, self.files))
            else:
                return False, f"{len(dss)} stores for {len(self.files)} files"
            worst = 0.0
            for ds, f in pairs:
                src = self.source(f)
                if "time" not in ds:
                    return False, "no time coordinate"
                otime = ds["time"].values
                st = src["time"]
                idx = np.searchsorted(otime, st)
                if (idx >= len(otime)).any() or not np.array_equal(otime[np.minimum(idx, len(otime) - 1)], st):
                    return False, f"times of {Path(f).name} missing or not decoded to the same instants"
                for k, v in src["coords"].items():
                    if k not in ds or not np.array_equal(ds[k].values, v):
                        return False, f"coordinate {k} differs or missing"
                for name, s in src["vars"].items():
                    if name not in ds:
                        return False, f"variable {name} missing"
                    da = ds[name]
                    o = da.isel(time=slice(int(idx[0]), int(idx[-1]) + 1)).values
                    if len(idx) and not np.array_equal(idx, np.arange(idx[0], idx[0] + len(idx))):
                        o = da.isel(time=idx).values
                    if o.shape != s.shape:
                        return False, f"{name}: shape {o.shape} != {s.shape}"
                    ns, no = np.isnan(s), np.isnan(o)
                    if not np.array_equal(ns, no):
                        return False, (f"{name} in {Path(f).name}: NaN mask differs "
                                       f"({int(ns.sum())} in source, {int(no.sum())} written)")
                    tol = self.tolerance(da)
                    m = ~ns
                    diff = np.abs(o[m].astype("f8") - s[m].astype("f8"))
                    if tol == 0:
                        if not np.array_equal(o[m], s[m]):
                            return False, f"{name} in {Path(f).name}: values differ (max {diff.max():.3g})"
                    else:
                        lim = tol * 1.001 + 4 * np.finfo(np.float32).eps * np.abs(s[m].astype("f8"))
                        bad = diff > lim
                        if bad.any():
                            return False, (f"{name} in {Path(f).name}: {int(bad.sum())} values off by more "
                                           f"than scale_factor/2 (max {diff.max():.3g}, tol {tol:.3g})")
                        worst = max(worst, float(diff.max() / tol) if diff.size else 0.0)
            return True, ("ok" if worst == 0 else f"ok (max error {worst:.2f} x scale/2)")
        except Exception as e:
            return False, f"check error: {type(e).__name__}: {str(e)[:160]}"
        finally:
            for d in dss:
                d.close()


# ------------------------------------------------------------------------ main

def have(req) -> str | None:
    kind, thing = req
    if kind == "file" and not Path(thing).exists():
        if Path(thing) == OUR_CLI:
            return "not built"
        return f"not wired ({Path(thing).name})" if Path(thing).parent == HERE / "peers" else f"missing {thing}"
    if kind == "bin" and not (shutil.which(thing) or Path(thing).exists()):
        return f"not installed ({thing})"
    if kind == "py":
        r = subprocess.run([PY, "-c", f"import {thing}"], capture_output=True)
        if r.returncode:
            return f"not installed (python {thing})"
    return None


def machine_info() -> dict:
    model = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = 0
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                mem = int(line.split()[1]) * 1024
    except OSError:
        pass
    return dict(nproc=os.cpu_count(), cpu=model, mem_gb=round(mem / 2**30, 1), kernel=platform.release(),
                python=platform.python_version())


def versions() -> dict:
    def cmd(argv):
        try:
            r = subprocess.run(argv, capture_output=True, text=True, timeout=20)
            return (r.stdout or r.stderr).strip().splitlines()[0] if (r.stdout or r.stderr) else "?"
        except Exception:
            return "not installed"
    v = {}
    r = subprocess.run([PY, "-c", "import xarray, zarr, numcodecs, netCDF4, numpy\n"
                        "try:\n import dask; d=dask.__version__\nexcept Exception: d='-'\n"
                        "print(xarray.__version__, zarr.__version__, numcodecs.__version__, "
                        "netCDF4.__version__, netCDF4.__netcdf4libversion__, d)"],
                       capture_output=True, text=True)
    if r.returncode == 0:
        x = r.stdout.split()
        v.update(xarray=x[0], zarr=x[1], numcodecs=x[2], netCDF4=x[3], libnetcdf=x[4], dask=x[5])
    pyz = PYZ_VENV / "bin" / "python"
    if pyz.exists():
        r = subprocess.run([str(pyz), "-c", "import importlib.metadata as m;"
                            "print(m.version('zarrio'), m.version('zarr'), m.version('xarray'))"],
                           capture_output=True, text=True)
        if r.returncode == 0:
            x = r.stdout.split()
            v["python_zarrio"] = f"{x[0]} (zarr {x[1]}, xarray {x[2]})"
    v["gdal"] = cmd(["gdalinfo", "--version"])
    v["nccopy"] = "not installed"
    if shutil.which("ncdump"):
        r = subprocess.run(["ncdump"], capture_output=True, text=True)
        m = re.search(r"netcdf library version (\S+)", r.stdout + r.stderr)
        v["nccopy"] = f"libnetcdf {m.group(1)}" if m else "?"
    v["node"] = cmd([NODE, "--version"])
    try:
        r = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
        v["zarrio_commit"] = r.stdout.strip() or "no commit"
    except Exception:
        v["zarrio_commit"] = "?"
    return v


def fmt(x, nd=1, dash="—"):
    if x is None or (isinstance(x, float) and (math.isnan(x) or math.isinf(x))):
        return dash
    if isinstance(x, float):
        return f"{x:.{nd}f}"
    return str(x)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default="small", choices=sorted(corpusmod.PRESETS))
    ap.add_argument("--reps", type=int, default=None, help="repetitions per case (default 3; large: 1)")
    ap.add_argument("--only", default=None, help="comma list of globs on case ids")
    ap.add_argument("--skip", default=None, help="comma list of globs on case ids")
    ap.add_argument("--groups", default="ours,peers,refs")
    ap.add_argument("--timeout", type=float, default=None, help="seconds per run (default from corpus size)")
    ap.add_argument("--no-check", action="store_true")
    ap.add_argument("--keep-outputs", action="store_true")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--tag", default="", help="suffix for the results file names")
    a = ap.parse_args(argv)

    p = dict(corpusmod.DEFAULTS)
    p.update(corpusmod.PRESETS[a.preset])
    p["grid"] = list(p["grid"])
    ny, nx = p["grid"]
    # One-step files: a day per chunk over the whole grid (the layout such series are archived in).
    chunks = (24, ny, nx) if p["steps"] == 1 else (min(24, p["steps"]), math.ceil(ny / 2), math.ceil(nx / 2))
    start = dt.datetime.fromisoformat(p["start"])
    end = start + dt.timedelta(hours=p["files"] * p["steps"] - 1)
    ctx = dict(chunks=chunks, start=start.strftime("%Y-%m-%dT%H:%M:%S"), end=end.strftime("%Y-%m-%dT%H:%M:%S"))
    cases = build_cases(ctx)
    groups = set(a.groups.split(","))
    sel = [c for c in cases if c.group in groups]
    if a.only:
        pats = a.only.split(",")
        sel = [c for c in sel if any(fnmatch.fnmatch(c.id, q) for q in pats)]
    if a.skip:
        pats = a.skip.split(",")
        sel = [c for c in sel if not any(fnmatch.fnmatch(c.id, q) for q in pats)]
    if a.list:
        for c in cases:
            print(f"{c.id:28s} {c.group:6s} {c.label}")
        return 0

    reps = a.reps or (1 if a.preset in ("large", "xlarge") else 3)
    print(f"corpus {a.preset} ...", file=sys.stderr)
    man = corpusmod.ensure_corpus(p, corpusmod.CORPUS_ROOT / a.preset)
    files = man["paths"]
    mb = man["uncompressed_bytes"] / 1e6
    single = None
    if any(c.corpus == "single" for c in sel):
        sp = dict(corpusmod.DEFAULTS)
        sp.update(corpusmod.PRESETS["single"])
        sp["grid"] = list(sp["grid"])
        single = corpusmod.ensure_corpus(sp, corpusmod.CORPUS_ROOT / "single", quiet=True)
    timeout = a.timeout or max(120.0, mb / 2.0)

    # warm the page cache: every case reads the corpus from memory
    for f in files + (single["paths"] if single else []):
        with open(f, "rb") as fh:
            while fh.read(1 << 24):
                pass

    OUT_ROOT.mkdir(parents=True, exist_ok=True)
    logs = OUT_ROOT / "logs"
    logs.mkdir(exist_ok=True)
    checker = Checker(files)
    info = machine_info()
    info["load_before"] = os.getloadavg()
    started = dt.datetime.now()
    print(f"{len(sel)} cases, {reps} rep(s), corpus {len(files)} files, {mb:.0f} MB uncompressed, "
          f"load {info['load_before'][0]:.2f}", file=sys.stderr)

    results = []
    codec_bytes = None
    for c in sel:
        res = dict(id=c.id, group=c.group, label=c.label, note=c.note, status="ok", runs=[])
        results.append(res)
        missing = next((m for m in (have(r) for r in c.requires) if m), None)
        if missing:
            res["status"] = missing
            print(f"  {c.id}: {missing}", file=sys.stderr)
            continue
        cfiles = single["paths"] if c.corpus == "single" else files
        cmb = (single["uncompressed_bytes"] if c.corpus == "single" else man["uncompressed_bytes"]) / 1e6
        res["mb"] = cmb
        out = OUT_ROOT / (c.id + (".bin" if c.id == "ref-disk" else ""))
        x = dict(files=cfiles, out=str(out), codec_bytes=codec_bytes or man["compressed_bytes"])
        if c.id == "ref-disk":
            res["note"] = f"{x['codec_bytes'] / 1e6:.0f} MB written (compressed size from ref-codec)"
        argv = c.argv(x)
        res["argv"] = argv
        n = c.reps or reps
        for i in range(n):
            remove(out)
            subprocess.run(["sync"])
            r = run_once(argv, c.env, timeout, logs / f"{c.id}.{i}.log")
            res["runs"].append(r)
            print(f"  {c.id} [{i + 1}/{n}] wall {r['wall_s']:.2f}s cpu {r['cpu_s']:.2f}s "
                  f"rss {r['peak_rss'] / 1e6:.0f}MB rc {r['rc']}", file=sys.stderr)
            if r["rc"] != 0:
                break
        last = res["runs"][-1]
        if last["rc"] != 0:
            res["status"] = "timeout" if last["rc"] == "timeout" else f"failed (exit {last['rc']})"
            try:
                tail = (logs / f"{c.id}.{len(res['runs']) - 1}.log").read_text(errors="replace")
                res["error"] = tail.strip().splitlines()[-1][:200] if tail.strip() else ""
            except OSError:
                pass
        ok = [r for r in res["runs"] if r["rc"] == 0]
        if ok:
            src = [r.get("internal") or r for r in ok]
            res["wall_s"] = statistics.median(s["wall_s"] for s in src)
            res["cpu_s"] = statistics.median(s["cpu_s"] for s in src)
            res["peak_rss"] = statistics.median(r["peak_rss"] for r in ok)
            res["timing"] = "internal" if ok[0].get("internal") else "process"
        ib = (ok[-1].get("internal") or {}).get("out_bytes") if ok else None
        if ib:
            res["out_bytes"] = ib
        if c.id == "ref-disk" and ok:
            res["note"] += f"; {x['codec_bytes'] / 1e6 / res['wall_s']:.0f} MB/s of compressed bytes"
        if c.id == "ref-codec" and ok:
            try:
                codec_bytes = int((OUT_ROOT / "codec-size.txt").read_text())
                res["out_bytes"] = codec_bytes
            except (OSError, ValueError):
                pass
        if c.outputs and ok:
            stores = [out] if c.outputs == "single" else sorted(out.glob("*.zarr"))
            res["out_bytes"] = tree_size(stores)
            res["written"] = describe_store(stores[0]) if stores else "nothing"
            if not a.no_check and c.corpus != "single":
                t0 = time.perf_counter()
                good, why = checker.check(stores)
                res["check"] = why
                if not good:
                    res["status"] = "check failed"
                print(f"  {c.id}: check {why} ({time.perf_counter() - t0:.1f}s); wrote {res['written']}",
                      file=sys.stderr)
            elif c.corpus == "single":
                ok_s, why = Checker(cfiles).check(stores) if not a.no_check else (True, "not checked")
                res["check"] = why
                if not ok_s:
                    res["status"] = "check failed"
        if not a.keep_outputs and c.outputs:
            remove(out)
    remove(OUT_ROOT / "ref-disk.bin")
    info["load_after"] = os.getloadavg()

    # ---- table
    ref = next((r for r in results if r["id"] == "ours-convert" and r.get("wall_s")), None)
    rows = []
    hdr = ["case", "wall s", "CPU s", "MB/s", "MB per CPU-s", "peak RSS MB", "output MB", "ratio",
           "time / ours", "check", "notes"]
    for r in results:
        wall = r.get("wall_s")
        cpu = r.get("cpu_s")
        mbr = r.get("mb", mb)
        outb = r.get("out_bytes")
        notes = []
        if r.get("written"):
            notes.append("wrote " + r["written"])
        if r.get("note"):
            notes.append(r["note"])
        if r.get("timing") == "internal":
            notes.append("timed inside the process")
        if r.get("error"):
            notes.append("error: " + r["error"])
        if r["id"] == "ours-overhead" and wall:
            notes.append(f"{wall * 1000:.0f} ms for {mbr:.1f} MB")
        check = r.get("check", "—")
        if r["status"] not in ("ok", "check failed"):
            check = r["status"]
        elif r["status"] == "check failed":
            check = "**FAILED**: " + r.get("check", "")
        rows.append([
            r["label"],
            fmt(wall, 2), fmt(cpu, 2),
            fmt(mbr / wall if wall else None, 0),
            fmt(mbr / cpu if cpu else None, 0),
            fmt(r["peak_rss"] / 1e6 if r.get("peak_rss") else None, 0),
            fmt(outb / 1e6 if outb else None, 1),
            fmt(r["mb"] * 1e6 / outb if outb and r.get("mb") else None, 2),
            fmt(wall / ref["wall_s"] if (ref and wall and r["id"] != "ours-overhead") else None, 2),
            check,
            "; ".join(notes),
        ])
    date = started.strftime("%Y-%m-%d")
    md = []
    md.append(f"# zarrio benchmark — {a.preset} corpus, {started:%Y-%m-%d %H:%M}")
    md.append("")
    md.append(f"Corpus: {len(files)} NetCDF-4 files × {p['steps']} hourly steps × {p['vars']} float32 variables "
              f"on {ny}×{nx} ({p['format']}, zlib {p['complevel']} + shuffle, HDF5 chunks (1,{ny},{nx}), "
              f"30 % NaN land mask in sst): {mb:.1f} MB uncompressed, {man['compressed_bytes'] / 1e6:.1f} MB on disk. "
              f"Output chunks {chunks}, Blosc zstd-3 + byte shuffle where the tool allows it. "
              f"MB/s = uncompressed MB / wall; median of {reps} run(s); warm page cache.")
    md.append("")
    md.append(f"Machine: {info['nproc']} cores, {info['cpu']}, {info['mem_gb']} GB; load average "
              f"{'/'.join(f'{x:.2f}' for x in info['load_before'])} before, "
              f"{'/'.join(f'{x:.2f}' for x in info['load_after'])} after (1/5/15 min).")
    if info["load_before"][0] > (info["nproc"] or 1):
        md.append("")
        md.append(f"**Machine busy** (load {info['load_before'][0]:.1f} on {info['nproc']} cores): wall times and MB/s "
                  f"are pessimistic; MB per CPU-second is the figure to compare.")
    md.append("")
    md.append("| " + " | ".join(hdr) + " |")
    md.append("|" + "---|" * len(hdr))
    for row in rows:
        md.append("| " + " | ".join(s.replace("|", "\\|") for s in row) + " |")
    md.append("")
    rr = next((r for r in results if r["id"] == "ref-read" and r.get("wall_s")), None)
    rc = next((r for r in results if r["id"] == "ref-codec" and r.get("wall_s")), None)
    rp = next((r for r in results if r["id"] == "ref-codec-int16" and r.get("wall_s")), None)
    if rr and rc and rr["cpu_s"] > 0 and rc["cpu_s"] > 0:
        read_rate, codec_rate = mb / rr["cpu_s"], mb / rc["cpu_s"]
        lim = 1 / (1 / read_rate + 1 / codec_rate)
        md.append(f"Physical limit (per CPU-second, so independent of load): read {read_rate:.0f} MB/s, "
                  f"encode {codec_rate:.0f} MB/s → read-then-encode {lim:.0f} MB/s per core, "
                  f"≈ {lim * (info['nproc'] or 1):.0f} MB/s on {info['nproc']} cores.")
        if rp and rp["cpu_s"] > 0:
            lp = 1 / (1 / read_rate + 1 / (mb / rp["cpu_s"]))
            md.append(f"With int16 packing: {lp:.0f} MB/s per core.")
        md.append("")
    v = versions()
    md.append("Versions: " + ", ".join(f"{k} {val}" for k, val in v.items()))
    md.append("")
    text = "\n".join(md)
    print(text)
    RESULTS.mkdir(exist_ok=True)
    stem = f"{date}-{a.preset}{('-' + a.tag) if a.tag else ''}"
    (RESULTS / f"{stem}.md").write_text(text)
    (RESULTS / f"{stem}.json").write_text(json.dumps(dict(
        preset=a.preset, params=p, chunks=chunks, uncompressed_mb=mb, reps=reps, started=started.isoformat(),
        machine=info, versions=v, results=results), indent=1, default=str))
    print(f"wrote {RESULTS / (stem + '.md')} and .json", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
