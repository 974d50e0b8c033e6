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
import { availableParallelism } from "node:os";
import { stat } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import path from "node:path";

import { loadBackend, type Backend } from "../backend/index.js";
import { type ZarrConverterConfig, slabBytes } from "../config/model.js";
import { parseRegion } from "../config/parse.js";
import { toFileForm } from "../config/resolve.js";
import { ConfigError, RegionError, RetryLimitExceededError, ZarrioError } from "../errors.js";
import { Progress, silentLogger, type Logger, type LogLevel } from "../log.js";
import type { VarPlan } from "../plan/layout.js";
import { checkManualRegion, describeRegion, filesByChunk, placeByTimes, type Region } from "../plan/region.js";
import { runWorkers, takeGroups, type Shard } from "../pipeline/batch.js";
import { checkStatics, checkRanges, StaticCache, openArchive, planWrites, readAxis, type Axis, type ExistingArchive } from "../pipeline/existing.js";
import { fileDone } from "../pipeline/collect.js";
import { noTimeAxisReason, openSource, readTimeAxis, timeLength, type Source } from "../pipeline/source.js";
import { findMissing } from "../pipeline/verify.js";
import { addStats, emptyStats, planRunWrites, runOf, runOptions, runWrites, type WriteJob, type WriteStats } from "../pipeline/writer.js";
import { isS3Url } from "../s3/url.js";
import { arraySpec, storedShape } from "../zarr/metadata.js";
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
  if (own && units && axis.coord) ({ region: found, dates } = placeByTimes(own, { values: axis.coord.values, units }, file, dim));
  if (!manual) {
    if (!found) {
      const why = !own ? noTimeAxisReason(source, dim) : `sits in an archive without a CF time coordinate '${dim}'`;
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
 * A run that shares chunks with files outside it is merged into them (store.update). A store that
 * can't do that safely between processes (an object store ignoring conditional writes) gets no
 * such run: it is refused before anything is written, instead of racing another writer.
 */
async function checkSharedChunks(backend: Backend, store: Store, jobs: WriteJob[], files: string[]): Promise<void> {
  if (!store.safeUpdates) return;
  const shared = jobs.find((j) => !backend.chunksInRegion(arraySpec(j.v.model), j.origin, j.count).full.every(Boolean));
  // Chunk-aligned runs pay nothing: the store is probed only when a chunk is shared.
  if (!shared || (await store.safeUpdates())) return;
  const p = shared.v;
  throw new RegionError(
    `its region of '${p.arrayPath}' (from ${shared.origin.join(",")}, shape ${shared.count.join("×")}) shares ${p.model.shards ? "shards" : "chunks"} (${storedShape(p.model).join("×")}) with other files, ` +
      `and ${store.location} does not honour conditional writes (If-Match / If-None-Match), so two writers could lose each other's data there; ` +
      `give the archive ${p.model.shards ? "shards" : "chunks"} that each file fills exactly, or use a store that supports conditional writes`,
    { file: files.length === 1 ? files[0] : `${files[0]} … ${files[files.length - 1]} (${files.length} files written together)` },
  );
}

/**
 * What one process shares across the files it writes: the archive opened once, its time axis,
 * and the coordinate values already compared (files of one series carry the same grid, so each
 * distinct grid is compared with the archive once; later files only compare bytes).
 */
export interface BatchContext {
  backend: Backend;
  ex: ExistingArchive;
  axis: Axis;
  archiveDims: Map<string, number>;
  coordinates: StaticCache;
  config: ZarrConverterConfig;
  log: Logger;
}

export async function openBatch(target: string | Store, config: ZarrConverterConfig, log: Logger, backend: Backend): Promise<BatchContext> {
  const ex = await openArchive(target, { s3: config.s3, log });
  const axis = await readAxis(backend, ex, config.time.dim);
  const archiveDims = new Map<string, number>();
  for (const m of ex.arrays.values()) m.dimensionNames.forEach((d, i) => archiveDims.set(d, m.shape[i]!));
  return { backend, ex, axis, archiveDims, coordinates: new StaticCache(), config, log };
}

/** A file opened, placed and checked: nothing about it can fail before writing any more. */
interface Placed {
  source: Source;
  plans: VarPlan[];
  region: Region;
  dates?: [string, string];
  offsets: Record<string, number>;
}

/** Open a file, find its place and run every check; nothing is written, and a refused file is closed. */
async function placeAndCheck(ctx: BatchContext, file: string, manual?: Region, warned?: { chunking: boolean }): Promise<Placed> {
  const { backend, ex, config, log } = ctx;
  const source = await openSource(backend, file, config, log);
  try {
    const dim = config.time.dim;
    const plans = planWrites(backend, ex, source, config, dim, manual ? Object.keys(manual).filter((d) => d !== dim) : [], log, ctx.axis.coord?.units);
    if (!plans.length) throw new ConfigError(`nothing to write: no array along '${dim}' is selected`, "variables");
    if (warned && !warned.chunking) {
      warnChunking(config, plans, log);
      warned.chunking = true;
    }
    const { region, dates } = await placeFile(source, plans, ctx.axis, manual, ctx.archiveDims);
    const offsets = Object.fromEntries(Object.entries(region).map(([d, [a]]) => [d, a]));
    await checkStatics(backend, ex, source, dim, { offsets, cache: ctx.coordinates, exclude: config.variables.exclude });
    await checkRanges(plans, source, config);
    const checkVars = config.missingData.checkVars;
    if (checkVars !== "all") {
      for (const name of checkVars) {
        if (!plans.some((p) => p.name === name || p.arrayPath === name)) {
          throw new ConfigError(`'${name}' is not one of the arrays written (${plans.map((p) => p.arrayPath).join(", ")})`, "missingData.checkVars");
        }
      }
    }
    log.info(`region of ${file}: ${describeRegion(region)}`, dates ? { from: dates[0], to: dates[1] } : {});
    return { source, plans, region, dates, offsets };
  } catch (e) {
    source.ds.close();
    throw e;
  }
}

/**
 * Files that follow one another on the archive's time axis with the same arrays, the same place
 * on the other dimensions and no gap: each run is written as one region, so a chunk its files
 * fill together is written once.
 */
function runsOf(placed: Placed[], dim: string): Placed[][] {
  const sorted = [...placed].sort((a, b) => a.region[dim]![0] - b.region[dim]![0]);
  const key = (p: Placed) =>
    JSON.stringify([p.plans.map((v) => v.arrayPath), Object.entries(p.offsets).filter(([d]) => d !== dim), Object.entries(p.region).filter(([d]) => d !== dim)]);
  const runs: Placed[][] = [];
  for (const p of sorted) {
    const run = runs[runs.length - 1];
    const last = run?.[run.length - 1];
    if (run && last && last.region[dim]![1] === p.region[dim]![0] && key(last) === key(p)) run.push(p);
    else runs.push([p]);
  }
  return runs;
}

/** Write a run of placed files (see runsOf) as one region, with the missing-data check and its rewrites. */
async function writeRun(ctx: BatchContext, run: Placed[]): Promise<{ stats: WriteStats; retries: number }> {
  const { backend, ex, config, log } = ctx;
  const dim = config.time.dim;
  const files = run.map((p) => p.source.file);
  const first = run[0]!;
  const place = { timeOffset: first.region[dim]![0], offsets: first.offsets, slabBytes: slabBytes(config) };
  const planFor = (arrayPath: string) =>
    planRunWrites(
      runOf(
        run.map((p) => {
          const v = p.plans.find((x) => x.arrayPath === arrayPath)!;
          return { ds: p.source.ds, file: p.source.file, v, start: 0, count: v.timeAxis >= 0 ? v.source.shape[v.timeAxis]! : 0 };
        }),
      ),
      place,
    );
  const run1 = runOptions(config, backend, log);
  const checkVars = config.missingData.checkVars;
  const checked = (p: VarPlan) => checkVars === "all" || checkVars.includes(p.name) || checkVars.includes(p.arrayPath);
  let stats = emptyStats();
  let retries = 0;
  let todo = first.plans;
  const where = () => (run.length === 1 ? describeRegion(first.region) : `${dim}=${first.region[dim]![0]}:${run[run.length - 1]!.region[dim]![1]} (${run.length} files)`);
  for (let pass = 0; ; pass++) {
    const jobs = todo.flatMap((v) => planFor(v.arrayPath));
    if (pass === 0) await checkSharedChunks(backend, ex.archive.store, jobs, files);
    stats = addStats(stats, await runWrites(ex.archive, jobs, run1));
    const limit = config.missingData.retriesOnMissing;
    if (limit === 0) break;
    const missing = await findMissing(backend, ex, jobs.filter((j) => checked(j.v)), config.packing.rangeExceededAction, config.concurrency);
    if (!missing.length) break;
    const what = missing.map((m) => `${m.variable} holds ${m.found} of ${m.expected} values`).join("; ");
    if (retries >= limit) {
      throw new RetryLimitExceededError(`data still missing in ${where()} after ${retries} rewrite(s): ${what}`, { file: files.length === 1 ? files[0] : undefined, variable: missing[0]!.variable });
    }
    retries++;
    log.warn(`data missing after writing ${where()}: ${what}; rewriting (retry ${retries} of ${limit})`, { file: files[0] });
    todo = first.plans.filter((p) => missing.some((m) => m.variable === p.arrayPath));
  }
  return { stats, retries };
}

/** What happened to one file of a batch. */
export interface FileOutcome {
  file: string;
  region?: Region;
  dates?: [string, string];
  variables?: number;
  failure?: BatchFailure;
}

function failureOf(file: string, e: unknown): BatchFailure {
  // As in the writer pool: an unexpected error costs its files only (exit status 1).
  const err = e as Error;
  return { file, error: err?.name ?? "Error", message: err?.message ?? String(e), exitCode: e instanceof ZarrioError ? e.exitCode : 1 };
}

/**
 * Write a run; when one of its files fails while being written (a read error deep in a corrupt
 * file), that file is reported and the files before and after it are written again as runs of
 * their own (writes are idempotent, so what the first attempt stored is simply stored again).
 */
async function writeRunSafely(ctx: BatchContext, run: Placed[], report: (o: FileOutcome) => void): Promise<WriteStats> {
  try {
    const { stats } = await writeRun(ctx, run);
    for (const p of run) report({ file: p.source.file, region: p.region, dates: p.dates, variables: p.plans.length });
    return stats;
  } catch (e) {
    const bad = run.findIndex((p) => e instanceof ZarrioError && e.file === p.source.file);
    if (bad < 0 || run.length === 1) {
      for (const p of run) report({ file: p.source.file, failure: failureOf(p.source.file, e) });
      return emptyStats();
    }
    report({ file: run[bad]!.source.file, failure: failureOf(run[bad]!.source.file, e) });
    let stats = emptyStats();
    for (const part of [run.slice(0, bad), run.slice(bad + 1)]) if (part.length) stats = addStats(stats, await writeRunSafely(ctx, part, report));
    return stats;
  }
}

/**
 * Write a group of files (files that fill the same chunks, see plan/region.ts filesByChunk) in
 * this process: each file is placed and checked (a refused one is reported, nothing of it
 * written), then the rest are written run by run. Returns the figures; `report` hears of every file.
 */
export async function writeGroup(ctx: BatchContext, files: string[], report: (o: FileOutcome) => void, warned = { chunking: false }): Promise<WriteStats> {
  const placed: Placed[] = [];
  for (const file of files) {
    try {
      placed.push(await placeAndCheck(ctx, file, undefined, warned));
    } catch (e) {
      report({ file, failure: failureOf(file, e) });
    }
  }
  let stats = emptyStats();
  try {
    for (const run of runsOf(placed, ctx.config.time.dim)) stats = addStats(stats, await writeRunSafely(ctx, run, report));
  } finally {
    for (const p of placed) {
      p.source.ds.close();
      fileDone();
    }
  }
  return stats;
}

/** Write one file into its region of an archive (a path or a store). */
export async function writeRegion(file: string, target: string | Store, config: ZarrConverterConfig, options: WriteRegionOptions = {}): Promise<WriteRegionSummary> {
  const started = performance.now();
  const log = options.log ?? silentLogger;
  const manual = typeof options.region === "string" ? parseRegion(options.region) : options.region;
  const backend = options.backend ?? (await loadBackend());
  const ctx = await openBatch(target, config, log, backend);
  const placed = await placeAndCheck(ctx, file, manual, { chunking: false });
  let written: { stats: WriteStats; retries: number };
  try {
    written = await writeRun(ctx, [placed]);
  } finally {
    placed.source.ds.close();
  }
  const seconds = (performance.now() - started) / 1000;
  logSummary(log, `write-region ${file}`, written.stats, seconds);
  const { region, dates } = placed;
  return { file, archive: ctx.ex.location, region, dates, variables: placed.plans.length, retries: written.retries, seconds, stats: written.stats, backend: backend.name };
}

// ---- many files -----------------------------------------------------------------------------

export interface BatchOptions extends RunOptions {
  /** Writer processes on this machine (1: one after another in this process). */
  jobs?: number;
  /** Write only this share of the files (sorted, contiguous runs that follow chunk boundaries). */
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
  /** Groups of files that fill the same chunks, each written by one writer. */
  groups: number;
  seconds: number;
  /** The figures of every writer together. */
  stats: WriteStats;
}

/** The module writer processes run: beside this one (dist/commands/ for the library, dist/ for the bundled CLI). */
const WORKER = fileURLToPath(new URL("./write-region-worker.js", import.meta.url));

/**
 * How the sorted file list falls on the archive's chunks, from its first file that can be placed:
 * files of a series are usually equally long and back to back, so file i starts at the first
 * file's place + i × its length. Groups are cut where a file starts a time chunk (plan/region.ts
 * filesByChunk). Every writer of every job-array task computes the same groups from the same list.
 * Only the cut depends on this guess: each file is still placed by its own times when written,
 * and a guess that is wrong costs merges, never data.
 */
async function groupFiles(ctx: BatchContext, sorted: string[]): Promise<string[][]> {
  const dim = ctx.config.time.dim;
  for (let i = 0; i < Math.min(sorted.length, 3); i++) {
    let placed: Placed | undefined;
    try {
      placed = await placeAndCheck({ ...ctx, log: silentLogger }, sorted[i]!, undefined, { chunking: true });
      warnChunking(ctx.config, placed.plans, ctx.log);
    } catch {
      continue; // refused again, and reported, when its writer gets to it
    } finally {
      placed?.source.ds.close();
    }
    const [a, b] = placed.region[dim]!;
    // The longest time chunk (shard, when sharded) of the arrays written: groups never split one.
    const chunk = Math.max(...placed.plans.map((p) => (p.timeAxis >= 0 ? storedShape(p.model)[p.timeAxis]! : 1)));
    return filesByChunk(sorted.length, a - i * (b - a), b - a, chunk).map((g) => g.map((k) => sorted[k]!));
  }
  return filesByChunk(sorted.length, 0, 1, 1).map((g) => g.map((k) => sorted[k]!));
}

/**
 * What each of `writers` processes gets of the machine: its share of the cores (the core's
 * thread pool, RAYON_NUM_THREADS unless the user set it) and of the slab budget.
 */
export function writerShare(slabSizeMb: number, writers: number, cores = availableParallelism()): { slabSizeMb: number; threads: number } {
  return { slabSizeMb: Math.max(1, Math.floor(slabSizeMb / writers)), threads: Math.max(1, Math.floor(cores / writers)) };
}

/**
 * Write many files into one archive. The files are grouped by the time chunks they fill (see
 * groupFiles); a group is written by one writer, which reads its files together and writes each
 * chunk once. Only chunks at a group's ends can be shared with other groups (and other shards):
 * those are merged under the chunk's lock. `jobs` writer processes take groups from a queue (a
 * crash costs only the group being written), or one process writes them in turn. A failing file
 * does not stop the others; the summary lists what failed and why.
 */
export async function writeRegions(files: string[], target: string | Store, config: ZarrConverterConfig, options: BatchOptions = {}): Promise<BatchSummary> {
  const started = performance.now();
  const log = options.log ?? silentLogger;
  if (typeof target !== "string" && (options.jobs ?? 1) > 1) {
    throw new ConfigError("writer processes open the archive by its address: give a path or s3:// address, not a store object, with jobs > 1", "jobs");
  }
  const backend = options.backend ?? (await loadBackend());
  // Fails fast on a missing or unreadable archive rather than once per file.
  const ctx = await openBatch(target, config, log, backend);
  const sorted = [...files].sort();
  const groups = await groupFiles(ctx, sorted);
  const myGroups = options.shard ? takeGroups(groups, options.shard) : groups;
  const mine = myGroups.flat();
  const writers = Math.max(1, Math.min(options.jobs ?? 1, myGroups.length));
  if (options.shard) log.info(`shard ${options.shard.index}/${options.shard.count} (from ${options.shard.from}): ${mine.length} of ${files.length} files`);
  log.info(`${mine.length} file(s) in ${myGroups.length} group(s) of files that fill the same chunks, ${writers} writer(s)`);
  const sizes = new Map<string, number>();
  for (const f of mine) sizes.set(f, isS3Url(f) ? 0 : (await stat(f).catch(() => ({ size: 0 }))).size);
  const progress = new Progress(`write-region ×${writers}`, [...sizes.values()].reduce((a, b) => a + b, 0), options.progress ?? false);
  const written: string[] = [];
  const failed: BatchFailure[] = [];
  const done = (o: FileOutcome) => {
    if (o.failure) {
      failed.push(o.failure);
      log.error(`failed ${o.file}: ${o.failure.error}: ${o.failure.message}`);
    } else {
      written.push(o.file);
      log.info(`wrote ${o.file}`, { done: `${written.length + failed.length}/${mine.length}` });
    }
    progress.advance(sizes.get(o.file) ?? 0);
  };

  let stats = emptyStats();
  if (writers <= 1) {
    const warned = { chunking: true }; // said by groupFiles
    for (const group of myGroups) stats = addStats(stats, await writeGroup(ctx, group, done, warned));
  } else {
    // Writers get this run's exact settings, and its backend, with the machine shared between
    // them: each computes on its share of the cores and keeps its share of the slab budget, so
    // N writers use about the memory of one process plus N runtimes (a slab is still at least
    // one chunk, so a smaller budget never turns whole-chunk writes into merges).
    const share = writerShare(config.slabSizeMb, writers);
    log.debug(`each writer: ${share.slabSizeMb} MiB of slabs, ${share.threads} core thread(s)`);
    await runWorkers(
      myGroups,
      writers,
      WORKER,
      { config: toFileForm({ ...config, slabSizeMb: share.slabSizeMb }), target: target as string },
      {
        onLog: (group, level, message, fields) => log.log(level as LogLevel, `[${path.basename(group[0]!)}${group.length > 1 ? ` +${group.length - 1}` : ""}] ${message}`, fields),
        onDone: (r) => done({ file: r.item, failure: r.ok ? undefined : { file: r.item, error: r.error!, message: r.message!, exitCode: r.exitCode } }),
        onStats: (s) => {
          stats = addStats(stats, s as WriteStats);
        },
      },
      { ZARRIO_BACKEND: backend.name, ...(process.env.RAYON_NUM_THREADS ? {} : { RAYON_NUM_THREADS: String(share.threads) }) },
    );
  }
  progress.finish();
  const seconds = (performance.now() - started) / 1000;
  logSummary(log, "write-region", stats, seconds);
  return { archive: typeof target === "string" ? target : ctx.ex.location, given: files.length, files: mine, shard: options.shard, written, failed, writers, groups: myGroups.length, seconds, stats };
}
