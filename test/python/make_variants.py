#!/usr/bin/env python3
"""Variants of one make_series.py file, each wrong (or special) in one way, for refusal tests.

    python make_variants.py BASE.nc OUTDIR KIND [KIND ...]

Kinds (each written to OUTDIR/KIND.nc):
  shifted      times moved by 30 minutes (not on an hourly axis)
  late         times moved 10 years on (outside the archive)
  unordered    two time steps swapped
  coarse       a 2-hour step (archive step is 1 hour)
  no_salinity  salinity left out
  extra_var    an extra variable along time
  small_grid   one latitude fewer
  float32_sal  salinity stored as float32 (archive: float64; widened exactly)
  float64_temp temperature stored as float64 (archive: float32; would be rounded)
  kelvin       temperature units K
  moved_grid   latitudes shifted by 0.5 degree
  hot          one temperature value of 1000 (beyond any packing range), at the last step
  no_time_units time coordinate without units (cannot be placed by its times)
  area         a variable without time, area(lat, lon), all 1
  area_other   the same area with one cell of 2
  area_packed  the same area as `area`, stored as int16 × 0.5
"""
import os
import sys

import netCDF4
import numpy as np


def copy(src, dst, drop=(), retype=None, extra=False, shrink_lat=False, attrs=None, edit=None):
    retype = retype or {}
    attrs = attrs or {}
    with netCDF4.Dataset(src) as s, netCDF4.Dataset(dst, "w", format="NETCDF4") as d:
        d.setncatts({k: s.getncattr(k) for k in s.ncattrs()})
        for name, dim in s.dimensions.items():
            size = None if dim.isunlimited() else len(dim)
            if shrink_lat and name == "lat":
                size -= 1
            d.createDimension(name, size)
        for name, v in s.variables.items():
            if name in drop:
                continue
            v.set_auto_maskandscale(False)
            dtype = retype.get(name, v.dtype)
            fill = v.getncattr("_FillValue") if "_FillValue" in v.ncattrs() else None
            nv = d.createVariable(name, dtype, v.dimensions, fill_value=None if fill is None else np.array(fill).astype(dtype))
            nv.set_auto_maskandscale(False)
            nv.setncatts({k: v.getncattr(k) for k in v.ncattrs() if k != "_FillValue"})
            for k, val in attrs.get(name, {}).items():
                if val is None:
                    nv.delncattr(k)
                else:
                    nv.setncattr(k, val)
            data = v[:]
            if shrink_lat and "lat" in v.dimensions:
                data = np.take(data, range(len(s.dimensions["lat"]) - 1), axis=v.dimensions.index("lat"))
            nv[:] = np.asarray(data).astype(dtype)
        if extra:
            ev = d.createVariable("wind", "f4", ("time", "lat", "lon"))
            ev[:] = np.ones((len(d.dimensions["time"]), len(d.dimensions["lat"]), len(d.dimensions["lon"])), "f4")
    if edit:
        with netCDF4.Dataset(dst, "a") as d:
            d.set_auto_maskandscale(False)
            edit(d)


def main() -> None:
    base, outdir, *kinds = sys.argv[1:]
    os.makedirs(outdir, exist_ok=True)

    def times(f):
        def edit(d):
            d["time"][:] = f(np.array(d["time"][:]))
        return edit

    def swap(d):
        t = np.array(d["time"][:])
        t[[3, 4]] = t[[4, 3]]
        d["time"][:] = t

    def moved(d):
        d["lat"][:] = np.array(d["lat"][:]) + 0.5

    def hot(d):
        t = np.array(d["temperature"][:])
        t[-1, 0, 0] = 1000.0
        d["temperature"][:] = t

    def area(cell):
        def edit(d):
            a = np.ones((len(d.dimensions["lat"]), len(d.dimensions["lon"])), "f4")
            a[1, 2] = cell
            d.createVariable("area", "f4", ("lat", "lon"))[:] = a
        return edit

    def area_packed(d):
        v = d.createVariable("area", "i2", ("lat", "lon"))
        v.set_auto_maskandscale(False)
        v.scale_factor = np.float32(0.5)
        v[:] = np.full((len(d.dimensions["lat"]), len(d.dimensions["lon"])), 2, "i2")

    kinds_map = {
        "shifted": dict(edit=times(lambda t: t + 0.5)),
        "late": dict(edit=times(lambda t: t + 24 * 3650)),
        "unordered": dict(edit=swap),
        "coarse": dict(edit=times(lambda t: t * 2)),
        "no_salinity": dict(drop=("salinity",)),
        "extra_var": dict(extra=True),
        "small_grid": dict(shrink_lat=True),
        "float32_sal": dict(retype={"salinity": "f4"}),
        "float64_temp": dict(retype={"temperature": "f8"}),
        "kelvin": dict(attrs={"temperature": {"units": "K"}}),
        "moved_grid": dict(edit=moved),
        "hot": dict(edit=hot),
        "no_time_units": dict(attrs={"time": {"units": None, "calendar": None}}),
        "area": dict(edit=area(1.0)),
        "area_other": dict(edit=area(2.0)),
        "area_packed": dict(edit=area_packed),
    }
    for kind in kinds:
        out = os.path.join(outdir, f"{kind}.nc")
        copy(base, out, **kinds_map[kind])
        print(out)


if __name__ == "__main__":
    main()
