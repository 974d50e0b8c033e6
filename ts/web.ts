/**
 * `zarrio/web`: zarrio where there is no filesystem (browsers, workers, edge runtimes). The
 * WebAssembly build converts NetCDF files held in memory into any Store — `MemoryStore`, or an
 * object of your own with the Store methods (IndexedDB, an upload to object storage...). It runs
 * the same pipeline as `zarrio convert` (convert-core.ts), and neither this module nor anything
 * it imports touches a Node built-in.
 *
 *   import { init, planArchive, convertToZarr, MemoryStore, zipParts } from "zarrio/web";
 *   await init();                       // fetches zarrio_wasm_bg.wasm from beside the package's JS
 *   const preview = await planArchive([file], { chunking: "time:24" });   // what convert would write
 *   const store = new MemoryStore();
 *   await convertToZarr([file], store, { compression: "zstd:3", onProgress: (done, total) => {} });
 *   const zip = new Blob(await zipParts(store), { type: "application/zip" });   // one .zarr.zip to save
 *
 * Inputs are bytes (`Uint8Array`, or `{ name, bytes }`) or `Blob`s (a `File` from a file picker or a
 * drop). In a worker, a Blob is read by range (`FileReaderSync` over `Blob.slice`), so a file of
 * any size converts within the slab budget; elsewhere it is read whole first.
 */
import initGlue, * as glue from "../bindings/wasm/pkg/zarrio_wasm.js";

import type { Backend } from "./backend/types.js";
import { wasmBackend } from "./backend/wasm.js";
import { openedDataset } from "./backend/core.js";
import type { HostFile } from "./backend/wasm.js";
import { convertSources, planConvert, type ConvertSummary } from "./commands/convert-core.js";
import { formatCompression } from "./config/parse.js";
import { itemSize } from "./backend/dtype.js";
import { resolveConfig, type Layer } from "./config/resolve.js";
import { ConfigError } from "./errors.js";
import type { Logger } from "./log.js";
import { estimateSize } from "./pipeline/sample.js";
import { openSourceWith, type Source } from "./pipeline/source.js";
import type { Store } from "./zarr/contract.js";

export * from "./errors.js";
export { Logger } from "./log.js";
export { lockedUpdate, type LockingStore, type ReadableStore, type Store, type WritableStore } from "./zarr/contract.js";
export { DirectoryStore, type DirectoryHandle } from "./zarr/directory-store.js";
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

/** What can be converted: bytes, bytes with a name, or a Blob (a `File` carries its name). */
export type WebInput = Uint8Array | NamedBytes | Blob;

/**
 * Configuration as for the main entry (any subset, camelCase or snake_case: `chunking`,
 * `compression`, `packing`, `zarrFormat`, ...), a logger, and a progress callback told the bytes of
 * source data converted so far.
 */
export type WebConvertOptions = Layer & { logger?: Logger; onProgress?: (done: number, total: number) => void };

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

/** One array of a previewed archive. */
export interface PlannedArray {
  /** Path in the archive (`ocean/temp`). */
  path: string;
  dims: string[];
  shape: number[];
  chunks: number[];
  /** Shard shape, when sharded. */
  shards?: number[];
  /** The stored dtype (an integer type when packed). */
  dtype: string;
  /** The codec spelled as in the configuration (`blosc:zstd:3:shuffle`), or `none`. */
  codec: string;
  /** `scale_factor`/`add_offset` when the values are packed. */
  packing?: { scaleFactor: number; addOffset: number; bits: number };
  /** Values before compression. */
  bytes: number;
  /** Why these chunk lengths (one reason per dimension). */
  chunkReasons: string[];
}

/** What `convertToZarr` would write, decided by the same planning, before anything is written. */
export interface ArchivePreview {
  files: { name: string; bytes: number }[];
  zarrFormat: 2 | 3;
  /** Dimension lengths of the archive. */
  dims: Record<string, number>;
  timeSteps: number;
  arrays: PlannedArray[];
  /** Values before compression, and the estimated size in the store (a sample encoded with each codec). */
  rawBytes: number;
  estimatedBytes: number;
  /** The resolved configuration the preview was made with (what convertToZarr will use). */
  config: ReturnType<typeof resolveConfig>;
}

/**
 * Plan the archive for these inputs without writing it: the arrays with their chunks, codec and
 * packing, and an estimated size. Refuses what `convertToZarr` would refuse (a bad option, files
 * that do not fit together), with the same typed errors.
 */
export async function planArchive(inputs: WebInput | WebInput[], options: Layer = {}): Promise<ArchivePreview> {
  const config = resolveConfig(options);
  const backend = await init();
  const sources = await openInputs(backend, inputs, config.group);
  try {
    const { plan, total } = await planConvert(sources, config, backend);
    const size = await estimateSize(sources[0]!, plan.vars, config);
    const dims: Record<string, number> = {};
    for (const v of plan.vars) v.model.dimensionNames.forEach((d, i) => (dims[d] = v.model.shape[i]!));
    return {
      files: sources.map((s) => ({ name: s.file, bytes: s.size })),
      zarrFormat: plan.format,
      dims,
      timeSteps: total,
      arrays: plan.vars.map((v) => ({
        path: v.arrayPath,
        dims: v.model.dimensionNames,
        shape: v.model.shape,
        chunks: v.model.chunks,
        ...(v.model.shards ? { shards: v.model.shards } : {}),
        dtype: typeof v.model.dtype === "string" ? v.model.dtype : "record",
        codec: v.model.compressor ? String(formatCompression(v.model.compressor)) : "none",
        ...(v.pack ? { packing: { scaleFactor: v.pack.scale_factor, addOffset: v.pack.add_offset, bits: v.pack.bits } } : {}),
        bytes: rawArrayBytes(v.model),
        chunkReasons: v.chunkReasons,
      })),
      rawBytes: size.rawBytes,
      estimatedBytes: size.storedBytes,
      config,
    };
  } finally {
    for (const s of sources) s.ds.close();
  }
}

/**
 * Convert NetCDF files (several are joined along time, in the order given) into `store`, which
 * must be empty; on failure it is emptied again. Initialises the module with `init()` defaults if
 * that has not been done.
 */
export async function convertToZarr(inputs: WebInput | WebInput[], store: Store, options: WebConvertOptions = {}): Promise<ConvertSummary> {
  const started = performance.now();
  const { logger, onProgress, ...layer } = options;
  const config = resolveConfig(layer);
  const backend = await init();
  const held = await store.list();
  if (held.length) throw new ConfigError(`${store.location} is not empty (it holds '${held[0]}'); give an empty store`, "store");
  const sources = await openInputs(backend, inputs, config.group);
  return convertSources(sources, config, {
    backend,
    output: store.location,
    log: logger,
    started,
    onProgress,
    target: async () => ({
      store,
      commit: async () => {},
      abandon: async () => {
        for (const key of await store.list()) await store.delete(key);
      },
    }),
  });
}

/** Bytes of an array's values before compression. */
function rawArrayBytes(model: { shape: number[]; dtype: Parameters<typeof itemSize>[0] }): number {
  return model.shape.reduce((a, b) => a * b, 1) * itemSize(model.dtype);
}

/** The inputs opened in order; those opened before a failure are closed again. */
async function openInputs(backend: Backend, inputs: WebInput | WebInput[], group: string | undefined): Promise<Source[]> {
  const list = Array.isArray(inputs) ? inputs : [inputs];
  const sources: Source[] = [];
  try {
    for (const [i, x] of list.entries()) sources.push(await openInput(backend, x, i, group));
  } catch (e) {
    for (const s of sources) s.ds.close();
    throw e;
  }
  return sources;
}

async function openInput(backend: Backend, input: WebInput, i: number, group: string | undefined): Promise<Source> {
  if (input instanceof Uint8Array) return openSourceWith(`input ${i + 1}`, input.length, () => backend.openDatasetBytes(input), group);
  if (!(input instanceof Blob)) return openSourceWith(input.name, input.bytes.length, () => backend.openDatasetBytes(input.bytes), group);
  const name = (input as Blob & { name?: string }).name || `input ${i + 1}`;
  const host = blobHost(input);
  if (host) return openSourceWith(name, input.size, () => openedDataset(glue.NcDataset.fromHost(name, host, false) as never), group);
  const bytes = new Uint8Array(await input.arrayBuffer());
  return openSourceWith(name, bytes.length, () => backend.openDatasetBytes(bytes), group);
}

/**
 * A Blob read by range, where reads can be synchronous (`FileReaderSync`, in workers only): the
 * module asks for (offset, length) as it parses and reads, so the file is never held whole.
 */
function blobHost(blob: Blob): HostFile | undefined {
  const Sync = (globalThis as { FileReaderSync?: new () => { readAsArrayBuffer(b: Blob): ArrayBuffer } }).FileReaderSync;
  if (!Sync) return undefined;
  const reader = new Sync();
  return {
    size: blob.size,
    read: (offset, length) => new Uint8Array(reader.readAsArrayBuffer(blob.slice(offset, offset + length))),
  };
}
