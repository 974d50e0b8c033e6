#!/usr/bin/env bash
# npm run demo: install what building needs (not the test tools), build the addon, the wasm module and the
# TypeScript, convert the bundled sample, and show what came out and how to open it.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
bash scripts/setup.sh --for demo
bash scripts/build.sh
out=.demo/ocean_sample.zarr
echo
node dist/cli.js convert samples/ocean_sample.nc "$out" --chunking time:6,lat:45,lon:90 --compression blosc:zstd:3 --overwrite -v
echo
node dist/cli.js validate "$out"
echo
node -e '
const fs = require("node:fs");
const meta = JSON.parse(fs.readFileSync(process.argv[1] + "/sst/zarr.json", "utf8"));
const codecs = meta.codecs.map((c) => c.name + (c.configuration?.cname ? `(${c.configuration.cname} level ${c.configuration.clevel}, ${c.configuration.shuffle})` : "")).join(" + ");
let bytes = 0;
const walk = (d) => fs.readdirSync(d, { withFileTypes: true }).forEach((e) => (e.isDirectory() ? walk(d + "/" + e.name) : (bytes += fs.statSync(d + "/" + e.name).size)));
walk(process.argv[1]);
console.log(`codecs of sst: ${codecs}; the archive takes ${(bytes / 1024).toFixed(0)} KiB on disk (the source ${(fs.statSync("samples/ocean_sample.nc").size / 1024).toFixed(0)} KiB)`);
' "$out"
cat <<EOF

Open it:
  Python      import xarray as xr; ds = xr.open_zarr("$out"); print(ds)
  JavaScript  import * as zarr from "zarrita"; import FileSystemStore from "@zarrita/storage/fs";
              const sst = await zarr.open(zarr.root(new FileSystemStore("$out")).resolve("sst"), { kind: "array" });
Next: npm test (installs the test tools and runs the whole suite on both backends).
EOF
