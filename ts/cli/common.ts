/**
 * What every command shares: `--config`, logging flags, turning flags into a config layer (only
 * flags actually given, so a config file's values are not overridden by defaults), and printing
 * errors as one clear line with the documented exit code.
 */
import { Command, Option } from "clipanion";

import { loadConfigFile } from "../config/load.js";
import { logLevelRule, type ZarrConverterConfig } from "../config/model.js";
import { resolveConfig, type Layer } from "../config/resolve.js";
import { parseJson, parseList } from "../config/parse.js";
import { ConfigError, ZarrioError } from "../errors.js";
import { Logger } from "../log.js";
import { s3Summaries } from "../s3/session.js";

export abstract class BaseCommand extends Command {
  config = Option.String("--config", { description: "YAML or JSON configuration file" });
  verbose = Option.Counter("-v,--verbose", 0, { description: "More logging (-v info, -vv debug); stack traces on errors" });
  quiet = Option.Boolean("-q,--quiet", false, { description: "Only errors" });
  logLevel = Option.String("--log-level", { description: "error, warn, info or debug (default warn; env ZARRIO_LOG_LEVEL)" });
  logFormat = Option.String("--log-format", { description: "text or json (one object per line)" });
  s3Endpoint = Option.String("--s3-endpoint", { description: "S3-compatible endpoint for s3:// addresses (else AWS_ENDPOINT_URL)" });
  s3Region = Option.String("--s3-region", { description: "Region of s3:// buckets (else AWS_REGION, or us-east-1)" });
  s3PathStyle = Option.Boolean("--s3-path-style", { description: "Path-style S3 addresses (most S3-compatible stores)" });
  s3Concurrency = Option.String("--s3-concurrency", { description: "S3 requests in flight per process (default 16)" });
  s3Timeout = Option.String("--s3-timeout", { description: "Seconds per S3 request attempt (default 60)" });
  s3MaxAttempts = Option.String("--s3-max-attempts", { description: "Attempts per S3 request, with exponential backoff (default 8)" });

  /** The log format of the resolved configuration, so errors follow a config file's `logging.format` too. */
  private logFormatInEffect?: string;

  /** The layer of this command's own flags. */
  protected abstract flags(): Layer;

  /**
   * The effective configuration: defaults < config file < environment (ZARRIO_LOG_LEVEL) <
   * flags actually given.
   */
  protected resolved(): ZarrConverterConfig {
    const file = this.config ? loadConfigFile(this.config) : {};
    const envLevel = process.env.ZARRIO_LOG_LEVEL;
    const env: Layer = envLevel ? { logging: { level: logLevelRule.parse(envLevel.toLowerCase(), "ZARRIO_LOG_LEVEL") } } : {};
    const logging: Layer = {};
    const level = this.logLevel ?? (this.quiet ? "error" : this.verbose >= 2 ? "debug" : this.verbose === 1 ? "info" : undefined);
    if (level) logging.level = level;
    if (this.logFormat) logging.format = this.logFormat;
    const s3: Layer = {};
    put(s3, "endpoint", this.s3Endpoint);
    put(s3, "region", this.s3Region);
    put(s3, "pathStyle", this.s3PathStyle);
    put(s3, "concurrency", this.s3Concurrency);
    put(s3, "requestTimeoutS", this.s3Timeout);
    put(s3, "maxAttempts", this.s3MaxAttempts);
    const config = resolveConfig(file, env, this.flags(), { logging, s3 });
    this.logFormatInEffect = config.logging.format;
    return config;
  }

  /** The command's logger (also used for the summary of object-store requests at the end). */
  private log?: Logger;

  protected logger(config: ZarrConverterConfig): Logger {
    return (this.log = new Logger({ level: config.logging.level, format: config.logging.format }));
  }

  /** After the command: what it asked of object stores (requests, retries, bytes), at info level. */
  logStoreSummary(): void {
    if (!this.log) return;
    for (const line of s3Summaries()) this.log.info(line);
  }

  /** A progress bar suits text logs that are not silenced (Progress itself also needs a TTY). */
  protected showProgress(config: ZarrConverterConfig): boolean {
    return config.logging.format === "text" && config.logging.level !== "error";
  }

  override async catch(error: unknown): Promise<void> {
    const known = error instanceof ZarrioError;
    process.exitCode = known ? error.exitCode : 1;
    if ((this.logFormat ?? this.logFormatInEffect) === "json") {
      const e = error as ZarrioError;
      const fields: Record<string, unknown> = { error: e?.name ?? "Error", exit_code: process.exitCode };
      if (known && e.file) fields.file = e.file;
      if (known && e.variable) fields.variable = e.variable;
      if (error instanceof ConfigError && error.key) fields.key = error.key;
      if (this.verbose && e?.stack) fields.stack = e.stack;
      new Logger({ format: "json", sink: (line) => this.context.stderr.write(line + "\n") }).error(e?.message ?? String(error), fields);
      return;
    }
    if (known) {
      this.context.stderr.write(`zarrio: ${error.name}: ${error.message}\n`);
      if (this.verbose && error.stack) this.context.stderr.write(error.stack + "\n");
      return;
    }
    if (this.verbose) throw error;
    this.context.stderr.write(`zarrio: ${(error as Error)?.message ?? String(error)}\n(run with -v for details)\n`);
  }
}

/** Set `obj[path]` (dotted) when the value was given. */
export function put(layer: Layer, path: string, value: unknown): void {
  if (value === undefined) return;
  const keys = path.split(".");
  let at = layer;
  for (const k of keys.slice(0, -1)) at = (at[k] ??= {}) as Layer;
  at[keys[keys.length - 1]!] = value;
}

/** Options shared by convert, create-template, append and write-region. */
export function dataFlags(c: {
  chunking?: string;
  variables?: string;
  dropVariables?: string;
  timeDim?: string;
  group?: string;
  concurrency?: string;
  reader?: string;
  zarrFormat?: string;
}): Layer {
  const l: Layer = {};
  put(l, "chunking", c.chunking);
  put(l, "variables.include", parseList(c.variables));
  put(l, "variables.exclude", parseList(c.dropVariables));
  put(l, "time.dim", c.timeDim);
  put(l, "group", c.group);
  put(l, "concurrency", c.concurrency);
  put(l, "reader", c.reader);
  put(l, "zarrFormat", c.zarrFormat);
  return l;
}

/** Options about encoding new arrays (convert, create-template). */
export function encodingFlags(c: {
  compression?: string;
  packing?: boolean;
  packingBits?: string;
  packingManualRanges?: string;
  packingAutoBufferFactor?: string;
  packingRangeExceededAction?: string;
  attrs?: string;
  intelligentChunking?: boolean;
  accessPattern?: string;
  targetChunkSizeMb?: string;
  shards?: string;
  targetShardSizeMb?: string;
}): Layer {
  const l: Layer = {};
  put(l, "compression", c.compression);
  put(l, "packing.enabled", c.packing);
  put(l, "packing.bits", c.packingBits);
  put(l, "packing.manualRanges", c.packingManualRanges === undefined ? undefined : parseJson(c.packingManualRanges, "packing.manualRanges"));
  put(l, "packing.autoBufferFactor", c.packingAutoBufferFactor);
  put(l, "packing.rangeExceededAction", c.packingRangeExceededAction);
  put(l, "attrs", c.attrs === undefined ? undefined : parseJson(c.attrs, "attrs"));
  put(l, "intelligentChunking", c.intelligentChunking);
  put(l, "accessPattern", c.accessPattern);
  put(l, "targetChunkSizeMb", c.targetChunkSizeMb);
  put(l, "sharding", c.shards);
  put(l, "targetShardSizeMb", c.targetShardSizeMb);
  return l;
}
