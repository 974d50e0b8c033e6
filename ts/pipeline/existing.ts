/**
 * An existing archive, as write-region and append see it, and plans that write a source file into
 * it with exactly the encoding it stores (dtype, chunks, codecs, packing, fill).
 *
 * The archive's state is what its consolidated metadata records: every command that changes
 * metadata rewrites it last, so it is the commit point. Array documents that are ahead of it are
 * leftovers of an interrupted append, which a re-run overwrites.
 *
 * Every check here runs before anything is written: a file that does not fit is refused with a
 * typed error naming the file and the variable.
 */
import { isFloat, isNumeric, itemSize } from "../backend/dtype.js";
import { existsSync } from "node:fs";

import type { Backend, PackParams, Slab, VarMeta } from "../backend/types.js";
import { isTimeUnits, ownTimeUnitsOf, parseUnits, TimeError, type TimeUnits } from "../cf/time.js";
import { type ZarrConverterConfig, slabBytes } from "../config/model.js";
import { ConfigError, fromCore, IncompatibleSourceError, PackingRangeError, StoreError } from "../errors.js";
import type { Logger } from "../log.js";
import { cfEncoding, decodeRange, decodedDtype, decodingOf, describeEncoding, integerRange, plainInteger, sameEncoding, storedEncoding, widerInteger, type IntType } from "../plan/encoding.js";
import { arrayOwnTimeAttrs, namedIn, refuseUnsupported, walkVars, type VarPlan } from "../plan/layout.js";
import { missingValues } from "../plan/packing.js";
import { Archive } from "../zarr/archive.js";
import { arraySpec, dtypeName, fixedTexts, type ArrayModel, type Attributes } from "../zarr/metadata.js";
import { openStore, type StoreOptions } from "../zarr/open.js";
import { FsStore, type Store } from "../zarr/store.js";
import { isS3Url } from "../s3/url.js";
import { mapLimit } from "./pool.js";
import { planSlabs } from "./slabs.js";
import { scanStats } from "./scan.js";
import { checkCompatible, withRetime, type Source } from "./source.js";
import { unravel } from "../zarr/grid.js";
import { digestible, firstDifference, meaningOf, readingKey, unitsConflict } from "./differ.js";
import { numbersFrom, retimedExactly } from "./writer.js";

export interface ExistingArchive {
  archive: Archive;
  location: string;
  arrays: Map<string, ArrayModel>;
  groups: Map<string, Attributes>;
  /** Whether the view came from consolidated metadata (else from the array documents). */
  consolidated: boolean;
}

/** Open an archive (a path, an s3:// address or a store) at its committed state. */
export async function openArchive(target: string | Store, options: StoreOptions = {}): Promise<ExistingArchive> {
  if (typeof target === "string" && !isS3Url(target) && !existsSync(target)) {
    throw new StoreError("no archive here (make one with create-template or convert)", { file: target });
  }
  const store = typeof target === "string" ? openStore(target, options) : target;
  const archive = await Archive.open(store);
  // Writers that add to an archive clear what killed writers left (see FsStore.sweep).
  if (store instanceof FsStore) await store.sweep();
  const committed = await archive.readConsolidated();
  const view = committed ?? (await archive.hierarchy());
  return { archive, location: store.location, arrays: view.arrays, groups: view.groups, consolidated: committed !== undefined };
}

const baseName = (path: string) => path.slice(path.lastIndexOf("/") + 1);

/** A dimension coordinate: a 1-D array named after its dimension. */
export function isCoordinate(path: string, model: ArrayModel): boolean {
  return model.dimensionNames.length === 1 && model.dimensionNames[0] === baseName(path);
}

/** Read a box of a stored array (unwritten chunks read as the fill value). */
export async function readStored(backend: Backend, ex: ExistingArchive, path: string, model: ArrayModel, origin?: number[], shape?: number[]): Promise<Slab> {
  const spec = arraySpec(model);
  const o = origin ?? model.shape.map(() => 0);
  const s = shape ?? model.shape;
  const { chunks } = backend.chunksInRegion(spec, o, s);
  const bytes = await mapLimit(chunks, 8, async (c) => (await ex.archive.store.get(ex.archive.chunkKey(path, model, c))) ?? null);
  return backend.readRegion(spec, o, s, chunks, bytes);
}

/** The strings of a stored slab: text, or fixed-width text (an xarray `<U5`) decoded; undefined for numbers and records. */
export function storedTexts(slab: Slab, model: ArrayModel): string[] | undefined {
  return model.fixedText ? fixedTexts(model.fixedText, itemSize(model.dtype), slab.toBytes()!) : (slab.toStrings() ?? undefined);
}

export interface Axis {
  dim: string;
  /** The archive's committed length along `dim`. */
  length: number;
  /** The dimension's coordinate, when the archive has one. */
  coord?: { path: string; model: ArrayModel; values: number[]; units?: TimeUnits };
}

/** The name of the time coordinate's CF bounds array (its `bounds`, or `climatology`), from its attributes. */
export function timeBoundsOf(coordAttributes: Attributes | undefined): string | undefined {
  return [coordAttributes?.bounds, coordAttributes?.climatology].find((b): b is string => typeof b === "string");
}

/** The archive's extent along `dim`, with its coordinate values (decoded units when CF time). */
export async function readAxis(backend: Backend, ex: ExistingArchive, dim: string): Promise<Axis> {
  const coords = [...ex.arrays].filter(([p, m]) => baseName(p) === dim && isCoordinate(p, m));
  if (coords.length > 1 && !ex.arrays.has(dim)) {
    throw new StoreError(`has several '${dim}' coordinates (${coords.map(([p]) => p).join(", ")}); zarrio writes along one`, { file: ex.location });
  }
  const found = ex.arrays.has(dim) ? ([dim, ex.arrays.get(dim)!] as const) : coords[0];
  const lengths = new Set<number>();
  for (const m of ex.arrays.values()) {
    const i = m.dimensionNames.indexOf(dim);
    if (i >= 0) lengths.add(m.shape[i]!);
  }
  if (!lengths.size) throw new StoreError(`has no '${dim}' dimension (set time.dim / --time-dim)`, { file: ex.location });
  if (lengths.size > 1) {
    throw new StoreError(`its arrays disagree on the length of '${dim}' (${[...lengths].join(", ")}): not an archive zarrio can add to`, { file: ex.location });
  }
  const length = [...lengths][0]!;
  if (!found) return { dim, length };
  const [path, model] = found;
  if (!isNumeric(model.dtype)) return { dim, length };
  const values = numbersFrom(model.dtype, (await readStored(backend, ex, path, model)).toBytes()!);
  const unitsAttr = model.attributes.units;
  let units: TimeUnits | undefined;
  if (isTimeUnits(unitsAttr)) {
    try {
      units = parseUnits(unitsAttr, typeof model.attributes.calendar === "string" ? model.attributes.calendar : undefined);
    } catch (e) {
      // CF-looking units zarrio does not decode ("months since", as MSWEP writes): the values
      // were copied as stored, and are matched as stored, in those very units.
      if (!(e instanceof TimeError)) throw e;
    }
  }
  return { dim, length, coord: { path, model, values, units } };
}

/**
 * The packing an archive array stores (integers with scale_factor, by zarrio or another tool),
 * as parameters that pack decoded data identically (the core's rule); null when the array is
 * not packed.
 */
function storedPacking(backend: Backend, model: ArrayModel, file: string, path: string): PackParams | null {
  const scale = model.attributes.scale_factor;
  const offset = model.attributes.add_offset ?? 0;
  if (!["int8", "int16", "int32"].includes(model.dtype) || typeof scale !== "number" || typeof offset !== "number") return null;
  const fill = model.cfFill === null ? null : Number(model.cfFill);
  if (fill === null || !Number.isInteger(fill)) {
    throw new IncompatibleSourceError(
      `the archive packs it to ${model.dtype} without an integer _FillValue, so missing values would have nowhere to go; zarrio cannot write re-packed data into this array`,
      { file, variable: path },
    );
  }
  try {
    return backend.storedPackParams(model.dtype, scale, offset, fill);
  } catch (e) {
    throw fromCore(e, { file, variable: path });
  }
}

/**
 * How one file's variable reaches an archive array: copied as stored when the file encodes it
 * exactly as the archive does; otherwise decoded with the file's own encoding (plan/encoding.ts)
 * and, for a packed array, packed again with the archive's scale and offset (values then within
 * half the archive's step of the file's), or stored as the archive's float type (exact; NaN or
 * the archive's fill for missing). What cannot be stored without changing values is refused.
 */
function writeEncoding(backend: Backend, model: ArrayModel, v: VarMeta, file: string, path: string): Pick<VarPlan, "decode" | "pack" | "missing"> & { note?: string } {
  const fail = (msg: string): never => {
    throw new IncompatibleSourceError(msg, { file, variable: path });
  };
  const here = cfEncoding(v);
  const there = storedEncoding(model);
  const float = (d: string) => d === "float32" || d === "float64";
  // Copied as stored: the file's missing markers still say which values are missing (the
  // missing-data check counts with them).
  const copied = { decode: null, pack: null, missing: missingValues(v) };
  // Encoded alike (int16 packed with the archive's scale and offset, no fill value, as NCEP files
  // are): copied, whatever the archive could or could not re-pack.
  if (!isNumeric(v.dtype) || !isNumeric(model.dtype) || sameEncoding(here, there)) return copied;
  const pack = storedPacking(backend, model, file, path);
  if (pack) {
    const plain = float(v.dtype) && here.scale === undefined && here.offset === undefined;
    const note = `${describeEncoding(here)} here, ${describeEncoding(there)} in the archive: packed again with the archive's scale and offset (values within ${pack.scale_factor / 2} of the file's)`;
    return plain
      ? { decode: null, pack, missing: missingValues(v) }
      : { decode: decodingOf(here, "float64"), pack, missing: [], note };
  }
  if (float(model.dtype) && there.scale === undefined && there.offset === undefined) {
    const fillThere = model.cfFill === null ? NaN : Number(model.cfFill);
    // Stored values mean the same here and there (besides an encoding alike, copied above): the
    // file's one missing marker, or none, is the archive's fill.
    const rawFits = v.dtype === model.dtype && here.scale === undefined && here.offset === undefined &&
      (here.missing.length === 0 ? Number.isNaN(fillThere) : here.missing.length === 1 && here.missing[0] === fillThere);
    if (rawFits) return copied;
    const decoded = decodedDtype(here);
    if (decoded === "float64" && model.dtype === "float32") {
      fail(`decodes to float64 (${describeEncoding(here)}), the archive stores float32: storing it would round its values`);
    }
    return {
      decode: decodingOf(here, model.dtype as "float32" | "float64", Number.isNaN(fillThere) ? null : fillThere),
      pack: null,
      missing: [],
      note: `${describeEncoding(here)} here, ${describeEncoding(there)} in the archive: stored decoded (exact)`,
    };
  }
  // Integers stored as they are: the file must mean the same by every stored value, or be
  // integers that the archive's wider integer type holds exactly (int16 into int32).
  // A wider type here (int32 values into an int16 archive) is stored when every value fits, which
  // checkRanges reads before anything is written.
  if (plainInteger(here) && plainInteger(there)) {
    const widens = widerInteger(here.dtype as IntType, there.dtype as IntType) === there.dtype;
    const how = widens ? "widened (exact)" : `stored as ${there.dtype} (every value is checked to fit before anything is written)`;
    return { decode: decodingOf(here, there.dtype as IntType), pack: null, missing: [], note: `${here.dtype} here, ${there.dtype} in the archive: ${how}` };
  }
  return fail(`is encoded as ${describeEncoding(here)}, the archive as ${describeEncoding(there)}; they cannot be converted without changing values`);
}

function planFor(backend: Backend, path: string, model: ArrayModel, v: VarMeta, dim: string, file: string, timeBounds: boolean, timeAxis: boolean, log?: Logger): VarPlan {
  const name = baseName(path);
  if (model.fixedText) {
    throw new IncompatibleSourceError(
      `the archive stores it as fixed-width text (numpy's ${dtypeName(model)}), which zarrio reads but does not write; leave it out with --drop-variables ${name}`,
      { file, variable: path },
    );
  }
  const isTimeCoord = name === dim && isCoordinate(path, model);
  // An array along time whose units are CF time holds times of its own (VarPlan.ownTimes).
  // Only along a CF time axis (`timeAxis`); packed ones are data (writeEncoding re-packs them).
  const ownTimes = timeAxis && !isTimeCoord && !timeBounds && ownTimeUnitsOf(arrayOwnTimeAttrs(model.attributes)) !== undefined;
  // Times (the coordinate, its bounds, times of their own) are never decoded or packed; bounds
  // and times of their own are re-expressed (retime).
  const { decode, pack, missing, note } = isTimeCoord || timeBounds || ownTimes ? { decode: null, pack: null, missing: missingValues(v) } : writeEncoding(backend, model, v, file, path);
  if (note) log?.info(`${file}: ${path}: ${note}`);
  return {
    name,
    sourcePath: v.path,
    arrayPath: path,
    source: v,
    model,
    timeAxis: model.dimensionNames.indexOf(dim),
    isTimeCoord,
    timeBounds,
    ownTimes,
    decode,
    pack,
    packRange: pack && { min: pack.min, max: pack.max, source: "archive" },
    missing,
    chunkReasons: ["the archive's chunks"],
  };
}

/**
 * Plans writing `source` into the archive's arrays along `dim` (the coordinate itself excluded):
 * every such array, or those `variables.include` names, minus `variables.exclude`. The file must
 * hold each of them, compatibly, and nothing along `dim` the archive lacks. `partialDims` are
 * dimensions a hand-given region places the file within.
 */
export function planWrites(
  backend: Backend,
  ex: ExistingArchive,
  source: Source,
  config: ZarrConverterConfig,
  dim: string,
  partialDims: string[] = [],
  log?: Logger,
  archiveTime?: TimeUnits,
): VarPlan[] {
  const named = (path: string, list: string[]) => list.some((n) => n === path || n === baseName(path) || n === `/${path}`);
  const along = [...ex.arrays].filter(([p, m]) => m.dimensionNames.includes(dim) && !(baseName(p) === dim && isCoordinate(p, m)));
  const { include, exclude } = config.variables;
  for (const want of include ?? []) {
    if (!along.some(([p]) => named(p, [want]))) {
      throw new ConfigError(`'${want}' is not an array along '${dim}' in ${ex.location} (it has: ${along.map(([p]) => p).join(", ")})`, "variables.include");
    }
  }
  const selected = along.filter(([p]) => (!include || named(p, include)) && !named(p, exclude));
  refuseUnsupported(source.root, config, source.file);
  const inFile = new Map(walkVars(source.root).map(({ v, groupPath }) => [groupPath ? `${groupPath}/${v.name}` : v.name, v]));
  if (!include) {
    for (const [path, v] of inFile) {
      // Along `dim` or not: a variable the archive lacks would be left out without a word.
      if (!(v.name === dim && v.dims.length === 1) && !ex.arrays.has(path) && !named(path, exclude)) {
        throw new IncompatibleSourceError(`is in this file but not in the archive; leave it out with --drop-variables ${v.name}`, { file: source.file, variable: path });
      }
    }
  }
  // The archive's time bounds (its time coordinate's `bounds` or `climatology`): re-expressed from
  // the file's time units into the archive's (`archiveTime`).
  const boundsName = timeBoundsOf(ex.arrays.get(dim)?.attributes);
  const plans = selected.map(([path, model]) => {
    const v = inFile.get(path);
    if (!v) {
      throw new IncompatibleSourceError(`is in the archive but not in this file (write a subset with --variables)`, { file: source.file, variable: path });
    }
    const plan = planFor(backend, path, model, v, dim, source.file, path === boundsName, archiveTime !== undefined, log);
    return withRetime(plan, source, dim, archiveTime);
  });
  checkCompatible(source, plans, dim, partialDims, archiveTime !== undefined);
  return plans;
}

/**
 * The file's arrays without `dim` (coordinates such as lat and lon, masks, cell areas, scalars)
 * must hold the archive's values: they were written once, by the template or the first convert,
 * and a file on another grid or with another mask would otherwise be written beside them
 * silently. Compared as stored when the file stores them as the archive does, else as decoded
 * values (within half a packing step when the archive packs them). `offsets` place a file that
 * covers part of a dimension (a hand-given region).
 */
export async function checkStatics(
  backend: Backend,
  ex: ExistingArchive,
  source: Source,
  dim: string,
  { offsets = {}, cache = new StaticCache(), exclude = [] }: { offsets?: Record<string, number>; cache?: StaticCache; exclude?: string[] } = {},
): Promise<void> {
  const inFile = new Map(walkVars(source.root).map(({ v, groupPath }) => [groupPath ? `${groupPath}/${v.name}` : v.name, v]));
  for (const [path, model] of ex.arrays) {
    const v = inFile.get(path);
    // A file without one of them loses nothing: the archive holds its values. One the user
    // leaves out (variables.exclude) is not compared either.
    if (!v || model.dimensionNames.includes(dim) || v.dims.includes(dim)) continue;
    if (namedIn(exclude, v)) continue;
    const fail = (msg: string): never => {
      throw new IncompatibleSourceError(msg, { file: source.file, variable: path });
    };
    const dims = model.dimensionNames;
    if (v.dims.join(",") !== dims.join(",")) fail(`has dims (${v.dims.join(", ")}), the archive has (${dims.join(", ")})`);
    const start = v.dims.map((d) => offsets[d] ?? 0);
    v.shape.forEach((n, i) => {
      if (start[i]! + n > model.shape[i]!) fail(`dimension '${v.dims[i]}' has length ${n}${start[i] ? ` from ${start[i]}` : ""}, the archive has ${model.shape[i]}`);
    });
    const [mineMeans, thereMeans] = [meaningOf(v.attrs), meaningOf(model.attributes)];
    const units = unitsConflict(mineMeans, thereMeans);
    if (units) fail(`has units '${units[0]}' here, '${units[1]}' in the archive`);
    if (v.shape.some((n) => n === 0)) continue;
    // A file of the same series carries the same values: known to agree by their digest (of bytes
    // stored and read alike), they are not compared with the archive's again (small variables;
    // large ones are compared each time).
    const key = `${path}@${start.join(",")}:${v.shape.join(",")}:${readingKey(cfEncoding(v), mineMeans)}`;
    const digest = digestible(v) ? await source.ds.digest(v.path) : undefined;
    if (digest !== undefined && cache.agrees(key, digest)) continue;
    const mine = await source.ds.read(v.path, v.shape.map(() => 0), v.shape);
    try {
      const stored = await readStored(backend, ex, path, model, start, v.shape);
      try {
        const there = storedEncoding(model);
        const slack = there.scale === undefined ? 0 : Math.abs(there.scale) / 2 + Number.EPSILON * Math.abs(there.scale);
        const texts = storedTexts(stored, model);
        const at = firstDifference({ slab: mine, encoding: cfEncoding(v), meaning: mineMeans }, { slab: stored, encoding: there, meaning: thereMeans, ...(texts ? { texts } : {}) }, slack);
        if (at) {
          const index = unravel(at.index, v.shape).map((k, i) => k + start[i]!);
          // (Times in other units are shown as dates.)
          const unit = mineMeans.units === thereMeans.units ? mineMeans.units : undefined;
          const what = dims.length === 1 && baseName(path) === dims[0] ? "coordinate values" : "values";
          fail(
            `${what} differ from the archive's at ${dims.length === 1 ? `index ${index[0]}` : `[${index.join(", ")}]`}: ${at.here} here, ${at.there} in the archive${unit ? ` (${unit})` : ""}. ` +
              `Arrays without '${dim}' are written once; a file that differs cannot be written beside them (leave the variable out with --drop-variables ${v.name})`,
          );
        }
      } finally {
        stored.release();
      }
      if (digest !== undefined) cache.remember(key, digest);
    } finally {
      mine.release();
    }
  }
}

/**
 * The digests of values without the append dimension already found equal to the archive's, by
 * array and place: a file of the same series carries the same values, which are then not read
 * and compared with the archive's again.
 */
export class StaticCache {
  private readonly known = new Map<string, Set<string>>();

  agrees(key: string, digest: string): boolean {
    return this.known.get(key)?.has(digest) ?? false;
  }

  remember(key: string, digest: string): void {
    let set = this.known.get(key);
    if (!set) this.known.set(key, (set = new Set()));
    set.add(digest);
  }
}

/**
 * Refuse times (bounds, times of their own) that the archive's type cannot hold once
 * re-expressed into its units (retimedExactly), before anything is written; slab by slab.
 */
export async function checkRetimed(plans: VarPlan[], source: Source, config: ZarrConverterConfig): Promise<void> {
  for (const p of plans) {
    if (!p.retime) continue;
    const rows = p.source.shape.map((n, i) => (i === 0 ? 1 : n));
    for (const box of planSlabs(p.source.shape, rows, p.source.shape.map(() => 0), 8, slabBytes(config))) {
      const slab = await source.ds.read(p.source.path, box.start, box.count);
      try {
        retimedExactly(numbersFrom(p.source.dtype, slab.toBytes()!), p, source.file);
      } finally {
        slab.release();
      }
    }
  }
}

/**
 * Refuse a file holding values the archive cannot store before anything is written (a read-only
 * pass over the variables concerned), rather than part-way through: times the archive's type
 * cannot hold once re-expressed, integers beyond a narrower integer array's type, and, under the `error` policy, values beyond a packed array's range (half
 * a step of slack on each side: values that round into the range are accepted, as the packer
 * accepts them).
 */
export async function checkRanges(plans: VarPlan[], source: Source, config: ZarrConverterConfig): Promise<void> {
  await checkRetimed(plans, source, config);
  for (const p of plans) {
    const to = p.decode?.dtype;
    if (!to || isFloat(to) || widerInteger(p.source.dtype as IntType, to as IntType) === to) continue;
    const stats = await scanStats(source, p.source, [], slabBytes(config), config.concurrency);
    const [lo, hi] = integerRange(to as IntType);
    const beyond = stats.min !== null && stats.min < lo ? stats.min : stats.max !== null && stats.max > hi ? stats.max : undefined;
    if (beyond !== undefined) {
      throw new IncompatibleSourceError(`holds ${beyond}, beyond the archive's ${to} (is ${p.source.dtype} here); nothing was written`, { file: source.file, variable: p.arrayPath });
    }
  }
  if (config.packing.rangeExceededAction !== "error") return;
  for (const p of plans) {
    if (!p.pack) continue;
    let stats = await scanStats(source, p.source, p.decode ? p.decode.missing : p.missing, slabBytes(config), config.concurrency);
    if (p.decode && stats.min !== null && stats.max !== null) {
      // Stored units → the values they stand for, with the file's own scale and offset.
      const [min, max] = decodeRange(cfEncoding(p.source), stats.min, stats.max);
      stats = { ...stats, min, max };
    }
    const slack = p.pack.scale_factor / 2;
    const beyond = stats.min !== null && stats.min < p.pack.min - slack ? stats.min : stats.max !== null && stats.max > p.pack.max + slack ? stats.max : undefined;
    if (beyond !== undefined) {
      const show = (x: number) => String(Number(x.toPrecision(7)));
      throw new PackingRangeError(
        `holds ${beyond}, outside the archive's packing range [${show(p.pack.min)}, ${show(p.pack.max)}] (int${p.pack.bits}); nothing was written. ` +
          `Set packing.rangeExceededAction (--packing-range-exceeded-action) to clip or fill to store such values anyway`,
        { file: source.file, variable: p.arrayPath },
      );
    }
  }
}
