/**
 * The one configuration model, shared by the library, the CLI and config files. Every field has
 * a default and a doc line. Field names follow the Python zarrio's (camelCase here; config files
 * may use either spelling, see `config/load.ts`).
 */
import type { Compressor, OutOfRangePolicy, ReaderKind } from "../backend/types.js";
import type { LogFormat, LogLevel } from "../log.js";

export type AccessPattern = "temporal" | "spatial" | "balanced";

export interface PackingConfig {
  /** Pack float variables to integers with scale_factor/add_offset. */
  enabled: boolean;
  /** Integer width: 8, 16 or 32 bits. */
  bits: 8 | 16 | 32;
  /** Fixed ranges per variable: `{ temperature: { min: -50, max: 50 } }`. */
  manualRanges: Record<string, { min: number; max: number }>;
  /** Widen a range taken from the data by this fraction of (max - min) on each side. */
  autoBufferFactor: number;
  /** What a value outside the range does: refuse the write, clip it, or store it as missing. */
  rangeExceededAction: OutOfRangePolicy;
  /** Variables never packed. */
  exclude: string[];
}

export interface TimeConfig {
  /** The time dimension's name. */
  dim: string;
  /** The dimension `append` extends (defaults to `dim`). */
  appendDim: string;
  /** First time of a template's axis (ISO date, in the template's calendar). */
  globalStart?: string;
  /** Last time of a template's axis (inclusive). */
  globalEnd?: string;
  /** Step of a template's axis ("1h", "6h", "1D", "1MS"); inferred from the template when absent. */
  freq?: string;
}

export interface VariablesConfig {
  /** Only these variables (plus the coordinates they need); all when absent. */
  include?: string[];
  /** Never these. */
  exclude: string[];
}

export interface MissingDataConfig {
  /** Variables whose data is read back and checked after a write: "all" or a list. */
  checkVars: "all" | string[];
  /** Rewrites allowed when the check finds data missing; 0 turns the check off. */
  retriesOnMissing: number;
}

export interface ZarrConverterConfig {
  /** Chunk length per dimension name; dimensions not named are chosen (see intelligentChunking). */
  chunking: Record<string, number>;
  /** Chunk compressor; null stores chunks uncompressed. */
  compression: Compressor | null;
  packing: PackingConfig;
  time: TimeConfig;
  variables: VariablesConfig;
  missingData: MissingDataConfig;
  /** Global attributes added to (or replacing those of) the archive's root group. */
  attrs: Record<string, unknown>;
  /** Target uncompressed chunk size for chosen chunk lengths, in MiB. */
  targetChunkSizeMb: number;
  /** Choose every unnamed dimension's chunk length for an access pattern. */
  intelligentChunking: boolean;
  /** The access pattern chunking is chosen for. */
  accessPattern: AccessPattern;
  /** Zarr format written: 3 (default) or 2. */
  zarrFormat: 2 | 3;
  /** Convert only this NetCDF-4 group (path like "/ocean"); the whole file when absent. */
  group?: string;
  /** Slabs in flight at once per process (reading overlaps encoding). */
  concurrency: number;
  /** Upper bound on one slab's uncompressed size, in MiB (bounds memory). */
  slabSizeMb: number;
  /** Which NetCDF reader the native backend uses. */
  reader: ReaderKind;
  logging: { level: LogLevel; format: LogFormat };
}

export const DEFAULT_CONFIG: ZarrConverterConfig = {
  chunking: {},
  compression: { id: "blosc", cname: "zstd", clevel: 3, shuffle: "byte", blocksize: 0 },
  packing: { enabled: false, bits: 16, manualRanges: {}, autoBufferFactor: 0.01, rangeExceededAction: "error", exclude: [] },
  time: { dim: "time", appendDim: "time" },
  variables: { exclude: [] },
  missingData: { checkVars: "all", retriesOnMissing: 0 },
  attrs: {},
  targetChunkSizeMb: 8,
  intelligentChunking: false,
  accessPattern: "balanced",
  zarrFormat: 3,
  concurrency: 2,
  slabSizeMb: 64,
  reader: "auto",
  logging: { level: "warn", format: "text" },
};

/** A partial configuration, as a library user or a config file gives it. */
export type ConfigInput = {
  [K in keyof ZarrConverterConfig]?: ZarrConverterConfig[K] extends Record<string, unknown> | undefined
    ? Partial<ZarrConverterConfig[K]> | ZarrConverterConfig[K]
    : ZarrConverterConfig[K];
};
