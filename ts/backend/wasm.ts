/**
 * The WebAssembly build as a Backend. The module is wasm-bindgen's `web` target, so the same files
 * load in Node (bytes read from disk here) and in browsers (`init` in web.ts with fetched bytes).
 * WebAssembly has no filesystem: this module decides how a file reaches the core (whole, or by
 * range through a file descriptor) and how many stay resident. Everything else is the shared
 * adapter (core.ts).
 */
import { coreBackend, coreDataset, type CoreDataset, type CoreModule } from "./core.js";
import { fileMeta } from "./meta.js";
import type { Backend, Dataset, FileMeta } from "./types.js";

/** What the module (bindings/wasm/src/lib.rs) has beyond the shared surface. */
export interface WasmModule extends CoreModule {
  NcDataset: CoreModule["NcDataset"] & {
    fromFileBytes(path: string, bytes: WasmFileBytes): CoreDataset;
    fromHost(what: string, file: HostFile, reopen: boolean): CoreDataset;
  };
  FileBytes: new (capacity: number) => WasmFileBytes;
}

/**
 * A file the module reads by range through its host (`HostFile` in bindings/wasm): `read` must
 * return exactly `length` bytes from `offset`, synchronously (a file descriptor in Node,
 * `FileReaderSync` over a `Blob` in a browser worker).
 */
export interface HostFile {
  readonly size: number;
  read(offset: number, length: number): Uint8Array;
}

interface WasmFileBytes {
  push(piece: Uint8Array): void;
  free(): void;
}

/**
 * Files opened by path up to this size (`ZARRIO_WASM_READ_WHOLE_MB`, default 16 MiB) are read
 * whole into module memory: one read, then every access is a copy. Larger ones are read by range
 * through a file descriptor, so memory is bounded by the slab being read, not by the file: module
 * memory never shrinks and stops at 4 GiB, so a file held whole would cap the file size.
 */
function readWholeUpTo(): number {
  const mb = Number(globalThis.process?.env.ZARRIO_WASM_READ_WHOLE_MB ?? 16);
  // Never more than 1 GiB: module memory stops at 4 GiB and holds the slabs too.
  return Math.min(Number.isFinite(mb) && mb >= 0 ? mb : 16, 1024) * 2 ** 20;
}

/**
 * A Node file descriptor as a HostFile. Reads land in one scratch buffer the module copies out at
 * once (wasm-bindgen copies a returned Uint8Array), so no JS buffer per read waits for V8's
 * collector.
 */
async function nodeHostFile(path: string): Promise<HostFile & { close(): void }> {
  const fs = await import("node:fs");
  const fd = fs.openSync(path, "r");
  const size = fs.fstatSync(fd).size;
  let scratch = new Uint8Array(1 << 20);
  return {
    size,
    read(offset, length) {
      if (length > scratch.length) scratch = new Uint8Array(Math.max(length, scratch.length * 2));
      const out = scratch.subarray(0, length);
      for (let done = 0; done < length; ) {
        const n = fs.readSync(fd, out, done, length - done, offset + done);
        if (n === 0) throw new Error(`${path}: the file ended at ${offset + done} bytes (was ${size} when opened)`);
        done += n;
      }
      return out;
    },
    close: () => fs.closeSync(fd),
  };
}

/**
 * How many files opened by path keep their bytes in WebAssembly memory at once
 * (`ZARRIO_WASM_OPEN_FILES`, default 2). The pure reader parses a file from bytes held in the
 * module's memory, which never shrinks: with every input of a 64-file convert resident, peak
 * memory grew with the number of files. Beyond the limit the file read least recently gives its
 * bytes back, and reads it again from disk on its next read.
 */
function residentFiles(): number {
  // Read when files are opened by path, which only Node does: browsers have no `process`.
  return Math.max(1, Number(globalThis.process?.env.ZARRIO_WASM_OPEN_FILES ?? 2) || 2);
}

export function wasmBackend(mod: WasmModule): Backend {
  /** Path datasets holding bytes, least recently read first. */
  const resident: PathHandle[] = [];

  /** A file opened by path: its bytes are loaded on demand and may be given back between reads. */
  class PathHandle {
    raw: CoreDataset | undefined;
    loading: Promise<CoreDataset> | undefined;
    busy = 0;
    closed = false;
    /** Closes the file descriptor of a file read by range. */
    private closeHost: (() => void) | undefined;
    /** `described`: the caller holds the file's description (a reopen reads values only). */
    constructor(readonly path: string, private described = false) {}
    async use<T>(work: (raw: CoreDataset) => T): Promise<Awaited<T>> {
      if (this.closed) throw new Error("the dataset was closed");
      this.busy++;
      try {
        const raw = this.raw ?? (await (this.loading ??= this.load()));
        touch(this);
        return await work(raw);
      } finally {
        this.busy--;
      }
    }
    private async load(): Promise<CoreDataset> {
      try {
        const { stat } = await import("node:fs/promises");
        let raw: CoreDataset;
        if ((await stat(this.path)).size <= readWholeUpTo()) {
          raw = await readIntoModule(this.path);
        } else {
          const host = await nodeHostFile(this.path);
          try {
            raw = mod.NcDataset.fromHost(this.path, host, this.described);
          } catch (e) {
            host.close();
            throw e;
          }
          this.closeHost = host.close;
        }
        this.described = true;
        if (this.closed) {
          this.release(raw);
          throw new Error("the dataset was closed");
        }
        this.raw = raw;
        return raw;
      } finally {
        this.loading = undefined;
      }
    }
    release(raw = this.raw): void {
      const i = resident.indexOf(this);
      if (i >= 0) resident.splice(i, 1);
      raw?.close();
      this.raw = undefined;
      this.closeHost?.();
      this.closeHost = undefined;
    }
  }
  /**
   * The file's bytes copied into module memory 4 MiB at a time: a whole-file JS buffer (dead as
   * soon as it is copied, but freed only at V8's next collection) made peak memory grow with the
   * number of files read.
   */
  const readIntoModule = async (path: string): Promise<CoreDataset> => {
    const { open } = await import("node:fs/promises");
    const fh = await open(path, "r");
    const bytes = new mod.FileBytes((await fh.stat()).size);
    try {
      const piece = new Uint8Array(4 << 20);
      for (;;) {
        const { bytesRead } = await fh.read(piece, 0, piece.length, null);
        if (bytesRead === 0) break;
        bytes.push(piece.subarray(0, bytesRead));
      }
    } catch (e) {
      bytes.free();
      throw e;
    } finally {
      await fh.close();
    }
    // Consumed by the call: its memory becomes the dataset's.
    return mod.NcDataset.fromFileBytes(path, bytes);
  };
  const touch = (h: PathHandle) => {
    const i = resident.indexOf(h);
    if (i >= 0) resident.splice(i, 1);
    resident.push(h);
    // Give back the least recently read files that no read is using.
    const limit = residentFiles();
    for (let j = 0; resident.length > limit && j < resident.length - 1; ) {
      const old = resident[j]!;
      if (old.busy === 0) old.release();
      else j++;
    }
  };

  /** A file by path: its bytes come and go (PathHandle). */
  const pathDataset = async (path: string, known?: FileMeta): Promise<Dataset> => {
    const handle = new PathHandle(path, known !== undefined);
    // A file described before is loaded on its first read.
    const meta = known ?? (await handle.use((raw) => fileMeta(raw.meta())));
    return coreDataset(meta, (work) => handle.use(work), () => {
      handle.closed = true;
      handle.release();
    });
  };
  return coreBackend(mod, {
    openDataset: (path) => pathDataset(path),
    reopenDataset: (path, _reader, meta) => pathDataset(path, meta),
    // The module's outputs are copied out of its memory into ordinary JS buffers: nothing of
    // the core's to free early.
    freeBytes: () => {},
  });
}

