/**
 * What an element type is and how large: the TypeScript side of `crates/core/src/dtype.rs`
 * (numbers, text, records of N bytes), in one place.
 */
import type { DType, NumericType } from "./types.js";

export const isFloat = (d: DType): d is "float32" | "float64" => d === "float32" || d === "float64";

/** A record ("record16"): a NetCDF-4 compound of numbers or an opaque value. */
export const isRecord = (d: DType): d is `record${number}` => d.startsWith("record");

/** A number (not text, not a record): what has statistics, packing, fill values and times. */
export const isNumeric = (d: DType): d is NumericType => d !== "str" && !isRecord(d);

const NUMERIC_BYTES: Record<NumericType, number> = {
  int8: 1, uint8: 1, int16: 2, uint16: 2, int32: 4, uint32: 4, int64: 8, uint64: 8, float32: 4, float64: 8,
};

/** A name of a numeric type ("float32", "uint8", ...), as the core and Zarr v3 spell them. */
export const isNumericName = (s: unknown): s is NumericType => typeof s === "string" && Object.hasOwn(NUMERIC_BYTES, s);

/** Bytes per element: a record its size; text an estimate (16) for planning chunks and slabs. */
export function itemSize(d: DType): number {
  if (d === "str") return 16;
  if (isRecord(d)) return Number(d.slice("record".length));
  return NUMERIC_BYTES[d];
}
