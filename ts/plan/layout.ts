/**
 * The archive plan: from a source file's metadata and the configuration, every group and array
 * the archive will hold, with its Zarr model, chunking and packing. convert, create-template,
 * append and write-region all derive what they write (or check) from this one plan.
 */
import type { Attr, Backend, Decoding, DType, FileMeta, GroupMeta, PackParams, UnsupportedVar, VarMeta } from "../backend/types.js";
import type { ZarrConverterConfig } from "../config/model.js";
import { attrsToJson, findAttr, numericAttr, textAttr } from "../cf/attrs.js";
import { isTimeUnits, ownTimeUnitsOf, type TimeUnits } from "../cf/time.js";
import { ConfigError, UnsupportedTypeError } from "../errors.js";
import { cfFillFor, type ArrayModel, type Attributes } from "../zarr/metadata.js";
import { chooseChunks } from "./chunking.js";
import { chooseShards } from "./sharding.js";
import { itemSize } from "../backend/dtype.js";
import { cfEncoding, decodingOf, type MixedEncoding } from "./encoding.js";
import { missingValues, notDataNames, packable, type PackRange } from "./packing.js";

export interface VarPlan {
  name: string;
  /** Path in the NetCDF file, e.g. `/ocean/temp`. */
  sourcePath: string;
  /** Path in the archive, e.g. `ocean/temp`. */
  arrayPath: string;
  source: VarMeta;
  model: ArrayModel;
  /** Index of the time dimension in the variable's dims, -1 when it has none. */
  timeAxis: number;
  /** The time coordinate itself. */
  isTimeCoord: boolean;
  /**
   * The time coordinate's CF bounds (its `bounds` or `climatology` variable): times, in the
   * time coordinate's units unless it gives its own. Never packed or decoded; re-expressed (see
   * `retime`) when a file's units are not the archive's.
   */
  timeBounds?: boolean;
  /**
   * Times in units of their own along time, not the coordinate's bounds (cfgrib's 2-D
   * `valid_time`, an observation time; xarray writes them 'since' each file's first value), or
   * durations (a forecast lead in 'days' in one file, 'hours' in the next, as xarray picks). Like
   * the bounds: never packed or decoded, re-expressed when a file's units are not the archive's.
   */
  ownTimes?: boolean;
  /**
   * Times of this file in other units than the archive's (the time bounds of a file whose time
   * units differ, or a variable with times of its own, see ownTimes): re-expressed value by value
   * (cf/time.ts reencode) before they are stored.
   */
  retime?: { from: TimeUnits; to: TimeUnits };
  /**
   * The source file's own CF encoding to undo before storing (files that encode the variable
   * differently from the archive, see plan/encoding.ts); null: stored values copied as they are.
   */
  decode: Decoding | null;
  pack: PackParams | null;
  packRange: PackRange | null;
  /** Source values that mean missing (packed to the fill value). */
  missing: number[];
  chunkReasons: string[];
  /** Why each shard length was chosen (sharded arrays only). */
  shardReasons?: string[];
}

export interface GroupPlan {
  /** Archive path ("" for the root). */
  path: string;
  attrs: Attributes;
}

export interface ArchivePlan {
  format: 2 | 3;
  groups: GroupPlan[];
  vars: VarPlan[];
  timeDim: string;
  /** Length of the archive's time dimension. */
  timeLength: number;
}

/** The group the conversion starts from (`config.group`, or the root). */
export function sourceRoot(meta: FileMeta, group: string | undefined, file: string): GroupMeta {
  if (!group || group === "/") return meta.root;
  const want = "/" + group.replace(/^\/+|\/+$/g, "");
  const find = (g: GroupMeta): GroupMeta | undefined => (g.path === want ? g : g.groups.map(find).find(Boolean));
  const found = find(meta.root);
  if (!found) throw new ConfigError(`group '${group}' is not in ${file}`, "group");
  return found;
}

/** Variables of a group tree, with the archive path each maps to. */
export function walkVars(root: GroupMeta): { v: VarMeta; groupPath: string }[] {
  const out: { v: VarMeta; groupPath: string }[] = [];
  const rel = (p: string) => (root.path === "/" ? p : p.slice(root.path.length)).replace(/^\/+/, "");
  const walk = (g: GroupMeta) => {
    for (const v of g.vars) out.push({ v, groupPath: rel(g.path) });
    g.groups.forEach(walk);
  };
  walk(root);
  return out;
}

function walkGroups(root: GroupMeta): GroupMeta[] {
  const out: GroupMeta[] = [];
  const walk = (g: GroupMeta) => {
    out.push(g);
    g.groups.forEach(walk);
  };
  walk(root);
  return out;
}

/** Whether `list` (variables.include or exclude) names `v`: by name, by full path, or by path without the leading '/'. */
export function namedIn(list: readonly string[], v: { name: string; path: string }): boolean {
  return list.includes(v.name) || list.includes(v.path) || list.includes(v.path.slice(1));
}

/** Whether the user's selection (variables.include, variables.exclude) takes `v` in. */
export function selectedBy(cfg: ZarrConverterConfig, v: { name: string; path: string }): boolean {
  const { include, exclude } = cfg.variables;
  return (!include || namedIn(include, v)) && !namedIn(exclude, v);
}

/**
 * Variables of types zarrio does not store (NetCDF-4 vlen, compounds of anything but numbers) are never left
 * out in silence: one the selection takes in stops the run, naming file, group, variable and type,
 * unless the user drops it (`variables.exclude`) or names others only (`variables.include`).
 */
export function refuseUnsupported(root: GroupMeta, cfg: ZarrConverterConfig, file: string): void {
  const walk = (g: GroupMeta): UnsupportedVar[] => [...g.unsupported, ...g.groups.flatMap(walk)];
  const taken = walk(root).filter((u) => selectedBy(cfg, u));
  if (!taken.length) return;
  const list = taken.map((u) => `'${u.path}' (group '${u.path.slice(0, u.path.lastIndexOf("/")) || "/"}', ${u.nc_type}, dims ${u.dims.join(", ") || "none"})`);
  throw new UnsupportedTypeError(
    `${taken.length === 1 ? "variable" : `${taken.length} variables`} of NetCDF-4 user-defined types that zarrio cannot store yet: ${list.join("; ")}. ` +
      `Nothing was written. Leave ${taken.length === 1 ? "it" : "them"} out with --drop-variables ${[...new Set(taken.map((u) => u.name))].join(",")}`,
    { file },
  );
}

/**
 * Whether `v` holds times of their own along `timeDim` (not the time coordinate): see
 * VarPlan.ownTimes and cf/time.ts ownTimeUnitsOf. The coordinate's bounds are told apart by
 * name (timeBoundsName).
 */
export function holdsOwnTimes(v: Pick<VarMeta, "name" | "dims" | "attrs">, timeDim: string): boolean {
  return v.dims.includes(timeDim) && !(v.name === timeDim && v.dims.length === 1) && ownTimeUnitsOf(ownTimeAttrs(v.attrs)) !== undefined;
}

/** What ownTimeUnitsOf reads of an archive array's attributes. */
export function arrayOwnTimeAttrs(attributes: Record<string, unknown>): { units: unknown; calendar: unknown; dtype: unknown; scaled: boolean } {
  const { units, calendar, dtype } = attributes;
  return { units, calendar, dtype, scaled: attributes.scale_factor !== undefined || attributes.add_offset !== undefined };
}

/** What ownTimeUnitsOf reads of a file's variable's attributes. */
export function ownTimeAttrs(attrs: Attr[]): { units: unknown; calendar: unknown; dtype: unknown; scaled: boolean } {
  const scaled = !!(findAttr(attrs, "scale_factor") || findAttr(attrs, "add_offset"));
  return { units: textAttr(attrs, "units"), calendar: textAttr(attrs, "calendar"), dtype: textAttr(attrs, "dtype"), scaled };
}

/**
 * The name of the time coordinate's CF bounds variable (its `bounds`, or for climatological
 * times its `climatology` attribute), when `vars` (one group's) hold the coordinate.
 */
export function timeBoundsName(vars: VarMeta[], timeDim: string): string | undefined {
  const t = vars.find((v) => v.name === timeDim && v.dims.length === 1 && v.dims[0] === timeDim);
  const name = t && (textAttr(t.attrs, "bounds") ?? textAttr(t.attrs, "climatology"));
  return name && vars.some((v) => v.name === name && v.dims.includes(timeDim)) ? name : undefined;
}

/**
 * Apply include/exclude: included variables bring what xarray reads as their coordinates, the
 * coordinate variables of their dims and the variables their `coordinates` attribute names
 * (auxiliary coordinates such as a scalar `height`), with those variables' own dim coordinates.
 */
export function selectVars(all: { v: VarMeta; groupPath: string }[], cfg: ZarrConverterConfig, file: string) {
  const named = (v: VarMeta, list: string[]) => namedIn(list, v);
  const include = cfg.variables.include;
  if (include) {
    for (const want of include) {
      if (!all.some(({ v }) => named(v, [want]))) {
        throw new ConfigError(`variable '${want}' is not in ${file} (it has: ${all.map(({ v }) => v.name).join(", ")})`, "variables.include");
      }
    }
  }
  const chosen = all.filter(({ v }) => !include || named(v, include));
  const auxNames = new Set(chosen.flatMap(({ v }) => (textAttr(v.attrs, "coordinates") ?? "").split(/\s+/).filter(Boolean)));
  const keep = include ? all.filter((x) => chosen.includes(x) || auxNames.has(x.v.name)) : chosen;
  const dims = new Set(keep.flatMap(({ v }) => v.dims));
  const withCoords = all.filter(({ v }) => keep.some((k) => k.v === v) || (v.dims.length === 1 && v.dims[0] === v.name && dims.has(v.name)));
  return withCoords.filter(({ v }) => !named(v, cfg.variables.exclude));
}

export interface PlanInput {
  meta: FileMeta;
  file: string;
  config: ZarrConverterConfig;
  /** The archive's time length (the sum over files for convert, the full axis for a template). */
  timeLength: number;
  /** Packing ranges by source path, for the variables that are packed. */
  packRanges: Map<string, PackRange>;
  /** Variables (by source path) whose files encode them differently: stored decoded. */
  mixed?: Map<string, MixedEncoding>;
  /** Dtype the time coordinate is stored as (it may widen to float64 when re-encoded). */
  timeDtype?: DType;
  /** Units of the time coordinate (a joined axis may need other units than the first file's, see cf/time.ts wholeTimes). */
  timeUnits?: string;
  /**
   * Time bounds and variables with times of their own (by source path) that some file holds in
   * other units or types than the first: stored re-expressed, as float64 (see retimedTimes).
   */
  retimed?: Set<string>;
  backend: Backend;
}

export function buildPlan(input: PlanInput): ArchivePlan {
  const { meta, file, config } = input;
  const root = sourceRoot(meta, config.group, file);
  refuseUnsupported(root, config, file);
  const all = walkVars(root);
  const selected = selectVars(all, config, file);
  const notData = notDataNames(all.map(({ v }) => v));
  const timeDim = config.time.dim;

  const boundsName = timeBoundsName(root.vars, timeDim);
  const vars: VarPlan[] = selected.map(({ v, groupPath }) => {
    const timeAxis = v.dims.indexOf(timeDim);
    const isTimeCoord = v.name === timeDim && v.dims.length === 1 && timeAxis === 0;
    const timeBounds = !groupPath && v.name === boundsName;
    // Times are re-expressed only along a CF time axis (input.timeUnits); else copied as data.
    const ownTimes = !timeBounds && input.timeUnits !== undefined && holdsOwnTimes(v, timeDim);
    const shape = v.shape.map((len, i) => (i === timeAxis ? input.timeLength : len));
    const mixed = isTimeCoord || timeBounds || ownTimes ? undefined : input.mixed?.get(v.path);
    // What the archive receives: the stored values, or (mixed encodings) the decoded floats or
    // the widened integers.
    const incoming: DType = mixed ? mixed.dtype : v.dtype;
    const range = !timeBounds && !ownTimes && packable({ ...v, dtype: incoming }, config.packing, notData, !!mixed) ? input.packRanges.get(v.path) ?? null : null;
    const pack = range ? input.backend.packParams(range.min, range.max, config.packing.bits, incoming) : null;
    const dtype: DType = pack
      ? (`int${pack.bits}` as DType)
      : isTimeCoord && input.timeDtype
        ? input.timeDtype
        : (timeBounds || ownTimes) && input.retimed?.has(v.path)
          ? "float64"
          : incoming;
    const attributes = attrsToJson(v.attrs);
    if (isTimeCoord && input.timeUnits !== undefined) attributes.units = input.timeUnits;
    // Bounds that name their own units are stored in the archive's time units (re-expressed), and
    // so are times of their own that files hold in other units (the axis's units hold the series
    // exactly, see cf/time.ts wholeTimes; durations keep theirs).
    if (timeBounds && input.timeUnits !== undefined && attributes.units !== undefined) attributes.units = input.timeUnits;
    if (ownTimes && input.timeUnits !== undefined && input.retimed?.has(v.path) && isTimeUnits(attributes.units)) attributes.units = input.timeUnits;
    // Decoded values are missing as NaN; the file's own markers and scaling are undone.
    const cfFillSource = mixed ? NaN : numericAttr(v.attrs, "_FillValue")[0];
    delete attributes._FillValue;
    if (mixed) {
      delete attributes.missing_value;
      delete attributes.scale_factor;
      delete attributes.add_offset;
    }
    if (pack) {
      // The float-level missing markers are replaced by the integer fill value.
      delete attributes.missing_value;
      attributes.scale_factor = pack.scale_factor;
      attributes.add_offset = pack.add_offset;
    }
    const choice = chooseChunks({
      dims: v.dims,
      shape,
      itemSize: itemSize(dtype),
      fixed: config.chunking,
      timeDim,
      pattern: config.accessPattern,
      targetBytes: config.targetChunkSizeMb * 2 ** 20,
      coordinate: v.dims.length === 1 && v.dims[0] === v.name,
    });
    // Data variables are sharded; dimension coordinates stay one chunk (readers load them whole).
    const shard =
      config.sharding !== undefined && v.dims.length > 0 && !(v.dims.length === 1 && v.dims[0] === v.name)
        ? chooseShards({
            dims: v.dims,
            shape,
            chunks: choice.chunks,
            itemSize: itemSize(dtype),
            asked: config.sharding,
            timeDim,
            pattern: config.accessPattern,
            targetBytes: config.targetShardSizeMb * 2 ** 20,
          })
        : undefined;
    const model: ArrayModel = {
      shape,
      chunks: choice.chunks,
      dtype,
      cfFill: pack ? pack.fill : cfFillFor(dtype, cfFillSource),
      compressor: config.compression,
      dimensionNames: v.dims,
      attributes,
      ...(v.fields.length ? { fields: v.fields } : {}),
      ...(shard ? { shards: shard.shards } : {}),
    };
    return {
      name: v.name,
      sourcePath: v.path,
      arrayPath: groupPath ? `${groupPath}/${v.name}` : v.name,
      source: v,
      model,
      timeAxis,
      isTimeCoord,
      timeBounds,
      ownTimes,
      decode: mixed ? decodingOf(cfEncoding(v), mixed.dtype) : null,
      pack,
      packRange: range,
      missing: mixed ? [] : missingValues(v),
      chunkReasons: choice.reasons,
      ...(shard ? { shardReasons: shard.reasons } : {}),
    };
  });

  const groups: GroupPlan[] = walkGroups(root).map((g) => {
    const path = (root.path === "/" ? g.path : g.path.slice(root.path.length)).replace(/^\/+/, "");
    const attrs = attrsToJson(g.attrs);
    return { path, attrs: path === "" ? { ...attrs, ...config.attrs } : attrs };
  });
  return { format: config.zarrFormat, groups, vars, timeDim, timeLength: input.timeLength };
}

/**
 * The plan of one archive array, bound to one source file's variable: the file's own shape and
 * path, and, where the archive stores decoded values, the file's own decoding.
 */
export function bindSource(plan: VarPlan, v: VarMeta, mixed: MixedEncoding | undefined): VarPlan {
  if (plan.source === v) return plan;
  const decode = mixed ? decodingOf(cfEncoding(v), mixed.dtype, plan.decode?.fill ?? null) : plan.decode;
  return { ...plan, source: v, sourcePath: v.path, decode, missing: decode ? [] : missingValues(v) };
}
