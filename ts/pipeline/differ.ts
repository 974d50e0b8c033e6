/**
 * Where two readings of the same values first differ: a file's variable against the first file's
 * (convert, pipeline/agree.ts) or against the archive's array (append and write-region,
 * pipeline/existing.ts). One rule for both: values stored alike compare as stored (NaN equals
 * NaN, -0 equals 0); stored otherwise (another type, packing or fill value), as decoded values,
 * within `slack` (half the packing step of a packed archive).
 */
import { isNumeric, itemSize } from "../backend/dtype.js";
import type { DType, Slab, VarMeta } from "../backend/types.js";
import { decodingOf, sameEncoding, type CfEncoding } from "../plan/encoding.js";
import { numericView } from "./writer.js";

/**
 * Whether `v` is small enough to be recognised by its digest (Dataset.digest reads it whole, at
 * once): coordinates, masks and cell areas are; larger variables are compared block by block.
 */
export function digestible(v: VarMeta): boolean {
  return v.shape.reduce((a, b) => a * b, 1) * itemSize(v.dtype) <= 16 << 20;
}

export interface Difference {
  /** The element, counted in C order over the slabs' shape. */
  index: number;
  here: string;
  there: string;
}

/** One side: its values and how they are stored. */
export interface Reading {
  slab: Slab;
  encoding: CfEncoding;
  /** The slab's records read as fixed-width text (an archive's `<U5`, see fixedTexts). */
  texts?: string[];
}

export function firstDifference(here: Reading, there: Reading, slack = 0): Difference | undefined {
  const texts = [here.texts ?? here.slab.toStrings(), there.texts ?? there.slab.toStrings()];
  if (texts[0] || texts[1]) {
    const [a, b] = [texts[0] ?? [], texts[1] ?? []];
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      if (a[i] !== b[i]) return { index: i, here: JSON.stringify(a[i] ?? null), there: JSON.stringify(b[i] ?? null) };
    }
    return undefined;
  }
  const [dh, dt] = [here.encoding.dtype, there.encoding.dtype];
  if (!isNumeric(dh) || !isNumeric(dt)) return recordDifference(here.slab, there.slab, dh, dt);
  const alike = sameEncoding(here.encoding, there.encoding);
  const a = alike ? here.slab : here.slab.decode(decodingOf(here.encoding, "float64"));
  const b = alike ? there.slab : there.slab.decode(decodingOf(there.encoding, "float64"));
  try {
    const dtype: DType = alike ? dh : "float64";
    const x = numericView(dtype, a.toBytes()!);
    const y = numericView(dtype, b.toBytes()!);
    const within = alike ? 0 : slack;
    for (let i = 0; i < Math.max(x.length, y.length); i++) {
      const p = x[i]!;
      const q = y[i]!;
      if (p === q || (Number.isNaN(p) && Number.isNaN(q)) || Math.abs(p - q) <= within) continue;
      return { index: i, here: String(p), there: String(q) };
    }
    return undefined;
  } finally {
    if (!alike) {
      a.release();
      b.release();
    }
  }
}

/** Records (compounds, opaque values) compare byte for byte. */
function recordDifference(a: Slab, b: Slab, da: DType, db: DType): Difference | undefined {
  const [x, y] = [a.toBytes()!, b.toBytes()!];
  const size = itemSize(da);
  if (da !== db) return { index: 0, here: `a ${da} value`, there: `a ${db} value` };
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    if (x[i] !== y[i]) {
      const at = Math.floor(i / size);
      const hex = (bytes: Uint8Array) => `0x${Array.from(bytes.subarray(at * size, (at + 1) * size), (c) => c.toString(16).padStart(2, "0")).join("")}`;
      return { index: at, here: hex(x), there: hex(y) };
    }
  }
  return undefined;
}
