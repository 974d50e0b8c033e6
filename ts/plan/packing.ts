/**
 * Which variables are packed, and over which range. Priority: a manual range, then the
 * variable's `valid_min`/`valid_max` (or `valid_range`), then the data's own range widened by
 * `autoBufferFactor` × (max − min) on each side. The formula itself is in the Rust core
 * (`crates/core/src/pack.rs`).
 */
import type { Stats, VarMeta } from "../backend/types.js";
import type { PackingConfig } from "../config/model.js";
import { findAttr, numericAttr, textAttr } from "../cf/attrs.js";
import { isDurationUnits, isTimeUnits } from "../cf/time.js";
import { decodeRange } from "./encoding.js";

/** Where a range came from; "archive": read back from an existing archive's scale_factor/add_offset. */
export type RangeSource = "manual" | "valid_range" | "data" | "archive";

export interface PackRange {
  min: number;
  max: number;
  source: RangeSource;
}

/**
 * Names of what is not data among `vars`: dimension coordinates, and the variables another one
 * names as its `coordinates` (2-D latitude and longitude), `bounds` or `climatology` (the bounds
 * of a time such as NEMO's time_centered_bounds, which hold times).
 */
export function notDataNames(vars: Pick<VarMeta, "name" | "dims" | "attrs">[]): Set<string> {
  const out = new Set(vars.filter((v) => v.dims.length === 1 && v.dims[0] === v.name).map((v) => v.name));
  for (const v of vars) {
    for (const key of ["coordinates", "bounds", "climatology"]) for (const name of (textAttr(v.attrs, key) ?? "").split(/\s+/)) if (name) out.add(name);
  }
  return out;
}

/**
 * Whether a variable is a candidate for packing: floats that are data (not in `notData`, see
 * notDataNames), and neither times (CF time units or durations) nor values a scale_factor or
 * add_offset of their own already turns into others (radians stored for degrees), unless the
 * caller packs their `decoded` values (files that encode the variable differently).
 */
export function packable(v: VarMeta, cfg: PackingConfig, notData: Set<string>, decoded = false): boolean {
  if (!cfg.enabled) return false;
  if (v.dtype !== "float32" && v.dtype !== "float64") return false;
  if (notData.has(v.name) || v.dims.length === 0) return false;
  const units = textAttr(v.attrs, "units");
  if (isTimeUnits(units) || isDurationUnits(units, textAttr(v.attrs, "dtype"))) return false;
  if (!decoded && (findAttr(v.attrs, "scale_factor") || findAttr(v.attrs, "add_offset"))) return false;
  return !cfg.exclude.includes(v.name) && !cfg.exclude.includes(v.path);
}

/** The range from configuration or attributes alone; undefined when the data must decide. */
export function declaredRange(v: VarMeta, cfg: PackingConfig): PackRange | undefined {
  const manual = cfg.manualRanges[v.name] ?? cfg.manualRanges[v.path];
  if (manual) return { ...manual, source: "manual" };
  const vr = numericAttr(v.attrs, "valid_range");
  const vmin = numericAttr(v.attrs, "valid_min")[0] ?? vr[0];
  const vmax = numericAttr(v.attrs, "valid_max")[0] ?? vr[1];
  if (vmin !== undefined && vmax !== undefined && Number.isFinite(vmin) && Number.isFinite(vmax) && vmin <= vmax) {
    return { min: vmin, max: vmax, source: "valid_range" };
  }
  return undefined;
}

/** The range from the data's statistics, widened by the buffer factor. */
export function dataRange(stats: Stats, cfg: PackingConfig): PackRange | undefined {
  if (stats.min === null || stats.max === null) return undefined;
  const pad = (stats.max - stats.min) * cfg.autoBufferFactor;
  return { min: stats.min - pad, max: stats.max + pad, source: "data" };
}

/** Source values that mean "no data" (`_FillValue`, `missing_value`). */
export function missingValues(v: VarMeta): number[] {
  return [...numericAttr(v.attrs, "_FillValue"), ...numericAttr(v.attrs, "missing_value")].filter((x) => !Number.isNaN(x));
}

/** A range of stored values as the values they stand for (the rule is plan/encoding.ts's decodeRange). */
export function unpackedRange(min: number, max: number, scale = 1, offset = 0): [number, number] {
  return decodeRange({ scale, offset }, min, max);
}
