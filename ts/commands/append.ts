/**
 * append: extend an archive along `time.appendDim` (time by default) with files' data, encoded
 * exactly as the existing arrays are; several files are written as one run (see appendFiles).
 * Each file's times, re-encoded into the archive's units, must increase and come after the
 * archive's last time (and the file before it); with `onOverlap: "skip"` the steps already
 * covered are left out (what the Python tool always does), otherwise an overlap is refused.
 *
 * Order of writing, so that a failed or interrupted append never damages the archive:
 *  1. every check, before anything is written;
 *  2. the new data and coordinate values, into chunks past the arrays' current ends (invisible to
 *     readers while the shapes are unchanged; a chunk shared with the old end is merged, keeping
 *     its stored values);
 *  3. each array's metadata with its new shape, the coordinate's last;
 *  4. the consolidated metadata, last: the commit point. Readers through consolidated metadata
 *     (xarray's default), and a later append or write-region (see pipeline/existing.ts), see the
 *     old archive until it is written; a re-run after an interruption writes the same steps again.
 * Appends to one archive are serialised by an archive-wide lock.
 */
import { isNumeric } from "../backend/dtype.js";
import { loadBackend } from "../backend/index.js";
import type { DType, NumericType } from "../backend/types.js";
import { textAttr } from "../cf/attrs.js";
import { checkIncreasing, decodeValue, formatDate, reencode, type TimeUnits } from "../cf/time.js";
import { slabBytes, type ZarrConverterConfig } from "../config/model.js";
import { IncompatibleSourceError, RegionError, timeProblem } from "../errors.js";
import { silentLogger, type Logger } from "../log.js";
import type { VarPlan } from "../plan/layout.js";
import { holdsExactly } from "../plan/encoding.js";
import { SAME_INSTANT_SECONDS } from "../plan/region.js";
import { checkStatics, checkRanges, checkRetimed, StaticCache, openArchive, planWrites, readAxis, type Axis, type ExistingArchive } from "../pipeline/existing.js";
import { memoryVariable } from "../pipeline/memory.js";
import { fileDone } from "../pipeline/collect.js";
import { findVar, noTimeAxisReason, openSource, park, readTimeAxis, timeLength, type Source } from "../pipeline/source.js";
import { emptyStats, numbersFrom, planRunWrites, planVariableWrites, runOf, runOptions, runWrites, type Segment, type WriteStats } from "../pipeline/writer.js";
import type { ArrayModel } from "../zarr/metadata.js";
import { FsStore, type Store } from "../zarr/store.js";
import { consolidateEnclosing } from "../zarr/open.js";
import { logSummary, type RunOptions } from "./convert.js";
import { pushAll } from "../lists.js";

export type OverlapPolicy = "error" | "skip";

export interface AppendOptions extends RunOptions {
  /** Steps at or before the archive's last time: refuse the file (default), or leave them out. */
  onOverlap?: OverlapPolicy;
}

/** What one file gave to an append. */
export interface AppendedFile {
  file: string;
  /** Steps added. */
  appended: number;
  /** Steps of the file left out because the archive (or an earlier file of the list) covers them. */
  skipped: number;
  dates?: [string, string];
}

export interface AppendSummary extends AppendedFile {
  archive: string;
  dim: string;
  /** The archive's length along `dim` after the append. */
  length: number;
  variables: number;
  seconds: number;
  stats: WriteStats;
  backend: string;
}

/** An append of several files, committed together. */
export interface AppendFilesSummary {
  archive: string;
  dim: string;
  /** Each file's part, in the order given. */
  files: AppendedFile[];
  length: number;
  variables: number;
  seconds: number;
  stats: WriteStats;
  backend: string;
}

/** Files kept open from their checks to the write; with more, each is closed in between. */
const KEEP_OPEN = 64;

/** The lock appends to one archive take, whole (not a chunk key: those hold a '/' or are digits). */
const APPEND_LOCK = "zarrio-append";

/** The file's values along `dim`, in the archive's encoding, checked to increase. */
async function newCoordinates(source: Source, dim: string, coord: { model: ArrayModel; values: number[]; units?: TimeUnits }): Promise<{ values: number[]; describe(v: number): string }> {
  const file = source.file;
  if (coord.units) {
    const own = await readTimeAxis(source, dim);
    if (!own) throw new IncompatibleSourceError(`${noTimeAxisReason(source, dim)}; the archive's '${dim}' is CF time`, { file });
    let values: number[];
    try {
      values = reencode(own.values, own.units, coord.units);
    } catch (e) {
      throw timeProblem(e, file);
    }
    checkIncreasing(values, coord.units, file, dim);
    const units = coord.units;
    return { values, describe: (v) => formatDate(decodeValue(v, units)) };
  }
  const v = findVar(source, dim);
  if (!v || v.dims.length !== 1 || v.dims[0] !== dim || !isNumeric(v.dtype)) {
    throw new IncompatibleSourceError(`has no numeric coordinate '${dim}'; the archive has one`, { file });
  }
  // Values not read as CF time are appended as stored: only in the archive's very units.
  const text = (x: unknown) => (typeof x === "string" ? x : "(none)");
  for (const key of ["units", "calendar"]) {
    const [here, there] = [text(textAttr(v.attrs, key)), text(coord.model.attributes[key])];
    if (here !== there) {
      throw new IncompatibleSourceError(`has '${dim}' in ${key} '${here}', the archive '${there}': values zarrio does not read as CF time are appended as stored, so they must be in the archive's ${key}`, { file });
    }
  }
  const values = numbersFrom(v.dtype, (await source.ds.read(v.path, [0], [v.shape[0]!])).toBytes()!);
  for (let i = 1; i < values.length; i++) {
    if (!(values[i]! > values[i - 1]!)) throw new IncompatibleSourceError(`${dim} is not increasing at step ${i}: ${values[i]} follows ${values[i - 1]}`, { file });
  }
  return { values, describe: String };
}

const grow = (model: ArrayModel, dim: string, length: number): ArrayModel => ({
  ...model,
  shape: model.shape.map((n, i) => (model.dimensionNames[i] === dim ? length : n)),
});

/** Append one file (see appendFiles). */
export async function append(file: string, target: string | Store, config: ZarrConverterConfig, options: AppendOptions = {}): Promise<AppendSummary> {
  const { files, ...rest } = await appendFiles([file], target, config, options);
  return { ...files[0]!, ...rest };
}

/** One file's checked part of an append: its plans and the steps it adds. */
interface Planned extends AppendedFile {
  source: Source;
  plans: VarPlan[];
  coordValues?: number[];
}

/**
 * Append files, in the order given, as one run: every file is checked first (each must come after
 * the archive and after the file before it), then the files are written together, so the steps of
 * consecutive files that fill one chunk are gathered and the chunk is encoded and written once,
 * and the whole list is committed at once. A file that fails a check stops the run before
 * anything is written, and names itself.
 */
export async function appendFiles(files: string[], target: string | Store, config: ZarrConverterConfig, options: AppendOptions = {}): Promise<AppendFilesSummary> {
  const started = performance.now();
  const log = options.log ?? silentLogger;
  const dim = config.time.appendDim;
  const backend = options.backend ?? (await loadBackend());
  const opened = await openArchive(target, { s3: config.s3, log });
  const sources: Source[] = [];
  try {
    return await opened.archive.store.withLock(APPEND_LOCK, async () => {
      // Read the committed state under the lock: an append that just finished has moved the end.
      const ex = await openArchive(opened.archive.store);
      const archive = ex.archive;
      const axis = await readAxis(backend, ex, dim);
      let last = axis.coord?.values[axis.length - 1];
      let lastFrom = "the archive's";
      let length = axis.length;
      const planned: Planned[] = [];
      const coordinates = new StaticCache();
      for (const file of files) {
        const source = await openSource(backend, file, config, log);
        sources.push(source);
        const p = await checkFile(source, ex, axis, { value: last, from: lastFrom }, coordinates, config, dim, { ...options, backend }, log);
        planned.push(p);
        length += p.appended;
        if (p.coordValues?.length) [last, lastFrom] = [p.coordValues[p.coordValues.length - 1], `${file}'s`];
        // Long lists: the file is opened again when its values are read.
        if (files.length > KEEP_OPEN) park(source);
        fileDone();
      }
      const summary = (stats: WriteStats): AppendFilesSummary => ({
        archive: ex.location,
        dim,
        files: planned.map(({ file, appended, skipped, dates }) => ({ file, appended, skipped, dates })),
        length,
        variables: planned.reduce((n, p) => Math.max(n, p.plans.length), 0),
        seconds: (performance.now() - started) / 1000,
        stats,
        backend: backend.name,
      });
      if (length === axis.length) {
        const what = files.length === 1 ? files[0] : `the ${files.length} files`;
        log.warn(
          planned.some((p) => p.skipped)
            ? `nothing to append: every ${dim} of ${what} is at or before the last one already there, and on-overlap skip leaves those out`
            : `nothing to append: ${what} ${files.length === 1 ? "has" : "have"} no steps along '${dim}'`,
        );
        return summary(emptyStats());
      }

      // Each array's steps, file after file, as runs of consecutive files (a file without the
      // array ends a run: those steps read as missing).
      const runs = new Map<string, { offset: number; segments: Segment[] }[]>();
      // Files of a series share their plans: each plan is grown to the new length once.
      const grown = new Map<VarPlan, VarPlan>();
      const grownPlan = (v: VarPlan) => grown.get(v) ?? grown.set(v, { ...v, model: grow(v.model, dim, length) }).get(v)!;
      let offset = axis.length;
      for (const p of planned) {
        if (!p.appended) continue;
        for (const v of p.plans) {
          const list = runs.get(v.arrayPath) ?? [];
          runs.set(v.arrayPath, list);
          const run = list[list.length - 1];
          const segment = { ds: p.source.ds, file: p.file, v: grownPlan(v), start: p.skipped, count: p.appended };
          const end = run ? run.offset + run.segments.reduce((n, s) => n + s.count, 0) : -1;
          if (run && end === offset) run.segments.push(segment);
          else list.push({ offset, segments: [segment] });
        }
        offset += p.appended;
      }
      const jobs = [...runs.values()].flat().flatMap((r) => planRunWrites(runOf(r.segments), { timeOffset: r.offset, slabBytes: slabBytes(config) }));
      const coordValues = planned.flatMap((p) => p.coordValues ?? []);
      if (axis.coord && coordValues.length) {
        const { path, model } = axis.coord;
        const mem = memoryVariable(backend, dim, model.dtype as DType, [dim], coordValues);
        const coordPlan: VarPlan = {
          name: dim,
          sourcePath: mem.v.path,
          arrayPath: path,
          source: mem.v,
          model: grow(model, dim, length),
          timeAxis: 0,
          isTimeCoord: true,
          decode: null,
          pack: null,
          packRange: null,
          missing: [],
          chunkReasons: ["the archive's chunks"],
        };
        pushAll(jobs, planVariableWrites(mem.ds, `the new ${dim} values`, coordPlan, { timeOffset: axis.length, slabBytes: slabBytes(config) }));
      }
      const stats = await runWrites(archive, jobs, runOptions(config, backend, log, { closeWhenDone: true }));

      // Metadata: every array along dim grows (those not written read as missing there), the
      // coordinate last, then the consolidated metadata that commits it all.
      const along = [...ex.arrays].filter(([, m]) => m.dimensionNames.includes(dim));
      const unwritten = along.filter(([p]) => !runs.has(p) && p !== axis.coord?.path);
      if (unwritten.length) log.info(`arrays not in this append read as missing over the new steps: ${unwritten.map(([p]) => p).join(", ")}`);
      const coordLast = ([path]: [string, ArrayModel]) => (path === axis.coord?.path ? 1 : 0);
      for (const [path, model] of along.sort((a, b) => coordLast(a) - coordLast(b))) await archive.writeArray(path, grow(model, dim, length));
      await archive.consolidate({ groups: ex.groups.keys(), arrays: ex.arrays.keys() });
      if (ex.archive.store instanceof FsStore) await consolidateEnclosing(ex.location, log);
      for (const p of planned) {
        if (p.appended) log.info(`appended ${p.appended} step(s) of ${p.file} along ${dim}`, p.dates ? { from: p.dates[0], to: p.dates[1] } : {});
      }
      const done = summary(stats);
      logSummary(log, files.length === 1 ? `append ${files[0]}` : `append of ${files.length} files`, stats, done.seconds);
      return done;
    });
  } finally {
    for (const s of sources) s.ds.close();
  }
}

/**
 * Every check of one file before anything is written: its arrays fit the archive's, its
 * coordinates match, and its steps come after `last` (the archive's end, or the file before).
 */
async function checkFile(
  source: Source,
  ex: ExistingArchive,
  axis: Axis,
  after: { value: number | undefined; from: string },
  coordinates: StaticCache,
  config: ZarrConverterConfig,
  dim: string,
  options: AppendOptions,
  log: Logger,
): Promise<Planned> {
  const file = source.file;
  const backend = options.backend!;
  const plans = planWrites(backend, ex, source, config, dim, [], log, axis.coord?.units);
  await checkStatics(backend, ex, source, dim, { cache: coordinates, exclude: config.variables.exclude });
  const n = timeLength(source, dim);
  // An empty time dimension (a day without overpasses) adds nothing; its other arrays were checked.
  if (!n) {
    log.info(`${file} has no steps along '${dim}' and adds none`);
    return { file, source, plans, appended: 0, skipped: 0 };
  }
  let skip = 0;
  let coordValues: number[] | undefined;
  let dates: [string, string] | undefined;
  if (axis.coord) {
    const { values, describe } = await newCoordinates(source, dim, axis.coord);
    const last = after.value;
    if (last !== undefined) {
      // The shared slack for times (units may be re-encoded), exact for other coordinates.
      const tol = axis.coord.units ? SAME_INSTANT_SECONDS / axis.coord.units.unitSeconds : 0;
      skip = values.findIndex((v) => v > last + tol);
      if (skip < 0) skip = values.length;
      if (skip > 0 && options.onOverlap !== "skip") {
        throw new RegionError(
          `${dim} ${describe(values[0]!)} is not after ${after.from} last ${dim} ${describe(last)}: ${skip} of the file's ${values.length} steps overlap ${after.from === "the archive's" ? "the archive" : "it"} ` +
            `(on-overlap skip keeps only the later ones)`,
          { file },
        );
      }
    }
    // The archive's type is fixed: a time it cannot hold (int16 hours past 32,767, float32
    // seconds a few apart) would be stored as another time.
    const dtype = axis.coord.model.dtype as NumericType;
    const bad = values.slice(skip).findIndex((v) => !holdsExactly(dtype, v));
    if (bad >= 0) {
      throw new IncompatibleSourceError(
        `${dim} ${describe(values[skip + bad]!)} is ${values[skip + bad]} in the archive's '${String(axis.coord.model.attributes.units ?? dim)}', which its ${dtype} cannot hold exactly`,
        { file },
      );
    }
    coordValues = values.slice(skip);
    if (coordValues.length) dates = [describe(coordValues[0]!), describe(coordValues[coordValues.length - 1]!)];
  }
  const appended = n - skip;
  // Left out: at or before the last time already there, whether or not that time is on the axis.
  if (!appended) log.warn(`nothing to append from ${file}: each of its ${n} step(s) is at or before the last ${dim} already there, and on-overlap skip leaves those out`);
  else if (skip) log.info(`leaving out ${skip} step(s) of ${file} at or before the last ${dim} already there (on-overlap skip)`);
  // The pre-check reads whole variables, so it runs when every step is appended; otherwise the
  // packer's own check refuses out-of-range values (before the new steps are committed).
  if (!skip) await checkRanges(plans, source, config);
  else await checkRetimed(plans, source, config);
  return { file, source, plans, appended, skipped: skip, dates, coordValues };
}
