/**
 * An archive as one ZIP (ts/zarr/zip.ts, `zipParts` in both entries): xarray opens it through
 * zarr-python's ZipStore and reads the sources' values back; ZIP64 records read by Python's
 * zipfile; the browser's path (zarrio/web converting bytes into a MemoryStore, then zipped).
 */
import test, { describe } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

import { FsStore, MemoryStore, zipParts } from "../ts/index.js";
import { crc32 } from "../ts/zarr/zip.js";
import { convertToZarr, init } from "../ts/web.js";
import { assertMatchesSources, BACKEND, cli, FIXTURES, outDir, python, ROOT } from "./helpers.js";

const SAMPLE = path.join(ROOT, "samples", "ocean_sample.nc");
const save = (file: string, parts: Uint8Array[]) => writeFileSync(file, Buffer.concat(parts));

describe(`zip [${BACKEND}]`, () => {
  test("crc32 is ZIP's (check value of '123456789')", () => {
    assert.equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
    assert.equal(crc32(new Uint8Array()), 0);
  });

  test("a converted archive zipped: xarray reads it through ZipStore equal to the source, v3 and v2, with groups", async () => {
    const dir = outDir("zip");
    for (const [name, src, extra] of [
      ["sample-v3", SAMPLE, []],
      ["sample-v2", SAMPLE, ["--zarr-format", "2"]],
      ["groups", path.join(FIXTURES, "groups.nc"), []],
    ] as const) {
      const archive = path.join(dir, `${name}.zarr`);
      const r = cli(["convert", src, archive, ...extra]);
      assert.equal(r.status, 0, r.stderr);
      const zip = path.join(dir, `${name}.zarr.zip`);
      save(zip, await zipParts(new FsStore(archive)));
      assertMatchesSources(zip, [src]);
    }
  });

  test("ZIP64 records (forced): Python's zipfile lists every key with its size and CRC, xarray reads the values", async () => {
    const dir = outDir("zip64");
    const archive = path.join(dir, "a.zarr");
    assert.equal(cli(["convert", SAMPLE, archive, "--chunking", "time:2"]).status, 0);
    const store = new FsStore(archive);
    const keys = await store.list();
    const zip = path.join(dir, "a64.zarr.zip");
    save(zip, await zipParts(store, { zip64: true }));
    const r = python(["-c", "import json,sys,zipfile\nz=zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\nprint(json.dumps({i.filename: i.file_size for i in z.infolist()}))", zip]);
    assert.equal(r.status, 0, r.stderr);
    const listed = JSON.parse(r.stdout) as Record<string, number>;
    assert.deepEqual(Object.keys(listed).sort(), keys);
    for (const k of keys) assert.equal(listed[k], (await store.get(k))!.length, k);
    assertMatchesSources(zip, [SAMPLE]);
  });

  test("zarrio/web: bytes converted into a MemoryStore, zipped, opened by xarray", async () => {
    await init(readFileSync(path.join(ROOT, "bindings", "wasm", "pkg", "zarrio_wasm_bg.wasm")));
    const store = new MemoryStore();
    await convertToZarr({ name: "ocean_sample.nc", bytes: readFileSync(SAMPLE) }, store, { chunking: { time: 3 } });
    const zip = path.join(outDir("zip-web"), "web.zarr.zip");
    save(zip, await zipParts(store));
    assertMatchesSources(zip, [SAMPLE]);
  });
});
