/**
 * The one configuration model, shared by the library, the CLI and config files.
 *
 * `CONFIG_SPEC` is its single source of truth: for every field the doc line, the default, the
 * rule that validates it and the JSON Schema (rules.ts), and its command-line flag; the defaults,
 * validation (resolve.ts), `zarrio config --schema` (schema.ts), `zarrio config --print` and the
 * CLI's options with their help (cli/flags.ts) all come from it.
 * The interfaces below give the resolved shape its TypeScript types; the spec is type-checked
 * against them, so a field cannot be added to one and forgotten in the other.
 *
 * Field names follow the Python zarrio's, camelCase here; config files may use either spelling
 * (`target_chunk_size_mb` or `targetChunkSizeMb`).
 */
import type { Compressor, OutOfRangePolicy, ReaderKind } from "../backend/types.js";
import { parseDate, parseFreq, TimeError } from "../cf/time.js";
import { ConfigError } from "../errors.js";
import type { LogFormat, LogLevel } from "../log.js";
import type { S3Settings } from "../s3/session.js";
import { chunkingRule, compressionRule, formatCompression, manualRangesRule, parseJson, parseList, shardingRule } from "./parse.js";
import { bool, choice, mapping, names, number, optional, refine, text, type Rule } from "./rules.js";

export type AccessPattern = "temporal" | "spatial" | "balanced";

export interface PackingConfig {
  enabled: boolean;
  bits: 8 | 16 | 32;
  manualRanges: Record<string, { min: number; max: number }>;
  autoBufferFactor: number;
  rangeExceededAction: OutOfRangePolicy;
  exclude: string[];
}

export interface TimeConfig {
  dim: string;
  appendDim: string;
  globalStart?: string;
  globalEnd?: string;
  freq?: string;
}

export interface VariablesConfig {
  include?: string[];
  exclude: string[];
}

export interface MissingDataConfig {
  checkVars: "all" | string[];
  retriesOnMissing: number;
}

/** Object stores (s3:// outputs, archives and inputs); see zarr/s3/session.ts. */
export type S3Config = S3Settings;

export interface LoggingConfig {
  level: LogLevel;
  format: LogFormat;
}

/** The resolved configuration; see `CONFIG_SPEC` (or `zarrio config --schema`) for each field. */
export interface ZarrConverterConfig {
  chunking: Record<string, number>;
  /** Shard lengths by dimension name, or "auto"; absent: not sharded. */
  sharding?: Record<string, number> | "auto";
  targetShardSizeMb: number;
  compression: Compressor | null;
  packing: PackingConfig;
  time: TimeConfig;
  variables: VariablesConfig;
  missingData: MissingDataConfig;
  attrs: Record<string, unknown>;
  targetChunkSizeMb: number;
  intelligentChunking: boolean;
  accessPattern: AccessPattern;
  zarrFormat: 2 | 3;
  group?: string;
  concurrency: number;
  slabSizeMb: number;
  reader: ReaderKind;
  s3: S3Config;
  logging: LoggingConfig;
}

/** The slab budget in bytes (`slabSizeMb`). */
export function slabBytes(config: ZarrConverterConfig): number {
  return config.slabSizeMb * 2 ** 20;
}

// ---- the spec -----------------------------------------------------------------------------------

export interface Leaf<T> extends Rule<T> {
  kind: "leaf";
  doc: string;
  default: T;
  /** The command-line flag that sets it (cli/flags.ts makes the option, its help and its mapping from this). */
  cli?: CliFlag;
  /** How the value is written into a config file (`config --print`); as is when absent. */
  print?(value: T): unknown;
}

export interface Section<T> {
  kind: "section";
  doc: string;
  fields: { [K in keyof T]-?: Node<T[K]> };
  /**
   * Other names accepted for compatibility with the Python tool's files, each turned into the
   * value of a field (`checkRangeExceeded: false` → `rangeExceededAction: clip`).
   */
  aliases?: Record<string, { field: keyof T & string; doc: string; rule: Rule<unknown>; value(v: unknown): unknown }>;
  /**
   * Checks and defaults that involve several fields, after each field is parsed; `given` is
   * the section as the layers gave it (to tell a default from a value given).
   */
  finish?(value: T, key: string, given: Record<string, unknown>): T;
}

export type Node<T> = Leaf<T> | Section<T>;

/**
 * A field's command-line flag. A flag is a switch when its field is a boolean, and takes a value
 * otherwise; the help line ends with the field's default, "(default: 16)", unless the default is
 * empty or false.
 */
export interface CliFlag {
  /** The option's names as clipanion takes them, the first long one first: "--drop-variables,--exclude". */
  names: string;
  /** The help line, without the default. */
  help: string;
  /** What the help says of the default when the value alone would not say it ("the time dimension"). */
  default?: string;
  /** Turns the flag's text into the field's input (a list, parsed JSON); the text as is when absent. */
  parse?(text: string, key: string): unknown;
}

function leaf<T>(doc: string, def: T, rule: Rule<T>, extra: Partial<Pick<Leaf<T>, "cli" | "print">> = {}): Leaf<T> {
  return { kind: "leaf", doc, default: def, ...rule, ...extra };
}

/** Dates are checked when the configuration is read, not when a template is half written. */
const date = refine(text, (v, key) => {
  try {
    parseDate(v);
  } catch (e) {
    throw new ConfigError(`${(e as TimeError).message} (use ISO form: 2020-01-01 or 2020-01-01T06:00)`, key);
  }
});

const freq = refine(text, (v, key) => {
  try {
    parseFreq(v);
  } catch (e) {
    throw new ConfigError(`${(e as TimeError).message} (examples: 1h, 6h, 1D, 1MS, 1YS)`, key);
  }
});

/** Log levels; also the rule for ZARRIO_LOG_LEVEL. */
export const logLevelRule = choice(["error", "warn", "info", "debug"] as const);

const dateKey = (s: string) => {
  const d = parseDate(s);
  return [d.year, d.month, d.day, d.hour, d.minute, d.second];
};

export const CONFIG_SPEC: Section<ZarrConverterConfig> = {
  kind: "section",
  doc: "zarrio configuration (YAML or JSON; camelCase or snake_case keys).",
  fields: {
    chunking: leaf(
      "Chunk length per dimension name, e.g. {time: 100, lat: 50}. Dimensions not named are chosen for accessPattern within targetChunkSizeMb; lengths beyond a dimension's size are clamped to it.",
      {},
      chunkingRule,
      { cli: { names: "--chunking", help: "Chunk lengths per dimension, e.g. time:100,lat:50,lon:100" } },
    ),
    compression: leaf(
      "Chunk compressor: blosc:<cname>:<clevel>[:shuffle|bitshuffle|noshuffle] (cname blosclz, lz4, lz4hc, zlib, zstd; clevel 0-9), zstd:<level> (-7..22), gzip:<level> (0-9) or none; or the long form {method, cname, clevel, shuffle, blocksize}. blosc's clevel N is zstd level 2N-1 inside the frame.",
      { id: "blosc", cname: "zstd", clevel: 3, shuffle: "byte", blocksize: 0 },
      compressionRule,
      { cli: { names: "--compression", help: "blosc:<cname>:<level>[:shuffle|bitshuffle|noshuffle], zstd:<level>, gzip:<level> or none" }, print: formatCompression },
    ),
    packing: {
      kind: "section",
      doc: "Packing floats into integers with CF scale_factor/add_offset (lossy: the maximum error is scale_factor/2).",
      fields: {
        enabled: leaf("Pack float data variables to integers: not coordinates (2-D ones named in `coordinates` too), bounds, times, or floats with a scale_factor of their own.", false, bool, { cli: { names: "--packing", help: "Pack floats to integers with scale_factor/add_offset" } }),
        bits: leaf("Integer width: 8, 16 or 32 bits.", 16 as 8 | 16 | 32, choice([8, 16, 32] as const), { cli: { names: "--packing-bits", help: "8, 16 or 32" } }),
        manualRanges: leaf(
          "Fixed range per variable, e.g. {temperature: {min: -50, max: 50}}; wins over valid_min/valid_max attributes and the data's range.",
          {},
          manualRangesRule,
          { cli: { names: "--packing-manual-ranges", help: 'JSON, e.g. {"temperature":{"min":-50,"max":50}}', parse: parseJson } },
        ),
        autoBufferFactor: leaf(
          "A range taken from the data is widened by this fraction of (max - min) on each side, so later files slightly beyond it still fit.",
          0.01,
          number(0, 10),
          { cli: { names: "--packing-auto-buffer-factor", help: "Margin added to a range taken from the data" } },
        ),
        rangeExceededAction: leaf(
          "A value outside the packing range: error refuses the write, clip stores the nearest end of the range, fill stores it as missing. The Python tool's warn and ignore mean clip (never wrap around).",
          "error" as OutOfRangePolicy,
          choice(["error", "clip", "fill"] as const, { warn: "clip", ignore: "clip" }),
          { cli: { names: "--packing-range-exceeded-action", help: "error, clip or fill; warn/ignore mean clip" } },
        ),
        exclude: leaf("Variables never packed.", [], names),
      },
      aliases: {
        checkRangeExceeded: {
          field: "rangeExceededAction",
          doc: "Python zarrio spelling: false means rangeExceededAction clip, true keeps error.",
          rule: bool,
          value: (v) => (v === false ? "clip" : "error"),
        },
      },
    },
    time: {
      kind: "section",
      doc: "The time axis.",
      fields: {
        dim: leaf("Name of the time dimension.", "time", text, { cli: { names: "--time-dim", help: "Name of the time dimension" } }),
        appendDim: leaf("The dimension append extends (defaults to time.dim).", "time", text, { cli: { names: "--append-dim", help: "Dimension to extend", default: "the time dimension" } }),
        globalStart: leaf("First time of a template's axis (ISO date, read in the template's calendar).", undefined, optional(date), { cli: { names: "--global-start", help: "First time of the archive (ISO date, in the template's calendar)" } }),
        globalEnd: leaf("Last time of a template's axis (inclusive).", undefined, optional(date), { cli: { names: "--global-end", help: "Last time of the archive (inclusive)" } }),
        freq: leaf(
          "Step of the time axis (100ms, 1h, 6h, 1D, 1MS, 1YS): a template's step, and the step validate expects; inferred from the data when absent.",
          undefined,
          optional(freq),
          { cli: { names: "--freq", help: "Time step: 1h, 6h, 1D, 1MS (monthly), 1YS...", default: "the template's own step" } },
        ),
      },
      finish(t, key, given) {
        if (given.appendDim === undefined) t.appendDim = t.dim;
        if (t.globalStart !== undefined && t.globalEnd !== undefined) {
          const [a, b] = [dateKey(t.globalStart), dateKey(t.globalEnd)];
          const i = a.findIndex((x, k) => x !== b[k]);
          if (i >= 0 && a[i]! > b[i]!) throw new ConfigError(`${t.globalEnd} is before globalStart ${t.globalStart}`, `${key}.globalEnd`);
        }
        return t;
      },
    },
    variables: {
      kind: "section",
      doc: "Which variables are written.",
      fields: {
        include: leaf("Only these variables (plus the coordinates they need); all when absent.", undefined, optional(names), { cli: { names: "--variables", help: "Only these variables (comma list)", parse: parseList } }),
        exclude: leaf("Never these variables.", [], names, { cli: { names: "--drop-variables,--exclude", help: "Leave out these variables (comma list)", parse: parseList } }),
      },
    },
    missingData: {
      kind: "section",
      doc: "Checking written data for missing values (write-region).",
      fields: {
        checkVars: leaf(
          'Variables read back and checked after a write: "all" or a list of names.',
          "all" as "all" | string[],
          {
            schema: { anyOf: [{ const: "all" }, names.schema] },
            parse: (v, key) => (v === "all" ? "all" : names.parse(v, key)),
          },
          { cli: { names: "--missing-check-vars", help: "Variables the check reads back: all or a comma list", parse: (v) => (v === "all" ? v : parseList(v)) } },
        ),
        retriesOnMissing: leaf(
          "Rewrites allowed when the check finds data missing; 0 turns the check off.",
          0,
          number(0, 100, true),
          { cli: { names: "--retries-on-missing", help: "Read the region back and rewrite up to N times where data is missing; 0 turns the check off" } },
        ),
      },
    },
    attrs: leaf("Global attributes added to (or replacing those of) the archive's root group.", {}, mapping, { cli: { names: "--attrs", help: "JSON object of global attributes to add", parse: parseJson } }),
    targetChunkSizeMb: leaf(
      "Target uncompressed chunk size in MiB for chunk lengths zarrio chooses; a few MiB suits object stores (one request per chunk).",
      8,
      number(0.001, 4096),
      { cli: { names: "--target-chunk-size-mb", help: "Target uncompressed chunk size in MiB" } },
    ),
    sharding: leaf(
      "Zarr v3 sharding: shard length per dimension name, e.g. {time: 720} (dimensions not named hold one chunk; lengths are rounded to whole chunks and clamped to the dimension), or auto (shards of about targetShardSizeMb for accessPattern). Each shard is one stored object holding many chunks and an index. Data variables only; dimension coordinates stay one chunk.",
      undefined,
      optional(shardingRule),
      { cli: { names: "--shards", help: "Zarr v3 shard lengths per dimension, e.g. time:720 (many chunks per stored object), or auto" } },
    ),
    targetShardSizeMb: leaf(
      "Target uncompressed shard size in MiB for sharding: auto (a writer holds about one shard's values at a time).",
      256,
      number(1, 65536),
      { cli: { names: "--target-shard-size-mb", help: "Target uncompressed shard size in MiB for --shards auto" } },
    ),
    intelligentChunking: leaf(
      "Accepted for compatibility with the Python tool: zarrio always chooses the chunk lengths chunking does not fix, for accessPattern.",
      false,
      bool,
      { cli: { names: "--intelligent-chunking", help: "Choose unnamed chunk lengths for --access-pattern (always on for unnamed dims)" } },
    ),
    accessPattern: leaf(
      "What chosen chunks favour: temporal (long series at few points), spatial (whole maps at few times) or balanced.",
      "balanced" as AccessPattern,
      choice(["temporal", "spatial", "balanced"] as const),
      { cli: { names: "--access-pattern", help: "temporal, spatial or balanced" } },
    ),
    zarrFormat: leaf("Zarr format written: 3 or 2.", 3 as 2 | 3, choice([2, 3] as const), { cli: { names: "--zarr-format", help: "3 or 2" } }),
    group: leaf("Convert only this NetCDF-4 group (path like /ocean); the whole file when absent.", undefined, optional(text), { cli: { names: "--group", help: "Only this NetCDF-4 group (e.g. /ocean)" } }),
    concurrency: leaf("Slabs in flight at once per process (storing one overlaps reading and encoding the next).", 2, number(1, 64, true), { cli: { names: "--concurrency", help: "Slabs in flight per process" } }),
    slabSizeMb: leaf("Upper bound on one slab's uncompressed size in MiB (bounds memory).", 64, number(1, 65536)),
    reader: leaf(
      "NetCDF reader of the native backend: auto, pure (pure Rust) or libnetcdf (the WebAssembly backend always reads with pure).",
      "auto" as ReaderKind,
      choice(["auto", "pure", "libnetcdf"] as const),
      { cli: { names: "--reader", help: "NetCDF reader of the native backend: auto, pure or libnetcdf" } },
    ),
    s3: {
      kind: "section",
      doc: "S3 and S3-compatible object stores (s3://bucket/prefix addresses). Credentials come from the AWS SDK's standard chain (environment, profile, web identity).",
      fields: {
        endpoint: leaf(
          "Endpoint of an S3-compatible store (MinIO, Ceph, R2, GCS interop), e.g. http://127.0.0.1:9000; else AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL, else AWS.",
          undefined,
          optional(text),
          { cli: { names: "--s3-endpoint", help: "S3-compatible endpoint for s3:// addresses (else AWS_ENDPOINT_URL)" } },
        ),
        region: leaf("Region; else AWS_REGION, the profile's, or us-east-1.", undefined, optional(text), { cli: { names: "--s3-region", help: "Region of s3:// buckets (else AWS_REGION, or us-east-1)" } }),
        pathStyle: leaf("Path-style addresses (endpoint/bucket/key), as most S3-compatible stores want; always used for endpoints on an IP address or localhost.", false, bool, { cli: { names: "--s3-path-style", help: "Path-style S3 addresses (most S3-compatible stores)" } }),
        concurrency: leaf("Requests in flight at once per process.", 16, number(1, 1024, true), { cli: { names: "--s3-concurrency", help: "S3 requests in flight per process" } }),
        requestTimeoutS: leaf("Seconds one attempt of a request may take, body included, before it is retried.", 60, number(1, 3600), { cli: { names: "--s3-timeout", help: "Seconds per S3 request attempt" } }),
        maxAttempts: leaf(
          "Attempts per request (the first included) on throttling (429, SlowDown), server errors (500, 503), timeouts and dropped connections; waits grow exponentially, with jitter.",
          8,
          number(1, 100, true),
          { cli: { names: "--s3-max-attempts", help: "Attempts per S3 request, with exponential backoff" } },
        ),
      },
    },
    logging: {
      kind: "section",
      doc: "Log output (stderr). ZARRIO_LOG_LEVEL overrides the file; flags override both.",
      fields: {
        level: leaf("error, warn, info or debug.", "warn" as LogLevel, logLevelRule, { cli: { names: "--log-level", help: "error, warn, info or debug; env ZARRIO_LOG_LEVEL" } }),
        format: leaf("text, or json (one object per line, for log collectors).", "text" as LogFormat, choice(["text", "json"] as const), { cli: { names: "--log-format", help: "text or json (one object per line)" } }),
      },
    },
  },
  finish(c) {
    if (c.sharding !== undefined && c.zarrFormat === 2) {
      throw new ConfigError("sharding needs Zarr v3 (zarrFormat 3, the default): Zarr v2 has no shards", "sharding");
    }
    return c;
  },
};

/** The defaults of a spec node. */
export function defaultsOf<T>(node: Node<T>): T {
  if (node.kind === "leaf") return structuredClone(node.default);
  const out: Record<string, unknown> = {};
  for (const [k, child] of Object.entries(node.fields) as [string, Node<unknown>][]) {
    const v = defaultsOf(child);
    if (v !== undefined) out[k] = v;
  }
  return out as T;
}

export const DEFAULT_CONFIG: ZarrConverterConfig = defaultsOf(CONFIG_SPEC);
