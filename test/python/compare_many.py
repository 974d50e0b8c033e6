#!/usr/bin/env python3
"""compare.py over many stores in one process (xarray is imported once): reads a JSON list of
{"name": ..., "args": [compare.py arguments]} on stdin and prints one JSON object mapping each name to
compare.py's report ({"ok", "problems", ...}, or {"ok": false, "error": "..."} when it raised).

Files that crash the reference reader itself (netCDF4-python aborts on some plain-HDF5 types) must not
be given: one abort ends the whole batch.
"""
import contextlib
import io
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare  # noqa: E402


def main() -> int:
    jobs = json.load(sys.stdin)
    out = {}
    for job in jobs:
        buf = io.StringIO()
        try:
            with contextlib.redirect_stdout(buf):
                compare.main([*job["args"], "--json"])
            out[job["name"]] = json.loads(buf.getvalue())
        except SystemExit as e:  # argparse errors
            out[job["name"]] = {"ok": False, "error": f"compare.py exited {e.code}: {buf.getvalue()[-500:]}"}
        except Exception as e:  # noqa: BLE001 - reported per file
            out[job["name"]] = {"ok": False, "error": f"{type(e).__name__}: {e}"}
    json.dump(out, sys.stdout, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
