/**
 * The convert pipeline, from opened sources to a Store: time axes joined, packing ranges found,
 * the archive planned, then hierarchy, coordinates and data written and the metadata consolidated.
 * `convert` (files on disk, archive staged beside its path and renamed into place) and
 * `zarrio/web` (bytes in memory, any Store) both run `convertSources`. This module and everything
 * it imports stay free of Node built-ins so that browsers can load it.
 */
import type { Backend, DType, GroupMeta, Stats, VarMeta } from "../backend/types.js";
import { textAttr } from "../cf/attrs.js";
import { checkIncreasing, exactTime, reencode, sameUnits, wholeTimes, type TimeUnits } from "../cf/time.js";
import { type ZarrConverterConfig, slabBytes } from "../config/model.js";
import { ConfigError, IncompatibleSourceError, timeProblem } from "../errors.js";
import { formatBytes, Logger, Progress, silentLogger } from "../log.js";
import { logChunking } from "../plan/chunking.js";
import { itemSize } from "../backend/dtype.js";
import { cfEncoding, decodeRange, describeMixed, mixedEncoding, type MixedEncoding } from "../plan/encoding.js";
import { bindSource, buildPlan, holdsOwnTimes, selectVars, timeBoundsName, walkVars, type ArchivePlan, type VarPlan } from "../plan/layout.js";
import { dataRange, declaredRange, missingValues, notDataNames, packable, type PackRange } from "../plan/packing.js";
import { nodePaths, writeHierarchy } from "../pipeline/hierarchy.js";
import { mergeStats, scanStats } from "../pipeline/scan.js";
import { attributeDifferences, describeAttributeDifferences, SeriesAgreement } from "../pipeline/agree.js";
import { checkCompatible, findVar, forgetTimeAxis, noTimeAxisReason, ownTimeUnits, readTimeAxis, storedTimeDtype, timeLength, timeUnitsOf, withRetime, type Source, type TimeAxis } from "../pipeline/source.js";
import { addStats, emptyStats, planRunWrites, planVariableWrites, runOptions, runWrites, writeWholeArray, type Run, type WriteJob, type WriteStats } from "../pipeline/writer.js";
import { Archive } from "../zarr/archive.js";
import type { Store } from "../zarr/contract.js";
import { pushAll } from "../lists.js";

export interface RunOptions {
  log?: Logger;
  /** Show a progress bar on a terminal. */
  progress?: boolean;
  backend?: Backend;
}

export interface ConvertSummary {
  output: string;
  files: number;
  /** Files whose time dimension is empty: joined, adding no steps (as xarray joins them). */
  filesWithoutSteps: number;
  variables: number;
  timeSteps: number;
  seconds: number;
  stats: WriteStats;
  backend: string;
  reader: string;
}

/** Where a conversion writes, obtained once the sources are known to fit together. */
export interface OutputTarget {
  store: Store;
  /** Make the finished archive visible (the path version renames its staging directory). */
  commit(): Promise<void>;
  /** Clean up after a failure. */
  abandon(): Promise<void>;
}

export interface ConvertSourcesOptions {
  backend: Backend;
  /** Named in the summary (a path, or the store's location). */
  output: string;
  /** Called after planning, so a plan that fails leaves nothing behind. */
  target: () => Promise<OutputTarget>;
  log?: Logger;
  progress?: boolean;
  /** When the run began (performance.now()), if opening the sources is to be counted. */
  started?: number;
  /** Told the bytes of source data converted so far and the total (browsers, callers with their own display). */
  onProgress?: (done: number, total: number) => void;
  /** The files were checked against the first one (SeriesAgreement) while they were opened. */
  seriesChecked?: boolean;
}

/** Progress handed to a callback instead of drawn on a terminal. */
function reporter(total: number, report: (done: number, total: number) => void): Pick<Progress, "advance" | "finish"> {
  let done = 0;
  return {
    advance(bytes: number) {
      done += bytes;
      report(Math.min(done, total), total);
    },
    finish() {
      report(total, total);
    },
  };
}

/** A variable of a source by its path in the file (undefined when the file lacks it). */
function varAt(source: Source, path: string): VarMeta | undefined {
  return walkVars(source.root).find(({ v }) => v.path === path)?.v;
}

/**
 * The variables along time whose files encode them differently (plan/encoding.ts), each with one
 * log line saying which files differ, in what, and what the archive stores.
 */
export function mixedEncodings(sources: Source[], config: ZarrConverterConfig, log: Logger, timeAxis = false): Map<string, MixedEncoding> {
  const mixed = new Map<string, MixedEncoding>();
  if (sources.length < 2) return mixed;
  const first = sources[0]!;
  const bounds = timeBoundsName(first.root.vars, config.time.dim);
  const files = sources.map((s) => s.file);
  for (const { v, groupPath } of selectVars(walkVars(first.root), config, first.file)) {
    if (!v.dims.includes(config.time.dim) || (v.name === config.time.dim && v.dims.length === 1)) continue;
    // Time bounds and times of their own are times: re-expressed file by file (VarPlan.retime), never decoded.
    if ((!groupPath && v.name === bounds) || (timeAxis && holdsOwnTimes(v, config.time.dim))) continue;
    const vars = sources.map((s) => varAt(s, v.path));
    // A file that lacks the variable is refused by the compatibility check.
    if (vars.some((x) => !x)) continue;
    const m = mixedEncoding(v.path.replace(/^\/+/, ""), vars as VarMeta[], files);
    if (!m) continue;
    mixed.set(v.path, m);
    log.info(describeMixed(m, files, config.packing.enabled && config.packing.bits && !config.packing.exclude.includes(v.name) ? config.packing.bits : undefined));
  }
  return mixed;
}

/**
 * Decide packing ranges for every packed variable (data ranges need a read-only pass). A
 * variable stored decoded (`mixed`) is packable when its decoded values are floats, and its
 * range covers every file's decoded values.
 */
export async function packingRanges(
  sources: Source[],
  config: ZarrConverterConfig,
  log: Logger,
  mixed: Map<string, MixedEncoding> = new Map(),
): Promise<Map<string, PackRange>> {
  const ranges = new Map<string, PackRange>();
  if (!config.packing.enabled) return ranges;
  const first = sources[0]!;
  const all = walkVars(first.root).map(({ v }) => v);
  const notData = notDataNames(all);
  const declared = new Map<string, PackRange | undefined>();
  for (const v of all) {
    const m = mixed.get(v.path);
    if (!packable(m ? { ...v, dtype: m.dtype } : v, config.packing, notData, !!m)) continue;
    declared.set(v.path, m ? mixedDeclaredRange(sources, v, config) : declaredRange(v, config.packing));
  }
  // Ranges taken from the data: one pass over each file for all its variables, file after file
  // (a backend that holds whole files in memory keeps only the one being scanned).
  const scanned = new Map<string, Stats | undefined>();
  for (const s of sources) {
    for (const [path, range] of declared) {
      if (range) continue;
      const sv = varAt(s, path) ?? all.find((x) => x.path === path)!;
      let stats = await scanStats(s, sv, missingValues(sv), slabBytes(config), config.concurrency);
      if (mixed.has(path) && stats.min !== null && stats.max !== null) {
        // Stored units → the values they stand for, with this file's own scale and offset.
        const [min, max] = decodeRange(cfEncoding(sv), stats.min, stats.max);
        stats = { ...stats, min, max };
      }
      scanned.set(path, mergeStats(scanned.get(path), stats));
    }
  }
  for (const [path, declaredOne] of declared) {
    const stats = scanned.get(path);
    const range = declaredOne ?? (stats && dataRange(stats, config.packing));
    if (!range) {
      log.warn(`not packing ${path}: it holds no valid values`);
      continue;
    }
    ranges.set(path, range);
    log.info(`packing ${path} to int${config.packing.bits}`, { min: range.min, max: range.max, range_from: range.source });
  }
  return ranges;
}

/**
 * A declared range for a variable the files encode differently: a manual range, or the union of
 * every file's valid range decoded with that file's own scale and offset (valid_* are in stored
 * units); undefined when any file lacks one (the data decides).
 */
function mixedDeclaredRange(sources: Source[], v: VarMeta, config: ZarrConverterConfig): PackRange | undefined {
  const manual = config.packing.manualRanges[v.name] ?? config.packing.manualRanges[v.path];
  if (manual) return { ...manual, source: "manual" };
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of sources) {
    const sv = varAt(s, v.path);
    const r = sv && declaredRange(sv, { ...config.packing, manualRanges: {} });
    if (!sv || !r) return undefined;
    const [a, b] = decodeRange(cfEncoding(sv), r.min, r.max);
    [lo, hi] = [Math.min(lo, a), Math.max(hi, b)];
  }
  return { min: lo, max: hi, source: "valid_range" };
}

/**
 * Time values that are not CF time are copied as stored: every file must then use the same units
 * (nothing can re-encode them), and they are logged as kept raw.
 */
function checkRawTimes(sources: Source[], path: string, timeDim: string, log: Logger): void {
  const unitsOf = (s: Source) => textAttr(varAt(s, path)?.attrs ?? [], "units");
  const units = unitsOf(sources[0]!);
  for (const s of sources.slice(1)) {
    if (unitsOf(s) !== units) {
      throw new IncompatibleSourceError(
        `has time units '${unitsOf(s) ?? "(none)"}', the first file '${units ?? "(none)"}': the first file ` +
          `${noTimeAxisReason(sources[0]!, timeDim)}; files in other units cannot be joined to it`,
        { file: s.file, variable: path },
      );
    }
  }
  log.info(`${path.replace(/^\/+/, "")} has units '${units ?? "(none)"}', which are not CF time zarrio can decode: its values are copied as stored, as xarray reads them`);
}

/**
 * The time-valued variables (source paths) stored re-expressed, as float64: the time coordinate's
 * bounds when some file keeps them in other units than the archive's time units (`units`; xarray
 * writes them 'days since' the first bound, the coordinate 'days since' the first time), without
 * units to read them by, or as another type than the first file's; a variable with times of its
 * own (holdsOwnTimes: cfgrib's valid_time) when some file's units or type differ from the first
 * file's. `all`: every one of them (a template, whose later files may hold any units).
 */
export function retimedTimes(sources: Source[], timeDim: string, units: TimeUnits, all = false): Set<string> {
  const first = sources[0]!;
  const boundsName = timeBoundsName(first.root.vars, timeDim);
  const out = new Set<string>();
  for (const { v: ref } of walkVars(first.root)) {
    const bounds = ref.name === boundsName && first.root.vars.includes(ref);
    if (!bounds && !holdsOwnTimes(ref, timeDim)) continue;
    const unitsOf = (s: Source, v: VarMeta) => (bounds ? timeUnitsOf(s, v, timeDim) : ownTimeUnits(s, v, timeDim));
    const target = bounds ? units : unitsOf(first, ref);
    const differs = (s: Source) => {
      const v = varAt(s, ref.path);
      const u = v && unitsOf(s, v);
      return !v || !u || !target || !sameUnits(u, target) || v.dtype !== ref.dtype;
    };
    // Files that share the first file's description (backend/meta.ts) answer as it does.
    const firstDiffers = differs(first);
    if (all || firstDiffers || sources.some((s) => (s.root === first.root ? firstDiffers : differs(s)))) out.add(ref.path);
  }
  return out;
}

/**
 * Every file's times re-expressed into the archive's (bounds, times of their own) can be: each
 * names units to read them by, and their missing markers are the first file's (a marker is kept
 * as it is, where another file's would be a time). Checked on the files' descriptions, before
 * anything is written; one check per description.
 */
function checkRetimes(sources: Source[], dataVars: VarPlan[], timeDim: string, units: TimeUnits): void {
  const timed = dataVars.filter((v) => v.timeBounds || v.ownTimes);
  if (!timed.length) return;
  const first = sources[0]!;
  const seen = new Set<GroupMeta>();
  for (const s of sources) {
    if (seen.has(s.root)) continue;
    seen.add(s.root);
    for (const v of timed) {
      const mine = varAt(s, v.sourcePath);
      if (!mine) continue;
      withRetime(bindSource(v, mine, undefined), s, timeDim, units);
      const [a, b] = [missingValues(mine), missingValues(varAt(first, v.sourcePath) ?? v.source)];
      if (a.length !== b.length || a.some((x, i) => !Object.is(x, b[i]))) {
        throw new IncompatibleSourceError(`marks missing times with ${a.join(", ") || "nothing"}, the first file with ${b.join(", ") || "nothing"}: they are re-expressed into one array, where one file's marker would be another's time`, { file: s.file, variable: v.sourcePath });
      }
    }
  }
}

/** The concatenated time axis of several files, in the first file's units. */
export async function concatTimes(sources: Source[], timeDim: string): Promise<TimeAxis | undefined> {
  // One file after another: a backend that holds whole files in memory keeps few of them at once.
  const axes: (TimeAxis | undefined)[] = [];
  for (const s of sources) axes.push(await readTimeAxis(s, timeDim));
  const first = axes[0];
  if (!first) {
    if (sources.length > 1 && axes.some(Boolean)) {
      throw new IncompatibleSourceError(`${noTimeAxisReason(sources[0]!, timeDim)}; other files have CF times: the two cannot be joined`, { file: sources[0]!.file });
    }
    return undefined;
  }
  const values: number[] = [];
  let dtype = first.dtype;
  // Whether a file's times re-expressed in the first file's units came out fractional there, or
  // whole beyond 2^53 (xarray's "nanoseconds since" each file's first time, months later).
  let fractional = false;
  let far = false;
  axes.forEach((axis, i) => {
    const file = sources[i]!.file;
    if (!axis) throw new IncompatibleSourceError(`${noTimeAxisReason(sources[i]!, timeDim)}; the first file has CF times: the two cannot be joined`, { file });
    let vals: number[];
    try {
      const same = sameUnits(axis.units, first.units);
      vals = same ? axis.values : reencode(axis.values, axis.units, first.units, true);
      if (!same && !fractional) fractional = vals.some((x) => !Number.isInteger(x));
      if (!same && !far) far = vals.some((x) => !exactTime(x));
    } catch (e) {
      throw timeProblem(e, file);
    }
    dtype = storedTimeDtype(vals, dtype);
    // Joining files needs their times in order; one file's own times are copied as they are (radar
    // volumes repeat a time, model output may restart), as xarray reads them.
    if (sources.length > 1) checkIncreasing(vals, first.units, file, timeDim, IncompatibleSourceError, values.at(-1));
    pushAll(values, vals);
  });
  // Fractions re-expressed in floats decode a nanosecond or two off what the files mean: the axis
  // is then stored as whole numbers of the coarsest unit that holds every file's times exactly.
  const whole = fractional || far ? wholeTimes(axes as TimeAxis[], first.units) : undefined;
  if (far && !whole) {
    throw new IncompatibleSourceError(
      `times need ${first.units.unitName} over more than 2^53 of them (104 days in nanoseconds): no time unit holds this series exactly in a float64, so it cannot be joined without moving times`,
      { file: sources[0]!.file, variable: timeDim },
    );
  }
  // The joined axis holds every value now: ten thousand files would otherwise keep theirs too.
  for (const s of sources) forgetTimeAxis(s);
  return whole ? { ...whole, dtype: "int64" } : { values, units: first.units, dtype };
}

/** Convert opened sources (joined along time in the order given) into the store `options.target` gives. */
/** A conversion decided before anything is written: what `convertSources` runs, what a preview shows. */
export interface ConvertPlan {
  sources: Source[];
  plan: ArchivePlan;
  /** The joined CF time axis, when the files have one. */
  times: TimeAxis | undefined;
  /** Each file's length along time. */
  lengths: number[];
  /** The archive's length along time. */
  total: number;
  mixed: Map<string, MixedEncoding>;
  /** Variables along time, filled file by file. */
  dataVars: VarPlan[];
}

/**
 * Everything decided before the first byte is written: times joined, encodings compared, packing
 * ranges found, the archive laid out, every file checked against it. Throws what would stop the
 * conversion, so a preview (`zarrio/web`'s `planArchive`) refuses exactly what convert refuses.
 */
export async function planConvert(sources: Source[], config: ZarrConverterConfig, backend: Backend, log: Logger = silentLogger, seriesChecked = false): Promise<ConvertPlan> {
  if (!sources.length) throw new ConfigError("give at least one input file", "inputs");
  const first = sources[0]!;
  const timeDim = config.time.dim;
  const lengths = sources.map((s) => timeLength(s, timeDim));
  // A file whose time dimension is empty (a day without overpasses) joins adding no steps, as
  // xarray joins it; its variables without time are checked as every file's are. One without the
  // dimension at all is another kind of file.
  if (sources.length > 1 && lengths.some((n) => n === 0)) {
    const i = lengths.findIndex((n, k) => n === 0 && !walkVars(sources[k]!.root).some(({ v }) => v.dims.includes(timeDim)));
    if (i >= 0) throw new IncompatibleSourceError(`has no '${timeDim}' dimension to concatenate along (set time.dim / --time-dim)`, { file: sources[i]!.file });
    const empty = sources.filter((_, k) => lengths[k] === 0).map((s) => s.file);
    log.info(`${empty.length} file(s) have no steps along '${timeDim}' and add none: ${empty.slice(0, 5).join(", ")}${empty.length > 5 ? ", …" : ""}`);
  }
  if (!seriesChecked && sources.length > 1) {
    const agreement = new SeriesAgreement(first, config, timeDim);
    for (const s of sources.slice(1)) await agreement.check(s);
  }
  const times = await concatTimes(sources, timeDim);
  const total = lengths.reduce((a, b) => a + b, 0);
  const mixed = mixedEncodings(sources, config, log, !!times);
  const ranges = await packingRanges(sources, config, log, mixed);
  // Time bounds in another file's units (or type) than the archive's are re-expressed (float64).
  const retimed = times ? retimedTimes(sources, timeDim, times.units) : new Set<string>();
  const plan = buildPlan({
    meta: first.ds.meta,
    file: first.file,
    config,
    timeLength: total,
    packRanges: ranges,
    mixed,
    timeDtype: times?.dtype as DType | undefined,
    timeUnits: times?.units.text,
    retimed,
    backend,
  });
  const timeVar = findVar(first, timeDim);
  const firstUnits = textAttr(timeVar?.attrs ?? [], "units");
  if (times && timeVar && times.units.text !== firstUnits) {
    log.info(
      `${timeDim} is stored as ${times.dtype} '${times.units.text}' (the first file has '${firstUnits}'): ` +
        (times.units.unitSeconds > (timeUnitsOf(first, timeVar, timeDim)?.unitSeconds ?? Infinity)
          ? `other files' times are whole numbers of those units beyond 2^53, which a float64 does not hold exactly`
          : `other files' times are fractions of those units, which floats hold only to a nanosecond or two`),
    );
  }
  // A time coordinate that is not CF time ("day as %Y%m%d.%f") is copied as stored, file by file.
  const rawTime = plan.vars.find((v) => v.isTimeCoord && !times);
  if (rawTime) checkRawTimes(sources, rawTime.sourcePath, timeDim, log);
  const dataVars = plan.vars.filter((v) => v.timeAxis >= 0 && (!v.isTimeCoord || !times));
  // Once per description: files that describe themselves alike share one (backend/meta.ts).
  const checked = new Set<GroupMeta>([first.root]);
  for (const s of sources) {
    if (checked.has(s.root)) continue;
    checkCompatible(s, dataVars, timeDim, [], !!times);
    checked.add(s.root);
  }
  if (times) checkRetimes(sources, dataVars, timeDim, times.units);
  logChunking(log, plan.vars, config.accessPattern);
  // Said once the conversion is sure to go ahead.
  const attributes = attributeDifferences(first, sources, config);
  if (attributes.length) log.warn(describeAttributeDifferences(attributes, sources.length));
  return { sources, plan, times, lengths, total, mixed, dataVars };
}

export async function convertSources(sources: Source[], config: ZarrConverterConfig, options: ConvertSourcesOptions): Promise<ConvertSummary> {
  const started = options.started ?? performance.now();
  const { backend } = options;
  const log = options.log ?? silentLogger;
  if (sources.length) log.info(`converting ${sources.length} file(s) with the ${backend.name} backend`, { reader: sources[0]!.ds.meta.reader, format: sources[0]!.ds.meta.format });
  const { plan, times, lengths, total, mixed, dataVars } = await planConvert(sources, config, backend, log, options.seriesChecked);
  const first = sources[0]!;
  // Files without steps have nothing to write: closed now (the writers close the others).
  sources.forEach((s, i) => lengths[i] === 0 && s !== first && s.ds.close());

  const out = await options.target();
  let stats = emptyStats();
  try {
    const archive = new Archive(out.store, plan.format);
    await writeHierarchy(archive, plan);
    const totalBytes = plan.vars.reduce((a, v) => a + v.model.shape.reduce((x, y) => x * y, 1) * itemSize(v.source.dtype), 0);
    // Only built when asked for: Progress draws on process.stderr, which browsers lack.
    const progress = options.onProgress ? reporter(totalBytes, options.onProgress) : options.progress ? new Progress("converting", totalBytes) : undefined;
    const run = runOptions(config, backend, log, { progress });
    const place = (timeOffset: number) => ({ timeOffset, slabBytes: slabBytes(config) });
    const jobs: WriteJob[] = [];
    for (const v of plan.vars) {
      if (v.isTimeCoord && times) stats.bytesStored += await writeWholeArray(backend, archive, v, times.values);
      else if (v.timeAxis < 0) pushAll(jobs, planVariableWrites(first.ds, first.file, v, place(0)));
    }
    // The files form one run along time: slabs follow the archive's chunks, and a chunk several
    // files fill is gathered from them and encoded once. Each file is bound with its own shape
    // along time and, where encodings differ, its own decoding; all slabs go through one pool
    // (reading one overlaps encoding and storing others), and each file is closed once its last
    // slab is stored.
    // Files of a series share one description (backend/meta.ts): one lookup table per description.
    const tables = new Map<GroupMeta, Map<string, VarMeta>>();
    const byPath = (root: GroupMeta) => {
      let table = tables.get(root);
      if (!table) tables.set(root, (table = new Map(walkVars(root).map(({ v }) => [v.path, v]))));
      return table;
    };
    // Each file's segment is made when a slab reads from it (no objects per file and variable).
    for (const v of dataVars) {
      const run: Run = {
        length: sources.length,
        count: (i) => lengths[i]!,
        segment: (i) => {
          const s = sources[i]!;
          const bound = withRetime(bindSource(v, byPath(s.root).get(v.sourcePath)!, mixed.get(v.sourcePath)), s, config.time.dim, times?.units);
          return { ds: s.ds, file: s.file, v: bound, start: 0, count: lengths[i]! };
        },
      };
      pushAll(jobs, planRunWrites(run, place(0)));
    }
    // Slabs in time order, whatever the variable: files are read in order and closed early.
    jobs.sort((a, b) => timeStart(a) - timeStart(b));
    stats = addStats(stats, await runWrites(archive, jobs, { ...run, closeWhenDone: true }));
    progress?.finish();
    await archive.consolidate(nodePaths(plan));
    await out.commit();
  } catch (e) {
    await out.abandon();
    throw e;
  }
  const seconds = (performance.now() - started) / 1000;
  logSummary(log, "convert", stats, seconds);
  return {
    output: options.output,
    files: sources.length,
    filesWithoutSteps: lengths.filter((n) => n === 0).length,
    variables: plan.vars.length,
    timeSteps: total,
    seconds,
    stats,
    backend: backend.name,
    reader: first.ds.meta.reader,
  };
}

/** Where a job's slab starts along time (0 for variables without time). */
function timeStart(job: WriteJob): number {
  return job.v.timeAxis >= 0 ? job.origin[job.v.timeAxis]! : 0;
}

/** Bytes the write left in the archive: everything written, less what merges replaced. */
export function bytesKept(stats: WriteStats): number {
  return stats.bytesStored - stats.bytesReplaced;
}

export function logSummary(log: Logger, what: string, stats: WriteStats, seconds: number): void {
  const kept = bytesKept(stats);
  const ratio = kept ? stats.bytesRead / kept : 0;
  // Merged chunks are written more than once: say how much was written in all, and how much that is
  // of what the archive now holds (the write amplification), when they differ.
  const rewrites = stats.bytesReplaced > 0 ? { written: formatBytes(stats.bytesStored), write_amplification: (stats.bytesStored / Math.max(kept, 1)).toFixed(2) } : {};
  log.info(`${what} done in ${seconds.toFixed(2)} s`, {
    read: formatBytes(stats.bytesRead),
    stored: formatBytes(kept),
    ...rewrites,
    ratio: ratio.toFixed(2),
    mb_per_s: (stats.bytesRead / 1e6 / Math.max(seconds, 1e-9)).toFixed(1),
    chunks: stats.chunksWritten,
    merged: stats.chunksMerged,
  });
}
