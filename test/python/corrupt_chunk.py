#!/usr/bin/env python3
"""Copy a NetCDF-4 file with one variable zlib-compressed, then overwrite bytes of its first compressed chunk.

    python corrupt_chunk.py SRC DST [VARIABLE]

The copy opens and its metadata and times read fine; reading the variable fails to inflate (a file
damaged in transfer). For the tests of a failure while data is written."""
import sys, netCDF4, h5py
src, dst = sys.argv[1], sys.argv[2]
name = sys.argv[3] if len(sys.argv) > 3 else "temperature"
with netCDF4.Dataset(src) as a, netCDF4.Dataset(dst, "w", format="NETCDF4") as b:
    b.setncatts({k: a.getncattr(k) for k in a.ncattrs()})
    for n, d in a.dimensions.items():
        b.createDimension(n, None if d.isunlimited() else len(d))
    for n, v in a.variables.items():
        v.set_auto_maskandscale(False)
        fill = v.getncattr("_FillValue") if "_FillValue" in v.ncattrs() else None
        w = b.createVariable(n, v.dtype, v.dimensions, zlib=(n == name), fill_value=fill)
        w.set_auto_maskandscale(False)
        w.setncatts({k: v.getncattr(k) for k in v.ncattrs() if k != "_FillValue"})
        w[:] = v[:]
with h5py.File(dst, "r") as f:
    info = f[name].id.get_chunk_info(0)
with open(dst, "r+b") as fh:
    fh.seek(info.byte_offset + 2)
    fh.write(b"\xff" * min(64, info.size - 2))
