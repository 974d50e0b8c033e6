/**
 * Choosing chunk lengths. Dimensions the user fixed stay fixed (clamped to the dimension's
 * length); the others share what is left of the byte budget according to the access pattern:
 *
 * - `temporal`: long time series at few points: the time dimension gets 3× the (log) share.
 * - `spatial`: maps at few times: time chunk 1, the rest of the budget to the other dimensions.
 * - `balanced`: every free dimension gets the same share.
 *
 * Shares are computed in log space and any dimension whose share exceeds its length is capped
 * there and its leftover budget redistributed to the others, so chunks are as close to the
 * target as the shape allows.
 */
import type { AccessPattern } from "../config/model.js";

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
}

export interface ChunkChoice {
  chunks: number[];
  /** Why each length was chosen, for logs and `analyze`. */
  reasons: string[];
}

export function chooseChunks(req: ChunkRequest): ChunkChoice {
  const n = req.dims.length;
  const chunks = new Array<number>(n).fill(0);
  const reasons: string[] = [];
  let budget = Math.max(1, req.targetBytes / req.itemSize);
  const free: number[] = [];
  for (let i = 0; i < n; i++) {
    const dim = req.dims[i]!;
    const len = Math.max(1, req.shape[i]!);
    const fixed = req.fixed[dim];
    if (fixed !== undefined) {
      chunks[i] = Math.min(fixed, len);
      reasons.push(fixed > len ? `${dim}=${chunks[i]} (asked ${fixed}, clamped to the length)` : `${dim}=${fixed} (given)`);
      budget /= chunks[i]!;
    } else if (req.pattern === "spatial" && dim === req.timeDim) {
      chunks[i] = 1;
      reasons.push(`${dim}=1 (spatial access: one time step per chunk)`);
    } else {
      free.push(i);
    }
  }
  const weight = (i: number) => (req.pattern === "temporal" && req.dims[i] === req.timeDim ? 3 : 1);
  let open = [...free];
  // Water-filling in log space: cap dimensions whose share exceeds their length, repeat.
  for (;;) {
    const total = open.reduce((s, i) => s + weight(i), 0);
    if (!open.length) break;
    const logBudget = Math.log(Math.max(budget, 1));
    const capped = open.filter((i) => Math.exp((logBudget * weight(i)) / total) >= req.shape[i]!);
    if (!capped.length) {
      for (const i of open) chunks[i] = Math.max(1, Math.floor(Math.exp((logBudget * weight(i)) / total)));
      for (const i of open) reasons.push(`${req.dims[i]}=${chunks[i]} (${req.pattern} share of the ${fmtMiB(req.targetBytes)} target)`);
      break;
    }
    for (const i of capped) {
      chunks[i] = Math.max(1, req.shape[i]!);
      budget /= chunks[i]!;
      reasons.push(`${req.dims[i]}=${chunks[i]} (whole dimension fits the budget)`);
    }
    open = open.filter((i) => !capped.includes(i));
  }
  return { chunks, reasons };
}

function fmtMiB(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(bytes < 2 ** 20 ? 2 : 0)} MiB`;
}

export function itemSizeOf(dtype: string): number {
  const m = /(\d+)$/.exec(dtype);
  return m ? Number(m[1]) / 8 : 16;
}
