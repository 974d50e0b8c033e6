/**
 * Source files: opening them (with errors that name the file), reading their time axis, and
 * checking that a file fits an archive's plan before anything is written.
 */
import { isRecord } from "../backend/dtype.js";
import type { Backend, Dataset, GroupMeta, NumericType, ReaderKind, RecordField, VarMeta } from "../backend/types.js";
import { numericAttr, textAttr } from "../cf/attrs.js";
import { exactTime, isTimeUnits, ownTimeUnitsOf, parseUnits, sameUnits, TimeError, type TimeUnits } from "../cf/time.js";
import { ConversionError, fromCore, IncompatibleSourceError, SourceReadError, ZarrioError } from "../errors.js";
import type { Logger } from "../log.js";
import { holdsExactly } from "../plan/encoding.js";
import { arrayOwnTimeAttrs, ownTimeAttrs, sourceRoot, walkVars, type VarPlan } from "../plan/layout.js";
import type { S3Settings } from "../s3/session.js";
import { Recent } from "../recent.js";
import { numbersFrom } from "./writer.js";

export interface Source {
  file: string;
  /** The file's size in bytes (0 for bytes opened in memory without a size). */
  size: number;
  ds: Dataset;
  root: GroupMeta;
  /**
   * The time axis once read (readTimeAxis) and the dimension it was read for: files closed between
   * passes are not opened again for it. One field, not a map: a run over ten thousand files keeps
   * one of these per file.
   */
  time?: { dim: string; axis: TimeAxis | undefined; why?: string };
}

/** How to open sources: the reader, the group converted, and the object store settings for s3:// files. */
export interface SourceOptions {
  reader: ReaderKind;
  group?: string;
  s3: S3Settings;
}

/** Open a NetCDF file: a path, or an s3:// address (fetched to a temporary file first, see s3/input.ts). */
export async function openSource(backend: Backend, file: string, options: SourceOptions, log?: Logger): Promise<Source> {
  // Node built-ins and the S3 layer are imported here, not at module scope: the in-memory pipeline
  // (zarrio/web) imports this module in browsers.
  let local = file;
  let size: number;
  let fetched: { remove(): Promise<void> } | undefined;
  if (/^s3:\/\//i.test(file)) {
    const [{ fetchInput }, { s3Session }] = await Promise.all([import("../s3/input.js"), import("../s3/session.js")]);
    const f = await fetchInput(file, s3Session(options.s3, log));
    log?.debug(`fetched ${file} (${f.bytes} bytes) to ${f.path}`);
    [local, fetched, size] = [f.path, f, f.bytes];
  } else {
    const { stat } = await import("node:fs/promises");
    const st = await stat(file).catch(() => undefined);
    if (!st) throw new SourceReadError("no such file", { file });
    size = st.size;
  }
  let ds: Dataset;
  try {
    ds = await backend.openDataset(local, options.reader);
  } catch (e) {
    throw unreadable(file, e);
  } finally {
    // Open readers keep their handle (the WebAssembly backend has read the bytes): the name can go.
    await fetched?.remove();
  }
  // A file on disk can be closed between passes and opened again when read (see ReopeningDataset);
  // one fetched from an object store is gone from disk, so it stays open until closed for good.
  if (!fetched) ds = new ReopeningDataset(ds, backend, file, options.reader);
  // `time` is declared up front: a field added later would cost every file an extra property store.
  return { file, size, ds, root: sourceRoot(ds.meta, options.group, file), time: undefined };
}

/**
 * Give back an open file's handles and memory until it is read again: a file on disk reopens by
 * itself when read (ReopeningDataset); one fetched from an object store is gone from disk, so it
 * stays open.
 */
export function park(source: Source): void {
  if (source.ds instanceof ReopeningDataset) source.ds.close();
}

/**
 * A file that gives back its handles and memory when closed, and opens again by itself when read
 * after that: a run over ten thousand files keeps only the files being read open (each open file
 * holds descriptors and parsed metadata), and files are opened once more for writing instead of
 * being held from planning to the end.
 */
class ReopeningDataset implements Dataset {
  private open: Promise<Dataset> | undefined;
  readonly meta: Dataset["meta"];

  // Fields, not a closure over them: one of these stays per file for the whole run.
  constructor(
    first: Dataset,
    private readonly backend: Backend,
    private readonly file: string,
    private readonly reader: ReaderKind,
  ) {
    this.meta = first.meta;
    this.open = Promise.resolve(first);
  }

  private handle(): Promise<Dataset> {
    return (this.open ??= this.backend.reopenDataset(this.file, this.reader, this.meta).catch((e) => Promise.reject(unreadable(this.file, e))));
  }

  async read(path: string, start: number[], count: number[]) {
    return (await this.handle()).read(path, start, count);
  }

  async stats(path: string, start: number[], count: number[], missing: number[]) {
    return (await this.handle()).stats(path, start, count, missing);
  }

  async digest(path: string) {
    return (await this.handle()).digest(path);
  }

  close(): void {
    const open = this.open;
    this.open = undefined;
    void open?.then((ds) => ds.close(), () => {});
  }
}

/** A NetCDF file held in memory; `name` stands for it in messages. */
export function openSourceBytes(backend: Backend, name: string, bytes: Uint8Array, group?: string): Source {
  return openSourceWith(name, bytes.length, () => backend.openDatasetBytes(bytes), group);
}

/**
 * A NetCDF file the caller opens its own way (bytes in memory, a `Blob` read by range in a
 * browser worker); `name` stands for it in messages, and a failed open is told apart by cause.
 */
export function openSourceWith(name: string, size: number, open: () => Dataset, group?: string): Source {
  let ds: Dataset;
  try {
    ds = open();
  } catch (e) {
    throw unreadable(name, e);
  }
  return { file: name, size, ds, root: sourceRoot(ds.meta, group, name) };
}

/**
 * An open that failed, told apart by cause: the reader's verdict on the file, the file system's
 * refusal, or a failure inside zarrio (a backend's internal error is never a verdict on the file).
 */
function unreadable(file: string, e: unknown): ZarrioError {
  // The core's verdict, told without the file's name (the error names it once, in front).
  const err = fromCore(e);
  if (err instanceof SourceReadError) {
    const why = err.message.replace(/^cannot read NetCDF: /, "").replace(`${file}: `, "");
    return new SourceReadError(`not a readable NetCDF file (${why})`, { file, cause: e });
  }
  // The file system's refusal (Node's errors carry the errno; the core's never do).
  if (typeof (e as NodeJS.ErrnoException)?.errno === "number") return new SourceReadError(`cannot open the file (${(e as Error).message})`, { file, cause: e });
  if (!(err instanceof ConversionError)) return fromCore(e, { file });
  return new ConversionError(`zarrio failed while opening it (an error inside zarrio, not in the file): ${err.message}`, { file, cause: e });
}

/** A variable by name: in the converted group first, then anywhere below it. */
export function findVar(source: Source, name: string): VarMeta | undefined {
  return source.root.vars.find((v) => v.name === name) ?? walkVars(source.root).find(({ v }) => v.name === name)?.v;
}

/** The length of the time dimension in a file (0 when it has none). */
export function timeLength(source: Source, timeDim: string): number {
  for (const { v } of walkVars(source.root)) {
    const i = v.dims.indexOf(timeDim);
    if (i >= 0) return v.shape[i]!;
  }
  return 0;
}

export interface TimeAxis {
  values: number[];
  units: TimeUnits;
  dtype: string;
}

/**
 * The dtype time values are stored as: the file's when it holds every value exactly (holdsExactly);
 * else int64 for whole numbers in an integer type (int16 hours since 2020 reach 2023 as 35,040),
 * else float64 (fractions, or a float32 that cannot tell later times apart).
 */
export function storedTimeDtype(values: number[], dtype: string): string {
  if (values.every((x) => holdsExactly(dtype as NumericType, x))) return dtype;
  return !dtype.startsWith("float") && values.every((x) => Number.isSafeInteger(x)) ? "int64" : "float64";
}

/**
 * The file's time coordinate, decoded into numbers with its units; undefined when absent or when
 * its units are not CF time zarrio can decode ("months since", an unknown calendar): such values
 * are copied as stored, as xarray leaves times it cannot decode.
 */
export async function readTimeAxis(source: Source, timeDim: string): Promise<TimeAxis | undefined> {
  if (source.time?.dim !== timeDim) {
    const axis = await readTimeAxisOnce(source, timeDim);
    source.time = typeof axis === "string" ? { dim: timeDim, axis: undefined, why: axis } : { dim: timeDim, axis };
  }
  return source.time.axis;
}

/**
 * Let go of the file's time axis once a caller has taken its values (convert joins every file's
 * into one): read again, it is read from the file.
 */
export function forgetTimeAxis(source: Source): void {
  source.time = undefined;
}

/** The units of the last files read: the files of a series share one parsed (frozen) copy. */
const recentUnits = new Recent<string, TimeUnits>(4);

function sharedUnits(units: string, calendar: string | undefined): TimeUnits {
  return recentUnits.get(`${units}\u0000${calendar ?? ""}`, () => Object.freeze(parseUnits(units, calendar)));
}

/**
 * The CF time units `v`'s values are in: its own `units` (and `calendar`) when they are CF time,
 * else those of the time coordinate `timeDim` (CF bounds inherit their coordinate's). Undefined
 * when neither is CF time zarrio can decode.
 */
export function timeUnitsOf(source: Source, v: VarMeta, timeDim: string): TimeUnits | undefined {
  const coord = findVar(source, timeDim);
  const own = textAttr(v.attrs, "units");
  const units = isTimeUnits(own) ? own : coord && textAttr(coord.attrs, "units");
  if (!isTimeUnits(units)) return undefined;
  const calendar = textAttr(v.attrs, "calendar") ?? (coord && textAttr(coord.attrs, "calendar"));
  try {
    return sharedUnits(units, calendar);
  } catch (e) {
    if (e instanceof TimeError) return undefined;
    throw e;
  }
}

/**
 * Why `source` has no time axis zarrio can decode along `timeDim` (readTimeAxis gave none): no
 * such coordinate, no units, units that are not CF time, or CF-looking units zarrio does not read
 * (an unknown unit or calendar, values beyond 2^53 of their unit), whose values are then copied
 * as stored.
 */
export function noTimeAxisReason(source: Source, timeDim: string): string {
  if (source.time?.dim === timeDim && source.time.why) return source.time.why;
  const v = findVar(source, timeDim);
  if (!v || v.dims.length !== 1 || v.dims[0] !== timeDim) return `has no coordinate variable '${timeDim}'`;
  const units = textAttr(v.attrs, "units");
  if (!isTimeUnits(units)) return `has '${timeDim}' ${units === undefined ? "without units" : `in units '${units}'`}, which are not CF time ("<unit> since <date>")`;
  try {
    parseUnits(units, textAttr(v.attrs, "calendar"));
  } catch (e) {
    if (e instanceof TimeError) return `has '${timeDim}' in units '${units}', which zarrio does not decode (${e.message}) and copies as stored`;
    throw e;
  }
  return `has no readable '${timeDim}' axis`;
}

/**
 * `plan` bound to `source` when it holds the time bounds: re-expressed from the file's units into
 * the archive's (`to`) when they differ or the file stores them as another type. A file whose
 * bounds have no CF time units is refused: they could not be placed on the archive's axis.
 */
export function withRetime(plan: VarPlan, source: Source, timeDim: string, to: TimeUnits | undefined): VarPlan {
  if (!(plan.timeBounds || plan.ownTimes) || !to) return plan;
  // Bounds may inherit the coordinate's units (CF); other times must name their own.
  const from = plan.timeBounds ? timeUnitsOf(source, plan.source, timeDim) : ownTimeUnits(source, plan.source, timeDim);
  if (!from) {
    throw new IncompatibleSourceError(
      plan.timeBounds
        ? `holds the bounds of '${timeDim}', but neither it nor '${timeDim}' has CF time units to read them by`
        : `has units '${textAttr(plan.source.attrs, "units") ?? "(none)"}', the archive has '${String(plan.model.attributes.units)}' (times of its own)`,
      { file: source.file, variable: plan.sourcePath },
    );
  }
  const target = storedTimeUnits(plan.model.attributes, to);
  const same = sameUnits(from, target) && plan.source.dtype === plan.model.dtype;
  return same ? plan : { ...plan, retime: { from, to: target } };
}

/**
 * The units an archive's time bounds or times of their own are stored in: their own when they
 * name CF time units (xarray writes bounds in 'days since' the first bound, the coordinate in
 * 'days since' the first time) or durations ('hours'), else the coordinate's (`coord`), as CF
 * lets bounds inherit them.
 */
export function storedTimeUnits(attributes: Record<string, unknown>, coord: TimeUnits): TimeUnits {
  return ownTimeUnitsOf(arrayOwnTimeAttrs(attributes), coord.calendar) ?? coord;
}

/**
 * The units of a variable's times of their own (VarPlan.ownTimes): CF time (with its calendar,
 * or the time coordinate's) or durations; undefined when it names neither.
 */
export function ownTimeUnits(source: Source, v: VarMeta, timeDim: string): TimeUnits | undefined {
  const coord = findVar(source, timeDim);
  return ownTimeUnitsOf(ownTimeAttrs(v.attrs), coord && textAttr(coord.attrs, "calendar"));
}

/** The file's time axis; undefined when it has none; why not, when its values are copied as stored. */
async function readTimeAxisOnce(source: Source, timeDim: string): Promise<TimeAxis | string | undefined> {
  const v = findVar(source, timeDim);
  if (!v || v.dims.length !== 1 || v.dims[0] !== timeDim) return undefined;
  const parsed = timeUnitsOf(source, v, timeDim);
  if (!parsed) return undefined;
  const slab = await source.ds.read(v.path, [0], [v.shape[0]!]).catch((e) => {
    throw fromCore(e, { file: source.file, variable: v.path });
  });
  let values: number[];
  try {
    values = numbersFrom(v.dtype, slab.toBytes()!);
  } finally {
    slab.release();
  }
  const fill = numericAttr(v.attrs, "_FillValue")[0];
  // int64's least value is numpy's NaT: xarray writes a missing time so, with no _FillValue.
  const nat = v.dtype === "int64" ? -(2 ** 63) : undefined;
  const bad = values.findIndex((x) => !Number.isFinite(x) || x === fill || x === nat);
  if (bad >= 0) {
    const what = values[bad] === nat ? "NaT, a missing time as xarray writes it" : String(values[bad]);
    throw new IncompatibleSourceError(`time step ${bad} has no valid value (${what})`, { file: source.file, variable: v.path });
  }
  // int64 "nanoseconds since 1970": numbers (float64) would move such times by up to 128 ns.
  const far = values.findIndex((x) => !exactTime(x));
  if (far >= 0) {
    return `has '${timeDim}' values beyond 2^53 ${parsed.unitName} from its reference (${values[far]} at step ${far}), which zarrio does not decode (a float64 would move them) and copies as stored`;
  }
  return { values, units: parsed, dtype: v.dtype };
}


/**
 * Check that `source` can be written into planned arrays (planned from another file by convert,
 * or read back from an existing archive by append and write-region): every planned variable
 * present with the array's dims, non-time shape, type and units. A float variable may feed a
 * packed array. Dimensions in `partialDims` (a hand-given region) may be shorter than the array.
 * Nothing is written when this throws.
 */
export function checkCompatible(source: Source, plans: VarPlan[], timeDim: string, partialDims: string[] = [], retimes = true): void {
  const vars = new Map(walkVars(source.root).map(({ v }) => [v.path, v]));
  for (const p of plans) {
    const v = vars.get(p.sourcePath);
    const fail = (msg: string) => {
      throw new IncompatibleSourceError(msg, { file: source.file, variable: p.arrayPath });
    };
    if (!v) return fail(`is in the archive but not in this file`);
    const dims = p.model.dimensionNames;
    if (v.dims.join(",") !== dims.join(",")) fail(`has dims (${v.dims.join(", ")}), the archive has (${dims.join(", ")})`);
    v.shape.forEach((len, i) => {
      const dim = v.dims[i]!;
      const there = p.model.shape[i]!;
      if (dim === timeDim) return;
      if (partialDims.includes(dim) ? len > there : len !== there) fail(`dimension '${dim}' has length ${len}, the archive has ${there}`);
    });
    // Values decoded (plan/encoding.ts) or packed become the archive's type; others must have it.
    // Time bounds of another type are re-expressed (withRetime) into the archive's type, which must hold them exactly.
    // (Only along a CF time axis, `retimes`: else they are copied as stored, in the same units.)
    const reexpressed = retimes && (p.timeBounds || p.ownTimes);
    const converts = p.decode !== null || reexpressed || (p.pack !== null && (v.dtype === "float32" || v.dtype === "float64"));
    if (!p.isTimeCoord && v.dtype !== p.model.dtype && !converts) fail(`is ${v.dtype}, the archive stores ${p.model.dtype}`);
    const fields = (f: RecordField[] | undefined) => (f ?? []).map((x) => `${x.name}: ${x.dtype}`).join(", ");
    if (isRecord(v.dtype) && fields(v.fields) !== fields(p.model.fields)) fail(`has fields {${fields(v.fields)}}, the archive has {${fields(p.model.fields)}}`);
    const unitsHere = textAttr(v.attrs, "units");
    const unitsThere = typeof p.model.attributes.units === "string" ? p.model.attributes.units : undefined;
    // Time bounds are re-expressed in the archive's units (VarPlan.retime), whatever this file's.
    if (!p.isTimeCoord && !reexpressed && unitsHere !== unitsThere) fail(`has units '${unitsHere ?? "(none)"}', the archive has '${unitsThere ?? "(none)"}'`);
  }
}
