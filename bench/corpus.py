#!/usr/bin/env python3
"""Deterministic NetCDF corpus for the zarrio benchmark.

Each file holds `steps` hourly time steps (one file = one "day" when steps=24) of
smooth, evolving fields on a global regular lat/lon grid:

  t2m  2 m temperature, K       (meridional profile + diurnal cycle + anomalies)
  u10  10 m zonal wind, m s-1   (jets + anomalies)
  sst  sea surface temperature  (30 % of the grid is a land mask: NaN)
  v10, msl, tcwv                (extra variables when --vars > 3)

Anomalies are spectral random fields with a red (power-law) spectrum that drift
eastwards with time, so neighbouring values and neighbouring time steps are
correlated as in model output and the float32 mantissas carry realistic noise:
compression ratios are those of real data, not of random noise or of constants.

NetCDF-4 files use zlib level 1 + shuffle with HDF5 chunks (1, nlat, nlon) and an
unlimited time dimension; "classic" files are NETCDF3_CLASSIC (no compression).

A manifest (manifest.json) records the parameters and every file's size: files
that already exist with the same parameters are not generated again.

Usage:
  corpus.py --preset small
  corpus.py --files 16 --steps 24 --grid 361x720 --vars 3 --format netcdf4 --out DIR
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

GENERATOR_VERSION = 1
HERE = Path(__file__).resolve().parent
CORPUS_ROOT = HERE / ".corpus"

PRESETS = {
    # 2 files, 4 steps, 91x180: harness self-test (~1.2 MB).
    "tiny": dict(files=2, steps=4, grid=(91, 180), vars=3, format="netcdf4"),
    # one small file: fixed-overhead measurement of a CLI (process start, backend load).
    "single": dict(files=1, steps=2, grid=(91, 180), vars=3, format="netcdf4"),
    # 4 daily files: ~300 MB uncompressed.
    "small": dict(files=4, steps=24, grid=(361, 720), vars=3, format="netcdf4"),
    # 16 daily files: ~1.2 GB uncompressed (the corpus).
    "large": dict(files=16, steps=24, grid=(361, 720), vars=3, format="netcdf4"),
    # memory-flatness series (4 / 16 / 64 files): 64 files is ~4.8 GB uncompressed.
    "xlarge": dict(files=64, steps=24, grid=(361, 720), vars=3, format="netcdf4"),
    # one hourly step per file, 1,000 files (~260 MB uncompressed): the many-small-files shape.
    "hourly": dict(files=1000, steps=1, grid=(181, 360), vars=1, format="netcdf4"),
    # 10,000 one-step files on a tiny grid: per-file cost and memory from 1,000 to 10,000 files.
    "hourly-10k": dict(files=10000, steps=1, grid=(19, 36), vars=1, format="netcdf4"),
    # classic (CDF-1) variant of small.
    "small-classic": dict(files=4, steps=24, grid=(361, 720), vars=3, format="classic"),
}

DEFAULTS = dict(start="2024-01-01T00:00:00", seed=20241125, complevel=1, shuffle=True,
                land_fraction=0.30, unlimited=True)

VARIABLES = [
    # name, long_name, standard_name, units, spectral slope, anomaly amplitude
    ("t2m", "2 metre temperature", "air_temperature", "K", 1.9, 4.0),
    ("u10", "10 metre U wind component", "eastward_wind", "m s-1", 1.6, 4.5),
    ("sst", "Sea surface temperature", "sea_surface_temperature", "K", 2.3, 1.2),
    ("v10", "10 metre V wind component", "northward_wind", "m s-1", 1.6, 4.0),
    ("msl", "Mean sea level pressure", "air_pressure_at_mean_sea_level", "Pa", 2.4, 900.0),
    ("tcwv", "Total column water vapour", "lwe_thickness_of_atmosphere_mass_content_of_water_vapor",
     "kg m-2", 1.8, 6.0),
]
MASKED_VAR = "sst"


def parse_grid(text: str) -> tuple[int, int]:
    ny, nx = text.lower().split("x")
    return int(ny), int(nx)


class SpectralField:
    """Real 2-D field from random Fourier coefficients with a power-law amplitude
    spectrum; advected eastwards (phase speed per zonal wavenumber) over time."""

    def __init__(self, ny: int, nx: int, slope: float, rng: np.random.Generator,
                 speed_deg_per_hour: float = 0.4):
        ky = np.fft.fftfreq(ny) * ny
        kx = np.fft.rfftfreq(nx) * nx
        kk = np.sqrt(ky[:, None] ** 2 + kx[None, :] ** 2)
        amp = (1.0 + kk) ** (-slope)
        amp[0, 0] = 0.0
        self.coef = amp * (rng.standard_normal(amp.shape) + 1j * rng.standard_normal(amp.shape))
        # eastward drift: zonal wavenumber kx moves by 2*pi*kx*speed/360 per hour,
        # plus a slow random "weather" evolution per mode
        self.omega = (2 * np.pi * kx[None, :] * speed_deg_per_hour / 360.0
                      + 0.02 * rng.standard_normal(amp.shape))
        self.shape = (ny, nx)
        f0 = np.fft.irfft2(self.coef, s=self.shape)
        self.scale = 1.0 / (f0.std() or 1.0)

    def at(self, hour: float) -> np.ndarray:
        c = self.coef * np.exp(1j * self.omega * hour)
        return np.fft.irfft2(c, s=self.shape) * self.scale


class Generator:
    def __init__(self, p: dict):
        self.p = p
        ny, nx = p["grid"]
        self.ny, self.nx = ny, nx
        # global regular grid, north to south like ERA5
        self.lat = np.linspace(90.0, -90.0, ny)
        self.lon = np.arange(nx) * (360.0 / nx)
        self.latr = np.deg2rad(self.lat)[:, None]
        self.lonr = np.deg2rad(self.lon)[None, :]
        self.vars = VARIABLES[: p["vars"]]
        self.fields = {}
        for i, v in enumerate(self.vars):
            rng = np.random.default_rng([p["seed"], i])
            self.fields[v[0]] = SpectralField(ny, nx, v[4], rng)
        # static land mask: top `land_fraction` of a smooth field
        rng = np.random.default_rng([p["seed"], 999])
        land = SpectralField(ny, nx, 2.6, rng).at(0.0)
        thr = np.quantile(land, 1.0 - p["land_fraction"])
        self.land = land >= thr
        self.landf = self.land.astype(np.float64)

    def field(self, name: str, hour: float) -> np.ndarray:
        anom = self.fields[name].at(hour)
        amp = {v[0]: v[5] for v in self.vars}[name]
        s2 = np.sin(self.latr) ** 2
        if name == "t2m":
            # diurnal cycle following local solar time, stronger over land
            local = 2 * np.pi * (hour % 24) / 24.0 + self.lonr
            diurnal = (2.0 + 4.0 * self.landf) * np.cos(local - np.pi) * np.cos(self.latr)
            f = 300.0 - 48.0 * s2 + diurnal + amp * anom
        elif name == "u10":
            f = (7.0 * np.sin(3 * self.latr) * np.cos(self.latr) - 4.0 * np.cos(self.latr) ** 8
                 + amp * anom)
        elif name == "sst":
            f = np.maximum(271.35, 302.0 - 32.0 * s2 + amp * anom)
            f = np.where(self.land, np.nan, f)
        elif name == "v10":
            f = amp * anom
        elif name == "msl":
            f = 101325.0 + 1200.0 * np.cos(4 * self.latr) + amp * anom
        elif name == "tcwv":
            f = np.maximum(0.0, 45.0 * np.cos(self.latr) ** 3 + 2.0 + amp * anom)
        else:  # pragma: no cover
            raise KeyError(name)
        return f.astype(np.float32)

    def write(self, path: Path, file_index: int) -> dict:
        import netCDF4

        p = self.p
        steps = p["steps"]
        h0 = file_index * steps
        tmp = path.with_suffix(path.suffix + ".tmp")
        if tmp.exists():
            tmp.unlink()
        fmt = "NETCDF4" if p["format"] == "netcdf4" else "NETCDF3_CLASSIC"
        ds = netCDF4.Dataset(tmp, "w", format=fmt)
        try:
            ds.Conventions = "CF-1.8"
            ds.title = "zarrio benchmark corpus (synthetic reanalysis-like fields)"
            ds.source = f"bench/corpus.py v{GENERATOR_VERSION}"
            ds.institution = "zarrio"
            ds.createDimension("time", None if p["unlimited"] else steps)
            ds.createDimension("lat", self.ny)
            ds.createDimension("lon", self.nx)
            t = ds.createVariable("time", "f8", ("time",))
            t.standard_name = "time"
            t.long_name = "time"
            t.units = f"hours since {p['start'].replace('T', ' ')}"
            t.calendar = "standard"
            t.axis = "T"
            la = ds.createVariable("lat", "f4", ("lat",))
            la.standard_name = "latitude"
            la.long_name = "latitude"
            la.units = "degrees_north"
            la.axis = "Y"
            lo = ds.createVariable("lon", "f4", ("lon",))
            lo.standard_name = "longitude"
            lo.long_name = "longitude"
            lo.units = "degrees_east"
            lo.axis = "X"
            la[:] = self.lat.astype(np.float32)
            lo[:] = self.lon.astype(np.float32)
            t[:] = np.arange(h0, h0 + steps, dtype=np.float64)
            kw = {}
            if fmt == "NETCDF4":
                kw = dict(zlib=p["complevel"] > 0, complevel=p["complevel"], shuffle=p["shuffle"],
                          chunksizes=(1, self.ny, self.nx))
            vs = {}
            for name, long_name, std, units, _, _ in self.vars:
                fill = np.float32(np.nan) if name == MASKED_VAR else None
                v = ds.createVariable(name, "f4", ("time", "lat", "lon"), fill_value=fill, **kw)
                v.long_name = long_name
                v.standard_name = std
                v.units = units
                vs[name] = v
            for k in range(steps):
                for name in vs:
                    vs[name][k, :, :] = self.field(name, float(h0 + k))
        finally:
            ds.close()
        os.replace(tmp, path)
        return dict(name=path.name, bytes=path.stat().st_size,
                    uncompressed_bytes=self.uncompressed_bytes_per_file(),
                    hours=[h0, h0 + steps - 1])

    def uncompressed_bytes_per_file(self) -> int:
        p = self.p
        data = p["steps"] * self.ny * self.nx * 4 * len(self.vars)
        coords = p["steps"] * 8 + self.ny * 4 + self.nx * 4
        return data + coords


def file_name(p: dict, i: int) -> str:
    start = dt.datetime.fromisoformat(p["start"]) + dt.timedelta(hours=i * p["steps"])
    return f"corpus_{start:%Y%m%dT%H}.nc"


def params_from_args(a) -> tuple[dict, str]:
    p = dict(DEFAULTS)
    name = a.preset
    if a.preset:
        p.update(PRESETS[a.preset])
    for key in ("files", "steps", "vars", "format", "start", "seed", "complevel"):
        val = getattr(a, key)
        if val is not None:
            p[key] = val
    if a.grid:
        p["grid"] = parse_grid(a.grid)
    p.setdefault("files", 4)
    p.setdefault("steps", 24)
    p.setdefault("grid", (361, 720))
    p.setdefault("vars", 3)
    p.setdefault("format", "netcdf4")
    p["grid"] = list(p["grid"])
    if not 1 <= p["vars"] <= len(VARIABLES):
        raise SystemExit(f"--vars must be 1..{len(VARIABLES)}")
    base = dict(DEFAULTS)
    if a.preset:
        base.update(PRESETS[a.preset])
        base["grid"] = list(base["grid"])
    custom = [k for k in p if base.get(k) != p[k]]
    if not name or custom:
        name = (f"f{p['files']}-s{p['steps']}-g{p['grid'][0]}x{p['grid'][1]}-v{p['vars']}-{p['format']}")
    return p, name


def ensure_corpus(p: dict, out: Path, quiet: bool = False) -> dict:
    """Generate the corpus described by `p` into `out` (skipping files that exist with the
    same parameters). Returns the manifest."""
    out.mkdir(parents=True, exist_ok=True)
    mpath = out / "manifest.json"
    key = {k: p[k] for k in sorted(p) if k != "files"}
    key["generator_version"] = GENERATOR_VERSION
    old = {}
    if mpath.exists():
        try:
            m = json.loads(mpath.read_text())
            if m.get("key") == key:
                old = {f["name"]: f for f in m.get("files", [])}
        except (ValueError, KeyError):
            old = {}
    if not old:
        # parameters changed: stale files of an older manifest are removed
        for f in out.glob("corpus_*.nc"):
            f.unlink()
    gen = None
    files = []
    t0 = time.perf_counter()
    made = 0
    for i in range(p["files"]):
        name = file_name(p, i)
        path = out / name
        prev = old.get(name)
        if prev and path.exists() and path.stat().st_size == prev["bytes"]:
            files.append(prev)
            continue
        if gen is None:
            gen = Generator(p)
        rec = gen.write(path, i)
        made += 1
        files.append(rec)
        if not quiet:
            print(f"  wrote {name} ({rec['bytes'] / 1e6:.1f} MB)", file=sys.stderr)
        # keep the manifest current so an interrupted run resumes
        keep = {f["name"]: f for f in files}
        keep.update({k: v for k, v in old.items() if k not in keep})
        _write_manifest(mpath, p, key, list(keep.values()))
    # files beyond `files` from an earlier, larger run stay valid for later runs
    names = {f["name"] for f in files}
    extra = [v for k, v in old.items() if k not in names and (out / k).exists()]
    manifest = _write_manifest(mpath, p, key, files + extra)
    manifest["files"] = files  # the caller's view: exactly the files asked for
    manifest["uncompressed_bytes"] = sum(f["uncompressed_bytes"] for f in files)
    manifest["compressed_bytes"] = sum(f["bytes"] for f in files)
    manifest["paths"] = [str(out / f["name"]) for f in files]
    if not quiet:
        print(f"corpus {out}: {len(files)} files ({made} generated in "
              f"{time.perf_counter() - t0:.1f} s), {manifest['uncompressed_bytes'] / 1e6:.1f} MB "
              f"uncompressed, {manifest['compressed_bytes'] / 1e6:.1f} MB on disk", file=sys.stderr)
    return manifest


def _write_manifest(mpath: Path, p: dict, key: dict, files: list) -> dict:
    files = sorted(files, key=lambda f: f["name"])
    m = dict(key=key, params=p, files=files)
    tmp = mpath.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(m, indent=1))
    os.replace(tmp, mpath)
    return m


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", choices=sorted(PRESETS))
    ap.add_argument("--files", type=int)
    ap.add_argument("--steps", type=int)
    ap.add_argument("--grid", help="NLATxNLON, e.g. 361x720")
    ap.add_argument("--vars", type=int)
    ap.add_argument("--format", choices=["netcdf4", "classic"])
    ap.add_argument("--start", help="first time, ISO (default 2024-01-01T00:00:00)")
    ap.add_argument("--seed", type=int)
    ap.add_argument("--complevel", type=int, help="zlib level for netcdf4 (default 1; 0 = none)")
    ap.add_argument("--out", help="output directory (default bench/.corpus/<preset or params>)")
    ap.add_argument("--json", action="store_true", help="print the manifest as JSON on stdout")
    a = ap.parse_args(argv)
    p, name = params_from_args(a)
    out = Path(a.out) if a.out else CORPUS_ROOT / name
    m = ensure_corpus(p, out)
    if a.json:
        print(json.dumps(m, indent=1))


if __name__ == "__main__":
    main()
