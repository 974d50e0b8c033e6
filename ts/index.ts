/**
 * zarrio's library API. It mirrors the CLI: `new ZarrConverter(config).convert(...)` does what
 * `zarrio convert` does, with the same configuration model and the same typed errors.
 */
import { loadBackend, type Backend, type BackendChoice } from "./backend/index.js";
import { convert, type ConvertSummary } from "./commands/convert.js";
import { analyze, type AnalysisReport } from "./commands/analyze.js";
import { validate, type ValidationReport } from "./commands/validate.js";
import { append, appendFiles, type AppendedFile, type AppendFilesSummary, type AppendSummary, type OverlapPolicy } from "./commands/append.js";
import { createTemplate, type TemplateSummary } from "./commands/create-template.js";
import { writeRegion, writeRegions, type BatchSummary, type WriteRegionSummary } from "./commands/write-region.js";
import type { AccessPattern } from "./config/model.js";
import type { Region } from "./plan/region.js";
import type { Shard } from "./pipeline/batch.js";
import type { Store } from "./zarr/store.js";
import type { ZarrConverterConfig } from "./config/model.js";
import { resolveConfig, toFileForm, type Layer } from "./config/resolve.js";
import { Logger, silentLogger } from "./log.js";

export * from "./errors.js";
export { DEFAULT_CONFIG } from "./config/model.js";
export type { ZarrConverterConfig, PackingConfig, TimeConfig, VariablesConfig, MissingDataConfig, AccessPattern } from "./config/model.js";
export { resolveConfig } from "./config/resolve.js";
export { loadConfigFile } from "./config/load.js";
export { loadBackend, fallbackReason } from "./backend/index.js";
export { nativeOrigin } from "./backend/index.js";
export type { Backend, BackendChoice };
export { Logger } from "./log.js";
export type { ConvertSummary };
export { FsStore, MemoryStore, type Store } from "./zarr/store.js";
export { lockedUpdate, setPieces, type LockingStore, type ReadableStore, type WritableStore } from "./zarr/contract.js";
export { openStore, type StoreOptions } from "./zarr/open.js";
export { zipParts, type ZipOptions } from "./zarr/zip.js";
export { S3Store } from "./s3/store.js";
export type { S3Settings } from "./s3/session.js";
export type { AppendSummary, AppendFilesSummary, AppendedFile, OverlapPolicy, TemplateSummary, WriteRegionSummary, BatchSummary, Region, Shard };
export { TEMPLATE_RANGE_MARGIN } from "./commands/create-template.js";
export { parseShard, shardFromEnv, takeShare, takeGroups, expandInputs } from "./pipeline/batch.js";
export { filesByChunk } from "./plan/region.js";
export { analyze, PACKING_PRECISION, LINK_MBPS } from "./commands/analyze.js";
export type { AnalysisReport, AnalyzeOptions, VariableReport, ChunkingRecommendation, PackingAdvice, CodecTrials, CodecResult } from "./commands/analyze.js";
export { validate } from "./commands/validate.js";
export type { ValidationReport, Problem, ProblemKind, SourceCheck, ArrayFacts, TimeRange } from "./commands/validate.js";
export { configSchema, configKeys } from "./config/schema.js";
export { toFileForm } from "./config/resolve.js";
export { chooseChunks, type ChunkRequest, type ChunkChoice } from "./plan/chunking.js";
export { chooseShards, type ShardRequest, type ShardChoice } from "./plan/sharding.js";

/** createTemplate's arguments (the Python tool's, in camelCase). */
export interface CreateTemplateOptions {
  /** The NetCDF file whose variables, encoding, time units and calendar the archive takes. */
  templateDataset: string;
  outputPath: string;
  /** First time of the archive's axis (ISO date, in the template's calendar). */
  globalStart: string;
  /** Last time (inclusive). */
  globalEnd: string;
  /** Step ("1h", "1D", "1MS"...); the template's own step when absent. */
  freq?: string;
  /** Accepted for compatibility: a template never holds data chunks. */
  compute?: boolean;
  /** Accepted for compatibility: chunk lengths not fixed by `chunking` are always chosen. */
  intelligentChunking?: boolean;
  accessPattern?: AccessPattern;
  overwrite?: boolean;
}

/** Configuration as a library user gives it: any subset, in camelCase or snake_case. */
export type ConverterOptions = Layer & { logger?: Logger; backend?: BackendChoice };

export class ZarrConverter {
  readonly config: ZarrConverterConfig;
  private readonly logger: Logger;
  private readonly backendChoice?: BackendChoice;

  constructor(options: ConverterOptions = {}) {
    const { logger, backend, ...layer } = options;
    this.config = resolveConfig(layer);
    this.logger = logger ?? silentLogger;
    this.backendChoice = backend;
  }

  private backend(): Promise<Backend> {
    return loadBackend(this.backendChoice);
  }

  /** Convert one or more NetCDF files (joined along time) into a new Zarr archive. */
  async convert(inputs: string | string[], output: string, options: { overwrite?: boolean } = {}): Promise<ConvertSummary> {
    return convert(Array.isArray(inputs) ? inputs : [inputs], output, this.config, {
      log: this.logger,
      overwrite: options.overwrite,
      backend: await this.backend(),
    });
  }

  /** An archive for a whole time range: metadata, coordinates, time values and static variables, no data. */
  async createTemplate(options: CreateTemplateOptions): Promise<TemplateSummary> {
    const { templateDataset, outputPath, globalStart, globalEnd, freq, intelligentChunking, accessPattern, overwrite } = options;
    const config = resolveConfig(toFileForm(this.config), { time: { globalStart, globalEnd, freq }, intelligentChunking, accessPattern });
    return createTemplate(templateDataset, outputPath, config, { log: this.logger, overwrite, backend: await this.backend() });
  }

  /** Write one file into its place in an archive: found from its times, or `region` ("time=0:24" or { time: [0, 24] }). */
  async writeRegion(input: string, archive: string | Store, options: { region?: string | Region } = {}): Promise<WriteRegionSummary> {
    return writeRegion(input, archive, this.config, { log: this.logger, region: options.region, backend: await this.backend() });
  }

  /**
   * Write many files into one archive, `jobs` writer processes at a time, optionally only a
   * `shard` of them; a failing file does not stop the others (see the summary's `failed`). Files
   * that fill the same chunks are written together, each chunk once. A Store object as the
   * archive works in this process only (jobs 1).
   */
  async writeRegions(inputs: string[], archive: string | Store, options: { jobs?: number; shard?: Shard } = {}): Promise<BatchSummary> {
    return writeRegions(inputs, archive, this.config, { log: this.logger, jobs: options.jobs, shard: options.shard, backend: await this.backend() });
  }

  /**
   * Describe a NetCDF file and recommend chunking, packing and compression (`zarrio analyze`);
   * `testPerformance`/`runTests` measure codecs on a sample.
   */
  async analyze(file: string, options: { testPerformance?: boolean; runTests?: boolean } = {}): Promise<AnalysisReport> {
    return analyze(file, this.config, { ...options, log: this.logger, backend: await this.backend() });
  }

  /**
   * Check an archive (`zarrio validate`): metadata, time axis, chunks, never-written ranges and,
   * given source files, their values. Problems are in the report (`ok` false), not thrown.
   */
  async validate(archive: string, sources: string[] = []): Promise<ValidationReport> {
    return validate(archive, sources, this.config, { log: this.logger, backend: await this.backend() });
  }

  /** Extend an archive along time (time.appendDim) with a file's data, encoded as the archive's arrays. */
  async append(input: string, archive: string | Store, options: { onOverlap?: OverlapPolicy } = {}): Promise<AppendSummary> {
    return append(input, archive, this.config, { log: this.logger, onOverlap: options.onOverlap, backend: await this.backend() });
  }

  /**
   * Extend an archive with several files, in the order given, as one run: all checked before
   * anything is written, chunks they fill together written once, committed at once.
   */
  async appendFiles(inputs: string[], archive: string | Store, options: { onOverlap?: OverlapPolicy } = {}): Promise<AppendFilesSummary> {
    return appendFiles(inputs, archive, this.config, { log: this.logger, onOverlap: options.onOverlap, backend: await this.backend() });
  }
}

/** One-call append: `await appendToZarr("new.nc", "archive.zarr", { onOverlap: "skip" })`. */
export function appendToZarr(input: string, archive: string | Store, options: ConverterOptions & { onOverlap?: OverlapPolicy } = {}): Promise<AppendSummary> {
  const { onOverlap, ...rest } = options;
  return new ZarrConverter(rest).append(input, archive, { onOverlap });
}

/** One-call conversion: `await convertToZarr("in.nc", "out.zarr", { compression: "blosc:zstd:3" })`. */
export function convertToZarr(inputs: string | string[], output: string, options: ConverterOptions & { overwrite?: boolean } = {}): Promise<ConvertSummary> {
  const { overwrite, ...rest } = options;
  return new ZarrConverter(rest).convert(inputs, output, { overwrite });
}
