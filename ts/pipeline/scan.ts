/** A read-only pass over a variable: value statistics for packing ranges and `analyze`. */
import type { Stats, VarMeta } from "../backend/types.js";
import { fromCore } from "../errors.js";
import { itemSizeOf } from "../plan/chunking.js";
import { mapLimit } from "./pool.js";
import { planSlabs } from "./slabs.js";
import type { Source } from "./source.js";

export function mergeStats(a: Stats | undefined, b: Stats): Stats {
  if (!a) return b;
  const pick = (x: number | null, y: number | null, f: (p: number, q: number) => number) => (x === null ? y : y === null ? x : f(x, y));
  return {
    count: a.count + b.count,
    nan: a.nan + b.nan,
    missing: a.missing + b.missing,
    min: pick(a.min, b.min, Math.min),
    max: pick(a.max, b.max, Math.max),
  };
}

export async function scanStats(source: Source, v: VarMeta, missing: number[], slabBytes: number, concurrency = 2): Promise<Stats> {
  const itemSize = itemSizeOf(v.dtype);
  // Slabs over the source's own shape (no archive grid involved): whole rows, bounded size.
  const slabs = planSlabs(v.shape, v.shape.map(() => 1), v.shape.map(() => 0), itemSize, slabBytes);
  let total: Stats | undefined;
  await mapLimit(slabs, concurrency, async (box) => {
    const slab = await source.ds.read(v.path, box.start, box.count).catch((e) => {
      throw fromCore(e, { file: source.file, variable: v.path });
    });
    total = mergeStats(total, slab.stats(missing));
    slab.release();
  });
  return total ?? { count: 0, nan: 0, missing: 0, min: null, max: null };
}
