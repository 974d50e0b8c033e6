/** 3. every stored chunk (or shard) decodes; which time steps hold values. */
import { isNumeric } from "../../backend/dtype.js";
import { type Backend } from "../../backend/index.js";
import type { Slab, Stats } from "../../backend/types.js";
import { storedEncoding } from "../../plan/encoding.js";
import { unpackedRange } from "../../plan/packing.js";
import { type ExistingArchive } from "../../pipeline/existing.js";
import { mapLimit } from "../../pipeline/pool.js";
import { mergeStats } from "../../pipeline/scan.js";
import { numericView } from "../../pipeline/writer.js";
import { chunkBlock, chunkCount, chunksIn, gridShape, unravel } from "../../zarr/grid.js";
import { arraySpec, dtypeName, storageFill, storedShape, type ArrayModel } from "../../zarr/metadata.js";
import { EXAMPLES, errorText, type ArrayFacts, type IncompleteShard, type Report } from "./report.js";

interface ArrayScan {
  facts: ArrayFacts;
  /** For arrays along time: 1 where a time step holds any value. */
  written?: Uint8Array;
}

/**
 * Decode every chunk of an array: chunks that fail are reported as corrupt; for an array along
 * time (axis `t` >= 0), note which time steps hold a value other than the fill.
 */
export async function scanArray(backend: Backend, ex: ExistingArchive, path: string, model: ArrayModel, t: number, concurrency: number, problem: Report): Promise<ArrayScan> {
  const spec = arraySpec(model);
  // What is stored under one key: a chunk, or a shard of many chunks.
  const unit = storedShape(model);
  const grid = gridShape(model.shape, unit);
  const total = chunkCount(model.shape, unit);
  const written = t >= 0 ? new Uint8Array(model.shape[t]!) : undefined;
  // What readers take for "no value": the CF fill, else what unwritten chunks hold.
  const fill = !isNumeric(model.dtype) ? undefined : Number(model.cfFill ?? storageFill(model));
  const isFloat = model.dtype.startsWith("float");
  // An integer array without a CF fill cannot tell a written 0 from an unwritten one: a stored
  // chunk counts as written throughout.
  const maskable = isFloat || model.cfFill !== null;
  // Values readers mask: the CF fill and `missing_value` (NaN is always missing).
  const missing = storedEncoding(model).missing;
  let stored = 0;
  let innerStored = 0;
  const incomplete: IncompleteShard[] = [];
  let stats: Stats | undefined;
  await mapLimit(Array.from({ length: total }, (_, i) => i), concurrency, async (index) => {
    const coords = unravel(index, grid);
    const key = ex.archive.chunkKey(path, model, coords);
    const bytes = await ex.archive.store.get(key);
    if (!bytes) return;
    stored++;
    const { origin, shape: box } = chunkBlock(coords, unit, model.shape);
    // A shard's inner chunks, and which of them its index says were never written.
    let inner = [{ origin, box }];
    if (model.shards) {
      let gaps: number[][];
      try {
        gaps = backend.shardGaps(spec, coords, bytes);
      } catch (e) {
        problem("chunk", `shard ${key} has a damaged index (${errorText(e)})`, path);
        if (written) markAll(written, origin[t]!, box[t]!);
        return;
      }
      const absent = new Set(gaps.map((g) => g.join(",")));
      const all = innerChunks(origin, box, model.chunks, model.shape);
      inner = all.filter((c) => !absent.has(c.coords.join(",")));
      innerStored += inner.length;
      if (gaps.length) incomplete.push({ key, missing: gaps.length, chunks: all.length });
    } else {
      innerStored++;
    }
    let slab: Slab;
    try {
      slab = backend.readRegion(spec, origin, box, [coords], [bytes]);
    } catch (e) {
      problem("chunk", `${model.shards ? "shard" : "chunk"} ${key} does not decode (${errorText(e)})`, path);
      // Its steps were written, if badly: reported as corrupt, not again as never written.
      if (written) markAll(written, origin[t]!, box[t]!);
      return;
    }
    if (!isNumeric(model.dtype)) {
      if (written) for (const c of inner) markAll(written, c.origin[t]!, c.box[t]!);
      return;
    }
    stats = mergeStats(stats, slab.stats(missing));
    if (!written) return;
    if (!maskable) {
      for (const c of inner) markAll(written, c.origin[t]!, c.box[t]!);
      return;
    }
    markWritten(numericView(model.dtype, slab.toBytes()!), box, t, origin[t]!, written, fill!);
  });
  if (incomplete.length) {
    incomplete.sort((a, b) => (a.key < b.key ? -1 : 1));
    const shown = incomplete.slice(0, EXAMPLES).map((s) => `${s.key} (${s.missing} of ${s.chunks} missing)`).join(", ");
    const more = incomplete.length > EXAMPLES ? ` and ${incomplete.length - EXAMPLES} more` : "";
    problem("unwritten", `${incomplete.length} shard(s) lack inner chunks that were never written: ${shown}${more}`, path);
  }
  const decoded = decodeRange(stats, model);
  const count = model.shape.reduce((a, b) => a * b, 1);
  const valid = stats ? stats.count - stats.nan - stats.missing : 0;
  return {
    facts: {
      path,
      dtype: dtypeName(model),
      shape: model.shape,
      chunks: model.chunks,
      chunksTotal: chunkCount(model.shape, model.chunks),
      chunksStored: innerStored,
      ...(model.shards ? { shards: { shape: model.shards, total, stored, incomplete } } : {}),
      min: decoded[0],
      max: decoded[1],
      missingFraction: !isNumeric(model.dtype) || !count ? 0 : 1 - valid / count,
    },
    written,
  };
}

/** The inner chunks of the shard at `origin` (its part `box` inside the array), with their boxes. */
function innerChunks(origin: number[], box: number[], chunks: number[], shape: number[]): { coords: number[]; origin: number[]; box: number[] }[] {
  return chunksIn(origin, box, chunks).map((coords) => {
    const block = chunkBlock(coords, chunks, shape);
    return { coords, origin: block.origin, box: block.shape };
  });
}

function markAll(written: Uint8Array, start: number, count: number): void {
  written.fill(1, start, start + count);
}

/** Mark the time steps of a decoded chunk (shape `box`, time on axis `t`) holding a non-fill value. */
function markWritten(values: ArrayLike<number>, box: number[], t: number, t0: number, written: Uint8Array, fill: number): void {
  const inner = box.slice(t + 1).reduce((a, b) => a * b, 1);
  const steps = box[t]!;
  const outer = box.slice(0, t).reduce((a, b) => a * b, 1);
  for (let k = 0; k < steps; k++) {
    if (written[t0 + k]) continue;
    search: for (let o = 0; o < outer; o++) {
      const base = (o * steps + k) * inner;
      for (let j = 0; j < inner; j++) {
        const x = values[base + j]!;
        // x === x is false only for NaN.
        if (x === x && x !== fill) {
          written[t0 + k] = 1;
          break search;
        }
      }
    }
  }
}

/** Stats of stored values as the numbers they stand for (scale_factor/add_offset applied). */
function decodeRange(stats: Stats | undefined, model: ArrayModel): [number | null, number | null] {
  if (!stats || stats.min === null || stats.max === null) return [null, null];
  const scale = typeof model.attributes.scale_factor === "number" ? model.attributes.scale_factor : 1;
  const offset = typeof model.attributes.add_offset === "number" ? model.attributes.add_offset : 0;
  return unpackedRange(stats.min, stats.max, scale, offset);
}
