/**
 * The CommonJS entry (`require("zarrio")`). The library is ESM, and Node before 20.19 cannot
 * require() ESM, so this entry loads the ESM build with import() on first use instead of shipping
 * a second build: one copy of the code, so classes and `instanceof` checks on errors are the same
 * whichever way the package was loaded.
 *
 *   const { convertToZarr, load } = require("zarrio");
 *   await convertToZarr("in.nc", "out.zarr", { compression: "blosc:zstd:3" });
 *   const { ZarrConverter, ConfigError, MemoryStore } = await load();   // everything else
 */
import type * as Zarrio from "./index.js";

export type * from "./index.js";

/** The whole ESM API (classes, errors, stores, config helpers); loaded once, then cached by Node. */
export function load(): Promise<typeof Zarrio> {
  return import("./index.js");
}

/** `new ZarrConverter(options)`, for code that cannot await a module load before `new`. */
export async function createConverter(options?: Zarrio.ConverterOptions): Promise<Zarrio.ZarrConverter> {
  return new (await load()).ZarrConverter(options);
}

/** See the ESM `convertToZarr`. */
export async function convertToZarr(...args: Parameters<typeof Zarrio.convertToZarr>): Promise<Zarrio.ConvertSummary> {
  return (await load()).convertToZarr(...args);
}

/** See the ESM `appendToZarr`. */
export async function appendToZarr(...args: Parameters<typeof Zarrio.appendToZarr>): Promise<Zarrio.AppendSummary> {
  return (await load()).appendToZarr(...args);
}
