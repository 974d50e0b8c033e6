/**
 * The CF encoding of a variable in each file, and the one encoding an archive stores it in.
 *
 * Files of one series often encode the same variable differently: ERA5 files each carry their
 * own `scale_factor`/`add_offset`, products change `_FillValue` between versions. Copying such
 * files' stored values side by side would store the later files' integers under the first file's
 * scale, or their fill values as real numbers. Instead, every input's encoding is read before
 * anything is written and:
 *
 * - where all files encode a variable identically, the stored values are copied as they are
 *   (exact, and the fastest path);
 * - where they differ, each file's values are decoded with its own encoding (the core's
 *   `pack::decode`, bit for bit what xarray reads) and the archive stores the decoded floats,
 *   in the float type xarray decodes to (`decodedDtype`), with NaN as the missing value; with
 *   packing, they are packed once with one range that covers every file.
 *
 * Writing into an existing archive (write-region, append) follows the same rule against the
 * archive's encoding: see pipeline/existing.ts.
 */
import { isFloat, isNumeric, itemSize } from "../backend/dtype.js";
import type { Attr, Decoding, DType, NumericType, VarMeta } from "../backend/types.js";
import { findAttr, numericAttr } from "../cf/attrs.js";
import { IncompatibleSourceError } from "../errors.js";
import type { ArrayModel } from "../zarr/metadata.js";

export type FloatType = "float32" | "float64";
export type IntType = Exclude<NumericType, FloatType>;
/** What an archive stores a variable in when its files encode it differently. */
export type JoinedType = FloatType | IntType;

/** How one file encodes one variable (`_Unsigned` already applied by the core's CF view). */
export interface CfEncoding {
  dtype: DType;
  /** `_FillValue` and `missing_value` (stored values meaning "no data"), NaN left out. */
  missing: number[];
  scale?: number;
  offset?: number;
  /** The attribute types of `scale_factor` / `add_offset` (they decide the decoded float type). */
  scaleType?: string;
  offsetType?: string;
}

function scalar(attrs: Attr[], name: string): { value: number; type: string } | undefined {
  const a = findAttr(attrs, name);
  const v = numericAttr(attrs, name)[0];
  return a && v !== undefined ? { value: v, type: a.value.type } : undefined;
}

export function cfEncoding(v: VarMeta): CfEncoding {
  const scale = scalar(v.attrs, "scale_factor");
  const offset = scalar(v.attrs, "add_offset");
  const missing = [...numericAttr(v.attrs, "_FillValue"), ...numericAttr(v.attrs, "missing_value")].filter((x) => !Number.isNaN(x));
  return {
    dtype: v.dtype,
    missing: [...new Set(missing)].sort((a, b) => a - b),
    scale: scale?.value,
    offset: offset?.value,
    scaleType: scale?.type,
    offsetType: offset?.type,
  };
}

/**
 * The float type xarray decodes a variable to (its `_choose_float_dtype` and `maybe_promote`):
 * with scale_factor and add_offset of one float type, that type (float64 for 32-bit integers);
 * with only add_offset, float64; with only scale_factor, its type; otherwise floats keep their
 * width, integers of up to 16 bits become float32 and wider ones float64.
 */
export function decodedDtype(e: CfEncoding): FloatType {
  const asFloat = (t: string | undefined): FloatType => (t === "float32" ? "float32" : "float64");
  if (e.scale !== undefined || e.offset !== undefined) {
    if (e.scale !== undefined && e.offset !== undefined && e.scaleType === e.offsetType && (e.scaleType === "float32" || e.scaleType === "float64")) {
      return (e.dtype === "int32" || e.dtype === "uint32") ? "float64" : asFloat(e.scaleType);
    }
    if (e.offset !== undefined) return "float64";
    return asFloat(e.scaleType);
  }
  if (e.dtype === "float32") return "float32";
  if (e.dtype === "float64") return "float64";
  return ["int8", "uint8", "int16", "uint16"].includes(e.dtype) ? "float32" : "float64";
}

const sameNumber = (a: number | undefined, b: number | undefined) => a === b || (a !== undefined && b !== undefined && Object.is(a, b));

/** How an archive array stores its values (its dtype, fill and packing attributes). */
export function storedEncoding(model: ArrayModel): CfEncoding {
  const num = (x: unknown) => (typeof x === "number" ? x : undefined);
  const fill = model.cfFill === null ? undefined : Number(model.cfFill);
  const mv = model.attributes.missing_value;
  const missing = [fill, ...(Array.isArray(mv) ? mv : [mv])].filter((x): x is number => typeof x === "number" && !Number.isNaN(x));
  return {
    dtype: model.dtype as DType,
    missing: [...new Set(missing)].sort((a, b) => a - b),
    scale: num(model.attributes.scale_factor),
    offset: num(model.attributes.add_offset),
  };
}

/** Whether two files' stored values mean the same: then they can be copied side by side. */
export function sameEncoding(a: CfEncoding, b: CfEncoding): boolean {
  return (
    a.dtype === b.dtype &&
    sameNumber(a.scale, b.scale) &&
    sameNumber(a.offset, b.offset) &&
    a.missing.length === b.missing.length &&
    a.missing.every((x, i) => x === b.missing[i])
  );
}

/** Describe an encoding for the log: "int16 ×0.002 +15 fill -32767". */
export function describeEncoding(e: CfEncoding): string {
  const parts: string[] = [e.dtype];
  if (e.scale !== undefined) parts.push(`scale_factor ${e.scale}`);
  if (e.offset !== undefined) parts.push(`add_offset ${e.offset}`);
  parts.push(e.missing.length ? `missing ${e.missing.join("/")}` : "no fill value");
  return parts.join(", ");
}

/**
 * The core's decoding of `e` into `dtype`; missing values become `fill` (NaN when null). An
 * integer `dtype` widens integers the file neither masks nor scales (see mixedEncoding).
 */
export function decodingOf(e: CfEncoding, dtype: JoinedType, fill: number | null = null): Decoding {
  // A file xarray decodes to float32 keeps its float32 values in a float64 array (concatenation
  // widens them exactly): computed in float64 they would differ in the last digits.
  const via = dtype === "float64" && decodedDtype(e) === "float32" ? "float32" : null;
  return { missing: e.missing, scale_factor: e.scale ?? null, add_offset: e.offset ?? null, dtype, fill, via };
}

/** A value range in stored units as the values it stands for (CF scale_factor/add_offset applied). */
export function decodeRange(e: Pick<CfEncoding, "scale" | "offset">, min: number, max: number): [number, number] {
  const f = (x: number) => x * (e.scale ?? 1) + (e.offset ?? 0);
  const [a, b] = [f(min), f(max)];
  return [Math.min(a, b), Math.max(a, b)];
}

/** A variable whose files disagree: what each file holds, and the type the archive stores. */
export interface MixedEncoding {
  /** Archive path of the variable. */
  path: string;
  dtype: JoinedType;
  /** Per file (in input order), its encoding. */
  files: CfEncoding[];
}

/** Integers xarray reads as they are stored: no missing markers, no scale_factor or add_offset. */
export function plainInteger(e: CfEncoding): boolean {
  return isNumeric(e.dtype) && !isFloat(e.dtype) && e.scale === undefined && e.offset === undefined && e.missing.length === 0;
}

const bits = (t: IntType) => itemSize(t) * 8;
const signed = (t: IntType) => t.startsWith("int");

/** The values an integer type holds, as numbers. */
export function integerRange(t: IntType): [number, number] {
  return signed(t) ? [-(2 ** (bits(t) - 1)), 2 ** (bits(t) - 1) - 1] : [0, 2 ** bits(t) - 1];
}

/**
 * Whether `dtype` stores `value` exactly: any float64; a float32 that is its own float32 (NaN
 * included); a whole number within an integer type's range, and up to 2^53 for 64-bit types
 * (beyond, the number itself may already be rounded).
 */
export function holdsExactly(dtype: NumericType, value: number): boolean {
  if (dtype === "float64") return true;
  if (dtype === "float32") return Number.isNaN(value) || Math.fround(value) === value;
  if (!Number.isSafeInteger(value)) return false;
  const [lo, hi] = integerRange(dtype);
  return value >= lo && value <= hi;
}

/**
 * The narrowest integer type that holds every value of both `a` and `b` (numpy's promotion, as
 * xarray's concatenation applies it: int16 and int32 give int32, uint8 and int8 give int16);
 * undefined when none does (uint64 and a signed type).
 */
export function widerInteger(a: IntType, b: IntType): IntType | undefined {
  if (signed(a) === signed(b)) return bits(a) >= bits(b) ? a : b;
  const [s, u] = signed(a) ? [a, b] : [b, a];
  if (bits(s) > bits(u)) return s;
  const wider = bits(u) * 2;
  return wider <= 64 ? (`int${wider}` as IntType) : undefined;
}

/**
 * Compare a variable's encoding across files. Returns undefined when every file encodes it
 * the same way (copy as stored); otherwise the type that holds every file's values as xarray
 * reads them: for integers that none of the files masks or scales, the narrowest integer type
 * that holds them all; else the float type of the decoded values (float64 when any file decodes
 * to float64). Refuses the files when no type holds every one's values exactly: 64-bit integers
 * joined with other types would be rounded to float64 (as xarray rounds them) beyond 2^53.
 * `files` name the files of `vars`, in order.
 */
export function mixedEncoding(path: string, vars: VarMeta[], files: string[]): MixedEncoding | undefined {
  // Files that describe themselves alike share one description (backend/meta.ts): one encoding.
  if (vars.every((v) => v === vars[0])) return undefined;
  const encs = vars.map(cfEncoding);
  if (encs.every((e) => sameEncoding(e, encs[0]!))) return undefined;
  if (encs.some((e) => !isNumeric(e.dtype))) return undefined;
  if (encs.every(plainInteger)) {
    const dtype = encs.reduce<IntType | undefined>((t, e) => t && widerInteger(t, e.dtype as IntType), encs[0]!.dtype as IntType);
    if (dtype) return { path, dtype, files: encs };
  }
  const wide = encs.findIndex((e) => plainInteger(e) && bits(e.dtype as IntType) === 64);
  if (wide >= 0) {
    const other = encs.findIndex((e) => !sameEncoding(e, encs[wide]!));
    throw new IncompatibleSourceError(
      `is ${describeEncoding(encs[other]!)} here and ${describeEncoding(encs[wide]!)} in ${files[wide]}: no type holds both exactly ` +
        `(64-bit integers lose digits beyond 2^53 as float64); leave it out with --drop-variables ${path}`,
      { file: files[other]!, variable: path },
    );
  }
  const dtype: FloatType = encs.some((e) => decodedDtype(e) === "float64") ? "float64" : "float32";
  return { path, dtype, files: encs };
}

/** One log line: which files differ, in what, and what the archive stores. */
export function describeMixed(m: MixedEncoding, files: string[], packedBits?: number): string {
  const groups = new Map<string, string[]>();
  m.files.forEach((e, i) => {
    const key = describeEncoding(e);
    groups.set(key, [...(groups.get(key) ?? []), files[i]!]);
  });
  const all = [...groups].map(([enc, fs]) => `${enc} (${fs.length === 1 ? fs[0] : `${fs.length} files, first ${fs[0]}`})`);
  // A long series may carry a different encoding in every file: name a few, count the rest.
  const listed = all.length > 4 ? [...all.slice(0, 3), `and ${all.length - 3} other encodings`] : all;
  const stores = packedBits
    ? `each file is decoded with its own encoding and packed again to int${packedBits} over one range covering every file`
    : isFloat(m.dtype)
      ? `each file is decoded with its own encoding and the archive stores the decoded ${m.dtype} values (NaN for missing), as xarray reads them`
      : `the archive stores them as ${m.dtype}, which holds every file's values exactly, as xarray joins them`;
  return `${m.path}: the files encode it differently: ${listed.join("; ")}; ${stores}`;
}
