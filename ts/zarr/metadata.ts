/**
 * Zarr metadata: one model of an array or group, two spellings (v2 `.zarray`/`.zattrs`/`.zgroup`,
 * v3 `zarr.json`). Every rule about how a fill value, a codec or a dtype is spelled lives here.
 *
 * Fill values follow what xarray reads: in v2 the array's `fill_value` is the CF mask, so a
 * variable without `_FillValue` gets `null` (floats get NaN, which masks nothing that isn't
 * already missing); in v3 the mask is the `_FillValue` attribute (floats as base64 of a
 * little-endian float64) and the array's `fill_value` only says what unwritten chunks hold.
 *
 * Records (NetCDF-4 compound and opaque values) are spelled as zarr-python spells numpy's
 * structured and void types: a compound as a list of fields (v2) or the `structured` type (v3),
 * an opaque value as `|V<n>` (v2) or `raw_bytes` (v3); zero bytes fill them, and they have no CF
 * fill value.
 *
 * A sharded array (v3 only) is spelled as zarr-python writes it: the chunk grid is the shard
 * shape, and one `sharding_indexed` codec holds the inner chunk shape and the chunk codecs, with
 * the index (`bytes` + `crc32c`) at the end of each shard.
 */
import { isFloat, isNumeric, isNumericName, isRecord, itemSize } from "../backend/dtype.js";
import type { ArraySpec, Compressor, DType, JsonFloat, NumericType, RecordField } from "../backend/types.js";

export type ZarrFormat = 2 | 3;
export type Attributes = Record<string, unknown>;

export interface ArrayModel {
  shape: number[];
  chunks: number[];
  dtype: DType;
  /** The CF `_FillValue` (what readers mask), or null when the variable has none. */
  cfFill: JsonFloat | null;
  compressor: Compressor | null;
  dimensionNames: string[];
  /** CF and user attributes, without `_FillValue` (that is `cfFill`). */
  attributes: Attributes;
  /** A compound record's fields, in the stored order (records only; none for opaque ones). */
  fields?: RecordField[];
  /** The shard shape (a multiple of `chunks`) when the array is sharded; Zarr v3 only. */
  shards?: number[];
  /**
   * The Zarr `fill_value` of a v3 array read back from an archive, which unwritten chunks hold:
   * another tool's may differ from the CF fill (xarray stores 0 for an integer array whose
   * `_FillValue` attribute is -900, and leaves chunks of nothing but 0 unstored). Absent for
   * arrays zarrio lays out, whose unwritten chunks hold the CF fill.
   */
  zarrFill?: JsonFloat;
  /** How an archive read back spells its chunk keys, when not as zarrio does (see chunkKey). */
  chunkKeys?: ChunkKeys;
  /**
   * Fixed-width text another tool stored (numpy's `<U5` and `|S5`, as xarray writes string
   * coordinates; zarr-python's `fixed_length_utf32` and `null_terminated_bytes` in v3): read as
   * records of that many bytes and decoded by `fixedTexts`. zarrio writes variable-length text.
   */
  fixedText?: FixedText;
}

/** UTF-32 code points (little-endian), or bytes; either padded with zeros to the width. */
export type FixedText = "utf32" | "bytes";

/** An array's element type as a reader would name it: numpy's `<U6` or `|S3` for fixed-width text. */
export function dtypeName(a: Pick<ArrayModel, "dtype" | "fixedText">): string {
  if (!a.fixedText) return a.dtype;
  const width = itemSize(a.dtype);
  return a.fixedText === "utf32" ? `<U${width / 4}` : `|S${width}`;
}

/** The strings in records of fixed-width text (`model.fixedText`), without their zero padding, as numpy reads them. */
export function fixedTexts(kind: FixedText, width: number, bytes: Uint8Array): string[] {
  const out: string[] = [];
  if (width <= 0) return out;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const utf8 = new TextDecoder();
  for (let at = 0; at + width <= bytes.length; at += width) {
    let end = width;
    while (end > 0 && bytes[at + end - 1] === 0) end--;
    if (kind === "bytes") {
      out.push(utf8.decode(bytes.subarray(at, at + end)));
    } else {
      const points: number[] = [];
      for (let i = 0; i < Math.ceil(end / 4); i++) points.push(view.getUint32(at + 4 * i, true));
      out.push(String.fromCodePoint(...points));
    }
  }
  return out;
}

/**
 * How chunk keys are spelt: a v3 `chunk_key_encoding` ("default": `c/0/1`, "v2": `0.1`) and its
 * separator; in v2, `0.1` with the `dimension_separator` ("/" in nested stores: `0/1`).
 */
export interface ChunkKeys {
  encoding: "default" | "v2";
  separator: "/" | ".";
}

/** The shape of what is stored under one key: a shard when sharded, else a chunk. */
export function storedShape(a: Pick<ArrayModel, "chunks" | "shards">): number[] {
  return a.shards ?? a.chunks;
}

export type Document = Record<string, unknown>;

const V2_DTYPE: Record<NumericType | "str", string> = {
  int8: "|i1", uint8: "|u1", int16: "<i2", uint16: "<u2", int32: "<i4", uint32: "<u4",
  int64: "<i8", uint64: "<u8", float32: "<f4", float64: "<f8", str: "|O",
};

function dtypeV2(a: ArrayModel): unknown {
  if (!isRecord(a.dtype)) return V2_DTYPE[a.dtype as NumericType | "str"];
  return a.fields?.length ? a.fields.map((f) => [f.name, V2_DTYPE[f.dtype]]) : `|V${itemSize(a.dtype)}`;
}

function dtypeV3(a: ArrayModel): unknown {
  if (a.dtype === "str") return "string";
  if (!isRecord(a.dtype)) return a.dtype;
  return a.fields?.length
    ? { name: "structured", configuration: { fields: a.fields.map((f) => [f.name, f.dtype]) } }
    : { name: "raw_bytes", configuration: { length_bytes: itemSize(a.dtype) } };
}

/** Zero bytes of a record, as zarr-python spells a structured or raw fill value in v3. */
function zeroRecordBase64(size: number): string {
  return btoa(String.fromCharCode(...new Uint8Array(size)));
}

/**
 * A source `_FillValue` as the array's CF fill, or null when it cannot mean anything for the
 * type: real files carry e.g. `_FillValue = NaN` on packed `short` data, which masks nothing in
 * xarray and is not a valid integer fill.
 */
export function cfFillFor(dtype: DType, value: number | undefined): JsonFloat | null {
  if (value === undefined || !isNumeric(dtype)) return null;
  if (isFloat(dtype)) return Number.isFinite(value) ? value : (String(value) as JsonFloat);
  return Number.isInteger(value) ? value : null;
}

/** What unwritten elements hold: the archive's own fill value, else the CF fill, else NaN for floats, 0 for integers. */
export function storageFill(a: Pick<ArrayModel, "dtype" | "cfFill" | "zarrFill">): JsonFloat {
  if (a.zarrFill !== undefined) return a.zarrFill;
  if (a.cfFill !== null) return a.cfFill;
  return isFloat(a.dtype) ? "NaN" : 0;
}

/** The encoder's view of an array. */
export function arraySpec(a: ArrayModel): ArraySpec {
  const spec: ArraySpec = { shape: a.shape, chunks: a.chunks, dtype: a.dtype, fill: storageFill(a), pipeline: { compressor: a.compressor } };
  return a.shards ? { ...spec, shards: a.shards } : spec;
}

function shuffleV2(s: "none" | "byte" | "bit"): number {
  return { none: 0, byte: 1, bit: 2 }[s];
}
function shuffleV3(s: "none" | "byte" | "bit"): string {
  return { none: "noshuffle", byte: "shuffle", bit: "bitshuffle" }[s];
}

/** Blosc's typesize: the element's bytes (1 for text, whose chunks are a byte stream). */
function typesize(d: DType): number {
  return d === "str" ? 1 : itemSize(d);
}

function compressorV2(c: Compressor | null): Document | null {
  if (!c) return null;
  switch (c.id) {
    case "blosc":
      return { id: "blosc", cname: c.cname, clevel: c.clevel, shuffle: shuffleV2(c.shuffle), blocksize: c.blocksize ?? 0 };
    case "zstd":
      return { id: "zstd", level: c.level };
    case "gzip":
      return { id: "gzip", level: c.level };
  }
}

function codecsV3(a: ArrayModel): Document[] {
  const first: Document =
    a.dtype === "str" ? { name: "vlen-utf8" } : isRecord(a.dtype) ? { name: "bytes" } : { name: "bytes", configuration: { endian: "little" } };
  const c = a.compressor;
  if (!c) return [first];
  switch (c.id) {
    case "blosc":
      return [first, { name: "blosc", configuration: { cname: c.cname, clevel: c.clevel, shuffle: shuffleV3(c.shuffle), typesize: typesize(a.dtype), blocksize: c.blocksize ?? 0 } }];
    case "zstd":
      return [first, { name: "zstd", configuration: { level: c.level, checksum: false } }];
    case "gzip":
      return [first, { name: "gzip", configuration: { level: c.level } }];
  }
}

/** base64 of a little-endian float64: xarray's v3 spelling of a float `_FillValue`. */
function base64Float64(v: JsonFloat): string {
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, typeof v === "number" ? v : Number(v), true);
  // btoa/atob rather than Buffer: this module also runs in browsers (zarrio/web).
  return btoa(String.fromCharCode(...new Uint8Array(buf.buffer)));
}

function fromBase64Float64(s: string): JsonFloat {
  const bytes = Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
  const v = new DataView(bytes.buffer, 0, 8).getFloat64(0, true);
  return Number.isFinite(v) ? v : (String(v) as JsonFloat);
}

/** The index codecs of a shard, as zarr-python writes them by default. */
const SHARD_INDEX_CODECS: Document[] = [{ name: "bytes", configuration: { endian: "little" } }, { name: "crc32c" }];

/** The documents (key suffix → JSON) that describe an array. */
export function arrayDocuments(a: ArrayModel, format: ZarrFormat): Record<string, Document> {
  if (format === 2) {
    if (a.shards) throw new Error("sharding needs Zarr v3");
    const zarray: Document = {
      zarr_format: 2,
      shape: a.shape,
      chunks: a.chunks,
      dtype: dtypeV2(a),
      compressor: compressorV2(a.compressor),
      fill_value: !isNumeric(a.dtype) ? null : a.cfFill !== null ? a.cfFill : isFloat(a.dtype) ? "NaN" : null,
      order: "C",
      filters: a.dtype === "str" ? [{ id: "vlen-utf8" }] : null,
      dimension_separator: a.chunkKeys?.separator ?? ".",
    };
    return { ".zarray": zarray, ".zattrs": { ...a.attributes, _ARRAY_DIMENSIONS: a.dimensionNames } };
  }
  const attributes: Attributes = { ...a.attributes };
  if (a.cfFill !== null) attributes._FillValue = isFloat(a.dtype) ? base64Float64(a.cfFill) : a.cfFill;
  return {
    "zarr.json": {
      zarr_format: 3,
      node_type: "array",
      shape: a.shape,
      data_type: dtypeV3(a),
      chunk_grid: { name: "regular", configuration: { chunk_shape: storedShape(a) } },
      chunk_key_encoding: { name: a.chunkKeys?.encoding ?? "default", configuration: { separator: a.chunkKeys?.separator ?? "/" } },
      fill_value: a.dtype === "str" ? "" : isRecord(a.dtype) ? zeroRecordBase64(itemSize(a.dtype)) : storageFill(a),
      codecs: a.shards
        ? [{ name: "sharding_indexed", configuration: { chunk_shape: a.chunks, codecs: codecsV3(a), index_codecs: SHARD_INDEX_CODECS, index_location: "end" } }]
        : codecsV3(a),
      attributes,
      dimension_names: a.dimensionNames,
    },
  };
}

export function groupDocuments(attributes: Attributes, format: ZarrFormat): Record<string, Document> {
  if (format === 2) return { ".zgroup": { zarr_format: 2 }, ".zattrs": attributes };
  return { "zarr.json": { zarr_format: 3, node_type: "group", attributes } };
}

/**
 * The key of a chunk inside its array: as zarrio writes them, `c/0/1/2` in v3 and `0.1.2` in v2;
 * as `keys` spell them in an archive read back.
 */
export function chunkKey(coords: number[], format: ZarrFormat, keys: ChunkKeys = defaultKeys(format)): string {
  const sep = keys.separator;
  if (keys.encoding === "default") return coords.length ? `c${sep}${coords.join(sep)}` : "c";
  return coords.length ? coords.join(sep) : "0";
}

function defaultKeys(format: ZarrFormat): ChunkKeys {
  return format === 3 ? { encoding: "default", separator: "/" } : { encoding: "v2", separator: "." };
}

// ---- reading back ----------------------------------------------------------------------------

const FROM_V2: Record<string, NumericType | "str"> = Object.fromEntries(Object.entries(V2_DTYPE).map(([k, v]) => [v, k as NumericType]));

type ParsedDtype = { dtype: DType; fields?: RecordField[]; fixedText?: FixedText };

function recordOf(size: number, fields?: RecordField[]): ParsedDtype {
  return fields ? { dtype: `record${size}`, fields } : { dtype: `record${size}` };
}

/** A v2 dtype back to the model: a number, text (variable or fixed width), a compound (list of fields) or `|V<n>`. */
function parseDtypeV2(d: unknown): ParsedDtype | undefined {
  if (typeof d === "string") {
    const v = /^\|V(\d+)$/.exec(d);
    if (v) return recordOf(Number(v[1]));
    const text = /^(<U|\|S)(\d+)$/.exec(d);
    if (text) return { dtype: `record${Number(text[2]) * (text[1] === "<U" ? 4 : 1)}`, fixedText: text[1] === "<U" ? "utf32" : "bytes" };
    return FROM_V2[d] ? { dtype: FROM_V2[d]! } : undefined;
  }
  if (!Array.isArray(d)) return undefined;
  const fields: RecordField[] = [];
  for (const f of d) {
    const dtype = Array.isArray(f) && f.length === 2 && typeof f[0] === "string" ? FROM_V2[f[1] as string] : undefined;
    if (!dtype || !isNumeric(dtype)) return undefined;
    fields.push({ name: f[0] as string, dtype });
  }
  return recordOf(fields.reduce((n, f) => n + itemSize(f.dtype), 0), fields);
}

/** A v3 data type back to the model. */
function parseDtypeV3(d: unknown): ParsedDtype | undefined {
  if (d === "string") return { dtype: "str" };
  if (isNumericName(d)) return { dtype: d };
  if (typeof d === "string") return undefined;
  const doc = d as Document | null;
  const cfg = (doc?.configuration ?? {}) as Document;
  if (doc?.name === "raw_bytes" && typeof cfg.length_bytes === "number") return recordOf(cfg.length_bytes);
  const text = ({ fixed_length_utf32: "utf32", null_terminated_bytes: "bytes" } as const)[doc?.name as "fixed_length_utf32"];
  if (text && typeof cfg.length_bytes === "number") return { dtype: `record${cfg.length_bytes}`, fixedText: text };
  if (doc?.name !== "structured" || !Array.isArray(cfg.fields)) return undefined;
  const fields: RecordField[] = [];
  for (const f of cfg.fields as unknown[]) {
    if (!Array.isArray(f) || typeof f[0] !== "string" || !isNumericName(f[1])) return undefined;
    fields.push({ name: f[0], dtype: f[1] });
  }
  return recordOf(fields.reduce((n, f) => n + itemSize(f.dtype), 0), fields);
}

function parseCompressorV2(doc: Document | null): Compressor | null {
  if (!doc) return null;
  switch (doc.id) {
    case "blosc":
      return { id: "blosc", cname: doc.cname as never, clevel: doc.clevel as number, shuffle: (["none", "byte", "bit"] as const)[doc.shuffle as number] ?? "byte", blocksize: (doc.blocksize as number) ?? 0 };
    case "zstd":
      return { id: "zstd", level: doc.level as number };
    case "gzip":
      return { id: "gzip", level: doc.level as number };
    default:
      throw new Error(`compressor '${String(doc.id)}' is not one zarrio writes`);
  }
}

/**
 * A v3 codec chain as zarrio writes it: `bytes` (little-endian) or `vlen-utf8`, then at most one
 * compressor. Any other chain (a transpose, big-endian bytes, a checksum or a second compressor
 * after the first) is refused: written into with zarrio's chain, its chunks would read as garbage.
 */
function parseCodecsV3(codecs: Document[]): Compressor | null {
  const names = codecs.map((c) => String(c.name));
  const [head, ...rest] = codecs;
  const endian = ((head?.configuration ?? {}) as Document).endian;
  if (!head || (head.name !== "bytes" && head.name !== "vlen-utf8") || (head.name === "bytes" && endian !== undefined && endian !== "little") || rest.length > 1) {
    throw new Error(`codecs [${names.join(", ")}]${endian === "big" ? " (big-endian)" : ""} are not what zarrio writes (bytes, little-endian, then at most one of blosc, zstd, gzip)`);
  }
  for (const c of rest) {
    const cfg = (c.configuration ?? {}) as Document;
    switch (c.name) {
      case "blosc": {
        const shuffle = ({ noshuffle: "none", shuffle: "byte", bitshuffle: "bit" } as const)[cfg.shuffle as "shuffle"] ?? "byte";
        return { id: "blosc", cname: cfg.cname as never, clevel: cfg.clevel as number, shuffle, blocksize: (cfg.blocksize as number) ?? 0 };
      }
      case "zstd":
        return { id: "zstd", level: cfg.level as number };
      case "gzip":
        return { id: "gzip", level: cfg.level as number };
      default:
        throw new Error(`codec '${String(c.name)}' is not one zarrio writes`);
    }
  }
  return null;
}

/**
 * A fill value as read from JSON. A float written by another tool as long digits
 * (100000002004087730000 for 1e20) reads as a BigInt (json.ts keeps long integers exact): for a
 * float array it is the float it stands for.
 */
function jsonFill(raw: unknown, dtype: DType): JsonFloat | null {
  if (typeof raw === "bigint") {
    if (isFloat(dtype)) return Number(raw);
    throw new Error(`fill value ${raw} of a ${dtype} array is beyond what zarrio writes exactly (integers up to 2^53)`);
  }
  return raw as JsonFloat | null;
}

/**
 * A v3 `fill_value` of a numeric array: a number, a non-finite name, or (floats) the hex of its
 * bits ("0x7fc00000"), as the Zarr v3 spec allows.
 */
function fillValueV3(raw: unknown, dtype: NumericType): JsonFloat | undefined {
  if (typeof raw === "string" && /^0x[0-9a-f]+$/i.test(raw) && isFloat(dtype)) {
    const view = new DataView(new ArrayBuffer(8));
    const v = dtype === "float32" ? (view.setUint32(0, Number.parseInt(raw, 16)), view.getFloat32(0)) : (view.setBigUint64(0, BigInt(raw)), view.getFloat64(0));
    return Number.isFinite(v) ? v : (String(v) as JsonFloat);
  }
  if (raw === "NaN" || raw === "Infinity" || raw === "-Infinity") return isFloat(dtype) ? raw : undefined;
  if (typeof raw === "number" || typeof raw === "bigint") return jsonFill(raw, dtype) ?? undefined;
  return undefined;
}

/** Parse an array's documents back into the model (throws on what zarrio cannot write to). */
export function parseArray(docs: Record<string, Document | undefined>, format: ZarrFormat): ArrayModel {
  if (format === 2) {
    const z = docs[".zarray"];
    if (!z) throw new Error("no .zarray");
    const attrs = { ...(docs[".zattrs"] ?? {}) };
    const dims = (attrs._ARRAY_DIMENSIONS as string[] | undefined) ?? [];
    delete attrs._ARRAY_DIMENSIONS;
    const parsed = parseDtypeV2(z.dtype);
    if (!parsed) throw new Error(`dtype ${JSON.stringify(z.dtype)} is not one zarrio writes`);
    // A layout zarrio would not write alike: its chunks would go where readers never look, or
    // be read as garbage.
    const filters = (z.filters as Document[] | null | undefined) ?? [];
    const ownFilters = parsed.dtype === "str" ? ["vlen-utf8"] : [];
    if ((z.order ?? "C") !== "C") throw new Error(`order ${JSON.stringify(z.order)} is not what zarrio writes ("C")`);
    const separator = z.dimension_separator ?? ".";
    if (separator !== "." && separator !== "/") throw new Error(`dimension_separator ${JSON.stringify(separator)} is not one zarrio writes`);
    if (filters.map((f) => String(f.id)).join(",") !== ownFilters.join(",")) throw new Error(`filters [${filters.map((f) => String(f.id)).join(", ")}] are not what zarrio writes`);
    const { dtype } = parsed;
    const fill = jsonFill(z.fill_value, dtype);
    return {
      ...parsed,
      shape: z.shape as number[],
      chunks: z.chunks as number[],
      cfFill: !isNumeric(dtype) || (fill === "NaN" && isFloat(dtype)) ? null : fill,
      compressor: parseCompressorV2(z.compressor as Document | null),
      dimensionNames: dims,
      attributes: attrs,
      ...(separator === "/" ? { chunkKeys: { encoding: "v2", separator } } : {}),
    };
  }
  const z = docs["zarr.json"];
  if (!z || z.node_type !== "array") throw new Error("no array zarr.json");
  const attrs = { ...((z.attributes as Attributes) ?? {}) };
  const rawFill = attrs._FillValue;
  delete attrs._FillValue;
  const parsed = parseDtypeV3(z.data_type);
  if (!parsed) throw new Error(`data type ${JSON.stringify(z.data_type)} is not one zarrio writes`);
  const keys = (z.chunk_key_encoding ?? {}) as Document;
  const encoding = keys.name;
  const separator = ((keys.configuration ?? {}) as Document).separator ?? (encoding === "v2" ? "." : "/");
  if ((encoding !== "default" && encoding !== "v2") || (separator !== "/" && separator !== ".")) throw new Error(`chunk_key_encoding ${JSON.stringify(keys)} is not one zarrio writes`);
  const chunkKeys: ChunkKeys = { encoding, separator };
  if (Array.isArray(z.storage_transformers) && z.storage_transformers.length) throw new Error(`storage_transformers are not what zarrio writes`);
  const { dtype } = parsed;
  const gridShape = ((z.chunk_grid as Document).configuration as Document).chunk_shape as number[];
  let codecs = z.codecs as Document[];
  let sharding: { chunks: number[]; shards?: number[] } = { chunks: gridShape };
  const sharded = codecs.length === 1 && codecs[0]!.name === "sharding_indexed" ? ((codecs[0]!.configuration ?? {}) as Document) : undefined;
  if (sharded) {
    const index = (sharded.index_codecs ?? []) as Document[];
    const endian = ((index[0]?.configuration ?? {}) as Document).endian ?? "little";
    if ((sharded.index_location ?? "end") !== "end" || index.map((c) => c.name).join("+") !== "bytes+crc32c" || endian !== "little") {
      throw new Error(`sharding with index ${JSON.stringify(sharded.index_codecs)} at the ${String(sharded.index_location)} is not what zarrio writes (bytes + crc32c at the end)`);
    }
    codecs = sharded.codecs as Document[];
    sharding = { chunks: sharded.chunk_shape as number[], shards: gridShape };
  }
  const cfFill = rawFill === undefined || !isNumeric(dtype) ? null : typeof rawFill === "string" && isFloat(dtype) ? fromBase64Float64(rawFill) : jsonFill(rawFill, dtype);
  const zarrFill = isNumeric(dtype) ? fillValueV3(z.fill_value, dtype) : undefined;
  return {
    ...parsed,
    shape: z.shape as number[],
    ...sharding,
    cfFill,
    ...(zarrFill !== undefined ? { zarrFill } : {}),
    ...(encoding !== "default" || separator !== "/" ? { chunkKeys } : {}),
    compressor: parseCodecsV3(codecs),
    dimensionNames: (z.dimension_names as string[]) ?? [],
    attributes: attrs,
  };
}
