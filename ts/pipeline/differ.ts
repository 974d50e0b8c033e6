/**
 * Where two readings of the same values first differ: a file's variable against the first file's
 * (convert, pipeline/agree.ts) or against the archive's array (append and write-region,
 * pipeline/existing.ts). One rule for both: values stored alike compare as stored (NaN equals
 * NaN, -0 equals 0); stored otherwise (another type, packing or fill value), as decoded values,
 * within `slack` (half the packing step of a packed archive); in other CF time units, as the
 * instants they stand for. Other units ('km', 'm') are a difference in themselves.
 */
import { isNumeric, itemSize } from "../backend/dtype.js";
import type { Attr, DType, Slab, VarMeta } from "../backend/types.js";
import { textAttr } from "../cf/attrs.js";
import { decodeValue, formatDate, isTimeUnits, parseUnits, reencode, sameUnits, TimeError, type TimeUnits } from "../cf/time.js";
import { decodingOf, sameEncoding, type CfEncoding } from "../plan/encoding.js";
import { SAME_INSTANT_SECONDS } from "../plan/region.js";
import { numericView } from "./writer.js";

/**
 * Whether `v` is small enough to be recognised by its digest (Dataset.digest reads it whole, at
 * once): coordinates, masks and cell areas are; larger variables are compared block by block.
 */
export function digestible(v: VarMeta): boolean {
  return v.shape.reduce((a, b) => a * b, 1) * itemSize(v.dtype) <= 16 << 20;
}

export interface Difference {
  /** The element, counted in C order over the slabs' shape. */
  index: number;
  here: string;
  there: string;
}

/** What stored numbers stand for beyond their encoding: the `units` and `calendar` attributes. */
export interface Meaning {
  units?: string;
  calendar?: string;
}

/** A variable's meaning, from its attributes (a file's) or an archive array's. */
export function meaningOf(attrs: Attr[] | Record<string, unknown>): Meaning {
  const get = (name: string) => (Array.isArray(attrs) ? textAttr(attrs, name) : typeof attrs[name] === "string" ? (attrs[name] as string) : undefined);
  const [units, calendar] = [get("units"), get("calendar")];
  return { ...(units !== undefined ? { units: units.trim() } : {}), ...(calendar !== undefined ? { calendar } : {}) };
}

/** CF time units of a meaning, when it has readable ones. */
function timeUnitsOfMeaning(m: Meaning): TimeUnits | undefined {
  if (!isTimeUnits(m.units)) return undefined;
  try {
    return parseUnits(m.units, m.calendar);
  } catch {
    return undefined;
  }
}

/**
 * Why two readings' numbers stand for other things although both name their units ('km' here,
 * 'm' there); undefined when the units are the same, or both CF time (then firstDifference
 * compares the instants: 0 'days since' one run is not 0 'days since' the next).
 */
export function unitsConflict(here: Meaning, there: Meaning): [string, string] | undefined {
  if (here.units === undefined || there.units === undefined || here.units === there.units) return undefined;
  if (timeUnitsOfMeaning(here) && timeUnitsOfMeaning(there)) return undefined;
  return [here.units, there.units];
}

/**
 * A key under which equal digests of stored bytes mean equal values: the encoding and the meaning
 * (the same int16 bytes are other values with another scale_factor, fill value or units).
 */
export function readingKey(encoding: CfEncoding, meaning: Meaning): string {
  return JSON.stringify([encoding.dtype, encoding.scale, encoding.offset, encoding.missing, meaning.units, meaning.calendar]);
}

/** One side: its values, how they are stored and what they stand for. */
export interface Reading {
  slab: Slab;
  encoding: CfEncoding;
  meaning?: Meaning;
  /** The slab's records read as fixed-width text (an archive's `<U5`, see fixedTexts). */
  texts?: string[];
}

export function firstDifference(here: Reading, there: Reading, slack = 0): Difference | undefined {
  const times = [here.meaning, there.meaning].map((m) => (m ? timeUnitsOfMeaning(m) : undefined));
  if (times[0] && times[1] && !sameUnits(times[0], times[1])) return instantDifference(here, there, times[0], times[1]);
  const texts = [here.texts ?? here.slab.toStrings(), there.texts ?? there.slab.toStrings()];
  if (texts[0] || texts[1]) {
    const [a, b] = [texts[0] ?? [], texts[1] ?? []];
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      if (a[i] !== b[i]) return { index: i, here: JSON.stringify(a[i] ?? null), there: JSON.stringify(b[i] ?? null) };
    }
    return undefined;
  }
  const [dh, dt] = [here.encoding.dtype, there.encoding.dtype];
  if (!isNumeric(dh) || !isNumeric(dt)) return recordDifference(here.slab, there.slab, dh, dt);
  const alike = sameEncoding(here.encoding, there.encoding);
  const a = alike ? here.slab : here.slab.decode(decodingOf(here.encoding, "float64"));
  const b = alike ? there.slab : there.slab.decode(decodingOf(there.encoding, "float64"));
  try {
    const dtype: DType = alike ? dh : "float64";
    const x = numericView(dtype, a.toBytes()!);
    const y = numericView(dtype, b.toBytes()!);
    const within = alike ? 0 : slack;
    for (let i = 0; i < Math.max(x.length, y.length); i++) {
      const p = x[i]!;
      const q = y[i]!;
      if (p === q || (Number.isNaN(p) && Number.isNaN(q)) || Math.abs(p - q) <= within) continue;
      return { index: i, here: String(p), there: String(q) };
    }
    return undefined;
  } finally {
    if (!alike) {
      a.release();
      b.release();
    }
  }
}

/** Times in other units (or calendars) compare as the instants they stand for, to the same instant's slack. */
function instantDifference(here: Reading, there: Reading, from: TimeUnits, to: TimeUnits): Difference | undefined {
  const a = here.slab.decode(decodingOf(here.encoding, "float64"));
  const b = there.slab.decode(decodingOf(there.encoding, "float64"));
  try {
    let x: number[];
    try {
      x = reencode(Array.from(numericView("float64", a.toBytes()!)), from, to, true);
    } catch (e) {
      if (e instanceof TimeError) return { index: 0, here: `times in '${from.text}' (${from.calendar})`, there: `in '${to.text}' (${to.calendar}): ${e.message}` };
      throw e;
    }
    const y = numericView("float64", b.toBytes()!);
    const tol = SAME_INSTANT_SECONDS / to.unitSeconds;
    const date = (v: number) => (Number.isFinite(v) ? formatDate(decodeValue(v, to)) : String(v));
    for (let i = 0; i < Math.max(x.length, y.length); i++) {
      const [p, q] = [x[i]!, y[i]!];
      if (p === q || (Number.isNaN(p) && Number.isNaN(q)) || Math.abs(p - q) <= tol) continue;
      return { index: i, here: date(p), there: date(q) };
    }
    return undefined;
  } finally {
    a.release();
    b.release();
  }
}

/** Records (compounds, opaque values) compare byte for byte. */
function recordDifference(a: Slab, b: Slab, da: DType, db: DType): Difference | undefined {
  const [x, y] = [a.toBytes()!, b.toBytes()!];
  const size = itemSize(da);
  if (da !== db) return { index: 0, here: `a ${da} value`, there: `a ${db} value` };
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    if (x[i] !== y[i]) {
      const at = Math.floor(i / size);
      const hex = (bytes: Uint8Array) => `0x${Array.from(bytes.subarray(at * size, (at + 1) * size), (c) => c.toString(16).padStart(2, "0")).join("")}`;
      return { index: at, here: hex(x), there: hex(y) };
    }
  }
  return undefined;
}
