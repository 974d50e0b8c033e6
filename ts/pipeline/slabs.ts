/**
 * Slabs: the pieces a variable is read and encoded in. Slab edges fall on the archive's chunk
 * boundaries, so only chunks at the ends of a file's region can be partial, and a slab never
 * exceeds the memory budget unless a single chunk does. Dimensions are grown from the innermost
 * out (C order), which keeps each read contiguous in the source. Grid arithmetic: zarr/grid.ts.
 */
import { chunksAlong } from "../zarr/grid.js";

export interface SlabBox {
  /** Start and count in the source variable's coordinates. */
  start: number[];
  count: number[];
}

/**
 * @param shape   the part of the source variable to write (its own coordinates start at `first`)
 * @param origin  where `first` lands in the archive, per dimension
 * @param chunks  the archive array's chunk shape
 */
export function planSlabs(
  shape: number[],
  chunks: number[],
  origin: number[],
  itemSize: number,
  budgetBytes: number,
  first: number[] = shape.map(() => 0),
): SlabBox[] {
  const n = shape.length;
  if (n === 0) return [{ start: [], count: [] }];
  if (shape.some((s) => s === 0)) return [];
  // How many chunks per slab along each dimension.
  const per = new Array<number>(n).fill(1);
  let elems = chunks.reduce((a, c, i) => a * Math.min(c, shape[i]!), 1);
  const budget = Math.max(1, Math.floor(budgetBytes / itemSize));
  for (let d = n - 1; d >= 0; d--) {
    const along = chunksAlong(origin[d]!, shape[d]!, chunks[d]!);
    const one = Math.min(chunks[d]!, shape[d]!);
    const rest = elems / one;
    const fit = Math.max(1, Math.min(along, Math.floor(budget / (rest * chunks[d]!))));
    per[d] = fit;
    elems = rest * Math.min(fit * chunks[d]!, shape[d]!);
    if (fit < along) break;
  }
  // Segments per dimension, cut at multiples of per[d] chunks in archive coordinates.
  const segments: [number, number][][] = shape.map((len, d) => {
    const step = per[d]! * chunks[d]!;
    const out: [number, number][] = [];
    let a = origin[d]!;
    const end = origin[d]! + len;
    while (a < end) {
      const b = Math.min(end, (Math.floor(a / step) + 1) * step);
      out.push([a - origin[d]! + first[d]!, b - a]);
      a = b;
    }
    return out;
  });
  const boxes: SlabBox[] = [];
  const idx = new Array<number>(n).fill(0);
  for (;;) {
    boxes.push({ start: idx.map((k, d) => segments[d]![k]![0]), count: idx.map((k, d) => segments[d]![k]![1]) });
    let d = n - 1;
    while (d >= 0 && ++idx[d]! === segments[d]!.length) idx[d--] = 0;
    if (d < 0) return boxes;
  }
}
