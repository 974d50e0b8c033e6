"""Writes samples/ocean_sample.nc, the small file README's first command converts.

A day of hourly sea-surface temperature and salinity on a 2° grid, NetCDF-4 with zlib, CF time,
a land mask (NaN over land) and the usual CF attributes. Deterministic; run with the test venv:
    $ZARRIO_PYTHON samples/make_sample.py
"""
import os

import netCDF4
import numpy as np

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ocean_sample.nc")
nt, ny, nx = 24, 90, 180
lat = np.linspace(-89, 89, ny)
lon = np.linspace(-179, 179, nx)
la, lo = np.meshgrid(np.radians(lat), np.radians(lon), indexing="ij")
land = (np.sin(3 * lo) * np.cos(2 * la) > 0.55) | (np.abs(lat)[:, None] > 80)
with netCDF4.Dataset(out, "w", format="NETCDF4") as ds:
    ds.title = "zarrio sample: hourly SST and salinity"
    ds.Conventions = "CF-1.8"
    ds.createDimension("time", None)
    ds.createDimension("lat", ny)
    ds.createDimension("lon", nx)
    t = ds.createVariable("time", "f8", ("time",))
    t.units = "hours since 2024-01-01 00:00:00"
    t.calendar = "standard"
    t.standard_name = "time"
    t[:] = np.arange(nt)
    for name, values, units in (("lat", lat, "degrees_north"), ("lon", lon, "degrees_east")):
        v = ds.createVariable(name, "f4", (name,))
        v.units = units
        v[:] = values
    sst = ds.createVariable("sst", "f4", ("time", "lat", "lon"), zlib=True, complevel=1, shuffle=True, chunksizes=(1, ny, nx), fill_value=np.float32(-999.0))
    sst.standard_name = "sea_surface_temperature"
    sst.units = "degC"
    sal = ds.createVariable("salinity", "f4", ("time", "lat", "lon"), zlib=True, complevel=1, shuffle=True, chunksizes=(1, ny, nx))
    sal.units = "psu"
    for k in range(nt):
        phase = 2 * np.pi * k / 24
        field = 28 * np.cos(la) ** 2 - 2 + 0.8 * np.sin(lo + phase)
        sst[k] = np.where(land, -999.0, field).astype("f4")
        sal[k] = np.where(land, np.nan, 35 + 1.5 * np.sin(2 * la) * np.cos(lo - phase)).astype("f4")
print(out)
