/**
 * The WebAssembly build behind the Backend interface. The module is wasm-bindgen's `web` target,
 * so the same files load in Node (bytes read from disk here) and in browsers (`initWasmBackend`
 * with fetched bytes). Adapter only.
 */
import { fileMeta } from "./meta.js";
import type { Backend, BuildInfo, Dataset, DType, PackParams, Slab, ArraySpec, Stats, PackReport, OutOfRangePolicy, RegionEncoding, FileMeta, Decoding } from "./types.js";

/** The shape of wasm-bindgen's generated module (bindings/wasm/src/lib.rs). */
export interface WasmModule {
  NcDataset: {
    fromBytes(bytes: Uint8Array): WasmDataset;
    fromFileBytes(bytes: WasmFileBytes): WasmDataset;
    fromHost(what: string, file: HostFile, reopen: boolean): WasmDataset;
  };
  FileBytes: new (capacity: number) => WasmFileBytes;
  Slab: {
    fromBytes(dtype: string, shape: Float64Array | number[], bytes: Uint8Array): WasmSlab;
    fromStrings(shape: Float64Array | number[], strings: string[]): WasmSlab;
  };
  SlabGather: new (dtype: string, shape: number[]) => { put(part: WasmSlab, origin: number[]): void; finish(): WasmSlab; free(): void };
  packParams(min: number, max: number, bits: number, source: string): string;
  chunksInRegion(spec: string, origin: number[], shape: number[]): string;
  readRegion(spec: string, origin: number[], shape: number[], coords: number[], lengths: number[], data: Uint8Array): WasmSlab;
  buildInfo(): string;
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

interface WasmDataset {
  meta(): string;
  free(): void;
  read(path: string, start: number[], count: number[]): WasmSlab;
  stats(path: string, start: number[], count: number[], missing: number[]): string;
}

interface WasmEncoding {
  ndim(): number;
  coords(): Float64Array;
  count(): number;
  take(i: number): Uint8Array;
  partial(): Float64Array;
  rawBytes(): number;
  free(): void;
}

interface WasmSlab {
  readonly dtype: string;
  readonly shape: Float64Array;
  toBytes(): Uint8Array | undefined;
  toStrings(): string[] | undefined;
  stats(missing: number[]): string;
  pack(params: string, missing: number[], policy: string): { slab(): WasmSlab; report(): string; free(): void };
  decode(decoding: string): WasmSlab;
  encode(spec: string, origin: number[]): WasmEncoding;
  merge(spec: string, origin: number[], coords: number[], existing: Uint8Array | undefined): Uint8Array;
  free(): void;
}

/** `count` coordinate tuples of `ndim` numbers each, from one flat array (ndim may be 0). */
function split(flat: Float64Array, ndim: number, count: number): number[][] {
  return Array.from({ length: count }, (_, i) => Array.from(flat.subarray(i * ndim, (i + 1) * ndim)));
}

/** Slabs live in wasm memory; FinalizationRegistry frees them when JS drops the adapter. */
const registry = new FinalizationRegistry<{ free(): void }>((raw) => raw.free());

class WasmSlabAdapter implements Slab {
  private released = false;
  constructor(readonly raw: WasmSlab) {
    registry.register(this, raw, this);
  }
  release(): void {
    if (this.released) return;
    this.released = true;
    registry.unregister(this);
    this.raw.free();
  }
  get dtype(): DType {
    return this.raw.dtype as DType;
  }
  get shape(): number[] {
    return Array.from(this.raw.shape);
  }
  toBytes(): Uint8Array | null {
    return this.raw.toBytes() ?? null;
  }
  toStrings(): string[] | null {
    return this.raw.toStrings() ?? null;
  }
  stats(missing: number[]): Stats {
    return JSON.parse(this.raw.stats(missing)) as Stats;
  }
  pack(params: PackParams, missing: number[], policy: OutOfRangePolicy): { slab: Slab; report: PackReport } {
    const out = this.raw.pack(JSON.stringify(params), missing, policy);
    try {
      return { slab: new WasmSlabAdapter(out.slab()), report: JSON.parse(out.report()) as PackReport };
    } finally {
      out.free();
    }
  }
  decode(decoding: Decoding): Slab {
    return new WasmSlabAdapter(this.raw.decode(JSON.stringify(decoding)));
  }
  async encode(spec: ArraySpec, origin: number[]): Promise<RegionEncoding> {
    const enc = this.raw.encode(JSON.stringify(spec), origin);
    try {
      const ndim = enc.ndim();
      const coords = split(enc.coords(), ndim, enc.count());
      const partial = enc.partial();
      return {
        chunks: coords.map((c, i) => ({ coords: c, bytes: enc.take(i) })),
        partial: ndim ? split(partial, ndim, partial.length / ndim) : [],
        rawBytes: enc.rawBytes(),
      };
    } finally {
      enc.free();
    }
  }
  merge(spec: ArraySpec, origin: number[], coords: number[], existing: Uint8Array | null): Uint8Array {
    return this.raw.merge(JSON.stringify(spec), origin, coords, existing ?? undefined);
  }
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
  const info = JSON.parse(mod.buildInfo()) as BuildInfo;
  /** Path datasets holding bytes, least recently read first. */
  const resident: PathHandle[] = [];

  /** A file opened by path: its bytes are loaded on demand and may be given back between reads. */
  class PathHandle {
    raw: WasmDataset | undefined;
    loading: Promise<WasmDataset> | undefined;
    busy = 0;
    closed = false;
    /** Closes the file descriptor of a file read by range. */
    private closeHost: (() => void) | undefined;
    /** `described`: the caller holds the file's description (a reopen reads values only). */
    constructor(readonly path: string, private described = false) {}
    async use<T>(work: (raw: WasmDataset) => T): Promise<T> {
      if (this.closed) throw new Error("ZARRIO_INVALID: the dataset is closed");
      this.busy++;
      try {
        const raw = this.raw ?? (await (this.loading ??= this.load()));
        touch(this);
        return work(raw);
      } finally {
        this.busy--;
      }
    }
    private async load(): Promise<WasmDataset> {
      try {
        const { stat } = await import("node:fs/promises");
        let raw: WasmDataset;
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
          throw new Error("ZARRIO_INVALID: the dataset is closed");
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
      raw?.free();
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
  const readIntoModule = async (path: string): Promise<WasmDataset> => {
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
    return mod.NcDataset.fromFileBytes(bytes);
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

  /** A Dataset over whatever gives access to an open WasmDataset (`use`). */
  const over = (meta: FileMeta, use: <T>(work: (raw: WasmDataset) => T) => Promise<T>, close: () => void): Dataset => ({
    meta,
    read: (path, start, count) => use((raw) => new WasmSlabAdapter(raw.read(path, start, count))),
    stats: (path, start, count, missing) => use((raw) => JSON.parse(raw.stats(path, start, count, missing)) as Stats),
    close,
  });
  /** Bytes already in module memory: open until closed. */
  const dataset = (raw: WasmDataset): Dataset => {
    let open = true;
    const use = async <T>(work: (raw: WasmDataset) => T): Promise<T> => {
      if (!open) throw new Error("ZARRIO_INVALID: the dataset is closed");
      return work(raw);
    };
    return over(fileMeta(raw.meta()), use, () => {
      if (open) raw.free();
      open = false;
    });
  };
  /** A file by path: its bytes come and go (PathHandle). */
  const pathDataset = async (path: string, known?: FileMeta): Promise<Dataset> => {
    const handle = new PathHandle(path, known !== undefined);
    // A file described before is loaded on its first read.
    const meta = known ?? (await handle.use((raw) => fileMeta(raw.meta())));
    return over(meta, (work) => handle.use(work), () => {
      handle.closed = true;
      handle.release();
    });
  };
  return {
    name: "wasm",
    info,
    openDataset: (path) => pathDataset(path),
    reopenDataset: (path, _reader, meta) => pathDataset(path, meta),
    openDatasetBytes: (bytes) => dataset(mod.NcDataset.fromBytes(bytes)),
    slabFromBytes: (dtype, shape, bytes) => new WasmSlabAdapter(mod.Slab.fromBytes(dtype, shape, bytes)),
    slabFromStrings: (shape, strings) => new WasmSlabAdapter(mod.Slab.fromStrings(shape, strings)),
    gather: (dtype, shape) => {
      const g = new mod.SlabGather(dtype, shape);
      const done = <T>(f: () => T): T => {
        try {
          return f();
        } finally {
          g.free();
        }
      };
      return {
        put: (part, origin) => g.put((part as WasmSlabAdapter).raw, origin),
        finish: () => done(() => new WasmSlabAdapter(g.finish())),
        abandon: () => done(() => undefined),
      };
    },
    packParams: (min, max, bits, source) => JSON.parse(mod.packParams(min, max, bits, source)) as PackParams,
    chunksInRegion: (spec, origin, shape) => JSON.parse(mod.chunksInRegion(JSON.stringify(spec), origin, shape)),
    readRegion: (spec, origin, shape, coords, chunks) => {
      const lengths = chunks.map((c) => (c ? c.length : -1));
      const total = chunks.reduce((n, c) => n + (c ? c.length : 0), 0);
      const data = new Uint8Array(total);
      let at = 0;
      for (const c of chunks) {
        if (c) {
          data.set(c, at);
          at += c.length;
        }
      }
      return new WasmSlabAdapter(mod.readRegion(JSON.stringify(spec), origin, shape, coords.flat(), lengths, data));
    },
  };
}
