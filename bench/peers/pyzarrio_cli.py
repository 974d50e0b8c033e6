#!/usr/bin/env python3
"""Python zarrio (PyPI 0.1.4), its CLI workflow: create-template from the first file,
then one `zarrio write-region` process per file, one after the other (as a shell loop or
a job array would run them on one node).

We pass the same flags a user of our CLI types (--chunking, --compression); zarrio 0.1.4
ignores --compression (its compressor class does not exist under zarr<3: it writes
uncompressed chunks). --metadata-only keeps the template from writing zero-filled chunks
(its default), the nearest equivalent of our metadata-only template.
"""
import argparse
import subprocess
import sys

ap = argparse.ArgumentParser()
ap.add_argument("--zarrio", required=True, help="path of the zarrio console script")
ap.add_argument("--out", required=True)
ap.add_argument("--start", required=True)
ap.add_argument("--end", required=True)
ap.add_argument("--freq", default="1h")
ap.add_argument("--chunking", required=True)
ap.add_argument("--compression", default=None)
ap.add_argument("files", nargs="+")
a = ap.parse_args()

tmpl = [a.zarrio, "create-template", a.files[0], a.out, "--global-start", a.start,
        "--global-end", a.end, "--freq", a.freq, "--chunking", a.chunking, "--metadata-only"]
if a.compression:
    tmpl += ["--compression", a.compression]
subprocess.run(tmpl, check=True)
for f in a.files:
    subprocess.run([a.zarrio, "write-region", f, a.out, "--chunking", a.chunking], check=True)
