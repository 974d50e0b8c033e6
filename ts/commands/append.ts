/**
 * append: extend an archive along `time.appendDim` (time by default) with a file's data, encoded
 * exactly as the existing arrays are. The file's times, re-encoded into the archive's units, must
 * increase and come after the archive's last time; with `onOverlap: "skip"` the steps the archive
 * already covers are left out (what the Python tool always does), otherwise an overlap is refused.
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
import { loadBackend } from "../backend/index.js";
import type { DType } from "../backend/types.js";
import { decodeValue, formatDate, reencode, type TimeUnits } from "../cf/time.js";
import type { ZarrConverterConfig } from "../config/model.js";
import { IncompatibleSourceError, RegionError, timeProblem } from "../errors.js";
import { silentLogger } from "../log.js";
import type { VarPlan } from "../plan/layout.js";
import { SAME_INSTANT_SECONDS } from "../plan/region.js";
import { checkCoordinates, checkPackingRanges, openArchive, planWrites, readAxis } from "../pipeline/existing.js";
import { memoryVariable } from "../pipeline/memory.js";
import { checkIncreasing, findVar, openSource, readTimeAxis, timeLength, type Source } from "../pipeline/source.js";
import { emptyStats, numbersFrom, planVariableWrites, runWrites, type WriteStats } from "../pipeline/writer.js";
import type { ArrayModel } from "../zarr/metadata.js";
import type { Store } from "../zarr/store.js";
import { logSummary, type RunOptions } from "./convert.js";

export type OverlapPolicy = "error" | "skip";

export interface AppendOptions extends RunOptions {
  /** Steps at or before the archive's last time: refuse the file (default), or leave them out. */
  onOverlap?: OverlapPolicy;
}

export interface AppendSummary {
  file: string;
  archive: string;
  dim: string;
  /** Steps added. */
  appended: number;
  /** Steps of the file left out because the archive already covers them. */
  skipped: number;
  /** The archive's length along `dim` after the append. */
  length: number;
  dates?: [string, string];
  variables: number;
  seconds: number;
  stats: WriteStats;
  backend: string;
}

/** The lock appends to one archive take, whole (not a chunk key: those hold a '/' or are digits). */
const APPEND_LOCK = "zarrio-append";

/** The file's values along `dim`, in the archive's encoding, checked to increase. */
async function newCoordinates(source: Source, dim: string, coord: { model: ArrayModel; values: number[]; units?: TimeUnits }): Promise<{ values: number[]; describe(v: number): string }> {
  const file = source.file;
  if (coord.units) {
    const own = await readTimeAxis(source, dim);
    if (!own) throw new IncompatibleSourceError(`has no CF time coordinate '${dim}'; the archive's '${dim}' is one`, { file });
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
  if (!v || v.dims.length !== 1 || v.dims[0] !== dim || v.dtype === "str") {
    throw new IncompatibleSourceError(`has no numeric coordinate '${dim}'; the archive has one`, { file });
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

export async function append(file: string, target: string | Store, config: ZarrConverterConfig, options: AppendOptions = {}): Promise<AppendSummary> {
  const started = performance.now();
  const log = options.log ?? silentLogger;
  const dim = config.time.appendDim;
  const backend = options.backend ?? (await loadBackend());
  const opened = await openArchive(target, { s3: config.s3, log });
  const source = await openSource(backend, file, config, log);
  try {
    return await opened.archive.store.withLock(APPEND_LOCK, async () => {
      // Read the committed state under the lock: an append that just finished has moved the end.
      const ex = await openArchive(opened.archive.store);
      const archive = ex.archive;
      const plans = planWrites(ex, source, config, dim, [], log);
      const axis = await readAxis(backend, ex, dim);
      await checkCoordinates(backend, ex, source, dim);
      const n = timeLength(source, dim);
      if (!n) throw new IncompatibleSourceError(`has no steps along '${dim}' to append`, { file });

      let skip = 0;
      let coordValues: number[] | undefined;
      let dates: [string, string] | undefined;
      if (axis.coord) {
        const { values, describe } = await newCoordinates(source, dim, axis.coord);
        const last = axis.coord.values[axis.length - 1];
        if (last !== undefined) {
          // The shared slack for times (units may be re-encoded), exact for other coordinates.
          const tol = axis.coord.units ? SAME_INSTANT_SECONDS / axis.coord.units.unitSeconds : 0;
          skip = values.findIndex((v) => v > last + tol);
          if (skip < 0) skip = values.length;
          if (skip > 0 && options.onOverlap !== "skip") {
            throw new RegionError(
              `${dim} ${describe(values[0]!)} is not after the archive's last ${dim} ${describe(last)}: ${skip} of the file's ${values.length} steps overlap the archive ` +
                `(on-overlap skip keeps only the later ones)`,
              { file },
            );
          }
        }
        const dtype = axis.coord.model.dtype;
        const bad = values.slice(skip).findIndex((v) => !dtype.startsWith("float") && !Number.isInteger(v));
        if (bad >= 0) {
          throw new IncompatibleSourceError(`${dim} ${describe(values[skip + bad]!)} cannot be stored exactly in the archive's ${dtype} '${String(axis.coord.model.attributes.units ?? dim)}'`, { file });
        }
        coordValues = values.slice(skip);
        if (coordValues.length) dates = [describe(coordValues[0]!), describe(coordValues[coordValues.length - 1]!)];
      }
      const count = n - skip;
      const summary = (stats: WriteStats, length: number): AppendSummary => ({
        file,
        archive: ex.location,
        dim,
        appended: count,
        skipped: skip,
        length,
        dates,
        variables: plans.length,
        seconds: (performance.now() - started) / 1000,
        stats,
        backend: backend.name,
      });
      if (!count) {
        log.warn(`nothing to append: the archive already covers every ${dim} of ${file}`);
        return summary(emptyStats(), axis.length);
      }
      if (skip) log.info(`leaving out ${skip} step(s) of ${file} the archive already covers`);
      // The pre-check reads whole variables, so it runs when every step is appended; otherwise
      // the packer's own check refuses out-of-range values (before the new steps are committed).
      if (!skip) await checkPackingRanges(plans, source, config);

      const length = axis.length + count;
      const grown = plans.map((p): VarPlan => ({ ...p, model: grow(p.model, dim, length) }));
      const place = { timeOffset: axis.length, timeStart: skip, timeCount: count, slabBytes: config.slabSizeMb * 2 ** 20 };
      const jobs = grown.flatMap((v) => planVariableWrites(source.ds, file, v, place));
      if (axis.coord && coordValues) {
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
        jobs.push(...planVariableWrites(mem.ds, file, coordPlan, { timeOffset: axis.length, slabBytes: place.slabBytes }));
      }
      const stats = await runWrites(archive, jobs, { backend, concurrency: config.concurrency, policy: config.packing.rangeExceededAction, log });

      // Metadata: every array along dim grows (those not written read as missing there), the
      // coordinate last, then the consolidated metadata that commits it all.
      const along = [...ex.arrays].filter(([, m]) => m.dimensionNames.includes(dim));
      const unwritten = along.filter(([p]) => !grown.some((g) => g.arrayPath === p) && p !== axis.coord?.path);
      if (unwritten.length) log.info(`arrays not in this append read as missing over the new steps: ${unwritten.map(([p]) => p).join(", ")}`);
      const coordLast = ([path]: [string, ArrayModel]) => (path === axis.coord?.path ? 1 : 0);
      for (const [path, model] of along.sort((a, b) => coordLast(a) - coordLast(b))) await archive.writeArray(path, grow(model, dim, length));
      await archive.consolidate();
      log.info(`appended ${count} step(s) of ${file} along ${dim}`, { length, ...(dates ? { from: dates[0], to: dates[1] } : {}) });
      const done = summary(stats, length);
      logSummary(log, `append ${file}`, stats, done.seconds);
      return done;
    });
  } finally {
    source.ds.close();
  }
}
