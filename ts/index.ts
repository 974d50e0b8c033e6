/**
 * zarrio's library API. It mirrors the CLI: `new ZarrConverter(config).convert(...)` does what
 * `zarrio convert` does, with the same configuration model and the same typed errors.
 */
import { loadBackend, type Backend, type BackendChoice } from "./backend/index.js";
import { convert, type ConvertSummary } from "./commands/convert.js";
import type { ZarrConverterConfig } from "./config/model.js";
import { resolveConfig, type Layer } from "./config/resolve.js";
import { Logger, silentLogger } from "./log.js";

export * from "./errors.js";
export { DEFAULT_CONFIG } from "./config/model.js";
export type { ZarrConverterConfig, PackingConfig, TimeConfig, VariablesConfig, MissingDataConfig, AccessPattern } from "./config/model.js";
export { resolveConfig } from "./config/resolve.js";
export { loadConfigFile } from "./config/load.js";
export { loadBackend, fallbackReason } from "./backend/index.js";
export type { Backend, BackendChoice };
export { Logger } from "./log.js";
export type { ConvertSummary };
export { FsStore, MemoryStore, type Store } from "./zarr/store.js";

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
}

/** One-call conversion: `await convertToZarr("in.nc", "out.zarr", { compression: "blosc:zstd:3" })`. */
export function convertToZarr(inputs: string | string[], output: string, options: ConverterOptions & { overwrite?: boolean } = {}): Promise<ConvertSummary> {
  const { overwrite, ...rest } = options;
  return new ZarrConverter(rest).convert(inputs, output, { overwrite });
}
