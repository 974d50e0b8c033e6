/**
 * zarrio/web's preview and progress (ts/web.ts): `planArchive` shows what `convertToZarr` then
 * writes (same arrays, chunks, codec), estimates its size from a sample, and refuses what the
 * conversion refuses; `onProgress` counts up to the total; Blobs convert like bytes. The page's own
 * test (test/browser/page.test.ts) drives the same API in Chromium.
 */
import test, { before, describe } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";

import { ConfigError, IncompatibleSourceError, SourceReadError } from "../ts/errors.js";
import { convertToZarr, init, MemoryStore, planArchive } from "../ts/web.js";
import { BACKEND, fixture, ROOT } from "./helpers.js";

const SAMPLE = path.join(ROOT, "samples", "ocean_sample.nc");
const bytesOf = (file: string) => ({ name: path.basename(file), bytes: new Uint8Array(readFileSync(file)) });
const doc = (store: MemoryStore, key: string) => JSON.parse(new TextDecoder().decode(store.map.get(key)!));

describe(`zarrio/web preview and progress [${BACKEND}]`, () => {
  before(async () => {
    await init(readFileSync(path.join(ROOT, "bindings", "wasm", "pkg", "zarrio_wasm_bg.wasm")));
  });

  test("the plan is what the conversion writes, and its size estimate is close", async () => {
    for (const options of [{ chunking: "time:6", compression: "zstd:3" }, { zarrFormat: 3, sharding: "time:12", chunking: "time:6" }, { packing: { enabled: true, bits: 16 } }]) {
      const preview = await planArchive(bytesOf(SAMPLE), options);
      const store = new MemoryStore();
      const done: number[] = [];
      let total = 0;
      await convertToZarr(bytesOf(SAMPLE), store, { ...options, onProgress: (d, t) => (done.push(d), (total = t)) });
      assert.deepEqual(preview.files, [{ name: "ocean_sample.nc", bytes: readFileSync(SAMPLE).length }]);
      assert.deepEqual(preview.dims, { time: 24, lat: 90, lon: 180 });
      assert.equal(preview.timeSteps, 24);
      const meta = doc(store, "zarr.json").consolidated_metadata.metadata as Record<string, any>;
      assert.deepEqual(preview.arrays.map((a) => a.path).sort(), Object.keys(meta).filter((k) => meta[k].node_type === "array").sort());
      for (const a of preview.arrays) {
        const m = meta[a.path];
        assert.deepEqual(a.shape, m.shape, a.path);
        assert.deepEqual(a.dims, m.dimension_names, a.path);
        const sharded = m.codecs[0].name === "sharding_indexed";
        assert.deepEqual(sharded ? a.shards : a.chunks, m.chunk_grid.configuration.chunk_shape, a.path);
        if (sharded) assert.deepEqual(a.chunks, m.codecs[0].configuration.chunk_shape, a.path);
        assert.equal(a.dtype, m.data_type, a.path);
        if (a.packing) assert.equal(m.attributes.scale_factor, a.packing.scaleFactor, a.path);
      }
      assert.ok(options.packing ? preview.arrays.some((a) => a.packing) : preview.arrays.every((a) => !a.packing));
      const stored = [...store.map.values()].reduce((n, v) => n + v.length, 0);
      const ratio = preview.estimatedBytes / stored;
      assert.ok(ratio > 0.7 && ratio < 1.3, `estimate ${preview.estimatedBytes} vs ${stored} stored (${JSON.stringify(options)})`);
      assert.equal(preview.rawBytes, preview.arrays.reduce((n, a) => n + a.bytes, 0));
      // Progress counts up to the total of source data, and ends there.
      assert.ok(done.length >= 2, `progress was told more than once (${done.length})`);
      assert.ok(done.every((d, i) => i === 0 || d >= done[i - 1]!), "progress never goes back");
      assert.equal(done.at(-1), total);
      // The total is the source's values; unpacked, that is the archive's values too.
      if (!options.packing) assert.equal(total, preview.rawBytes);
    }
  });

  test("a Blob converts like its bytes (read whole where reads cannot be synchronous)", async () => {
    const a = new MemoryStore();
    const b = new MemoryStore();
    await convertToZarr(bytesOf(SAMPLE), a);
    await convertToZarr(new File([readFileSync(SAMPLE)], "ocean_sample.nc"), b);
    assert.deepEqual([...b.map.keys()].sort(), [...a.map.keys()].sort());
    for (const [k, v] of a.map) if (!k.endsWith("zarr.json")) assert.deepEqual(b.map.get(k), v, k);
  });

  test("the preview refuses what the conversion refuses, with the same typed errors", async () => {
    await assert.rejects(planArchive(bytesOf(SAMPLE), { compression: "blosc:zzz:3" }), ConfigError);
    await assert.rejects(planArchive(bytesOf(SAMPLE), { chunking: "time:-1" }), ConfigError);
    await assert.rejects(planArchive(bytesOf(fixture("corrupt_not_netcdf.nc"))), (e: unknown) => e instanceof SourceReadError && /corrupt_not_netcdf\.nc/.test((e as Error).message));
    // Two files that do not join along time: the preview and the conversion say the same.
    const pair = [bytesOf(SAMPLE), bytesOf(fixture("groups.nc"))];
    const previewError = await planArchive(pair).then(() => undefined, (e: unknown) => e);
    const convertError = await convertToZarr(pair, new MemoryStore()).then(() => undefined, (e: unknown) => e);
    assert.ok(previewError instanceof IncompatibleSourceError || previewError instanceof ConfigError, String(previewError));
    assert.equal((previewError as Error).constructor, (convertError as Error).constructor);
    assert.equal((previewError as Error).message, (convertError as Error).message);
  });
});
