/**
 * `zarrio/web`: zarrio where there is no filesystem (browsers, workers, edge runtimes). The
 * WebAssembly build converts NetCDF files held in memory into any Store — `MemoryStore`, or an
 * object of your own with the Store methods (IndexedDB, an upload to object storage...). It runs
 * the same pipeline as `zarrio convert` (convert-core.ts), and neither this module nor anything
 * it imports touches a Node built-in.
 *
 *   import { init, convertToZarr, MemoryStore } from "zarrio/web";
 *   await init();                       // fetches zarrio_wasm_bg.wasm from beside the package's JS
 *   const store = new MemoryStore();
 *   await convertToZarr({ name: "in.nc", bytes }, store, { compression: "zstd:3" });
 *   const zip = new Blob(await zipParts(store), { type: "application/zip" });   // one .zarr.zip to save
 */
import initGlue, * as glue from "../bindings/wasm/pkg/zarrio_wasm.js";

import type { Backend } from "./backend/types.js";
import { wasmBackend } from "./backend/wasm.js";
import { convertSources, type ConvertSummary } from "./commands/convert-core.js";
import { resolveConfig, type Layer } from "./config/resolve.js";
import { ConfigError } from "./errors.js";
import type { Logger } from "./log.js";
import { openSourceBytes } from "./pipeline/source.js";
import type { Store } from "./zarr/contract.js";

export * from "./errors.js";
export { Logger } from "./log.js";
export { lockedUpdate, type LockingStore, type ReadableStore, type Store, type WritableStore } from "./zarr/contract.js";
export { MemoryStore } from "./zarr/memory-store.js";
export { zipParts, type ZipOptions } from "./zarr/zip.js";
export type { Backend, ConvertSummary };

/** Where the WebAssembly module comes from: a URL to fetch, a fetch Response, or its bytes. */
export type WasmSource = URL | string | Response | ArrayBuffer | ArrayBufferView;

/** A NetCDF file in memory; `name` stands for it in messages and errors. */
export interface NamedBytes {
  name: string;
  bytes: Uint8Array;
}

/** Configuration as for the main entry (any subset, camelCase or snake_case), and a logger. */
export type WebConvertOptions = Layer & { logger?: Logger };

let ready: Promise<Backend> | undefined;

/**
 * Instantiate the WebAssembly module, once: later calls return the same backend. Without an
 * argument the module is fetched from its URL beside the package's JS, which is what browsers
 * and bundlers resolve; pass the bytes where fetch cannot read files (Node, for instance).
 */
export function init(wasm?: WasmSource): Promise<Backend> {
  ready ??= initGlue(wasm === undefined ? undefined : { module_or_path: wasm })
    .then(() => wasmBackend(glue))
    .catch((e: unknown) => {
      ready = undefined; // a failed fetch may be retried
      throw e;
    });
  return ready;
}

/**
 * Convert NetCDF files held in memory (several are joined along time, in the order given) into
 * `store`, which must be empty; on failure it is emptied again. Initialises the module with
 * `init()` defaults if that has not been done.
 */
export async function convertToZarr(
  inputs: Uint8Array | NamedBytes | (Uint8Array | NamedBytes)[],
  store: Store,
  options: WebConvertOptions = {},
): Promise<ConvertSummary> {
  const started = performance.now();
  const { logger, ...layer } = options;
  const config = resolveConfig(layer);
  const backend = await init();
  const held = await store.list();
  if (held.length) throw new ConfigError(`${store.location} is not empty (it holds '${held[0]}'); give an empty store`, "store");
  const named = (Array.isArray(inputs) ? inputs : [inputs]).map((x, i) => (x instanceof Uint8Array ? { name: `input ${i + 1}`, bytes: x } : x));
  const sources = named.map(({ name, bytes }) => openSourceBytes(backend, name, bytes, config.group));
  return convertSources(sources, config, {
    backend,
    output: store.location,
    log: logger,
    started,
    target: async () => ({
      store,
      commit: async () => {},
      abandon: async () => {
        for (const key of await store.list()) await store.delete(key);
      },
    }),
  });
}
