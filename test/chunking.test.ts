/**
 * Chunk choice on realistic shapes, asserted against the target size for each access pattern;
 * fixed dimensions, clamping, dtype sizes, any dimension names; and the choice logged by convert.
 */
import test, { describe } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";

import { chooseChunks, chooseShards, convertToZarr, Logger, type ChunkRequest } from "../dist/index.js";
import { BACKEND, fixture, outDir, zarrInfo } from "./helpers.js";

const MiB = 2 ** 20;
const TARGET = 8 * MiB;

function choose(shape: number[], pattern: ChunkRequest["pattern"], extra: Partial<ChunkRequest> = {}) {
  const dims = extra.dims ?? (shape.length === 4 ? ["time", "level", "lat", "lon"] : ["time", "lat", "lon"]);
  return chooseChunks({ dims, shape, itemSize: 4, fixed: {}, timeDim: "time", pattern, targetBytes: TARGET, ...extra });
}

/** A chosen chunk fills the budget: never above it, and within 25% under it unless the array is smaller. */
function assertNearTarget(shape: number[], chunks: number[], itemSize: number, target = TARGET): void {
  const bytes = chunks.reduce((a, b) => a * b, 1) * itemSize;
  const whole = shape.reduce((a, b) => a * b, 1) * itemSize;
  assert.ok(bytes <= target, `${chunks.join("×")} is ${(bytes / MiB).toFixed(2)} MiB, over the target`);
  assert.ok(bytes >= Math.min(whole, 0.75 * target), `${chunks.join("×")} is ${(bytes / MiB).toFixed(2)} MiB, far under the target`);
  chunks.forEach((c, i) => {
    assert.ok(c >= 1 && c <= shape[i]!, `chunk ${c} outside 1..${shape[i]}`);
    // Each length is the smallest giving its number of chunks: the dimension is split evenly.
    assert.equal(Math.ceil(shape[i]! / Math.ceil(shape[i]! / c)), c, `${c} does not split ${shape[i]} evenly`);
  });
}

const SHAPES: [string, number[]][] = [
  ["10 years hourly on a 0.25° global grid", [87600, 721, 1440]],
  ["a daily 1° model over 10 years", [3650, 180, 360]],
  ["6-hourly, 37 pressure levels, 0.25°", [1460, 37, 721, 1440]],
];

describe(`chunking [${BACKEND}]`, () => {
  for (const [what, shape] of SHAPES) {
    test(`${what}: every pattern fills the ${TARGET / MiB} MiB target`, () => {
      for (const pattern of ["temporal", "spatial", "balanced"] as const) {
        const c = choose(shape, pattern);
        assertNearTarget(shape, c.chunks, 4);
        assert.equal(c.reasons.length, shape.length);
      }
    });
  }

  describe("shards", () => {
    // Ten years hourly at 0.25°, chunks of one map (4 MiB float32): 87,600 objects per variable.
    const era5 = { dims: ["time", "lat", "lon"], shape: [87600, 721, 1440], chunks: [1, 721, 1440], itemSize: 4, timeDim: "time", targetBytes: 512 * 2 ** 20 };
    test("given lengths are whole chunks (rounded, clamped); dimensions not named hold one chunk", () => {
      const c = chooseShards({ ...era5, chunks: [24, 181, 360], asked: { time: 720, lat: 400 }, pattern: "balanced" });
      assert.deepEqual(c.shards, [720, 362, 360]);
      assert.match(c.reasons[1]!, /asked 400: 2 whole chunks of 181/);
      assert.match(c.reasons[2]!, /one chunk: not named/);
      const clamped = chooseShards({ ...era5, chunks: [24, 181, 360], asked: { time: 10, lat: 5000 }, pattern: "balanced" });
      assert.deepEqual(clamped.shards, [24, 724, 360], "at least one chunk, at most the chunks the dimension has");
    });
    test("auto: shards of about the target, grown in the access pattern's order", () => {
      const temporal = chooseShards({ ...era5, chunks: [24, 181, 360], asked: "auto", pattern: "temporal" });
      assert.deepEqual(temporal.shards, [2040, 181, 360], "time first");
      const spatial = chooseShards({ ...era5, chunks: [24, 181, 360], asked: "auto", pattern: "spatial" });
      assert.deepEqual(spatial.shards, [120, 724, 1440], "the whole map, then time");
      const maps = chooseShards({ ...era5, asked: "auto", pattern: "balanced" });
      assert.deepEqual(maps.shards, [129, 721, 1440], "129 maps of 3.96 MiB: 680 objects instead of 87,600");
      for (const c of [temporal, spatial, maps]) assert.ok(c.bytes <= era5.targetBytes && c.bytes > 0.9 * era5.targetBytes, `${c.bytes}`);
    });
  });

  test("temporal: long time chunks, small tiles (a point's 10-year series in at most 6 chunks)", () => {
    const { chunks, reasons } = choose([87600, 721, 1440], "temporal");
    assert.ok(chunks[0]! >= 87600 / 6, `time ${chunks[0]}`);
    assert.ok(chunks[1]! <= 32 && chunks[2]! <= 32, `tile ${chunks[1]}×${chunks[2]}`);
    assert.match(reasons[0]!, /temporal: long time series/);
    // A shorter axis is taken whole and its unused budget goes to the tile.
    const daily = choose([3650, 180, 360], "temporal").chunks;
    assert.equal(daily[0], 3650);
    assert.ok(daily[1]! * daily[2]! >= (0.75 * TARGET) / 4 / 3650);
  });

  test("spatial: whole maps, time short (1 when a map alone fills the target)", () => {
    const hourly = choose([87600, 721, 1440], "spatial").chunks;
    assert.deepEqual(hourly.slice(1), [721, 1440]);
    assert.ok(hourly[0]! <= 2);
    const daily = choose([3650, 180, 360], "spatial");
    assert.deepEqual(daily.chunks.slice(1), [180, 360]);
    assert.match(daily.reasons[0]!, /spatial: maps first/);
    // A map bigger than the target: time 1, large tiles.
    const big = choose([1460, 37, 721, 1440], "spatial").chunks;
    assert.equal(big[0], 1);
    assert.ok(big[2]! * big[3]! >= 40000, big.join("×"));
  });

  test("balanced: near-equal shares", () => {
    const { chunks } = choose([87600, 721, 1440], "balanced");
    const [lo, hi] = [Math.min(...chunks), Math.max(...chunks)];
    assert.ok(hi / lo < 1.5, chunks.join("×"));
    assert.match(choose([87600, 721, 1440], "balanced").reasons[1]!, /balanced share of the 8.00 MiB target/);
  });

  test("per dtype: int16 chunks hold twice the elements of float32, float64 half", () => {
    const elems = (itemSize: number) => choose([87600, 721, 1440], "balanced", { itemSize }).chunks.reduce((a, b) => a * b, 1);
    for (const itemSize of [1, 2, 8]) assertNearTarget([87600, 721, 1440], choose([87600, 721, 1440], "balanced", { itemSize }).chunks, itemSize);
    assert.ok(elems(2) > 1.7 * elems(4) && elems(8) < 0.6 * elems(4));
  });

  test("fixed dimensions stay fixed (clamped to the length); the rest share what is left", () => {
    const fixed = choose([87600, 721, 1440], "balanced", { fixed: { time: 24 } });
    assert.equal(fixed.chunks[0], 24);
    assert.match(fixed.reasons[0]!, /time=24 \(given\)/);
    assert.ok(fixed.chunks[1]! * fixed.chunks[2]! * 24 * 4 <= TARGET);
    assert.ok(fixed.chunks[1]! * fixed.chunks[2]! * 24 * 4 >= 0.75 * TARGET);
    const clamped = choose([3650, 180, 360], "temporal", { fixed: { lat: 1000 } });
    assert.equal(clamped.chunks[1], 180);
    assert.match(clamped.reasons[1]!, /asked 1000, clamped to the length/);
    // Everything fixed: the chunk is what was asked, whatever its size.
    assert.deepEqual(choose([10, 20, 30], "spatial", { fixed: { time: 2, lat: 5, lon: 7 } }).chunks, [2, 5, 7]);
  });

  test("any dimension names; without the time dimension every pattern is balanced", () => {
    const named = chooseChunks({ dims: ["valid_time", "y", "x"], shape: [8760, 1000, 2000], itemSize: 4, fixed: {}, timeDim: "valid_time", pattern: "spatial", targetBytes: TARGET });
    assertNearTarget([8760, 1000, 2000], named.chunks, 4);
    assert.equal(named.chunks[0], 1);
    const noTime = chooseChunks({ dims: ["band", "y", "x"], shape: [12, 4000, 4000], itemSize: 2, fixed: {}, timeDim: "time", pattern: "temporal", targetBytes: TARGET });
    assertNearTarget([12, 4000, 4000], noTime.chunks, 2);
    assert.match(noTime.reasons[1]!, /no free 'time' dimension to favour/);
  });

  test("small arrays are one chunk; dimension coordinates are stored whole", () => {
    assert.deepEqual(choose([10, 20, 30], "temporal").chunks, [10, 20, 30]);
    const coord = chooseChunks({ dims: ["time"], shape: [87600], itemSize: 8, fixed: { time: 24 }, timeDim: "time", pattern: "spatial", targetBytes: TARGET, coordinate: true });
    assert.deepEqual(coord.chunks, [87600]);
    assert.match(coord.reasons[0]!, /whole/);
  });

  test("convert logs the choice and its reason at info, and writes those chunks", async () => {
    const lines: string[] = [];
    const logger = new Logger({ level: "info", sink: (l) => lines.push(l) });
    const out = path.join(outDir("chunk-log"), "out.zarr");
    // A target of ~9 KiB makes the 7×25×36 float32 variables choose (a whole one is 24.6 KiB).
    await convertToZarr(fixture("nc4_zlib.nc"), out, { accessPattern: "spatial", targetChunkSizeMb: 0.009, logger, backend: BACKEND });
    const line = lines.find((l) => /chunks time×lat×lon = .* for temperature/.test(l));
    assert.ok(line, lines.join("\n"));
    assert.match(line!, /pattern=spatial/);
    assert.match(line!, /why=time=\d+ \(spatial: maps first/);
    assert.ok(lines.some((l) => /dimension coordinates stored whole .*time/.test(l)), lines.join("\n"));
    const chunks = /= (\d+)×(\d+)×(\d+)/.exec(line!)!.slice(1).map(Number);
    assert.deepEqual(zarrInfo(out).arrays["/temperature"].chunks, chunks);
    assert.deepEqual(chunks.slice(1), [25, 36], "whole maps");
    assert.ok(lines.some((l) => /convert done in .* ratio=/.test(l)), "end-of-run figures are logged");
  });
});
