/**
 * What every command shares: `--config`, logging and S3 flags, the configuration from a file and
 * the flags given (flags.ts), and printing errors as one clear line with the documented exit code.
 */
import { Command, Option } from "clipanion";

import { loadConfigFile } from "../config/load.js";
import { logLevelRule, type ZarrConverterConfig } from "../config/model.js";
import { resolveConfig, type Layer } from "../config/resolve.js";
import { ConfigError, ZarrioError } from "../errors.js";
import { Logger } from "../log.js";
import { s3Summaries } from "../s3/session.js";
import { configFlag, flagLayer } from "./flags.js";

export abstract class BaseCommand extends Command {
  config = Option.String("--config", { description: "YAML or JSON configuration file" });
  verbose = Option.Counter("-v,--verbose", 0, { description: "More logging (-v info, -vv debug); stack traces on errors" });
  quiet = Option.Boolean("-q,--quiet", false, { description: "Only errors" });
  logLevel = configFlag("logging.level");
  logFormat = configFlag("logging.format");
  s3Endpoint = configFlag("s3.endpoint");
  s3Region = configFlag("s3.region");
  s3PathStyle = configFlag("s3.pathStyle");
  s3Concurrency = configFlag("s3.concurrency");
  s3Timeout = configFlag("s3.requestTimeoutS");
  s3MaxAttempts = configFlag("s3.maxAttempts");

  /** The log format of the resolved configuration, so errors follow a config file's `logging.format` too. */
  private logFormatInEffect?: string;

  /**
   * The effective configuration: defaults < config file < environment (ZARRIO_LOG_LEVEL) <
   * flags actually given (every flag made by `configFlag`, whichever class declares it).
   */
  protected resolved(): ZarrConverterConfig {
    const file = this.config ? loadConfigFile(this.config) : {};
    const envLevel = process.env.ZARRIO_LOG_LEVEL;
    const env: Layer = envLevel ? { logging: { level: logLevelRule.parse(envLevel.toLowerCase(), "ZARRIO_LOG_LEVEL") } } : {};
    const flags = flagLayer(this);
    // --log-level, else -q / -v; an empty --log-level or --log-format is no flag.
    const logging: Layer = {};
    const level = this.logLevel ?? (this.quiet ? "error" : this.verbose >= 2 ? "debug" : this.verbose === 1 ? "info" : undefined);
    if (level) logging.level = level;
    if (this.logFormat) logging.format = this.logFormat;
    flags.logging = logging;
    const config = resolveConfig(file, env, flags);
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
