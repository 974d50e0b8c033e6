/**
 * The contract between the TypeScript layer and the Rust core. Both backends (the Node-API addon
 * and the WebAssembly build) implement it; nothing above `ts/backend/` knows which one runs.
 * The data types are the core's own, generated from the Rust types (core-types.ts); what is
 * declared here is the TypeScript side's interface over them.
 */
import type {
  ArraySpec,
  BuildInfo,
  ChunksInRegion,
  Decoding,
  DType,
  FileMeta,
  OutOfRange,
  PackParams,
  PackReport,
  ReaderKind,
  Stats,
} from "./core-types.js";

export type * from "./core-types.js";

/** What to do with values outside a packing range (the core's `OutOfRange`). */
export type OutOfRangePolicy = OutOfRange;

export interface EncodedChunk {
  coords: number[];
  bytes: Uint8Array;
}

/**
 * A shard stored as pieces: the inner chunks given, in `order` (positions in the list given),
 * back to back, then `index`. Joined, they are the shard's bytes (see `storeInPieces`).
 */
export interface ShardPieces {
  order: number[];
  index: Uint8Array;
}

export interface RegionEncoding {
  chunks: EncodedChunk[];
  partial: number[][];
  rawBytes: number;
}

/** A block of values held by the core. */
export interface Slab {
  readonly dtype: DType;
  readonly shape: number[];
  toBytes(): Uint8Array | null;
  toStrings(): string[] | null;
  stats(missing: number[]): Stats;
  pack(params: PackParams, missing: number[], policy: OutOfRangePolicy): { slab: Slab; report: PackReport };
  /** Undo the file's own CF encoding (missing markers, scale_factor/add_offset) into floats. */
  decode(decoding: Decoding): Slab;
  /** Encode as the box at `origin` of the array; full chunks encoded, partial ones listed. */
  encode(spec: ArraySpec, origin: number[]): Promise<RegionEncoding>;
  /** Merge this slab's part of chunk `coords` into the stored bytes (null: fill) and re-encode. */
  merge(spec: ArraySpec, origin: number[], coords: number[], existing: Uint8Array | null): Uint8Array;
  /** Free the values now (JS does not see their size, so collection would come late). */
  release(): void;
}

/** A slab being assembled from parts (Backend.gather). */
export interface Gathering {
  /** Copy `part` in at `origin`; the part stays the caller's to release. */
  put(part: Slab, origin: number[]): void;
  /** The slab, once the parts cover it exactly (an error otherwise). */
  finish(): Slab;
  /** Free what was gathered without making a slab (after a failed read). */
  abandon(): void;
}

export interface Dataset {
  readonly meta: FileMeta;
  read(path: string, start: number[], count: number[]): Promise<Slab>;
  /** Statistics of a hyperslab, computed in the core without handing its values over. */
  stats(path: string, start: number[], count: number[], missing: number[]): Promise<Stats>;
  /**
   * A digest of a whole variable's values (equal values, equal digests; unequal ones collide with
   * odds of about 2^-64), read at once on the calling thread: for small variables only
   * (coordinates, masks), which files of a series compare without moving their values.
   */
  digest(path: string): Promise<string>;
  /** Release the file (and its memory map or bytes) now; reads already started finish. */
  close(): void;
}

export interface Backend {
  readonly name: "native" | "wasm";
  readonly info: BuildInfo;
  /** Open by path (the wasm backend reads the file into memory first). */
  openDataset(path: string, reader?: ReaderKind): Promise<Dataset>;
  /**
   * Open again, to read values, a file opened before whose `meta` the caller holds: cheaper than
   * openDataset (the native reader skips what only the description needs).
   */
  reopenDataset(path: string, reader: ReaderKind, meta: FileMeta): Promise<Dataset>;
  openDatasetBytes(bytes: Uint8Array): Dataset;
  slabFromBytes(dtype: DType, shape: number[], bytes: Uint8Array): Slab;
  slabFromStrings(shape: number[], strings: string[]): Slab;
  /**
   * Start one slab of `shape` assembled from parts (the same variable's steps from consecutive
   * files), each copied in as soon as it is read.
   */
  gather(dtype: DType, shape: number[]): Gathering;
  packParams(min: number, max: number, bits: number, source: DType): PackParams;
  /**
   * The parameters of values already packed (an archive's `stored` integers with its
   * `scale_factor`, `add_offset` and integer `_FillValue`): decoded data packs with them exactly
   * as it was packed (the core's `PackParams::for_stored`).
   */
  storedPackParams(stored: DType, scale: number, offset: number, fill: number): PackParams;
  chunksInRegion(spec: ArraySpec, origin: number[], shape: number[]): ChunksInRegion;
  readRegion(spec: ArraySpec, origin: number[], shape: number[], coords: number[][], chunks: (Uint8Array | null)[]): Slab;
  /**
   * How to store shard `coords` from inner chunks encoded apart (the chunk at `innerCoords[i]`
   * is `sizes[i]` bytes); chunks not given are left out of the shard.
   */
  shardPieces(spec: ArraySpec, coords: number[], innerCoords: number[][], sizes: number[]): ShardPieces;
  /**
   * The inner chunks (grid coordinates) of the stored shard `coords` that were never written;
   * throws a CodecError when the shard's index is damaged. Empty for an unsharded array.
   */
  shardGaps(spec: ArraySpec, coords: number[], bytes: Uint8Array): number[][];
  /**
   * Free now the memory of bytes the core returned (encoded chunks, a shard's index) once
   * nothing reads them any more: they read as empty afterwards. The native core's outputs are
   * its own memory, which JS would free only at its next collection (V8 collects for external
   * memory every ~64 MiB, so a writer would hold that much more); the WebAssembly backend's are
   * ordinary JS buffers, and this does nothing.
   */
  freeBytes(bytes: readonly Uint8Array[]): void;
}
