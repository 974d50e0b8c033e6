/**
 * Choosing chunk lengths. Dimensions the user fixed stay fixed (clamped to the dimension's
 * length); the others share what is left of the byte budget (`targetBytes` / item size, so an
 * int16 packed variable gets twice the elements of a float32 one) according to the access
 * pattern:
 *
 * - `temporal` (long series at few points): the time dimension takes two thirds of the budget
 *   on a log scale, the other dimensions share the rest, so a point's series spans few chunks.
 * - `spatial` (maps at few times): the other dimensions are served first, whole if the budget
 *   allows; time takes what is left (1 when a map alone fills the budget).
 * - `balanced`: every free dimension gets the same share on a log scale.
 *
 * Shares are water-filled: a dimension whose share exceeds its length takes the whole dimension
 * and its unused budget goes back to the others. Lengths are then rounded to split their
 * dimension evenly (721 in chunks of 11, not 64×11 + 17), and the budget that rounding freed is
 * handed back greedily in the pattern's order, so chunks land as close under the target as the
 * shape allows. Any dimension names work; only `timeDim` is special.
 */
import { itemSize } from "../backend/dtype.js";
import type { DType } from "../backend/types.js";
import type { AccessPattern } from "../config/model.js";
import { formatBytes, type Logger } from "../log.js";
import { chunkCount } from "../zarr/grid.js";

export interface ChunkRequest {
  dims: string[];
  shape: number[];
  /** Bytes per element (16 is used for text). */
  itemSize: number;
  /** Lengths the user fixed, by dimension name. */
  fixed: Record<string, number>;
  timeDim: string;
  pattern: AccessPattern;
  targetBytes: number;
  /** A 1-D dimension coordinate (lat, time...): stored whole when small enough. */
  coordinate?: boolean;
}

export interface ChunkChoice {
  chunks: number[];
  /** Why each length was chosen, one entry per dimension, for logs and `analyze`. */
  reasons: string[];
  /** Uncompressed bytes of one full chunk. */
  bytes: number;
}

/**
 * Readers (xarray) load a dimension coordinate whole when they open an archive, so one request
 * beats many; past this size a coordinate is chunked like data, to bound memory.
 */
const WHOLE_COORDINATE_BYTES = 64 * 2 ** 20;

export function chooseChunks(req: ChunkRequest): ChunkChoice {
  const n = req.dims.length;
  const shape = req.shape.map((len) => Math.max(1, len));
  const chunks = new Array<number>(n).fill(0);
  const reasons = new Array<string>(n).fill("");
  const size = (c: number[]) => c.reduce((a, b) => a * b, 1) * req.itemSize;
  const budget = Math.max(1, Math.floor(req.targetBytes / req.itemSize));
  const target = formatBytes(req.targetBytes);

  if (req.coordinate && n === 1 && shape[0]! * req.itemSize <= WHOLE_COORDINATE_BYTES) {
    return { chunks: [shape[0]!], reasons: [`${req.dims[0]}=${shape[0]} (whole: readers load a dimension coordinate at once)`], bytes: size(shape) };
  }

  let left = budget;
  const free: number[] = [];
  for (let i = 0; i < n; i++) {
    const fixed = req.fixed[req.dims[i]!];
    if (fixed === undefined) {
      free.push(i);
      continue;
    }
    chunks[i] = Math.min(fixed, shape[i]!);
    reasons[i] = fixed > shape[i]! ? `${req.dims[i]}=${chunks[i]} (asked ${fixed}, clamped to the length)` : `${req.dims[i]}=${fixed} (given)`;
    left /= chunks[i]!;
  }
  if (!free.length) return { chunks, reasons, bytes: size(chunks) };

  const isTime = (i: number) => req.dims[i] === req.timeDim;
  const time = free.filter(isTime);
  const others = free.filter((i) => !isTime(i));
  // temporal and spatial are about the time dimension; without a free one they are balanced.
  const pattern: AccessPattern = time.length && others.length ? req.pattern : "balanced";
  // Real-valued shares per dimension, water-filled in the pattern's phases.
  const share = new Array<number>(n).fill(0);
  if (pattern === "spatial") {
    left = waterFill(others, () => 1, left, shape, share);
    waterFill(time, () => 1, left, shape, share);
  } else {
    const timeWeight = pattern === "temporal" ? 2 * others.length : 1;
    waterFill(free, (i) => (isTime(i) ? timeWeight : 1), left, shape, share);
  }

  // Round each share down to a length that splits its dimension evenly.
  const count = (i: number, c: number) => Math.ceil(shape[i]! / c);
  for (const i of free) chunks[i] = evenLength(shape[i]!, count(i, Math.max(1, Math.floor(share[i]!))));

  // Hand back the budget rounding freed: grow one dimension by one fewer chunk along it, in
  // the pattern's order, while the chunk stays within the budget.
  const budgetFree = budget / fixedProduct(chunks, free);
  const order = pattern === "temporal" ? [...time, ...others] : pattern === "spatial" ? [...others, ...time] : free;
  for (let grown = true; grown; ) {
    grown = false;
    const candidates = pattern === "balanced" ? [...order].sort((a, b) => count(b, chunks[b]!) - count(a, chunks[a]!)) : order;
    for (const i of candidates) {
      const k = count(i, chunks[i]!);
      if (k === 1) continue;
      const bigger = evenLength(shape[i]!, k - 1);
      if ((freeProduct(chunks, free) / chunks[i]!) * bigger <= budgetFree) {
        chunks[i] = bigger;
        grown = true;
        break;
      }
    }
  }

  for (const i of free) {
    const dim = req.dims[i]!;
    const k = count(i, chunks[i]!);
    const why =
      chunks[i] === shape[i]
        ? "whole dimension"
        : pattern === "temporal"
          ? isTime(i) ? "temporal: long time series" : "temporal: small tile, the time series gets the budget"
          : pattern === "spatial"
            ? isTime(i) ? `spatial: maps first, then time steps up to the ${target} target` : "spatial: large map tiles"
            : `balanced share of the ${target} target${pattern !== req.pattern ? `; no free '${req.timeDim}' dimension to favour` : ""}`;
    reasons[i] = `${dim}=${chunks[i]} (${why}${k > 1 ? `; ${k} chunks along ${shape[i]}` : ""})`;
  }
  return { chunks, reasons, bytes: size(chunks) };
}

/**
 * Give each dimension in `dims` the weight-proportional share of `budget` on a log scale,
 * capping at the dimension's length and passing what a capped dimension leaves to the others.
 * Writes the shares into `share`; returns the budget left over (when every dimension is whole).
 */
function waterFill(dims: number[], weight: (i: number) => number, budget: number, shape: number[], share: number[]): number {
  let open = [...dims];
  let left = Math.max(1, budget);
  while (open.length) {
    const total = open.reduce((s, i) => s + weight(i), 0);
    const logLeft = Math.log(left);
    const capped = open.filter((i) => Math.exp((logLeft * weight(i)) / total) >= shape[i]!);
    if (!capped.length) {
      for (const i of open) share[i] = Math.exp((logLeft * weight(i)) / total);
      return 1;
    }
    for (const i of capped) {
      share[i] = shape[i]!;
      left = Math.max(1, left / shape[i]!);
    }
    open = open.filter((i) => !capped.includes(i));
  }
  return left;
}

/** The chunk length that splits `len` into `k` near-equal chunks. */
function evenLength(len: number, k: number): number {
  return Math.ceil(len / k);
}

function freeProduct(chunks: number[], free: number[]): number {
  return free.reduce((a, i) => a * chunks[i]!, 1);
}

function fixedProduct(chunks: number[], free: number[]): number {
  return chunks.reduce((a, c, i) => (free.includes(i) ? a : a * c), 1);
}

/** Chunk counts are grid arithmetic (zarr/grid.ts); kept here for the modules that import it from the plan. */
export { chunkCount };

/** What logChunking reads of a planned array (plan/layout.ts VarPlan). */
export interface ChunkedArray {
  name: string;
  arrayPath: string;
  model: { shape: number[]; chunks: number[]; shards?: number[]; dimensionNames: string[]; dtype: DType };
  chunkReasons: string[];
  shardReasons?: string[];
}

/**
 * Log the chunking chosen (info), one line per distinct choice, naming the arrays that share
 * it: what a user reads to see why an archive is chunked as it is.
 */
export function logChunking(log: Logger, vars: ChunkedArray[], pattern: AccessPattern): void {
  const groups = new Map<string, ChunkedArray[]>();
  const wholeCoords: string[] = [];
  for (const v of vars) {
    if (!v.model.shape.length) continue;
    if (v.model.dimensionNames.length === 1 && v.model.dimensionNames[0] === v.name && v.model.chunks[0] === v.model.shape[0]) {
      wholeCoords.push(v.arrayPath);
      continue;
    }
    const key = `${v.model.dimensionNames.join("×")}=${v.model.chunks.join("×")}/${v.model.shards?.join("×")}/${v.model.dtype}`;
    groups.set(key, [...(groups.get(key) ?? []), v]);
  }
  if (wholeCoords.length) log.info(`dimension coordinates stored whole (one chunk each): ${wholeCoords.join(", ")}`);
  for (const group of groups.values()) {
    const { model, chunkReasons } = group[0]!;
    log.info(`chunks ${model.dimensionNames.join("×")} = ${model.chunks.join("×")} for ${group.map((g) => g.arrayPath).join(", ")}`, {
      chunk: formatBytes(model.chunks.reduce((x, y) => x * y, 1) * itemSize(model.dtype)),
      chunks: chunkCount(model.shape, model.chunks),
      pattern,
      why: chunkReasons.join("; "),
    });
    const { shards } = model;
    if (shards) {
      log.info(`shards ${model.dimensionNames.join("×")} = ${shards.join("×")} for ${group.map((g) => g.arrayPath).join(", ")}`, {
        shard: formatBytes(shards.reduce((x, y) => x * y, 1) * itemSize(model.dtype)),
        chunksPerShard: chunkCount(shards, model.chunks),
        objects: chunkCount(model.shape, shards),
        why: group[0]!.shardReasons?.join("; ") ?? "",
      });
    }
  }
}
