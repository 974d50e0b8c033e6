#!/usr/bin/env python3
"""Reference comparison: does a Zarr store read back in xarray exactly as the NetCDF source(s) do?

This is the proof that zarrio's output is right: both sides are opened with xarray (the source with the
netCDF4 engine, the store with open_zarr on consolidated metadata) and compared after CF decoding, group by
group: variable set, dimensions and sizes, dtypes, values (NaN-aware exact; packed variables within half a
quantisation step), decoded times (cftime calendars included), attributes, and text.

    python compare.py --zarr OUT.zarr --source a.nc [--source b.nc ...] [--concat-dim time]
                      [--group /zarr/path] [--source-group /nc/path] [--variables a,b] [--drop-variables c]
                      [--isel time=0:10] [--packed-tolerance auto|ABS] [--allow-extra-variables]
                      [--allow-extra-attrs] [--ignore-attrs history,date_created] [--json] [-v]

Several sources are concatenated along --concat-dim in the order given (like xr.open_mfdataset with
combine='nested'); variables without that dimension are taken from the first source. --group names the Zarr
group the data was written under (source root <-> that group). --isel selects a region of the store before
comparing, e.g. the slots one write-region filled.

Exit status: 0 all equal, 1 any difference (or the store can't be opened), 2 bad arguments.
Test-only tool: it needs the venv from test/requirements.txt and is never part of the package.
"""
from __future__ import annotations

import argparse
import gc
import json
import math
import os
import sys
import warnings
from dataclasses import dataclass, field
from typing import Any, Iterable

import numpy as np

try:
    import cftime
    import netCDF4
    import xarray as xr
    import zarr
except ImportError as err:  # pragma: no cover - environment problem, say what to do
    sys.stderr.write(f"compare.py: {err}. Run it with the test venv: $ZARRIO_PYTHON (bash scripts/setup.sh)\n")
    sys.exit(2)

# Compare big variables in slabs along their first dimension so memory stays bounded.
BLOCK_BYTES = 128 * 1024 * 1024

# Calendar names that mean the same thing in CF.
CALENDAR_ALIASES = {
    None: "standard",
    "": "standard",
    "gregorian": "standard",
    "standard": "standard",
    "365_day": "noleap",
    "noleap": "noleap",
    "366_day": "all_leap",
    "all_leap": "all_leap",
}


def norm_calendar(cal: Any) -> str:
    c = str(cal).lower() if cal is not None else None
    return CALENDAR_ALIASES.get(c, c)


@dataclass
class Report:
    problems: list[dict] = field(default_factory=list)
    notes: list[dict] = field(default_factory=list)
    checked: dict = field(default_factory=lambda: {
        "zarr_format": None,
        "consolidated": None,
        "sources": [],
        "groups": [],
        "variables": 0,
        "values": 0,
        "packed": {},
        "raw_times": [],
        "ignored_attrs": [],
    })

    def problem(self, where: str, kind: str, message: str, **extra: Any) -> None:
        self.problems.append({"where": where, "kind": kind, "message": message, **extra})

    def note(self, where: str, kind: str, message: str) -> None:
        self.notes.append({"where": where, "kind": kind, "message": message})

    @property
    def ok(self) -> bool:
        return not self.problems


# ----------------------------------------------------------------------------------------------- paths
def norm_path(p: str | None) -> str:
    """'/a/b/' and 'a/b' -> '/a/b'; None, '' and '/' -> '/'."""
    parts = [x for x in (p or "").split("/") if x]
    return "/" + "/".join(parts)


def join_path(base: str, rel: str) -> str:
    return norm_path(norm_path(base) + "/" + norm_path(rel))


def rel_path(path: str, root: str) -> str | None:
    """path relative to root ('/' for root itself), or None if path is outside root."""
    path, root = norm_path(path), norm_path(root)
    if root == "/":
        return path
    if path == root:
        return "/"
    if path.startswith(root + "/"):
        return path[len(root):]
    return None


def xr_group(path: str) -> str | None:
    """xarray wants None for the root group and 'a/b' otherwise."""
    p = norm_path(path)
    return None if p == "/" else p.lstrip("/")


def netcdf_groups(path: str) -> list[str]:
    """Every group path in a NetCDF file, root first ('/' only for classic files)."""
    out: list[str] = []

    def walk(g: Any, prefix: str) -> None:
        out.append(norm_path(prefix))
        for name, sub in g.groups.items():
            walk(sub, prefix + "/" + name)

    with netCDF4.Dataset(path, "r") as ds:
        walk(ds, "/")
    return out


def zarr_groups(root: Any, prefix: str = "/") -> list[str]:
    out = [norm_path(prefix)]
    for name, sub in sorted(root.groups(), key=lambda kv: kv[0]):
        out.extend(zarr_groups(sub, join_path(prefix, name)))
    return out


def enum_flags(path: str, group: str) -> dict[str, dict]:
    """The enum variables of a NetCDF group, as the CF flag attributes zarrio stores with their base
    integers (xarray shows enums as their integers alone): name -> {flag_values, flag_meanings}."""
    out: dict[str, dict] = {}
    with netCDF4.Dataset(path, "r") as ds:
        g = ds if norm_path(group) == "/" else ds[norm_path(group)]
        for name, v in g.variables.items():
            if isinstance(v.datatype, netCDF4.EnumType):
                members = list(v.datatype.enum_dict.items())
                out[name] = {"flag_values": [int(x) for _, x in members], "flag_meanings": " ".join(k for k, _ in members)}
    return out


# ----------------------------------------------------------------------------------------------- opening
def is_time_decode_error(err: Exception) -> bool:
    msg = str(err)
    return isinstance(err, ValueError) and "decode" in msg and "time" in msg


def open_decoded(opener, where: str, report: Report, label: str) -> tuple["xr.Dataset", set[str]]:
    """Open with CF time decoding; if xarray refuses the whole group because some times can't be decoded
    (year 0 in the standard calendar, say), open undecoded and decode variable by variable instead.

    The contract says such times are copied raw with their units, so they are compared raw (numbers and the
    units attribute) while every other time variable is still compared decoded. Returns the dataset and the
    names left raw. Both sides go through this same path, so they stay comparable.
    """
    try:
        return opener(True), set()
    except Exception as err:
        if not is_time_decode_error(err):
            raise
        first_line = str(err).splitlines()[0][:140]
        report.note(where, "times", f"{label}: some times can't be decoded, compared raw ({first_line})")
    # The failed attempt left an open netCDF4 file in garbage; finalise it here, on the main thread (see
    # close_all for why that matters).
    gc.collect()
    ds = opener(False)
    raw: set[str] = set()
    decoded = {}
    for name, var in ds.variables.items():
        if " since " not in str(var.attrs.get("units", "")):
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                one = xr.decode_cf(xr.Dataset({name: var}), mask_and_scale=False, decode_times=True,
                                   concat_characters=False, decode_coords=False)
            decoded[name] = one[name].variable
        except Exception:
            raw.add(name)
    for name, var in decoded.items():
        ds = ds.assign_coords({name: var}) if name in ds.coords else ds.assign({name: var})
    return ds, raw


# Every dataset opened, so each can be closed explicitly on the main thread. HDF5 (inside netCDF4) is not
# thread-safe and zarr-python runs Python code on worker threads: if a netCDF4 file were left for the garbage
# collector, its close could run on one of those threads while the main thread is inside HDF5 -> segfault
# (seen here, intermittently).
_OPENED: list = []


def close_all() -> None:
    while _OPENED:
        try:
            _OPENED.pop().close()
        except Exception:
            pass
    gc.collect()


def open_sources(paths: list[str], group: str, concat_dim: str, where: str,
                 report: Report) -> tuple["xr.Dataset", set[str]]:
    parts, raw = [], set()
    for p in paths:
        ds, r = open_decoded(
            lambda dt, p=p: xr.open_dataset(p, engine="netcdf4", group=xr_group(group), decode_times=dt),
            where, report, p)
        _OPENED.append(ds)
        parts.append(ds)
        raw |= r
    if len(parts) == 1 or not any(concat_dim in part.dims for part in parts):
        # One file, or a group without the concat dimension (static fields: every file holds the same).
        return parts[0], raw
    # 'minimal': only variables that have the concat dimension are concatenated; static ones come from the
    # first file, as a converter should keep them (not stacked along time).
    return xr.concat(parts, dim=concat_dim, data_vars="minimal", coords="minimal", compat="override",
                     join="outer", combine_attrs="override"), raw


def open_zarr_group(store: str, group: str, report: Report, where: str) -> "xr.Dataset":
    """Open one group through consolidated metadata (what users do), and check that metadata is current."""
    # A .zip is an archive in zarr-python's ZipStore layout (zarrio's zipParts).
    where_ = zarr.storage.ZipStore(store, mode="r") if store.endswith(".zip") else store

    def opener(consolidated: bool):
        return lambda dt: xr.open_zarr(where_, group=xr_group(group), chunks=None, consolidated=consolidated,
                                       decode_times=dt)
    ds = None
    try:
        ds, _ = open_decoded(opener(True), where, report, "zarr")
    except Exception as err:
        report.problem(where, "consolidated", f"cannot open with consolidated metadata: {type(err).__name__}: {err}")
    try:
        direct, _ = open_decoded(opener(False), where, Report(), "zarr")
    except Exception as err:
        if ds is None:
            raise
        report.problem(where, "open", f"cannot open without consolidated metadata: {type(err).__name__}: {err}")
        return ds
    if ds is None:
        return direct
    # Consolidated metadata must be written last: a stale copy hides arrays or attributes written after it.
    if set(ds.variables) != set(direct.variables):
        report.problem(where, "consolidated",
                       "consolidated metadata is out of date: arrays "
                       f"{sorted(set(direct.variables) ^ set(ds.variables))} differ from the store's own metadata")
    elif not attrs_equal(ds.attrs, direct.attrs):
        report.problem(where, "consolidated", "consolidated metadata is out of date: group attributes differ")
    else:
        for name in ds.variables:
            if not attrs_equal(ds[name].attrs, direct[name].attrs):
                report.problem(join_path(where, name), "consolidated",
                               "consolidated metadata is out of date: attributes differ")
    return ds


# ----------------------------------------------------------------------------------------------- attributes
def _scalar(v: Any) -> Any:
    if isinstance(v, np.void) and v.dtype.names:
        # A compound value: zarrio stores it as a JSON object of its fields.
        return {k: _scalar(v[k]) for k in v.dtype.names}
    if isinstance(v, dict):
        return {k: _scalar(x) for k, x in v.items()}
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, bytes):
        return v.decode("utf-8", errors="replace")
    if isinstance(v, float) and math.isnan(v):
        return "<NaN>"
    return v


def norm_attr(v: Any) -> Any:
    """Attribute value as what it means: numpy arrays, lists and 1-element arrays vs scalars all compare
    by value (Zarr stores attributes as JSON, so types like float32 vs float64 are not kept)."""
    if isinstance(v, (np.ndarray, list, tuple)):
        items = [_scalar(x) for x in np.asarray(v, dtype=object).ravel().tolist()]
        return items[0] if len(items) == 1 else items
    return _scalar(v)


def attrs_equal(a: dict, b: dict) -> bool:
    return set(a) == set(b) and all(norm_attr(a[k]) == norm_attr(b[k]) for k in a)


def compare_attrs(where: str, src: dict, dst: dict, opts: argparse.Namespace, report: Report) -> None:
    ignore = set(opts.ignore_attrs)
    s = {}
    for k, v in src.items():
        if k in ignore:
            continue
        if k.lower().startswith("_nc"):
            # xarray's Zarr reader hides every attribute named _nc* (NCZarr's), so it can never match.
            report.checked["ignored_attrs"].append(join_path(where, k))
            continue
        s[k] = v
    d = {k: v for k, v in dst.items() if k not in ignore}
    missing = sorted(set(s) - set(d))
    extra = sorted(set(d) - set(s))
    if missing:
        report.problem(where, "attrs", f"attributes missing in zarr: {missing}")
    if extra and not opts.allow_extra_attrs:
        report.problem(where, "attrs", f"attributes only in zarr: {extra}")
    for k in sorted(set(s) & set(d)):
        a, b = norm_attr(s[k]), norm_attr(d[k])
        if a != b:
            report.problem(where, "attrs", f"attribute {k!r} differs: source {short(a)}, zarr {short(b)}")


def short(v: Any, n: int = 80) -> str:
    r = repr(v)
    return r if len(r) <= n else r[: n - 3] + "..."


# ----------------------------------------------------------------------------------------------- values
def value_class(var: "xr.Variable") -> str:
    k = var.dtype.kind
    if k in "mM":
        return "time"
    if k in "SUT":  # T: numpy 2's StringDType, which zarr-python 3 returns for v3 strings
        return "text"
    if k == "O":
        # Object arrays hold either cftime dates or strings; one element tells which.
        if var.size and isinstance(np.asarray(var[(0,) * var.ndim].values).item(), cftime.datetime):
            return "time"
        return "text"
    if k == "b":
        return "bool"
    return "number"


def as_text(a: np.ndarray) -> np.ndarray:
    """Fixed bytes, unicode and object strings all become an object array of str."""
    out = np.empty(a.shape, dtype=object)
    flat = a.ravel()
    for i, x in enumerate(flat):
        if isinstance(x, (bytes, np.bytes_)):
            # NetCDF char data without _Encoding: UTF-8 when valid, else each byte is one Latin-1
            # character (zarrio's documented, lossless reading of such text).
            try:
                x = bytes(x).decode("utf-8")
            except UnicodeDecodeError:
                x = bytes(x).decode("latin-1")
        elif isinstance(x, float) and math.isnan(x):
            x = None
        out.flat[i] = None if x is None else str(x)
    return out


def time_key(x: Any) -> Any:
    """A decoded time as comparable plain data, calendar included (cftime objects of different calendars
    can't be compared directly, and datetime64 means the proleptic Gregorian calendar)."""
    if isinstance(x, cftime.datetime):
        return (norm_calendar(x.calendar), x.year, x.month, x.day, x.hour, x.minute, x.second, x.microsecond)
    if isinstance(x, np.datetime64):
        if np.isnat(x):
            return None
        x = x.astype("datetime64[us]").item()
    if hasattr(x, "year") and hasattr(x, "microsecond"):
        return ("standard", x.year, x.month, x.day, x.hour, x.minute, x.second, x.microsecond)
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return None
    return ("?", repr(x))


def blocks(shape: tuple[int, ...], itemsize: int) -> Iterable[tuple[slice, ...] | tuple]:
    """Index tuples covering an array in slabs along the first dimension of at most BLOCK_BYTES."""
    if not shape:
        yield ()
        return
    row = max(1, int(np.prod(shape[1:], dtype=np.int64)) * max(itemsize, 1))
    step = max(1, BLOCK_BYTES // row)
    for start in range(0, shape[0], step):
        yield (slice(start, min(shape[0], start + step)),)


def first_diff(mask: np.ndarray, offset: tuple, a: np.ndarray, b: np.ndarray) -> dict:
    idx = tuple(int(i) for i in np.argwhere(mask)[0])
    full = tuple(idx[i] + (offset[i].start if i < len(offset) else 0) for i in range(len(idx)))
    return {"index": list(full), "source": short(_scalar(a[idx])), "zarr": short(_scalar(b[idx]))}


def compare_values(where: str, sv: "xr.Variable", zv: "xr.Variable", tol: float | None, report: Report,
                   time_slack_ns: int = 0) -> None:
    cls_s, cls_z = value_class(sv), value_class(zv)
    n_bad = 0
    first: dict | None = None
    nan_bad = 0
    max_err = 0.0
    itemsize = max(sv.dtype.itemsize, zv.dtype.itemsize, 8)
    for sel in blocks(sv.shape, itemsize):
        a = np.asarray(sv[sel].values) if sel else np.asarray(sv.values)
        b = np.asarray(zv[sel].values) if sel else np.asarray(zv.values)
        if time_slack_ns and a.dtype.kind == "M" and b.dtype.kind == "M":
            # Both decoded to datetime64: nanoseconds apart, within what float decoding rounds off.
            na, nb = np.isnat(a), np.isnat(b)
            ia, ib = a.astype("datetime64[ns]").astype(np.int64), b.astype("datetime64[ns]").astype(np.int64)
            bad = (na != nb) | (~(na | nb) & (np.abs(ia - ib) > time_slack_ns))
        elif cls_s == "time" or cls_z == "time":
            ka = np.frompyfunc(time_key, 1, 1)(a.astype(object)) if a.size else a
            kb = np.frompyfunc(time_key, 1, 1)(b.astype(object)) if b.size else b
            bad = np.asarray(ka != kb, dtype=bool)
        elif cls_s == "text" or cls_z == "text":
            bad = np.asarray(as_text(a) != as_text(b), dtype=bool)
        elif tol is not None:
            fa, fb = a.astype(np.float64), b.astype(np.float64)
            na, nb = np.isnan(fa), np.isnan(fb)
            nan_mismatch = na != nb
            nan_bad += int(nan_mismatch.sum())
            both = ~(na | nb)
            err = np.zeros(fa.shape)
            err[both] = np.abs(fa[both] - fb[both])
            if both.any():
                max_err = max(max_err, float(err[both].max()))
            # Rounding to the nearest step is off by at most half a step, plus float rounding of the decode.
            eps = max(np.finfo(d).eps for d in (sv.dtype, zv.dtype, np.dtype("f8")) if d.kind == "f")
            # Unpacking rounds p*scale_factor and the sum with add_offset in the reader's float type,
            # so the float error scales with the operands, not only with the result.
            off = abs(float(zv.encoding.get("add_offset", 0.0) or 0.0))
            allowed = tol + 4 * eps * (np.abs(fa) + off + np.abs(fa - off))
            bad = nan_mismatch | (both & (err > allowed))
        elif a.dtype.names or b.dtype.names:
            # Compound records: the same fields, equal value by value (NaN equal to NaN). The
            # file's layout (offsets, padding, byte order) may differ from the archive's packed one.
            if a.dtype.names != b.dtype.names:
                report.problem(where, "values", f"fields {a.dtype.names} in the source, {b.dtype.names} in zarr")
                return
            bad = np.zeros(a.shape, dtype=bool)
            for k in a.dtype.names:
                fa, fb = a[k], b[k]
                same = fa == fb
                if fa.dtype.kind in "fc" and fb.dtype.kind in "fc":
                    same |= np.isnan(fa) & np.isnan(fb)
                bad |= ~np.asarray(same, dtype=bool)
        else:
            if a.dtype != b.dtype:
                common = np.result_type(a.dtype, b.dtype)
                a, b = a.astype(common), b.astype(common)
            if a.dtype.kind in "fc":
                bad = ~((a == b) | (np.isnan(a) & np.isnan(b)))
            else:
                bad = a != b
            bad = np.asarray(bad, dtype=bool)
        count = int(bad.sum())
        if count and first is None:
            first = first_diff(bad.reshape(a.shape) if a.shape else bad.reshape(()), sel, a, b) if a.shape \
                else {"index": [], "source": short(_scalar(a[()])), "zarr": short(_scalar(b[()]))}
        n_bad += count
    report.checked["values"] += int(sv.size)
    if tol is not None:
        report.checked["packed"][where] = {
            "tolerance": tol, "max_abs_error": max_err,
            "scale_factor": _scalar(zv.encoding.get("scale_factor")),
            "add_offset": _scalar(zv.encoding.get("add_offset", 0.0)),
        }
    if n_bad:
        what = f"within ±{tol:g}" if tol is not None else "equal"
        msg = f"{n_bad} of {sv.size} values not {what}"
        if nan_bad:
            msg += f" ({nan_bad} where only one side is NaN)"
        if first:
            msg += f"; first at {tuple(first['index'])}: source {first['source']}, zarr {first['zarr']}"
        if tol is not None:
            msg += f" (max abs error {max_err:g})"
        report.problem(where, "values", msg, count=n_bad, first=first)


def packed_tolerance(sv: "xr.Variable", zv: "xr.Variable", opts: argparse.Namespace) -> float | None:
    """Tolerance if the store packs the variable (scale_factor in the Zarr, none or another in the source)."""
    z_sf = zv.encoding.get("scale_factor")
    if z_sf is None:
        return None
    s_sf = sv.encoding.get("scale_factor")
    s_off, z_off = sv.encoding.get("add_offset", 0), zv.encoding.get("add_offset", 0)
    if s_sf is not None and float(s_sf) == float(z_sf) and float(s_off) == float(z_off):
        # The same packing on both sides: the integers are equal, so the values are exact up to the
        # float type each side unpacks into (float32 from NetCDF, float64 from Zarr's JSON attributes).
        return None if sv.dtype == zv.dtype else 0.0
    if opts.packed_tolerance != "auto":
        return float(opts.packed_tolerance)
    return abs(float(z_sf)) / 2.0


def compare_dtype(where: str, sv: "xr.Variable", zv: "xr.Variable", packed: bool, report: Report) -> None:
    if sv.dtype == zv.dtype:
        return
    if packed and sv.dtype.kind == "f" and zv.dtype == np.float64:
        # Zarr attributes are JSON, so scale_factor/add_offset come back as Python floats and xarray unpacks
        # into float64 whatever their type was when written: no store can give float32 here.
        report.note(where, "dtype", f"packed variable decodes as float64 from Zarr (source {sv.dtype})")
        return
    fields = lambda d: [(k, d.fields[k][0].str) for k in d.names]  # noqa: E731
    if sv.dtype.names and zv.dtype.names and fields(sv.dtype) == fields(zv.dtype):
        # The same fields of the same types: a file's compound may be padded (aligned offsets), a Zarr
        # structured type is packed; the values are compared field by field.
        report.note(where, "dtype", f"compound stored packed as {zv.dtype} (source {sv.dtype})")
        return
    cs, cz = value_class(sv), value_class(zv)
    if cs == cz == "text":
        # Bytes vs unicode vs object strings hold the same text; xarray users see it as text either way.
        report.note(where, "dtype", f"text stored as {zv.dtype} (source {sv.dtype}); compared as text")
        return
    report.problem(where, "dtype", f"dtype differs: source {sv.dtype}, zarr {zv.dtype}")


def compare_time_encoding(where: str, sv: "xr.Variable", zv: "xr.Variable", report: Report) -> None:
    if value_class(sv) != "time":
        return
    cs, cz = sv.encoding.get("calendar"), zv.encoding.get("calendar")
    if norm_calendar(cs) != norm_calendar(cz):
        report.problem(where, "calendar", f"calendar differs: source {cs!r}, zarr {cz!r}")
    us, uz = sv.encoding.get("units"), zv.encoding.get("units")
    if us and uz and us != uz:
        report.note(where, "units", f"time units differ (decoded values compared): source {us!r}, zarr {uz!r}")


# ----------------------------------------------------------------------------------------------- groups
def select_variables(ds: "xr.Dataset", opts: argparse.Namespace, seen: set[str]) -> "xr.Dataset":
    if opts.variables:
        present = [v for v in opts.variables if v in ds.variables]
        seen.update(present)
        ds = ds[present] if present else ds[[]]
    if opts.drop_variables:
        seen.update(v for v in opts.drop_variables if v in ds.variables)
        ds = ds.drop_vars([v for v in opts.drop_variables if v in ds.variables])
    return ds


def compare_group(src_group: str, zarr_group: str, opts: argparse.Namespace, report: Report,
                  seen: set[str]) -> None:
    where = zarr_group
    sds, raw = open_sources(opts.source, src_group, opts.concat_dim, where, report)
    report.checked["raw_times"].extend(join_path(where, n) for n in sorted(raw))
    sds = select_variables(sds, opts, seen)
    zds = open_zarr_group(opts.zarr, zarr_group, report, where)
    if opts.isel:
        zds = zds.isel({k: v for k, v in opts.isel.items() if k in zds.dims})

    # variable set
    s_names, z_names = set(sds.variables), set(zds.variables)
    missing, extra = sorted(s_names - z_names), sorted(z_names - s_names)
    if missing:
        report.problem(where, "variables", f"variables missing in zarr: {missing}")
    if extra and not opts.allow_extra_variables:
        report.problem(where, "variables", f"variables only in zarr: {extra}")
    s_coords, z_coords = set(sds.coords) & z_names, set(zds.coords) & s_names
    if s_coords != z_coords:
        report.problem(where, "coords", f"coordinate sets differ: source {sorted(s_coords)}, zarr {sorted(z_coords)}")

    # dimensions
    for dim in sorted(set(sds.sizes) | set(zds.sizes)):
        a, b = sds.sizes.get(dim), zds.sizes.get(dim)
        if a == b or (a is None and opts.allow_extra_variables):
            continue
        report.problem(where, "dims", f"dimension {dim!r}: source size {a}, zarr size {b}")

    compare_attrs(where, sds.attrs, zds.attrs, opts, report)

    flags = enum_flags(opts.source[0], src_group)
    for name in sorted(s_names & z_names):
        vw = join_path(where, name)
        sv, zv = sds[name].variable, zds[name].variable
        report.checked["variables"] += 1
        if sv.dims != zv.dims:
            report.problem(vw, "dims", f"dimensions differ: source {sv.dims}, zarr {zv.dims}")
            continue
        if sv.shape != zv.shape:
            report.problem(vw, "shape", f"shape differs: source {sv.shape}, zarr {zv.shape}")
            continue
        tol = packed_tolerance(sv, zv, opts)
        compare_dtype(vw, sv, zv, "scale_factor" in zv.encoding, report)
        compare_time_encoding(vw, sv, zv, report)
        compare_attrs(vw, {**sv.attrs, **flags.get(name, {})}, zv.attrs, opts, report)
        try:
            compare_values(vw, sv, zv, tol, report, opts.time_slack_ns)
        except Exception as err:  # a read failure in the store is a finding, not a crash
            report.problem(vw, "read", f"reading values failed: {type(err).__name__}: {err}")


def run(opts: argparse.Namespace) -> Report:
    report = Report()
    report.checked["sources"] = list(opts.source)
    zroot_path = norm_path(opts.group)

    try:
        zroot = zarr.open_group(zarr.storage.ZipStore(opts.zarr, mode="r") if opts.zarr.endswith(".zip") else opts.zarr, mode="r")
    except Exception as err:
        report.problem("/", "open", f"cannot open {opts.zarr} as a Zarr group: {type(err).__name__}: {err}")
        return report
    report.checked["zarr_format"] = zroot.metadata.zarr_format
    report.checked["consolidated"] = zroot.metadata.consolidated_metadata is not None or \
        _has_v2_consolidated(opts.zarr)
    if not report.checked["consolidated"]:
        report.problem("/", "consolidated", "store has no consolidated metadata")

    src_root = norm_path(opts.source_group)
    src_groups = []
    for g in netcdf_groups(opts.source[0]):
        r = rel_path(g, src_root)
        if r is not None:
            src_groups.append(r)
    if not src_groups:
        report.problem("/", "groups", f"source group {src_root} not found in {opts.source[0]}")
        return report
    for other in opts.source[1:]:
        og = {rel_path(g, src_root) for g in netcdf_groups(other)} - {None}
        if og != set(src_groups):
            report.note("/", "groups", f"{other} has other groups than {opts.source[0]}; using the first file's")

    try:
        zsub = zroot if zroot_path == "/" else zroot[zroot_path.lstrip("/")]
        z_groups = [r for r in zarr_groups(zsub)]
    except KeyError:
        report.problem(zroot_path, "groups", f"group {zroot_path} not in the store")
        return report
    expected = set(src_groups)
    for g in sorted(set(z_groups) - expected):
        report.problem(join_path(zroot_path, g), "groups", "group only in zarr")

    seen: set[str] = set()
    for g in src_groups:
        zg = join_path(zroot_path, g)
        if g not in z_groups:
            report.problem(zg, "groups", "group missing in zarr (NetCDF-4 groups, empty ones too, must be kept)")
            continue
        report.checked["groups"].append(zg)
        try:
            compare_group(join_path(src_root, g), zg, opts, report, seen)
        except Exception as err:
            report.problem(zg, "open", f"{type(err).__name__}: {err}")
        finally:
            close_all()
    wanted = set(opts.variables or []) | set(opts.drop_variables or [])
    if wanted - seen:
        report.problem("/", "variables", f"--variables/--drop-variables name no source variable: {sorted(wanted - seen)}")
    report.checked["ignored_attrs"] = sorted(set(report.checked["ignored_attrs"]))
    return report


def _has_v2_consolidated(path: str) -> bool:
    return os.path.isfile(os.path.join(path, ".zmetadata"))


# ----------------------------------------------------------------------------------------------- CLI
def parse_isel(items: list[str]) -> dict[str, slice | int]:
    out: dict[str, slice | int] = {}
    for item in items:
        for part in item.split(","):
            dim, _, rng = part.partition("=")
            if not rng:
                raise argparse.ArgumentTypeError(f"--isel wants dim=start:stop, got {part!r}")
            if ":" in rng:
                a, _, b = rng.partition(":")
                out[dim.strip()] = slice(int(a) if a else None, int(b) if b else None)
            else:
                out[dim.strip()] = int(rng)
    return out


def comma_list(s: str) -> list[str]:
    return [x.strip() for x in s.split(",") if x.strip()]


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--zarr", required=True, help="the Zarr store (v2 or v3, detected)")
    ap.add_argument("--source", action="append", required=True, help="NetCDF source; repeat for several")
    ap.add_argument("--concat-dim", default="time", help="dimension several sources are joined along (time)")
    ap.add_argument("--group", default="/", help="Zarr group the source root was written to (default /)")
    ap.add_argument("--source-group", default="/", help="compare only this NetCDF group and its subgroups")
    ap.add_argument("--variables", type=comma_list, default=None, help="comma list: only these were converted")
    ap.add_argument("--drop-variables", type=comma_list, default=None, help="comma list: these were dropped")
    ap.add_argument("--isel", action="append", default=[], help="select a region of the store: time=0:10")
    ap.add_argument("--packed-tolerance", default="auto",
                    help="'auto' (scale_factor/2) or an absolute tolerance for packed variables")
    ap.add_argument("--allow-extra-variables", action="store_true", help="variables only in the store are fine")
    ap.add_argument("--allow-extra-attrs", action="store_true", help="attributes only in the store are fine")
    ap.add_argument("--ignore-attrs", type=comma_list, default=[], help="attribute names not to compare")
    ap.add_argument("--time-slack-ns", type=int, default=0,
                    help="decoded datetime64 times may differ by this many ns (the reader's float decoding of fractional units)")
    ap.add_argument("--json", action="store_true", help="print a JSON report {ok, problems, notes, checked}")
    ap.add_argument("-v", "--verbose", action="store_true", help="show notes and library warnings")
    return ap


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parsed and checked options; also what tests pass to run()."""
    ap = build_parser()
    opts = ap.parse_args(argv)
    if opts.packed_tolerance != "auto":
        try:
            float(opts.packed_tolerance)
        except ValueError:
            ap.error("--packed-tolerance must be 'auto' or a number")
    try:
        opts.isel = parse_isel(opts.isel)
    except (argparse.ArgumentTypeError, ValueError) as err:
        ap.error(str(err))
    return opts


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(argv)
    with warnings.catch_warnings():
        if not opts.verbose:
            warnings.simplefilter("ignore")
        report = run(opts)

    if opts.json:
        print(json.dumps({"ok": report.ok, "problems": report.problems, "notes": report.notes,
                          "checked": report.checked}, indent=2, default=str))
    else:
        c = report.checked
        head = (f"zarr v{c['zarr_format']} {opts.zarr} vs {len(opts.source)} source(s): {len(c['groups'])} group(s), "
                f"{c['variables']} variable(s), {c['values']} value(s)")
        if c["packed"]:
            head += f", {len(c['packed'])} packed"
        if c["raw_times"]:
            head += f", raw times {c['raw_times']}"
        print(("OK   " if report.ok else "FAIL ") + head)
        for p in report.problems:
            print(f"  {p['where']}: [{p['kind']}] {p['message']}")
        if opts.verbose:
            for n in report.notes:
                print(f"  note {n['where']}: [{n['kind']}] {n['message']}")
            for path, info in c["packed"].items():
                print(f"  packed {path}: max abs error {info['max_abs_error']:g} <= {info['tolerance']:g}")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
