/**
 * Interop and backend parity: outputs of the native and the WebAssembly backends decode to
 * identical arrays, and zarrita.js (an independent Zarr reader) reads what we write, values
 * equal to what the core reads from the NetCDF source.
 */
import test, { describe } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";

import * as zarr from "zarrita";
import FileSystemStore from "@zarrita/storage/fs";

import { convertToZarr, loadBackend } from "../dist/index.js";
import { BACKEND, fixture, outDir, python, ROOT } from "./helpers.js";

type AnyArray = zarr.Array<zarr.DataType, FileSystemStore>;

async function readAll(dir: string, format: 2 | 3): Promise<Map<string, { shape: number[]; data: unknown }>> {
  const store = new FileSystemStore(dir);
  const root = zarr.root(store);
  const out = new Map<string, { shape: number[]; data: unknown }>();
  const open = format === 3 ? zarr.open.v3 : zarr.open.v2;
  // The array paths, from the consolidated metadata (JSON.parse also proves it is plain JSON).
  const doc = JSON.parse(Buffer.from((await store.get(format === 3 ? "/zarr.json" : "/.zmetadata"))!).toString());
  const names =
    format === 3
      ? Object.entries(doc.consolidated_metadata.metadata as Record<string, { node_type: string }>).filter(([, m]) => m.node_type === "array").map(([k]) => k)
      : Object.keys(doc.metadata as object).filter((k) => k.endsWith("/.zarray")).map((k) => k.slice(0, -"/.zarray".length));
  for (const name of names) {
    const node = await open(root.resolve(name)).catch(() => undefined);
    if (!node || !(node instanceof zarr.Array)) continue;
    const arr = node as AnyArray;
    const chunk = await zarr.get(arr);
    out.set(name, { shape: chunk.shape, data: chunk.data });
  }
  return out;
}

describe(`interop [${BACKEND}]`, () => {
  for (const format of [3, 2] as const) {
    test(`native and wasm outputs decode to identical arrays (zarrita, v${format})`, async () => {
      const src = fixture("nc4_zlib.nc");
      const dirs: Record<string, string> = {};
      for (const b of ["native", "wasm"] as const) {
        dirs[b] = path.join(outDir(`parity-${b}-v${format}`), "out.zarr");
        await convertToZarr(src, dirs[b]!, { backend: b, zarrFormat: format, chunking: "time:2,lat:7,lon:11", packing: { enabled: true, bits: 16 } });
      }
      const a = await readAll(dirs.native!, format);
      const b = await readAll(dirs.wasm!, format);
      assert.ok(a.size >= 4, `zarrita found ${[...a.keys()]}`);
      assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort());
      for (const [name, x] of a) assert.deepEqual(b.get(name), x, name);
    });
  }

  test("zarrita reads the same values the core reads from the NetCDF source", async () => {
    const src = fixture("four_d.nc");
    const out = path.join(outDir("zarrita"), "out.zarr");
    await convertToZarr(src, out, { backend: BACKEND, chunking: { time: 1, level: 2 } });
    const arrays = await readAll(out, 3);
    const backend = await loadBackend(BACKEND);
    const ds = await backend.openDataset(src);
    let checked = 0;
    for (const v of ds.meta.root.vars) {
      if (v.dtype === "str") continue;
      const got = arrays.get(v.name);
      assert.ok(got, `zarrita sees ${v.name}`);
      assert.deepEqual(got.shape, v.shape, v.name);
      const slab = await ds.read(v.path, v.shape.map(() => 0), v.shape);
      const raw = slab.toBytes()!;
      const data = got.data as ArrayLike<number> & { buffer: ArrayBuffer; byteOffset: number; byteLength: number };
      assert.deepEqual(Buffer.from(data.buffer, data.byteOffset, data.byteLength), Buffer.from(raw), v.name);
      checked++;
    }
    assert.ok(checked >= 4);
  });
});

describe(`GDAL [${BACKEND}]`, () => {
  // Debian's GDAL 3.6 reads Zarr v2 (its v3 support predates the final spec; GDAL >= 3.8 reads v3).
  test("gdalinfo reads a v2 archive with the source's values and nodata", async () => {
    const src = path.join(ROOT, "samples", "ocean_sample.nc");
    const out = path.join(outDir("gdal"), "out.zarr");
    await convertToZarr(src, out, { backend: BACKEND, zarrFormat: 2, chunking: "time:6,lat:45,lon:90" });
    const r = spawnSync("gdalinfo", ["-stats", `ZARR:"${out}":/sst:3`], { encoding: "utf8" });
    assert.equal(r.status, 0, `gdalinfo failed (is gdal-bin installed? scripts/setup.sh installs it): ${r.stderr}`);
    const stat = (name: string) => Number(new RegExp(`STATISTICS_${name}=(\\S+)`).exec(r.stdout)?.[1]);
    assert.match(r.stdout, /Size is 180, 90/);
    assert.match(r.stdout, /NoData Value=-999/);
    const py = python(["-c", `import xarray as xr; s = xr.open_dataset(${JSON.stringify(src)}).sst[3]; print(float(s.min()), float(s.max()), float(s.mean()))`]);
    const [min, max, mean] = py.stdout.trim().split(" ").map(Number);
    assert.ok(Math.abs(stat("MINIMUM") - min!) < 1e-6 && Math.abs(stat("MAXIMUM") - max!) < 1e-6, r.stdout);
    assert.ok(Math.abs(stat("MEAN") - mean!) < 1e-5, `mean ${stat("MEAN")} vs ${mean}`);
  });
});
