/**
 * NetCDF attributes as Zarr attributes. Single values become scalars (as xarray shows them),
 * non-finite floats become the strings "NaN"/"Infinity"/"-Infinity", compound values become
 * objects of their fields, and attributes that only mean something inside a NetCDF file are
 * dropped.
 */
import type { Attr, AttrValue, JsonFloat } from "../backend/types.js";

/** NetCDF-internal attributes: meaningless (or misleading) outside the file. */
const INTERNAL = /^(_Netcdf4|_NCProperties|_SuperblockVersion|_IsNetcdf4|_nc3_strict|_Unsigned$|_Encoding$|_NCvars)/;

export function attrValue(v: AttrValue): unknown {
  switch (v.type) {
    case "text":
      return v.value;
    case "texts":
      return v.value.length === 1 ? v.value[0] : v.value;
    case "records": {
      const records = v.value.map((r) => Object.fromEntries(Object.entries(r).map(([k, x]) => [k, typeof x === "string" ? Number(x) : x])));
      return records.length === 1 ? records[0] : records;
    }
    default: {
      // Non-finite floats arrive as "NaN"/"Infinity" strings and leave as numbers (written as
      // bare tokens, as zarr-python does); 64-bit integers may be BigInt.
      const values = (v.value as (number | bigint | JsonFloat)[]).map((x) => (typeof x === "string" ? Number(x) : x));
      return values.length === 1 ? values[0] : values;
    }
  }
}

export function attrsToJson(attrs: Attr[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const a of attrs) if (!INTERNAL.test(a.name)) out[a.name] = attrValue(a.value);
  return out;
}

export function findAttr(attrs: Attr[], name: string): Attr | undefined {
  return attrs.find((a) => a.name === name);
}

/** A numeric attribute's values as numbers (NaN for "NaN"), or [] when absent or text. */
export function numericAttr(attrs: Attr[], name: string): number[] {
  const a = findAttr(attrs, name);
  if (!a || a.value.type === "text" || a.value.type === "texts" || a.value.type === "records") return [];
  return (a.value.value as (number | string)[]).map((x) => (typeof x === "number" ? x : Number(x)));
}

export function textAttr(attrs: Attr[], name: string): string | undefined {
  const a = findAttr(attrs, name);
  return a && a.value.type === "text" ? a.value.value : undefined;
}
