/**
 * The Node-API addon as a Backend: files are opened by path in the addon, off the main thread.
 * Everything else is the shared adapter (core.ts).
 */
import { coreBackend, openedDataset, type CoreDataset, type CoreModule } from "./core.js";
import type { Backend, ReaderKind } from "./types.js";

/** What the addon (bindings/napi/src/lib.rs) has beyond the shared surface. */
export interface NativeAddon extends CoreModule {
  NcDataset: CoreModule["NcDataset"] & {
    open(path: string, reader: string): Promise<CoreDataset>;
    reopen(path: string, reader: string): Promise<CoreDataset>;
  };
  /** Detach the ArrayBuffers (each the whole memory of a Buffer the addon returned): freed now. */
  freeBuffers(buffers: ArrayBuffer[]): void;
}

export function nativeBackend(addon: NativeAddon): Backend {
  return coreBackend(addon, {
    openDataset: async (path: string, reader: ReaderKind = "auto") => openedDataset(await addon.NcDataset.open(path, reader)),
    reopenDataset: async (path, reader, meta) => openedDataset(await addon.NcDataset.reopen(path, reader), meta),
    // Only a Buffer that is its ArrayBuffer's whole memory is the addon's own (see freeBytes).
    freeBytes: (bytes) => addon.freeBuffers(bytes.filter((b) => b.byteOffset === 0 && b.byteLength === b.buffer.byteLength && b.byteLength > 0).map((b) => b.buffer as ArrayBuffer)),
  });
}
