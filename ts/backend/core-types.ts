// Generated from the Rust types in crates/core by crates/core/src/ts_types.rs: do not edit.
// Regenerate: ZARRIO_WRITE_TYPES=1 cargo test -p zarrio-core --test ts_types

/** The numeric element types (`DType` without text and records). */
export type NumericType =
  | "int8" | "uint8" | "int16" | "uint16" | "int32" | "uint32" | "int64" | "uint64"
  | "float32" | "float64";

/** What starts the text of every error the core throws (`api::error_text`): `[zarrio:<kind>] message`. */
export const CORE_ERROR_PREFIX = "[zarrio:";

/** An element type: a number, text ("str") or a record of N bytes ("record16"), see `crate::dtype`. */
export type DType = NumericType | "str" | `record${number}`;

/** A float that survives JSON: finite values as numbers, others as strings. */
export type JsonFloat = number | "NaN" | "Infinity" | "-Infinity";

/**
 * One field of a stored compound record.
 */
export type RecordField = { name: string, 
/**
 * A numeric type.
 */
dtype: NumericType, };

/**
 * One attribute value. Serialised as `{"type":"text","value":"..."}` or
 * `{"type":"float32","value":[1.5,"NaN"]}` (non-finite floats as the strings "NaN",
 * "Infinity", "-Infinity", since JSON has no such numbers).
 */
export type AttrValue = { "type": "text", "value": string } | { "type": "texts", "value": Array<string> } | { "type": "int8", "value": Array<number> } | { "type": "uint8", "value": Array<number> } | { "type": "int16", "value": Array<number> } | { "type": "uint16", "value": Array<number> } | { "type": "int32", "value": Array<number> } | { "type": "uint32", "value": Array<number> } | { "type": "int64", "value": Array<number> } | { "type": "uint64", "value": Array<number> } | { "type": "float32", "value": Array<JsonFloat> } | { "type": "float64", "value": Array<JsonFloat> } | { "type": "records", "value": Array<Record<string, number | JsonFloat>> };

export type Attr = { name: string, value: AttrValue, };

export type DimMeta = { name: string, len: number, unlimited: boolean, };

/**
 * How the source stores a variable (for `analyze`; never needed to read it).
 */
export type SourceEncoding = { 
/**
 * HDF5 chunk shape, when chunked.
 */
chunks: Array<number> | null, 
/**
 * Filters in pipeline order, e.g. `["shuffle", "zlib(1)"]`.
 */
filters: Array<string>, };

export type VarMeta = { name: string, 
/**
 * Full path: `/name` at the root, `/group/sub/name` in groups.
 */
path: string, 
/**
 * The type zarrio stores: `_Unsigned` applied, `char` arrays as [`DType::Str`].
 */
dtype: DType, 
/**
 * The NetCDF type name as in the file (`char`, `short`, `float`, `string`, ...).
 */
nc_type: string, 
/**
 * Dimension names (for char arrays, without the trailing character dimension).
 */
dims: Array<string>, shape: Array<number>, 
/**
 * For char arrays: the character dimension that was collapsed into text.
 */
char_dim: string | null, attrs: Array<Attr>, encoding: SourceEncoding, 
/**
 * For a compound record ([`DType::Record`]): its fields in the stored order. Empty for
 * every other type, opaque records included.
 */
fields: Array<RecordField>, };

/**
 * A variable of a type zarrio does not store (a NetCDF-4 vlen, a compound with text, array or
 * nested fields, a `char` array read character by character). It stays in the model so that no caller can leave it out without saying so:
 * converting a file that holds one is refused unless the user drops it.
 */
export type UnsupportedVar = { name: string, path: string, 
/**
 * The kind and, when the file names it, the type's name: `compound BinListType`.
 */
nc_type: string, dims: Array<string>, };

export type GroupMeta = { name: string, 
/**
 * `/` for the root, `/a/b` below it.
 */
path: string, dims: Array<DimMeta>, vars: Array<VarMeta>, 
/**
 * Variables of types zarrio does not store, see [`UnsupportedVar`].
 */
unsupported: Array<UnsupportedVar>, attrs: Array<Attr>, groups: Array<GroupMeta>, };

export type FileMeta = { 
/**
 * `classic`, `64bit_offset`, `cdf5`, `netcdf4`, `netcdf4_classic`.
 */
format: string, 
/**
 * Which implementation read it: `pure` or `libnetcdf`.
 */
reader: string, root: GroupMeta, };

/**
 * Which implementation to open a file with.
 */
export type ReaderKind = "auto" | "pure" | "libnetcdf";

export type Stats = { 
/**
 * Elements looked at.
 */
count: number, 
/**
 * NaN elements (floats only).
 */
nan: number, 
/**
 * Elements equal to one of the caller's missing values (`_FillValue`, `missing_value`).
 */
missing: number, 
/**
 * Smallest and largest valid value; `None` when there is none.
 */
min: number | null, max: number | null, };

/**
 * Blosc's inner compressor.
 */
export type BloscCname = "blosclz" | "lz4" | "lz4hc" | "zlib" | "zstd";

/**
 * Blosc's pre-filter.
 */
export type Shuffle = "none" | "byte" | "bit";

/**
 * A bytes → bytes compressor, as JSON: `{"id":"blosc","cname":"zstd","clevel":3,"shuffle":"byte"}`,
 * `{"id":"zstd","level":3}`, `{"id":"gzip","level":5}`.
 */
export type Compressor = { "id": "blosc", cname: BloscCname, clevel: number, shuffle: Shuffle, 
/**
 * 0 lets blosc choose, as c-blosc does.
 */
blocksize: number, } | { "id": "zstd", level: number, } | { "id": "gzip", level: number, };

/**
 * The full chunk pipeline of one array.
 */
export type Pipeline = { compressor: Compressor | null, };

/**
 * What the encoder needs to know about one Zarr array.
 */
export type ArraySpec = { shape: Array<number>, chunks: Array<number>, 
/**
 * The stored element type.
 */
dtype: DType, 
/**
 * Fill value for elements no data covers (NaN for floats). Ignored for text ("").
 */
fill: JsonFloat, pipeline: Pipeline, 
/**
 * The shard shape when the array is sharded (a multiple of `chunks`): each stored object
 * then holds one shard's inner chunks of shape `chunks` and an index.
 */
shards?: Array<number>, };

/**
 * Everything needed to pack and to describe the packing in CF attributes.
 */
export type PackParams = { bits: number, scale_factor: number, add_offset: number, 
/**
 * The integer `_FillValue` (always the lowest value of the type).
 */
fill: number, 
/**
 * The type `scale_factor`/`add_offset` are stored as (float32 or float64); it is also the
 * type CF readers unpack to.
 */
attr_dtype: DType, 
/**
 * The range the parameters were made for.
 */
min: number, max: number, };

/**
 * How a source stores a variable under CF, as xarray decodes it: stored values equal to one of
 * `missing` (`_FillValue`, `missing_value`) are missing; the others stand for
 * `stored * scale_factor + add_offset`, computed in `dtype` (float32 or float64) step by step
 * as numpy does (each step rounded to `dtype`), so decoded values are bit for bit xarray's.
 * Integers without missing markers or scaling are not decoded by xarray: they may only be
 * widened to an integer `dtype` that holds every one of them (int16 and int32 files of one
 * series give an int32 array, as numpy's concatenation does).
 */
export type Decoding = { missing: Array<number>, scale_factor: number | null, add_offset: number | null, 
/**
 * The type the values decode to: float32 or float64, or a wider integer type for integers
 * without missing markers or scaling.
 */
dtype: DType, 
/**
 * What a missing value becomes: NaN when `None`, else this number (an archive whose
 * `_FillValue` is a number, such as -9999).
 */
fill: number | null, 
/**
 * The float type each step is computed in when narrower than `dtype`: a file xarray
 * decodes to float32 (16-bit integers, float32 `scale_factor`) joined into a float64
 * archive is decoded in float32 and widened, as xarray's concatenation widens it.
 */
via: DType | null, };

/**
 * What to do with a value outside the packing range.
 */
export type OutOfRange = "error" | "clip" | "fill";

/**
 * What happened while packing.
 */
export type PackReport = { 
/**
 * Values stored as `_FillValue` because they were NaN or the source's missing values.
 */
missing: number, 
/**
 * Values outside the range (clipped or filled, per the policy).
 */
out_of_range: number, 
/**
 * The first out-of-range value seen, for messages.
 */
first_out_of_range: number | null, };

/**
 * The stored objects (chunks, or shards when sharded) a box of an array touches
 * ([`chunks_in_region_json`]).
 */
export type ChunksInRegion = { 
/**
 * Grid coordinates of each chunk.
 */
chunks: Array<Array<number>>, 
/**
 * Whether the box covers each chunk completely.
 */
full: Array<boolean>, };

/**
 * Which build this is, for `zarrio --version`.
 */
export type BuildInfo = { backend: "native" | "wasm", 
/**
 * The core's version.
 */
core: string, 
/**
 * Whether the libnetcdf reader is built in.
 */
libnetcdf: boolean, };

/**
 * The kind of a [`CoreError`], as it crosses to JavaScript: the TypeScript layer maps each kind
 * to its error class in one table (`ts/errors.ts`), which the compiler checks is complete.
 */
export type CoreErrorKind = "read" | "not_found" | "invalid" | "range_exceeded" | "codec" | "unsupported";
