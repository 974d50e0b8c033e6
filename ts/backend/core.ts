/**
 * The one adapter from a compiled core to the Backend interface. Both bindings (the Node-API
 * addon, bindings/napi, and the WebAssembly module, bindings/wasm) expose the same call shapes,
 * described here once as `CoreModule`; the loaders check their generated declarations against
 * it at compile time (index.ts for napi's, web.ts and index.ts for wasm-bindgen's). Values cross
 * as JSON of the core's serde types, whose TypeScript form is generated (core-types.ts). What
 * differs between the backends is only how a file is opened: native.ts and wasm.ts.
 */
import { fileMeta } from "./meta.js";
import type { ArraySpec, BuildInfo, ChunksInRegion, Decoding, FileMeta, PackParams, PackReport, Stats } from "./core-types.js";
import type { Backend, Dataset, DType, OutOfRangePolicy, RegionEncoding, ShardPieces, Slab } from "./types.js";

/** A slab held by the core (`Slab` in both bindings). */
export interface CoreSlab {
  readonly dtype: string;
  readonly shape: number[];
  toBytes(): Uint8Array | null | undefined;
  toStrings(): string[] | null | undefined;
  /** JSON of `Stats`. */
  stats(missing: number[]): string;
  /** `params`: JSON of `PackParams`; the report is JSON of `PackReport`. */
  pack(params: string, missing: number[], policy: string): { slab: CoreSlab; report: string };
  decode(decoding: string): CoreSlab;
  /** Native: off the main thread; WebAssembly: at once. */
  encode(spec: string, origin: number[]): RegionEncoding | Promise<RegionEncoding>;
  merge(spec: string, origin: number[], coords: number[], existing?: Uint8Array | null): Uint8Array;
  release(): void;
}

/** An open file (`NcDataset` in both bindings). */
export interface CoreDataset {
  /** JSON of `FileMeta`. */
  meta(): string;
  close(): void;
  read(path: string, start: number[], count: number[]): CoreSlab | Promise<CoreSlab>;
  /** JSON of `Stats`. */
  stats(path: string, start: number[], count: number[], missing: number[]): string | Promise<string>;
  /** A digest (hex) of a whole variable's values, computed at once. */
  digest(path: string): string;
}

/** What both compiled cores export. */
export interface CoreModule {
  NcDataset: { fromBytes(bytes: Uint8Array): CoreDataset };
  Slab: {
    fromBytes(dtype: string, shape: number[], bytes: Uint8Array): CoreSlab;
    fromStrings(shape: number[], strings: string[]): CoreSlab;
  };
  SlabGather: new (dtype: string, shape: number[]) => {
    put(part: CoreSlab, origin: number[]): void;
    finish(): CoreSlab;
    abandon(): void;
  };
  /** JSON of `PackParams`. */
  packParams(min: number, max: number, bits: number, source: string): string;
  /** JSON of `PackParams` of values already packed as `stored` integers. */
  packParamsStored(stored: string, scale: number, offset: number, fill: number): string;
  /** JSON of `ChunksInRegion`. */
  chunksInRegion(spec: string, origin: number[], shape: number[]): string;
  readRegion(spec: string, origin: number[], shape: number[], coords: number[][], chunks: (Uint8Array | null)[]): CoreSlab;
  shardPieces(spec: string, coords: number[], innerCoords: number[][], sizes: number[]): ShardPieces;
  /** JSON of the inner chunks a stored shard lacks (`number[][]`). */
  shardGaps(spec: string, coords: number[], bytes: Uint8Array): string;
  /** JSON of `BuildInfo`. */
  buildInfo(): string;
}

/** Slabs hold megabytes the JS collector does not see: freed when dropped, if not released. */
const unreleased = new FinalizationRegistry<CoreSlab>((raw) => raw.release());

class CoreSlabAdapter implements Slab {
  private released = false;
  constructor(readonly raw: CoreSlab) {
    unreleased.register(this, raw, this);
  }
  get dtype(): DType {
    return this.raw.dtype as DType;
  }
  get shape(): number[] {
    return this.raw.shape;
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
    return { slab: new CoreSlabAdapter(out.slab), report: JSON.parse(out.report) as PackReport };
  }
  decode(decoding: Decoding): Slab {
    return new CoreSlabAdapter(this.raw.decode(JSON.stringify(decoding)));
  }
  async encode(spec: ArraySpec, origin: number[]): Promise<RegionEncoding> {
    return this.raw.encode(JSON.stringify(spec), origin);
  }
  merge(spec: ArraySpec, origin: number[], coords: number[], existing: Uint8Array | null): Uint8Array {
    return this.raw.merge(JSON.stringify(spec), origin, coords, existing ?? undefined);
  }
  release(): void {
    if (this.released) return;
    this.released = true;
    unreleased.unregister(this);
    this.raw.release();
  }
}

/** The raw slab inside one of ours (gathering hands parts back to the core). */
const rawSlab = (slab: Slab): CoreSlab => (slab as CoreSlabAdapter).raw;

/**
 * A Dataset over an open file, reached through `use` (which may open it first, or refuse once it
 * is closed).
 */
export function coreDataset(meta: FileMeta, use: <T>(work: (raw: CoreDataset) => Promise<T>) => Promise<T>, close: () => void): Dataset {
  return {
    meta,
    read: (path, start, count) => use(async (raw) => new CoreSlabAdapter(await raw.read(path, start, count))),
    stats: (path, start, count, missing) => use(async (raw) => JSON.parse(await raw.stats(path, start, count, missing)) as Stats),
    digest: (path) => use(async (raw) => raw.digest(path)),
    close,
  };
}

/** A Dataset over a file that stays open until closed. */
export function openedDataset(raw: CoreDataset, known?: FileMeta): Dataset {
  let open = true;
  return coreDataset(
    known ?? fileMeta(raw.meta()),
    async (work) => {
      if (!open) throw new Error("the dataset was closed");
      return work(raw);
    },
    () => {
      if (open) raw.close();
      open = false;
    },
  );
}

/**
 * What differs between the backends: how a file is opened by path, and whether bytes the core
 * returned can be freed before JS collects them. The rest of the Backend is the same for both.
 */
export type BackendSpecific = Pick<Backend, "openDataset" | "reopenDataset" | "freeBytes">;

export function coreBackend(mod: CoreModule, specific: BackendSpecific): Backend {
  const info = JSON.parse(mod.buildInfo()) as BuildInfo;
  return {
    name: info.backend,
    info,
    ...specific,
    openDatasetBytes: (bytes) => openedDataset(mod.NcDataset.fromBytes(bytes)),
    slabFromBytes: (dtype, shape, bytes) => new CoreSlabAdapter(mod.Slab.fromBytes(dtype, shape, bytes)),
    slabFromStrings: (shape, strings) => new CoreSlabAdapter(mod.Slab.fromStrings(shape, strings)),
    gather: (dtype, shape) => {
      const g = new mod.SlabGather(dtype, shape);
      return {
        put: (part, origin) => g.put(rawSlab(part), origin),
        finish: () => new CoreSlabAdapter(g.finish()),
        abandon: () => g.abandon(),
      };
    },
    packParams: (min, max, bits, source) => JSON.parse(mod.packParams(min, max, bits, source)) as PackParams,
    storedPackParams: (stored, scale, offset, fill) => JSON.parse(mod.packParamsStored(stored, scale, offset, fill)) as PackParams,
    chunksInRegion: (spec, origin, shape) => JSON.parse(mod.chunksInRegion(JSON.stringify(spec), origin, shape)) as ChunksInRegion,
    readRegion: (spec, origin, shape, coords, chunks) => new CoreSlabAdapter(mod.readRegion(JSON.stringify(spec), origin, shape, coords, chunks)),
    shardPieces: (spec, coords, innerCoords, sizes) => mod.shardPieces(JSON.stringify(spec), coords, innerCoords, sizes),
    shardGaps: (spec, coords, bytes) => JSON.parse(mod.shardGaps(JSON.stringify(spec), coords, bytes)) as number[][],
  };
}
