/**
 * The Rust↔TypeScript boundary, through the loaded backend: both bindings hand back the same
 * shapes, the core's errors arrive as the error class of their kind (ts/errors.ts's table) with
 * the core's message and no prefix, and the generated types describe what actually crosses.
 */
import test, { describe } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";

import { ConversionError, IncompatibleSourceError, loadBackend, SourceReadError, ZarrioError } from "../dist/index.js";
import { fromCore } from "../dist/errors.js";
import { chunkBlock, chunkCount, chunksIn, chunksTouched, gridShape, outerCoords } from "../dist/zarr/grid.js";
import { BACKEND, fixture, ROOT } from "./helpers.js";

const backend = await loadBackend(BACKEND);

/** The core's error, thrown by `f`, as the caller sees it after fromCore. */
function coreError(f: () => unknown): ZarrioError {
  try {
    f();
  } catch (e) {
    return fromCore(e, { file: "f.nc", variable: "v" });
  }
  assert.fail("the core did not refuse");
}

describe(`boundary (${BACKEND})`, () => {
  test("build info says which backend runs, as the generated BuildInfo type describes it", () => {
    assert.equal(backend.name, BACKEND);
    assert.equal(backend.info.backend, BACKEND);
    assert.match(backend.info.core, /^\d+\.\d+\.\d+/);
    assert.equal(typeof backend.info.libnetcdf, "boolean");
    assert.equal(backend.info.libnetcdf, BACKEND === "native");
  });

  test("the TypeScript grid (zarr/grid.ts) agrees with the core's: chunks a region touches, edge chunks, shards", () => {
    let seed = 7;
    const rand = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    for (let k = 0; k < 200; k++) {
      const rank = 1 + rand(3);
      const shape = Array.from({ length: rank }, () => 1 + rand(40));
      const chunks = shape.map((s) => 1 + rand(s + 3));
      const origin = shape.map((s) => rand(s));
      const count = shape.map((s, d) => 1 + rand(s - origin[d]!));
      const spec = { shape, chunks, dtype: "float32" as const, fill: "NaN" as const, pipeline: { compressor: null } };
      const core = backend.chunksInRegion(spec, origin, count);
      const ours = chunksIn(origin, count, chunks);
      assert.deepEqual(ours, core.chunks, `${shape} / ${chunks} at ${origin} + ${count}`);
      assert.equal(chunksTouched(origin, count, chunks), core.chunks.length);
      // A chunk is full when the region covers its part inside the array (edge chunks end there).
      const full = ours.map((c) => {
        const b = chunkBlock(c, chunks, shape);
        return b.origin.every((o, d) => o >= origin[d]! && o + b.shape[d]! <= origin[d]! + count[d]!);
      });
      assert.deepEqual(full, core.full);
      assert.equal(chunkCount(shape, chunks), gridShape(shape, chunks).reduce((a, n) => a * n, 1));
      assert.equal(chunksIn(shape.map(() => 0), shape, chunks).length, chunkCount(shape, chunks));
    }
    assert.deepEqual(outerCoords([5, 3], [2, 10], [6, 30]), [1, 1]);
  });

  test("core errors become the class of their kind, with the file, the variable and the core's message", () => {
    const bad = coreError(() => backend.slabFromBytes("float32", [3], new Uint8Array(8)));
    assert.ok(bad instanceof IncompatibleSourceError, bad.constructor.name);
    assert.equal(bad.file, "f.nc");
    assert.equal(bad.variable, "v");
    assert.match(bad.message, /^f\.nc, variable 'v': invalid request: shape \[3\] needs 3 elements, got 2$/);
    assert.doesNotMatch(bad.message, /zarrio:/);

    const unknownType = coreError(() => backend.slabFromBytes("float16" as never, [1], new Uint8Array(2)));
    assert.ok(unknownType instanceof IncompatibleSourceError);
    assert.match(unknownType.message, /unknown dtype float16/);

    const notNetcdf = coreError(() => backend.openDatasetBytes(new TextEncoder().encode("this is not a NetCDF file")));
    assert.ok(notNetcdf instanceof SourceReadError, notNetcdf.constructor.name);
    assert.match(notNetcdf.message, /cannot read NetCDF/);

    const index = coreError(() => backend.slabFromBytes("uint8", [1.5], new Uint8Array(1)));
    assert.match(index.message, /1\.5 is not an index/);

    // Not from the core: kept whole, as a ConversionError.
    const other = fromCore(new Error("[zarrio:nonsense] x"));
    assert.ok(other instanceof ConversionError);
    assert.equal(other.message, "[zarrio:nonsense] x");
  });

  test("a released slab or a finished gather refuses further use by name", () => {
    const slab = backend.slabFromBytes("uint8", [2], new Uint8Array([1, 2]));
    slab.release();
    slab.release(); // twice is harmless
    const g = backend.gather("uint8", [2]);
    g.put(backend.slabFromBytes("uint8", [2], new Uint8Array([3, 4])), [0]);
    const done = g.finish();
    assert.deepEqual([...done.toBytes()!], [3, 4]);
    const again = coreError(() => g.finish());
    assert.match(again.message, /the gather was released/);
  });

  test("encode, pack and readRegion hand back the same shapes in both bindings", async () => {
    const values = new Float32Array([1, 2, 3, 4, 5, 6]);
    const slab = backend.slabFromBytes("float32", [2, 3], new Uint8Array(values.buffer));
    assert.deepEqual(slab.shape, [2, 3]);
    assert.ok(Array.isArray(slab.shape));
    const spec = { shape: [2, 3], chunks: [1, 2], dtype: "float32" as const, fill: "NaN" as const, pipeline: { compressor: { id: "zstd" as const, level: 3 } } };
    const enc = await slab.encode(spec, [0, 0]);
    assert.equal(enc.chunks.length, 4);
    for (const c of enc.chunks) {
      assert.ok(Array.isArray(c.coords) && c.coords.length === 2);
      assert.ok(c.bytes instanceof Uint8Array && c.bytes.length > 0);
    }
    assert.deepEqual(enc.partial, []);
    assert.equal(enc.rawBytes, 4 * 2 * 4);
    const region = backend.chunksInRegion(spec, [0, 0], [2, 3]);
    assert.deepEqual(region.full, [true, true, true, true]);
    const back = backend.readRegion(spec, [0, 0], [2, 3], enc.chunks.map((c) => c.coords), enc.chunks.map((c) => c.bytes));
    assert.deepEqual([...new Float32Array(back.toBytes()!.slice().buffer)], [...values]);
    // A chunk not stored reads as fill.
    const holes = backend.readRegion(spec, [0, 0], [2, 3], enc.chunks.map((c) => c.coords), enc.chunks.map((c, i) => (i === 0 ? null : c.bytes)));
    const got = [...new Float32Array(holes.toBytes()!.slice().buffer)];
    assert.ok(Number.isNaN(got[0]) && Number.isNaN(got[1]));
    assert.deepEqual(got.slice(2), [3, 4, 5, 6]);

    const params = backend.packParams(1, 6, 16, "float32");
    assert.equal(params.bits, 16);
    const { slab: packed, report } = slab.pack(params, [], "error");
    assert.equal(packed.dtype, "int16");
    assert.deepEqual(report, { missing: 0, out_of_range: 0, first_out_of_range: null });
  });

  test("freeBytes empties the native core's encoded chunks at once and leaves other buffers alone", async () => {
    const slab = backend.slabFromBytes("float32", [4, 3], new Uint8Array(new Float32Array(12).fill(2.5).buffer));
    const spec = { shape: [4, 3], chunks: [2, 3], dtype: "float32" as const, fill: "NaN" as const, pipeline: { compressor: { id: "zstd" as const, level: 3 } } };
    const enc = await slab.encode(spec, [0, 0]);
    slab.release();
    const sizes = enc.chunks.map((c) => c.bytes.length);
    // A view into a larger buffer (Node's pooled Buffers are such views) is never the core's own.
    const pool = new Uint8Array(64).fill(7);
    const view = pool.subarray(8, 16);
    backend.freeBytes([...enc.chunks.map((c) => c.bytes), view]);
    if (BACKEND === "native") {
      for (const c of enc.chunks) assert.equal(c.bytes.length, 0, "the chunk's memory is given back");
    } else {
      // The WebAssembly backend's outputs are ordinary JS buffers: nothing to free early.
      assert.deepEqual(enc.chunks.map((c) => c.bytes.length), sizes);
    }
    assert.deepEqual([...view], new Array(8).fill(7));
    assert.equal(pool.length, 64);
  });

  test("a file's description crosses as the generated FileMeta", async () => {
    const ds = await backend.openDataset(fixture("nc4_zlib.nc"));
    try {
      const v = ds.meta.root.vars[0]!;
      for (const key of ["name", "path", "dtype", "nc_type", "dims", "shape", "char_dim", "attrs", "encoding", "fields"]) assert.ok(key in v, key);
      const declared = readFileSync(path.join(ROOT, "ts", "backend", "core-types.ts"), "utf8");
      assert.match(declared, /export type VarMeta = \{ name: string,/);
    } finally {
      ds.close();
    }
  });
});
