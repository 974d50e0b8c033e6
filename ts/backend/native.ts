/** The Node-API addon behind the Backend interface. Adapter only: converts JSON at the edge. */
import { fileMeta } from "./meta.js";
import type { Backend, BuildInfo, Dataset, DType, FileMeta, PackParams, ReaderKind, Slab, ArraySpec, Stats, PackReport, OutOfRangePolicy, RegionEncoding, Decoding } from "./types.js";

/** The shape of the compiled addon (bindings/napi/src/lib.rs). */
export interface NativeAddon {
  NcDataset: {
    open(path: string, reader: string): Promise<NativeDataset>;
    reopen(path: string, reader: string): Promise<NativeDataset>;
    fromBytes(bytes: Uint8Array): NativeDataset;
  };
  Slab: {
    fromBytes(dtype: string, shape: number[], bytes: Uint8Array): NativeSlab;
    fromStrings(shape: number[], strings: string[]): NativeSlab;
  };
  SlabGather: new (dtype: string, shape: number[]) => { put(part: NativeSlab, origin: number[]): void; finish(): NativeSlab; abandon(): void };
  packParams(min: number, max: number, bits: number, source: string): string;
  chunksInRegion(spec: string, origin: number[], shape: number[]): string;
  readRegion(spec: string, origin: number[], shape: number[], coords: number[][], chunks: (Uint8Array | null)[]): NativeSlab;
  buildInfo(): string;
}

interface NativeDataset {
  meta(): string;
  close(): void;
  read(path: string, start: number[], count: number[]): Promise<NativeSlab>;
  stats(path: string, start: number[], count: number[], missing: number[]): Promise<string>;
}

interface NativeSlab {
  readonly dtype: string;
  readonly shape: number[];
  toBytes(): Uint8Array | null;
  toStrings(): string[] | null;
  stats(missing: number[]): string;
  pack(params: string, missing: number[], policy: string): { slab: NativeSlab; report: string };
  decode(decoding: string): NativeSlab;
  encode(spec: string, origin: number[]): Promise<RegionEncoding>;
  merge(spec: string, origin: number[], coords: number[], existing: Uint8Array | null | undefined): Uint8Array;
  release(): void;
}

class NativeSlabAdapter implements Slab {
  constructor(readonly raw: NativeSlab) {}
  get dtype(): DType {
    return this.raw.dtype as DType;
  }
  get shape(): number[] {
    return this.raw.shape;
  }
  toBytes(): Uint8Array | null {
    return this.raw.toBytes();
  }
  toStrings(): string[] | null {
    return this.raw.toStrings();
  }
  stats(missing: number[]): Stats {
    return JSON.parse(this.raw.stats(missing)) as Stats;
  }
  pack(params: PackParams, missing: number[], policy: OutOfRangePolicy): { slab: Slab; report: PackReport } {
    const out = this.raw.pack(JSON.stringify(params), missing, policy);
    return { slab: new NativeSlabAdapter(out.slab), report: JSON.parse(out.report) as PackReport };
  }
  decode(decoding: Decoding): Slab {
    return new NativeSlabAdapter(this.raw.decode(JSON.stringify(decoding)));
  }
  encode(spec: ArraySpec, origin: number[]): Promise<RegionEncoding> {
    return this.raw.encode(JSON.stringify(spec), origin);
  }
  merge(spec: ArraySpec, origin: number[], coords: number[], existing: Uint8Array | null): Uint8Array {
    return this.raw.merge(JSON.stringify(spec), origin, coords, existing ?? undefined);
  }
  release(): void {
    this.raw.release();
  }
}

export function nativeBackend(addon: NativeAddon): Backend {
  const info = JSON.parse(addon.buildInfo()) as BuildInfo;
  const dataset = (raw: NativeDataset, known?: FileMeta): Dataset => {
    const meta = known ?? fileMeta(raw.meta());
    return {
      meta,
      read: async (path, start, count) => new NativeSlabAdapter(await raw.read(path, start, count)),
      stats: async (path, start, count, missing) => JSON.parse(await raw.stats(path, start, count, missing)) as Stats,
      close: () => raw.close(),
    };
  };
  return {
    name: "native",
    info,
    openDataset: async (path: string, reader: ReaderKind = "auto") => dataset(await addon.NcDataset.open(path, reader)),
    reopenDataset: async (path, reader, meta) => dataset(await addon.NcDataset.reopen(path, reader), meta),
    openDatasetBytes: (bytes) => dataset(addon.NcDataset.fromBytes(bytes)),
    slabFromBytes: (dtype, shape, bytes) => new NativeSlabAdapter(addon.Slab.fromBytes(dtype, shape, bytes)),
    slabFromStrings: (shape, strings) => new NativeSlabAdapter(addon.Slab.fromStrings(shape, strings)),
    gather: (dtype, shape) => {
      const g = new addon.SlabGather(dtype, shape);
      return {
        put: (part, origin) => g.put((part as NativeSlabAdapter).raw, origin),
        finish: () => new NativeSlabAdapter(g.finish()),
        abandon: () => g.abandon(),
      };
    },
    packParams: (min, max, bits, source) => JSON.parse(addon.packParams(min, max, bits, source)) as PackParams,
    chunksInRegion: (spec, origin, shape) => JSON.parse(addon.chunksInRegion(JSON.stringify(spec), origin, shape)),
    readRegion: (spec, origin, shape, coords, chunks) =>
      new NativeSlabAdapter(addon.readRegion(JSON.stringify(spec), origin, shape, coords, chunks)),
  };
}
