/**
 * Choosing shard shapes (Zarr v3 sharding): how many chunks each stored object holds.
 *
 * A shard is a whole number of chunks along every dimension. Lengths the user gives are rounded
 * to the nearest whole number of chunks (at least one) and clamped to what the dimension needs;
 * dimensions not named hold one chunk. With `auto`, chunks are added to the shard in the access
 * pattern's order until it reaches the target size:
 *
 * - `temporal`: along time first (a point's series in few objects), then the other dimensions;
 * - `spatial`: the other dimensions first (a map in few objects), then time;
 * - `balanced`: one chunk at a time to the dimension with the fewest chunks in the shard.
 *
 * Writers fill shards as they fill chunks: a writer whose region covers whole shards writes them
 * directly; one that covers part of a shard merges its chunks into it under the shard's lock.
 * So the shard length along the axis files are laid out on (time) decides how many files share
 * a shard.
 */
import type { AccessPattern } from "../config/model.js";
import { gridShape } from "../zarr/grid.js";

export interface ShardRequest {
  dims: string[];
  shape: number[];
  chunks: number[];
  /** Bytes per element (16 is used for text). */
  itemSize: number;
  asked: Record<string, number> | "auto";
  timeDim: string;
  pattern: AccessPattern;
  targetBytes: number;
}

export interface ShardChoice {
  shards: number[];
  /** Why each length was chosen, one entry per dimension, for logs and `analyze`. */
  reasons: string[];
  /** Uncompressed bytes of one full shard. */
  bytes: number;
}

export function chooseShards(req: ShardRequest): ShardChoice {
  const n = req.dims.length;
  const along = gridShape(req.shape, req.chunks).map((k) => Math.max(1, k));
  const counts = new Array<number>(n).fill(1);
  const bytes = () => counts.reduce((a, k, i) => a * k * req.chunks[i]!, req.itemSize);
  const reasons = new Array<string>(n).fill("");
  const length = (i: number) => counts[i]! * req.chunks[i]!;
  if (req.asked !== "auto") {
    for (let i = 0; i < n; i++) {
      const dim = req.dims[i]!;
      const asked = req.asked[dim];
      if (asked === undefined) {
        reasons[i] = `${dim}=${length(i)} (one chunk: not named)`;
        continue;
      }
      counts[i] = Math.min(along[i]!, Math.max(1, Math.round(asked / req.chunks[i]!)));
      reasons[i] =
        length(i) === asked ? `${dim}=${asked} (given, ${counts[i]} chunks)` : `${dim}=${length(i)} (asked ${asked}: ${counts[i]} whole chunk${counts[i] === 1 ? "" : "s"} of ${req.chunks[i]}${counts[i] === along[i] ? ", the whole dimension" : ""})`;
    }
    return { shards: counts.map((_, i) => length(i)), reasons, bytes: bytes() };
  }
  const isTime = (i: number) => req.dims[i] === req.timeDim;
  const all = [...Array(n).keys()];
  const time = all.filter(isTime);
  const others = all.filter((i) => !isTime(i));
  const pattern = time.length && others.length ? req.pattern : "balanced";
  if (pattern !== "balanced") {
    for (const i of pattern === "temporal" ? [...time, ...others] : [...others, ...time]) {
      const room = Math.floor(req.targetBytes / (bytes() / counts[i]!));
      counts[i] = Math.min(along[i]!, Math.max(1, room));
    }
  } else {
    for (;;) {
      const grow = all
        .filter((i) => counts[i]! < along[i]! && (bytes() / counts[i]!) * (counts[i]! + 1) <= req.targetBytes)
        .sort((a, b) => counts[a]! - counts[b]!)[0];
      if (grow === undefined) break;
      counts[grow]!++;
    }
  }
  const target = `${Math.round(req.targetBytes / 2 ** 20)} MiB`;
  for (const i of all) {
    const why = counts[i] === along[i] ? "whole dimension" : `${pattern} shard of about ${target}`;
    reasons[i] = `${req.dims[i]}=${length(i)} (${counts[i]} chunk${counts[i] === 1 ? "" : "s"}, ${why})`;
  }
  return { shards: counts.map((_, i) => length(i)), reasons, bytes: bytes() };
}
