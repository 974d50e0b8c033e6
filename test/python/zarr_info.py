#!/usr/bin/env python3
"""Print, as JSON, what zarr-python sees in a store: handy for assertions in the TypeScript tests.

    python zarr_info.py OUT.zarr [--raw]

Output:
  {"path", "zarr_format": 2|3, "consolidated": bool,
   "groups":  {"/": {"attributes": {...}}, "/sub": {...}},
   "arrays":  {"/temp": {"shape", "chunks", "shards" (v3 sharding, else null), "dtype", "fill_value",
                         "dimension_names", "order", "codecs", "attributes", "nbytes_stored"?}}}
  "codecs" is, for v3, the codec list as written ([{"name", "configuration"}, ...]); for v2,
  {"filters": [...] | null, "compressor": {...} | null}. `dtype` is numpy's string ("<f4", "|S8", "<U5"...),
  `dimension_names` comes from v3 metadata or v2's _ARRAY_DIMENSIONS attribute, and `fill_value` is JSON-safe:
  NaN/Infinity as the strings "NaN"/"Infinity"/"-Infinity", bytes as {"base64": ...}.
  --raw adds each node's metadata document as zarr-python serialises it ("metadata").
Exit status: 0, or 1 if the store can't be opened (message on stderr). Test-only tool.
"""
from __future__ import annotations

import argparse
import base64
import json
import math
import os
import sys
import warnings
from typing import Any

import numpy as np

try:
    import zarr
except ImportError as err:  # pragma: no cover
    sys.stderr.write(f"zarr_info.py: {err}. Run it with the test venv: $ZARRIO_PYTHON (bash scripts/setup.sh)\n")
    sys.exit(2)


def jsonable(v: Any) -> Any:
    """Anything zarr-python hands back, made plain JSON (no NaN literals, no bytes, no numpy types)."""
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "Infinity" if v > 0 else "-Infinity"
        return v
    if isinstance(v, (bytes, bytearray)):
        return {"base64": base64.b64encode(bytes(v)).decode("ascii")}
    if isinstance(v, complex):
        return [jsonable(v.real), jsonable(v.imag)]
    if isinstance(v, dict):
        return {str(k): jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    if isinstance(v, np.ndarray):
        return jsonable(v.tolist())
    if hasattr(v, "to_dict"):
        return jsonable(v.to_dict())
    if hasattr(v, "get_config"):  # numcodecs codec
        return jsonable(v.get_config())
    if v is None or isinstance(v, (str, int, bool)):
        return v
    return str(v)


def codecs_of(arr: Any) -> Any:
    meta = arr.metadata.to_dict()
    if arr.metadata.zarr_format == 3:
        return jsonable(meta.get("codecs"))
    return {"filters": jsonable(meta.get("filters")), "compressor": jsonable(meta.get("compressor"))}


def shards_of(arr: Any) -> Any:
    shards = getattr(arr, "shards", None)
    return list(shards) if shards else None


def dim_names_of(arr: Any) -> Any:
    if arr.metadata.zarr_format == 3:
        names = getattr(arr.metadata, "dimension_names", None)
        return list(names) if names is not None else None
    names = arr.attrs.get("_ARRAY_DIMENSIONS")
    return list(names) if names is not None else None


def info(path: str, raw: bool = False) -> dict:
    root = zarr.open_group(path, mode="r")
    fmt = root.metadata.zarr_format
    consolidated = root.metadata.consolidated_metadata is not None or \
        (fmt == 2 and os.path.isfile(os.path.join(path, ".zmetadata")))
    out: dict = {"path": path, "zarr_format": fmt, "consolidated": bool(consolidated), "groups": {}, "arrays": {}}

    def group_entry(g: Any) -> dict:
        e = {"attributes": jsonable(dict(g.attrs))}
        if raw:
            e["metadata"] = jsonable(g.metadata.to_dict())
        return e

    out["groups"]["/"] = group_entry(root)
    # Walk the store itself (not consolidated metadata), so what is listed is what is really there.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        members = sorted(root.members(max_depth=None, use_consolidated_for_children=False)
                         if _accepts_use_consolidated(root) else root.members(max_depth=None),
                         key=lambda kv: kv[0])
    for name, node in members:
        key = "/" + name.strip("/")
        if isinstance(node, zarr.Group):
            out["groups"][key] = group_entry(node)
            continue
        attrs = dict(node.attrs)
        e = {
            "shape": list(node.shape),
            "chunks": list(node.chunks),
            "shards": shards_of(node),
            # numpy's string ("<f4"); a structured type as its list of fields.
            "dtype": str(node.dtype) if not hasattr(node.dtype, "str") else str(node.dtype.descr) if node.dtype.names else node.dtype.str,
            "fill_value": jsonable(node.fill_value),
            "dimension_names": dim_names_of(node),
            "order": getattr(node, "order", None),
            "codecs": codecs_of(node),
            "attributes": jsonable({k: v for k, v in attrs.items()}),
        }
        if raw:
            e["metadata"] = jsonable(node.metadata.to_dict())
        out["arrays"][key] = e
    return out


def _accepts_use_consolidated(group: Any) -> bool:
    import inspect
    try:
        return "use_consolidated_for_children" in inspect.signature(group.members).parameters
    except (TypeError, ValueError):
        return False


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("store", help="path of the Zarr store (v2 or v3)")
    ap.add_argument("--raw", action="store_true", help="add each node's metadata document")
    opts = ap.parse_args(argv)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = info(opts.store, opts.raw)
    except Exception as err:
        sys.stderr.write(f"zarr_info.py: cannot read {opts.store}: {type(err).__name__}: {err}\n")
        return 1
    json.dump(result, sys.stdout, indent=2, allow_nan=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
