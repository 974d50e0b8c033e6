/**
 * The regular chunk grid of a Zarr array, on the TypeScript side: which chunks a region touches,
 * how many there are, where an edge chunk ends, which shard holds a chunk. The same rules as the
 * core's grid.rs (which moves the values); here for planning and for listing keys, where a call
 * across the boundary for a few integers would cost more than the arithmetic.
 *
 * `chunks` is the grid's cell shape: a chunk, or a shard for the grid of stored objects. Grid
 * coordinates are in C order.
 */

/** A box: `origin` and `shape` in array coordinates. */
export interface Block {
  origin: number[];
  shape: number[];
}

/** Chunks along each dimension (the last ones may be partial). */
export function gridShape(shape: number[], chunks: number[]): number[] {
  return shape.map((len, d) => Math.ceil(len / chunks[d]!));
}

/** Number of chunks an array of `shape` is split into. */
export function chunkCount(shape: number[], chunks: number[]): number {
  return gridShape(shape, chunks).reduce((a, n) => a * n, 1);
}

/** How many chunks of length `chunk` the run [start, start + count) touches along one dimension. */
export function chunksAlong(start: number, count: number, chunk: number): number {
  return Math.floor((start + count - 1) / chunk) - Math.floor(start / chunk) + 1;
}

/** How many chunks a box at `origin` of `count` touches. */
export function chunksTouched(origin: number[], count: number[], chunks: number[]): number {
  return count.reduce((n, c, d) => n * chunksAlong(origin[d]!, c, chunks[d]!), 1);
}

/** The grid coordinates of every chunk a box at `origin` of `count` touches, in C order. */
export function chunksIn(origin: number[], count: number[], chunks: number[]): number[][] {
  const first = origin.map((o, d) => Math.floor(o / chunks[d]!));
  const along = count.map((c, d) => chunksAlong(origin[d]!, c, chunks[d]!));
  const total = along.reduce((a, n) => a * n, 1);
  return Array.from({ length: total }, (_, k) => unravel(k, along).map((c, d) => c + first[d]!));
}

/** The part of chunk `coords` inside the array: edge chunks end at the array's end. */
export function chunkBlock(coords: number[], chunks: number[], shape: number[]): Block {
  const origin = coords.map((c, d) => c * chunks[d]!);
  return { origin, shape: origin.map((o, d) => Math.min(chunks[d]!, shape[d]! - o)) };
}

/** The coordinates in the grid of `outer` cells of the cell holding chunk `coords` of the `inner` grid (a chunk's shard). */
export function outerCoords(coords: number[], inner: number[], outer: number[]): number[] {
  return coords.map((c, d) => Math.floor((c * inner[d]!) / outer[d]!));
}

/** The grid coordinates of the chunk at C-order position `index` of a grid of `grid` chunks. */
export function unravel(index: number, grid: number[]): number[] {
  const coords = new Array<number>(grid.length);
  for (let d = grid.length - 1; d >= 0; d--) {
    coords[d] = index % grid[d]!;
    index = Math.floor(index / grid[d]!);
  }
  return coords;
}
