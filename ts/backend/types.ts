/**
 * The contract between the TypeScript layer and the Rust core. Both backends (the Node-API addon
 * and the WebAssembly build) implement it; nothing above `ts/backend/` knows which one runs.
 * The JSON shapes mirror the serde types in `crates/core`.
 */

export type NumericType =
  | "int8" | "uint8" | "int16" | "uint16" | "int32" | "uint32" | "int64" | "uint64"
  | "float32" | "float64";

/**
 * An element type: a number, text ("str"), or a record of N bytes ("record16": a NetCDF-4
 * compound of numbers, its fields packed little-endian in order, or an opaque value).
 */
export type DType = NumericType | "str" | `record${number}`;

/** A field of a compound record, in the stored order. */
export interface RecordField {
  name: string;
  dtype: NumericType;
}

/** A non-finite float travels as a string (JSON has no NaN). */
export type JsonFloat = number | "NaN" | "Infinity" | "-Infinity";

export type AttrValue =
  | { type: "text"; value: string }
  | { type: "texts"; value: string[] }
  | { type: "int8" | "uint8" | "int16" | "uint16" | "int32" | "uint32" | "int64" | "uint64"; value: number[] }
  | { type: "float32" | "float64"; value: JsonFloat[] }
  /** A compound attribute: each value an object of its fields (non-finite floats as strings). */
  | { type: "records"; value: Record<string, number | JsonFloat>[] };

export interface Attr {
  name: string;
  value: AttrValue;
}

export interface DimMeta {
  name: string;
  len: number;
  unlimited: boolean;
}

export interface VarMeta {
  name: string;
  path: string;
  dtype: DType;
  nc_type: string;
  dims: string[];
  shape: number[];
  char_dim: string | null;
  attrs: Attr[];
  encoding: { chunks: number[] | null; filters: string[] };
  /** A compound record's fields; empty for every other type (opaque records included). */
  fields: RecordField[];
}

/** A variable of a NetCDF-4 user-defined type, which zarrio refuses by name (never skips). */
export interface UnsupportedVar {
  name: string;
  path: string;
  /** "compound {name: string, a: compound {...}}", "vlen of int", "array [2, 2] of double". */
  nc_type: string;
  dims: string[];
}

export interface GroupMeta {
  name: string;
  path: string;
  dims: DimMeta[];
  vars: VarMeta[];
  unsupported: UnsupportedVar[];
  attrs: Attr[];
  groups: GroupMeta[];
}

export interface FileMeta {
  format: string;
  reader: string;
  root: GroupMeta;
}

export interface Stats {
  count: number;
  nan: number;
  missing: number;
  min: number | null;
  max: number | null;
}

export type BloscCname = "blosclz" | "lz4" | "lz4hc" | "zlib" | "zstd";
export type Shuffle = "none" | "byte" | "bit";

export type Compressor =
  | { id: "blosc"; cname: BloscCname; clevel: number; shuffle: Shuffle; blocksize?: number }
  | { id: "zstd"; level: number }
  | { id: "gzip"; level: number };

/** What the encoder needs about one array (crates/core/src/encode.rs `ArraySpec`). */
export interface ArraySpec {
  shape: number[];
  chunks: number[];
  dtype: DType;
  fill: JsonFloat;
  pipeline: { compressor: Compressor | null };
}

export interface PackParams {
  bits: 8 | 16 | 32;
  scale_factor: number;
  add_offset: number;
  fill: number;
  attr_dtype: "float32" | "float64";
  min: number;
  max: number;
}

/** The core's `pack::Decoding`: how a file's stored values decode, as xarray decodes them. */
export interface Decoding {
  /** Stored values meaning "no data" (`_FillValue`, `missing_value`); NaN is always missing. */
  missing: number[];
  scale_factor: number | null;
  add_offset: number | null;
  /** The float type values decode to (and the arithmetic's type). */
  dtype: "float32" | "float64";
  /** What missing values become: null for NaN, else this number. */
  fill: number | null;
}

export type OutOfRangePolicy = "error" | "clip" | "fill";

export interface PackReport {
  missing: number;
  out_of_range: number;
  first_out_of_range: number | null;
}

export interface EncodedChunk {
  coords: number[];
  bytes: Uint8Array;
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
  /** Release the file (and its memory map or bytes) now; reads already started finish. */
  close(): void;
}

export type ReaderKind = "auto" | "pure" | "libnetcdf";

export interface BuildInfo {
  backend: "native" | "wasm";
  core: string;
  libnetcdf: boolean;
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
  chunksInRegion(spec: ArraySpec, origin: number[], shape: number[]): { chunks: number[][]; full: boolean[] };
  readRegion(spec: ArraySpec, origin: number[], shape: number[], coords: number[][], chunks: (Uint8Array | null)[]): Slab;
}
