/**
 * Samples of what an archive will hold, read before it is written: `analyze` times codecs on them,
 * a preview (`zarrio/web`'s `planArchive`) estimates the archive's size from them. Browser-safe.
 */
import { isNumeric, itemSize } from "../backend/dtype.js";
import type { Slab } from "../backend/types.js";
import type { ZarrConverterConfig } from "../config/model.js";
import { fromCore } from "../errors.js";
import type { VarPlan } from "../plan/layout.js";
import { storageFill } from "../zarr/metadata.js";
import type { Source } from "./source.js";

/** Variables sampled: the largest ones carry the archive's size. */
export const SAMPLED_VARIABLES = 4;

export interface Sample {
  /** The array's path in the archive. */
  variable: string;
  slab: Slab;
  shape: number[];
}

/**
 * One planned chunk from the middle of each of the largest variables, shrunk from the outermost
 * dimension to fit its share of `budget`, and packed if the plan packs the variable.
 */
export async function takeSamples(source: Source, planned: VarPlan[], budget: number, policy: ZarrConverterConfig["packing"]["rangeExceededAction"]): Promise<Sample[]> {
  const candidates = planned
    .filter((v) => isNumeric(v.source.dtype) && v.model.shape.length > 0 && !(v.model.dimensionNames.length === 1 && v.model.dimensionNames[0] === v.name))
    .sort((a, b) => rawBytes(b) - rawBytes(a))
    .slice(0, SAMPLED_VARIABLES);
  const share = budget / Math.max(1, candidates.length);
  const out: Sample[] = [];
  for (const v of candidates) {
    const src = v.source;
    const count = src.shape.map((len, i) => Math.min(len, v.model.chunks[i]!));
    const item = itemSize(src.dtype);
    for (let d = 0; d < count.length && count.reduce((a, b) => a * b, 1) * item > share; d++) {
      const rest = count.reduce((a, b) => a * b, 1) / count[d]!;
      count[d] = Math.max(1, Math.floor(share / item / rest));
    }
    if (count.some((c) => c === 0)) continue;
    const start = src.shape.map((len, i) => Math.floor((len - count[i]!) / 2));
    let slab = await source.ds.read(src.path, start, count).catch((e) => {
      throw fromCore(e, { file: source.file, variable: src.path });
    });
    if (v.pack) slab = slab.pack(v.pack, v.missing, policy === "error" ? "clip" : policy).slab;
    out.push({ variable: v.arrayPath, slab, shape: count });
  }
  return out;
}

/** A variable's values in the archive, before compression. */
export function rawBytes(v: VarPlan): number {
  return v.model.shape.reduce((x, y) => x * y, 1) * itemSize(v.model.dtype);
}

/** What a preview says the archive will weigh. */
export interface SizeEstimate {
  /** Every array's values, before compression. */
  rawBytes: number;
  /** Estimated bytes in the store: each sampled variable at its sample's ratio, the rest at their mean. */
  storedBytes: number;
  /** Bytes of values the estimate compressed to measure the ratios. */
  sampleBytes: number;
}

/**
 * The archive's size, estimated by encoding a sample of the largest variables with the codec the
 * plan gives them (one chunk each, within `budget` bytes in all).
 */
export async function estimateSize(source: Source, planned: VarPlan[], config: ZarrConverterConfig, budget = 4 * 2 ** 20): Promise<SizeEstimate> {
  const samples = await takeSamples(source, planned, budget, config.packing.rangeExceededAction);
  const ratios = new Map<string, number>();
  let sampleBytes = 0;
  for (const s of samples) {
    const v = planned.find((p) => p.arrayPath === s.variable)!;
    const dtype = s.slab.dtype;
    const spec = { shape: s.shape, chunks: s.shape, dtype, fill: storageFill({ dtype, cfFill: null }), pipeline: { compressor: v.model.compressor } };
    const raw = s.shape.reduce((x, y) => x * y, 1) * itemSize(dtype);
    const encoded = (await s.slab.encode(spec, s.shape.map(() => 0))).chunks.reduce((a, c) => a + c.bytes.length, 0);
    sampleBytes += raw;
    ratios.set(s.variable, raw > 0 ? encoded / raw : 1);
  }
  const mean = ratios.size ? [...ratios.values()].reduce((a, b) => a + b, 0) / ratios.size : 1;
  let raw = 0;
  let stored = 0;
  for (const v of planned) {
    const bytes = rawBytes(v);
    raw += bytes;
    stored += bytes * (ratios.get(v.arrayPath) ?? (isNumeric(v.model.dtype) ? mean : 1));
  }
  return { rawBytes: raw, storedBytes: Math.round(stored), sampleBytes };
}
