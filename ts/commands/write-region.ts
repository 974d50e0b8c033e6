/**
 * write-region: one file's data into its place in an existing archive (made by create-template,
 * or convert), with exactly the encoding the archive stores. Many writers can run at once, in any
 * order, on one archive:
 *
 * - Chunks a file covers completely are written directly (each key atomically); chunks it shares
 *   with a neighbouring file (file boundaries that do not fall on chunk boundaries) are merged
 *   with what is stored under that chunk's lock (see zarr/lock.ts), so no writer loses another's
 *   data. Chunk-aligned files never take a lock.
 * - Every check (placement, variables, dims, shapes, dtypes, units, coordinates, fill values,
 *   packing ranges under the `error` policy) runs before the first byte is written; a refused
 *   file leaves the archive untouched.
 * - Writing is idempotent: the same file written twice gives the same archive, and a writer
 *   killed midway completes the archive when run again.
 * - With `missingData.retriesOnMissing` N > 0, the region is read back and compared with the
 *   source; data missing where the source had some is rewritten up to N times, then a
 *   RetryLimitExceededError.
 *
 * Metadata is not touched: the template declared every array at full size.
 */
import { stat } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import path from "node:path";

import { loadBackend, type Backend } from "../backend/index.js";
import { decodeValue, formatDate, reencode } from "../cf/time.js";
import type { ZarrConverterConfig } from "../config/model.js";
import { parseRegion } from "../config/parse.js";
import { toFileForm } from "../config/resolve.js";
import { ConfigError, RegionError, RetryLimitExceededError, timeProblem, ZarrioError } from "../errors.js";
import { Progress, silentLogger, type Logger, type LogLevel } from "../log.js";
import type { VarPlan } from "../plan/layout.js";
import { checkManualRegion, describeRegion, regionFromTimes, type Region } from "../plan/region.js";
import { runWorkers, takeShare, type Shard } from "../pipeline/batch.js";
import { checkCoordinates, checkPackingRanges, openArchive, planWrites, readAxis, type Axis } from "../pipeline/existing.js";
import { openSource, readTimeAxis, timeLength, type Source } from "../pipeline/source.js";
import { findMissing } from "../pipeline/verify.js";
import { addStats, emptyStats, planVariableWrites, runWrites, type WriteStats } from "../pipeline/writer.js";
import { isS3Url } from "../s3/url.js";
import { arraySpec } from "../zarr/metadata.js";
import type { Store } from "../zarr/store.js";
import { logSummary, type RunOptions } from "./convert.js";

export interface WriteRegionOptions extends RunOptions {
  /** Where to write, instead of the place the file's times give: "time=0:24" or { time: [0, 24] }. */
  region?: string | Region;
}

export interface WriteRegionSummary {
  file: string;
  archive: string;
  region: Region;
  /** First and last time written, when the file has CF times. */
  dates?: [string, string];
  variables: number;
  /** Rewrites the missing-data check asked for. */
  retries: number;
  seconds: number;
  stats: WriteStats;
  backend: string;
}

/** Say once that chunk lengths come from the archive when flags or a config file ask for others. */
function warnChunking(config: ZarrConverterConfig, plans: VarPlan[], log: Logger): void {
  const ignored = new Set<string>();
  for (const p of plans) {
    p.model.dimensionNames.forEach((d, i) => {
      const asked = config.chunking[d];
      if (asked !== undefined && asked !== p.model.chunks[i]) ignored.add(`${d}:${asked} (the archive has ${p.model.chunks[i]})`);
    });
  }
  if (ignored.size) log.warn(`chunking is fixed by the archive; ignoring ${[...ignored].join(", ")}`);
}

/** Where the file goes: from its times, or a hand-given region checked against its shape (and its times, when it has some). */
async function placeFile(source: Source, plans: VarPlan[], axis: Axis, manual: Region | undefined, archiveDims: Map<string, number>): Promise<{ region: Region; dates?: [string, string] }> {
  const file = source.file;
  const dim = axis.dim;
  const units = axis.coord?.units;
  const own = await readTimeAxis(source, dim);
  let found: [number, number] | undefined;
  let dates: [string, string] | undefined;
  if (own && units && axis.coord) {
    let values: number[];
    try {
      values = reencode(own.values, own.units, units);
    } catch (e) {
      throw timeProblem(e, file);
    }
    found = regionFromTimes(values, axis.coord.values, units, file, dim);
    dates = [formatDate(decodeValue(values[0]!, units)), formatDate(decodeValue(values[values.length - 1]!, units))];
  }
  if (!manual) {
    if (!found) {
      const why = !own ? `has no CF time coordinate '${dim}'` : `sits in an archive without a CF time coordinate '${dim}'`;
      throw new RegionError(`${why} to find its place by; give the region by hand (--region ${dim}=start:stop)`, { file });
    }
    return { region: { [dim]: found }, dates };
  }
  if (!manual[dim]) throw new RegionError(`a region given by hand must include '${dim}' (e.g. --region ${dim}=0:${timeLength(source, dim)})`, { file });
  const fileDims = new Map<string, number>();
  for (const p of plans) p.source.dims.forEach((d, i) => fileDims.set(d, p.source.shape[i]!));
  checkManualRegion(manual, fileDims, archiveDims, file);
  if (found && found[0] !== manual[dim]![0]) {
    throw new RegionError(`region ${dim}=${manual[dim]!.join(":")} disagrees with the file's times, which belong at ${dim}=${found.join(":")} (from ${dates![0]})`, { file });
  }
  return { region: manual, dates };
}

/**
 * A region that shares chunks with its neighbours is merged into them (store.update). A store that
 * can't do that safely between processes (an object store ignoring conditional writes) gets no
 * such region: it is refused before anything is written, instead of racing another writer.
 */
async function checkSharedChunks(backend: Backend, store: Store, plans: VarPlan[], offsets: Record<string, number>, file: string): Promise<void> {
  if (!store.safeUpdates) return;
  for (const p of plans) {
    const origin = p.model.dimensionNames.map((d) => offsets[d] ?? 0);
    const { full } = backend.chunksInRegion(arraySpec(p.model), origin, p.source.shape);
    // Chunk-aligned regions pay nothing: the store is probed only when a chunk is shared.
    if (full.every(Boolean) || (await store.safeUpdates())) continue;
    throw new RegionError(
      `its region of '${p.arrayPath}' (from ${origin.join(",")}, shape ${p.source.shape.join("×")}) shares chunks (${p.model.chunks.join("×")}) with other files, ` +
        `and ${store.location} does not honour conditional writes (If-Match / If-None-Match), so two writers could lose each other's data there; ` +
        `give the archive chunks that each file fills exactly, or use a store that supports conditional writes`,
      { file },
    );
  }
}

/** Write one file into its region of an archive (a path or a store). */
export async function writeRegion(file: string, target: string | Store, config: ZarrConverterConfig, options: WriteRegionOptions = {}): Promise<WriteRegionSummary> {
  const started = performance.now();
  const log = options.log ?? silentLogger;
  const manual = typeof options.region === "string" ? parseRegion(options.region) : options.region;
  const backend = options.backend ?? (await loadBackend());
  const ex = await openArchive(target, { s3: config.s3, log });
  const source = await openSource(backend, file, config, log);
  try {
    const dim = config.time.dim;
    const plans = planWrites(ex, source, config, dim, manual ? Object.keys(manual).filter((d) => d !== dim) : [], log);
    if (!plans.length) throw new ConfigError(`nothing to write: no array along '${dim}' is selected`, "variables");
    warnChunking(config, plans, log);
    const axis = await readAxis(backend, ex, dim);
    const archiveDims = new Map<string, number>();
    for (const m of ex.arrays.values()) m.dimensionNames.forEach((d, i) => archiveDims.set(d, m.shape[i]!));
    const { region, dates } = await placeFile(source, plans, axis, manual, archiveDims);
    const offsets = Object.fromEntries(Object.entries(region).map(([d, [a]]) => [d, a]));
    await checkCoordinates(backend, ex, source, dim, offsets);
    await checkSharedChunks(backend, ex.archive.store, plans, offsets, file);
    await checkPackingRanges(plans, source, config);
    const checkVars = config.missingData.checkVars;
    if (checkVars !== "all") {
      for (const name of checkVars) {
        if (!plans.some((p) => p.name === name || p.arrayPath === name)) {
          throw new ConfigError(`'${name}' is not one of the arrays written (${plans.map((p) => p.arrayPath).join(", ")})`, "missingData.checkVars");
        }
      }
    }
    log.info(`region of ${file}: ${describeRegion(region)}`, dates ? { from: dates[0], to: dates[1] } : {});

    const place = { timeOffset: region[dim]![0], offsets, slabBytes: config.slabSizeMb * 2 ** 20 };
    const run = { concurrency: config.concurrency, policy: config.packing.rangeExceededAction, log };
    const checked = (p: VarPlan) => checkVars === "all" || checkVars.includes(p.name) || checkVars.includes(p.arrayPath);
    let stats = emptyStats();
    let retries = 0;
    let todo = plans;
    for (;;) {
      const jobs = todo.flatMap((v) => planVariableWrites(source.ds, file, v, place));
      stats = addStats(stats, await runWrites(ex.archive, jobs, run));
      const limit = config.missingData.retriesOnMissing;
      if (limit === 0) break;
      const missing = await findMissing(backend, ex, jobs.filter((j) => checked(j.v)), config.packing.rangeExceededAction, config.concurrency);
      if (!missing.length) break;
      const what = missing.map((m) => `${m.variable} holds ${m.found} of ${m.expected} values`).join("; ");
      if (retries >= limit) {
        throw new RetryLimitExceededError(`data still missing in ${describeRegion(region)} after ${retries} rewrite(s): ${what}`, { file, variable: missing[0]!.variable });
      }
      retries++;
      log.warn(`data missing after writing ${describeRegion(region)}: ${what}; rewriting (retry ${retries} of ${limit})`, { file });
      todo = plans.filter((p) => missing.some((m) => m.variable === p.arrayPath));
    }
    const seconds = (performance.now() - started) / 1000;
    logSummary(log, `write-region ${file}`, stats, seconds);
    return { file, archive: ex.location, region, dates, variables: plans.length, retries, seconds, stats, backend: backend.name };
  } finally {
    source.ds.close();
  }
}

// ---- many files -----------------------------------------------------------------------------

export interface BatchOptions extends RunOptions {
  /** Writer processes on this machine (1: one after another in this process). */
  jobs?: number;
  /** Write only this share of the files (sorted, contiguous runs). */
  shard?: Shard;
}

export interface BatchFailure {
  file: string;
  /** The error class, e.g. RegionError. */
  error: string;
  message: string;
  exitCode: number;
}

export interface BatchSummary {
  archive: string;
  /** Files given (before sharding). */
  given: number;
  /** This shard's files. */
  files: string[];
  shard?: Shard;
  written: string[];
  failed: BatchFailure[];
  writers: number;
  seconds: number;
}

/** The module writer processes run: beside this one (dist/commands/ for the library, dist/ for the bundled CLI). */
const WORKER = fileURLToPath(new URL("./write-region-worker.js", import.meta.url));

/**
 * Write many files into one archive: a pool of `jobs` writer processes (a crash costs only the
 * file being written), or one file after another in this process. A failing file does not stop
 * the others; the summary lists what failed and why.
 */
export async function writeRegions(files: string[], target: string, config: ZarrConverterConfig, options: BatchOptions = {}): Promise<BatchSummary> {
  const started = performance.now();
  const log = options.log ?? silentLogger;
  const mine = options.shard ? takeShare(files, options.shard) : files;
  const writers = Math.max(1, Math.min(options.jobs ?? 1, mine.length));
  if (options.shard) log.info(`shard ${options.shard.index}/${options.shard.count} (from ${options.shard.from}): ${mine.length} of ${files.length} files`);
  // Fail fast on a missing or unreadable archive rather than once per file.
  const backend = options.backend ?? (await loadBackend());
  await openArchive(target, { s3: config.s3, log });
  const sizes = new Map<string, number>();
  for (const f of mine) sizes.set(f, isS3Url(f) ? 0 : (await stat(f).catch(() => ({ size: 0 }))).size);
  const progress = new Progress(`write-region ×${writers}`, [...sizes.values()].reduce((a, b) => a + b, 0), options.progress ?? false);
  const written: string[] = [];
  const failed: BatchFailure[] = [];
  const done = (file: string, failure?: BatchFailure) => {
    if (failure) {
      failed.push(failure);
      log.error(`failed ${file}: ${failure.error}: ${failure.message}`);
    } else {
      written.push(file);
      log.info(`wrote ${file}`, { done: `${written.length + failed.length}/${mine.length}` });
    }
    progress.advance(sizes.get(file) ?? 0);
  };

  if (writers <= 1) {
    for (const file of mine) {
      try {
        await writeRegion(file, target, config, { log, backend });
        done(file);
      } catch (e) {
        // As in the writer pool: an unexpected error costs this file only (exit status 1).
        const err = e as Error;
        done(file, { file, error: err?.name ?? "Error", message: err?.message ?? String(e), exitCode: e instanceof ZarrioError ? e.exitCode : 1 });
      }
    }
  } else {
    // Writers get this run's exact settings, and its backend.
    await runWorkers(
      mine,
      writers,
      WORKER,
      { config: toFileForm(config), target },
      {
        onLog: (file, level, message, fields) => log.log(level as LogLevel, `[${path.basename(file)}] ${message}`, fields),
        onDone: (r) => done(r.item, r.ok ? undefined : { file: r.item, error: r.error!, message: r.message!, exitCode: r.exitCode }),
      },
      { ZARRIO_BACKEND: backend.name },
    );
  }
  progress.finish();
  return { archive: target, given: files.length, files: mine, shard: options.shard, written, failed, writers, seconds: (performance.now() - started) / 1000 };
}
