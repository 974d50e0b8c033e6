#!/usr/bin/env bash
# Installs what bench/run.py needs; quick and silent when everything is there.
#   ZARRIO_VENV                 test venv (default /root/.cache/zarrio/venv)
#   ZARRIO_BENCH_PYZARRIO_VENV  the Python zarrio peer's venv (default /root/.cache/zarrio/bench-venv-zarrio)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${ZARRIO_VENV:-/root/.cache/zarrio/venv}"
pyz="${ZARRIO_BENCH_PYZARRIO_VENV:-/root/.cache/zarrio/bench-venv-zarrio}"

# Debian: GDAL (gdalmdimtranslate), netcdf-bin (nccopy), time (/usr/bin/time -v)
missing=()
command -v gdalmdimtranslate >/dev/null || missing+=(gdal-bin)
command -v nccopy >/dev/null || missing+=(netcdf-bin)
[ -x /usr/bin/time ] || missing+=(time)
command -v taskset >/dev/null || missing+=(util-linux)
if [ ${#missing[@]} -gt 0 ]; then
  echo "bench/setup: apt-get install ${missing[*]}" >&2
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "bench/setup: not root, skipping (those peers will be marked not installed)" >&2
  fi
fi

# test venv: the harness and xarray/refs peers
if [ ! -x "$venv/bin/python" ]; then
  echo "bench/setup: no test venv at $venv (set ZARRIO_VENV); create it first" >&2
  exit 1
fi
"$venv/bin/python" -c "import xarray, zarr, numcodecs, netCDF4" 2>/dev/null || {
  echo "bench/setup: the test venv lacks xarray/zarr/numcodecs/netCDF4" >&2; exit 1; }
"$venv/bin/python" -c "import dask" 2>/dev/null || "$venv/bin/pip" install -q -r "$here/requirements.txt"

# Python zarrio in its own venv
if ! "$pyz/bin/python" -c "import zarrio" 2>/dev/null; then
  echo "bench/setup: creating $pyz (Python zarrio 0.1.4)" >&2
  "$venv/bin/python" -m venv "$pyz"
  "$pyz/bin/pip" install -q -r "$here/requirements-pyzarrio.txt"
fi
