/**
 * Moving one source file's data into an archive: read a slab, pack it if the variable is
 * packed, encode its chunks in the core, store them. Chunks a slab covers completely are written
 * straight away (atomically, no lock); chunks it covers only partly, which another writer may
 * share, are merged with what is stored while holding that chunk's lock. Reading and encoding
 * the next slab overlap storing the previous one (`concurrency` slabs in flight).
 */
import type { Backend, Dataset, NumericType, OutOfRangePolicy, PackReport, Slab } from "../backend/types.js";
import { slabBytes, type ZarrConverterConfig } from "../config/model.js";
import { fromCore, IncompatibleSourceError, PackingRangeError, timeProblem } from "../errors.js";
import { reencode, type TimeUnits } from "../cf/time.js";
import type { Logger, Progress } from "../log.js";
import type { Archive } from "../zarr/archive.js";
import { setPieces } from "../zarr/contract.js";
import { chunksTouched, outerCoords } from "../zarr/grid.js";
import { arraySpec, storedShape } from "../zarr/metadata.js";
import type { VarPlan } from "../plan/layout.js";
import { holdsExactly } from "../plan/encoding.js";
import { itemSize } from "../backend/dtype.js";
import { fileDone } from "./collect.js";
import { Budget, mapLimit } from "./pool.js";
import { planSlabs, type SlabBox } from "./slabs.js";

export interface WriteStats {
  /** Uncompressed bytes read from the source. */
  bytesRead: number;
  /** Bytes written to the store (compressed), the rewrites of merged chunks included. */
  bytesStored: number;
  /** Bytes of stored chunks that merges replaced: the archive holds bytesStored - bytesReplaced. */
  bytesReplaced: number;
  chunksWritten: number;
  /** Chunks merged with stored data under a lock. */
  chunksMerged: number;
  /** Values outside a packing range (clipped or filled), per variable. */
  outOfRange: Record<string, number>;
}

export function emptyStats(): WriteStats {
  return { bytesRead: 0, bytesStored: 0, bytesReplaced: 0, chunksWritten: 0, chunksMerged: 0, outOfRange: {} };
}

export function addStats(a: WriteStats, b: WriteStats): WriteStats {
  const outOfRange = { ...a.outOfRange };
  for (const [k, v] of Object.entries(b.outOfRange)) outOfRange[k] = (outOfRange[k] ?? 0) + v;
  return {
    bytesRead: a.bytesRead + b.bytesRead,
    bytesStored: a.bytesStored + b.bytesStored,
    bytesReplaced: a.bytesReplaced + b.bytesReplaced,
    chunksWritten: a.chunksWritten + b.chunksWritten,
    chunksMerged: a.chunksMerged + b.chunksMerged,
    outOfRange,
  };
}

/**
 * One file's steps of a run: `count` steps along time from step `start` of the file, with the
 * variable bound to the file (its own shape and decoding, see plan/layout.ts bindSource).
 */
export interface Segment {
  ds: Dataset;
  file: string;
  v: VarPlan;
  start: number;
  count: number;
}

/** What one file gives to a slab: a box of the file's variable, placed at `at` in the slab. */
export interface WritePart {
  ds: Dataset;
  file: string;
  v: VarPlan;
  /** The box, in the file variable's coordinates. */
  box: SlabBox;
  /** Where the box starts inside the slab. */
  at: number[];
}

/**
 * One slab of one variable: the unit the write pool schedules. Its parts come from one file, or
 * from consecutive files whose steps fill the same chunks (gathered, so each chunk is encoded and
 * written once).
 */
export interface WriteJob {
  /** The archive's array (the first part's binding). */
  v: VarPlan;
  /**
   * What each file gives. A run's slabs make their parts each time they are asked (see RunSlab):
   * a plan over ten thousand files then holds no part objects until a slab is written.
   */
  readonly parts: WritePart[];
  /** Where the slab lands in the archive. */
  origin: number[];
  /** The slab's shape. */
  count: number[];
}

export interface PlacementOptions {
  /** Where the file's first written time step lands on the archive's time axis. */
  timeOffset: number;
  /** First time step of the file to write (append skips steps the archive has). */
  timeStart?: number;
  /** Number of time steps to write (default: the rest of the file). */
  timeCount?: number;
  /** Where the file's other dimensions start in the archive, by name (a hand-given region); 0 when absent. */
  offsets?: Record<string, number>;
  slabBytes: number;
}

/**
 * A run of files along time, one segment per file. Segments are made when a slab reads from
 * them: a plan over ten thousand files and twenty variables holds no segment objects.
 */
export interface Run {
  readonly length: number;
  /** The steps segment `i` gives along time. */
  count(i: number): number;
  segment(i: number): Segment;
}

/** A run of segments already made (one file, or a caller's short list). */
export function runOf(segments: Segment[]): Run {
  return { length: segments.length, count: (i) => segments[i]!.count, segment: (i) => segments[i]! };
}

/** Segments `from` to `to` (excluded) of a run. */
function subRun(run: Run, from: number, to: number): Run {
  return { length: to - from, count: (i) => run.count(from + i), segment: (i) => run.segment(from + i) };
}

/** The slabs that write variable `v` of `ds` into the archive, in order. */
export function planVariableWrites(ds: Dataset, file: string, v: VarPlan, opts: PlacementOptions): WriteJob[] {
  const start = v.timeAxis >= 0 ? (opts.timeStart ?? 0) : 0;
  const count = v.timeAxis >= 0 ? (opts.timeCount ?? v.source.shape[v.timeAxis]! - start) : 0;
  return planRunWrites(runOf([{ ds, file, v, start, count }]), opts);
}

/**
 * The slabs that write a run of files, one after another along time, into the archive from
 * `opts.timeOffset`: the run is planned as one variable, so slab edges fall on chunk boundaries
 * of the run as a whole, and a chunk the files fill together is one slab gathered from them.
 * Only chunks at the run's two ends can be partial. A variable without time has one segment.
 */
export function planRunWrites(run: Run, opts: PlacementOptions): WriteJob[] {
  // A file boundary on a chunk boundary needs no gathering: the files on either side are planned
  // apart (no copy of their values into a joint slab), as separate runs.
  const v0 = run.segment(0).v;
  const t0 = v0.timeAxis;
  if (t0 >= 0 && run.length > 1) {
    const chunk = storedShape(v0.model)[t0]!;
    const starts = [0];
    let at = opts.timeOffset;
    for (let i = 0; i < run.length; i++) {
      if (i > starts[starts.length - 1]! && at % chunk === 0) starts.push(i);
      at += run.count(i);
    }
    if (starts.length > 1) {
      starts.push(run.length);
      let offset = opts.timeOffset;
      return starts.slice(0, -1).flatMap((from, k) => {
        const part = subRun(run, from, starts[k + 1]!);
        const jobs = planRun(part, { ...opts, timeOffset: offset });
        for (let i = 0; i < part.length; i++) offset += part.count(i);
        return jobs;
      });
    }
  }
  return planRun(run, opts);
}

function planRun(run: Run, opts: PlacementOptions): WriteJob[] {
  const first = run.segment(0);
  const v = first.v;
  const t = v.timeAxis;
  const shape = [...v.source.shape];
  const origin = v.source.dims.map((d) => opts.offsets?.[d] ?? 0);
  let itemBytes = itemSize(v.source.dtype);
  if (t >= 0) {
    shape[t] = 0;
    for (let i = 0; i < run.length; i++) shape[t] += run.count(i);
    origin[t] = opts.timeOffset;
    // Files encoded differently may read as different types (decoded later to the archive's).
    for (let i = 1; i < run.length; i++) itemBytes = Math.max(itemBytes, itemSize(run.segment(i).v.source.dtype));
  }
  // Slabs are cut at the stored objects' edges (shards when sharded), so a shard that one run
  // covers is encoded and written once, whatever the slab budget.
  const boxes = planSlabs(shape, storedShape(v.model), origin, itemBytes, opts.slabBytes);
  const place = (box: SlabBox) => box.start.map((x, d) => x + origin[d]!);
  if (t < 0) {
    return boxes.map((box) => ({ v, parts: [{ ds: first.ds, file: first.file, v: first.v, box, at: box.start.map(() => 0) }], origin: place(box), count: box.count }));
  }
  // Slabs come in time order within each stretch of the other dimensions: the first file a slab
  // reads from is found by walking on from where the previous slab's search began.
  let from = 0;
  let fromStep = 0;
  return boxes.map((box) => {
    const lo = box.start[t]!;
    if (lo < fromStep) [from, fromStep] = [0, 0];
    while (fromStep + run.count(from) <= lo) fromStep += run.count(from++);
    return new RunSlab(v, place(box), box, run, from, fromStep);
  });
}

/**
 * A slab of a run of files along time. Its parts (the box's steps, split at file boundaries) are
 * made when asked for, from the run and where its first file starts in the run.
 */
class RunSlab implements WriteJob {
  readonly count: number[];

  constructor(
    readonly v: VarPlan,
    readonly origin: number[],
    private readonly box: SlabBox,
    private readonly run: Run,
    private readonly first: number,
    private readonly firstStep: number,
  ) {
    this.count = box.count;
  }

  get parts(): WritePart[] {
    const { box, run } = this;
    const t = this.v.timeAxis;
    const [lo, hi] = [box.start[t]!, box.start[t]! + box.count[t]!];
    const parts: WritePart[] = [];
    let step = this.firstStep;
    for (let i = this.first; i < run.length && step < hi; step += run.count(i++)) {
      const n = run.count(i);
      const [a, b] = [Math.max(lo, step), Math.min(hi, step + n)];
      if (a >= b) continue;
      const s = run.segment(i);
      const start = [...box.start];
      const count = [...box.count];
      start[t] = s.start + (a - step);
      count[t] = b - a;
      const at = box.start.map(() => 0);
      at[t] = a - lo;
      parts.push({ ds: s.ds, file: s.file, v: s.v, box: { start, count }, at });
    }
    return parts;
  }
}

export interface RunOptions {
  backend: Backend;
  /** Slabs in flight at once: storing one overlaps reading and encoding the next (see runWrites). */
  concurrency: number;
  policy: OutOfRangePolicy;
  log: Logger;
  progress?: Pick<Progress, "advance">;
  /** The slab budget: slabs smaller than it are computed side by side within it. */
  slabBytes?: number;
  /** Close each dataset as soon as its last job is done (bounds memory over many files). */
  closeWhenDone?: boolean;
}

/** The run options a configuration gives (the slab budget, slabs in flight, the out-of-range policy). */
export function runOptions(config: ZarrConverterConfig, backend: Backend, log: Logger, more: Partial<RunOptions> = {}): RunOptions {
  return { backend, concurrency: config.concurrency, policy: config.packing.rangeExceededAction, log, slabBytes: slabBytes(config), ...more };
}

/** Run write jobs in one pool; returns the figures. */
export async function runWrites(archive: Archive, jobs: WriteJob[], opts: RunOptions): Promise<WriteStats> {
  const stats = emptyStats();
  // Parts left to read per file: with closeWhenDone, a file is closed as soon as its last part
  // is read (its handles and cached chunks go before that slab is even encoded). The same pass
  // finds the largest slab.
  const remaining = new Map<Dataset, number>();
  let largest = 1;
  for (const j of jobs) {
    const parts = j.parts;
    for (const p of parts) remaining.set(p.ds, (remaining.get(p.ds) ?? 0) + 1);
    largest = Math.max(largest, jobBytes(j, parts));
  }
  const partRead = (p: WritePart) => {
    const left = remaining.get(p.ds)! - 1;
    if (left > 0) return void remaining.set(p.ds, left);
    remaining.delete(p.ds);
    opts.log.debug(`done with ${p.file}`);
    if (!opts.closeWhenDone) return;
    p.ds.close();
    fileDone();
  };
  // Reading, packing and encoding keep the cores busy; storing mostly waits on I/O. Storing one
  // slab overlaps reading and encoding the next. A slab of several chunks is computed alone: the
  // core already spreads its chunks over all cores, and a second one at once would only hold
  // both slabs' values (and, in WebAssembly, which has one thread, grow its memory for good).
  // Slabs of one chunk (a chunk gathered from small files, which one core encodes) are computed
  // side by side, their values together within half the slabs in flight times the slab budget.
  const compute = new Budget(Math.ceil(opts.concurrency / 2) * Math.max(largest, opts.slabBytes ?? 0));
  // Small slabs may also be more in flight than `concurrency` large ones, within the same memory.
  const inFlight = Math.max(opts.concurrency, Math.min(2 * opts.concurrency, Math.floor((opts.slabBytes ?? 0) / largest)));
  await mapLimit(jobs, inFlight, (job) => writeSlab(archive, job, opts, stats, compute, partRead));
  for (const [path, n] of Object.entries(stats.outOfRange)) {
    opts.log.warn(`${n} values outside the packing range of ${path} were ${opts.policy === "clip" ? "clipped" : "stored as missing"}`);
  }
  return stats;
}

/** Uncompressed bytes a job reads (its parts when already at hand). */
function jobBytes(job: WriteJob, parts: WritePart[] = job.parts): number {
  return parts.reduce((n, p) => n + p.box.count.reduce((a, b) => a * b, 1) * itemSize(p.v.source.dtype), 0);
}

/** Files read at once into one gathered slab (each file's chunks are inflated on a core thread). */
const PARTS_IN_FLIGHT = 4;

/** A part's values in the archive's stored type: read, decoded with the file's own encoding, packed. */
async function readPart(part: WritePart, opts: RunOptions, stats: WriteStats): Promise<Slab> {
  const { ds, file, v, box } = part;
  const src = v.source;
  let slab;
  try {
    slab = await ds.read(src.path, box.start, box.count);
  } catch (e) {
    throw fromCore(e, { file, variable: src.path });
  }
  if (v.retime) {
    const read = slab;
    try {
      slab = retimed(opts.backend, read, v, file);
    } finally {
      read.release();
    }
  }
  if (v.decode) {
    const stored = slab;
    try {
      slab = stored.decode(v.decode);
    } catch (e) {
      throw fromCore(e, { file, variable: src.path });
    } finally {
      stored.release();
    }
  }
  if (v.pack) {
    let report: PackReport;
    const read = slab;
    try {
      ({ slab, report } = read.pack(v.pack, v.missing, opts.policy));
    } catch (e) {
      const err = fromCore(e, { file, variable: src.path });
      throw err instanceof PackingRangeError
        ? new PackingRangeError(
            `${fromCore(e).message}; widen packing.manualRanges.${v.name}, or set packing.rangeExceededAction to clip or fill`,
            { file, variable: src.path },
          )
        : err;
    } finally {
      read.release();
    }
    if (report.out_of_range) stats.outOfRange[v.arrayPath] = (stats.outOfRange[v.arrayPath] ?? 0) + report.out_of_range;
  }
  return slab;
}

/**
 * Times in `retime.from` re-expressed in `retime.to` as the writers store them: exactly (cf/time.ts
 * reencode, which keeps NaN and infinities), missing markers kept as they are. Validate compares
 * the archive against this too.
 */
export function retimedValues(values: number[], retime: { from: TimeUnits; to: TimeUnits }, missing: number[]): number[] {
  const present = missing.length ? values.map((x) => (missing.includes(x) ? NaN : x)) : values;
  const out = reencode(present, retime.from, retime.to);
  for (let i = 0; i < out.length; i++) if (missing.includes(values[i]!)) out[i] = values[i]!;
  return out;
}

/**
 * Times of a file re-expressed in the archive's units and type (VarPlan.retime, retimedValues). A
 * value the archive's integer type cannot hold exactly is refused.
 */
function retimed(backend: Backend, slab: Slab, v: VarPlan, file: string): Slab {
  const out = retimedExactly(numbersFrom(v.source.dtype, slab.toBytes()!), v, file);
  return backend.slabFromBytes(v.model.dtype, slab.shape, typedBytes(v.model.dtype, out));
}

/**
 * `values` of a file's variable re-expressed into the archive's units (retimedValues); refused
 * when the archive's type cannot hold one exactly. Append and write-region run it on the whole
 * variable before anything is written (existing.ts checkRanges).
 */
export function retimedExactly(values: number[], v: VarPlan, file: string): number[] {
  const { from, to } = v.retime!;
  let out: number[];
  try {
    out = retimedValues(values, v.retime!, v.missing);
  } catch (e) {
    throw timeProblem(e, file);
  }
  const dtype = v.model.dtype as NumericType;
  const bad = out.findIndex((y, i) => !holdsExactly(dtype, y) && !v.missing.includes(values[i]!));
  if (bad >= 0) {
    throw new IncompatibleSourceError(`value ${values[bad]} '${from.text}' is ${out[bad]} in the archive's '${to.text}', which its ${dtype} cannot hold exactly`, { file, variable: v.sourcePath });
  }
  return out;
}

async function writeSlab(
  archive: Archive,
  job: WriteJob,
  opts: RunOptions,
  stats: WriteStats,
  compute: Budget,
  partRead: (p: WritePart) => void,
): Promise<void> {
  const { v, origin } = job;
  const parts = job.parts;
  const store = archive.store;
  const spec = arraySpec(v.model);
  const raw = jobBytes(job, parts);
  if (shardsByPart(job, parts, opts.backend)) return writeShardsByPart(archive, job, parts, opts, stats, compute, partRead);
  const { slab, enc } = await compute.run(chunksTouched(job.origin, job.count, job.v.model.chunks) > 1 ? compute.capacity : raw, async () => {
    let slab: Slab;
    if (parts.length === 1) {
      slab = await readPart(parts[0]!, opts, stats);
      partRead(parts[0]!);
    } else {
      // Each file's part is copied into the slab as soon as it is read, and freed.
      const gathering = opts.backend.gather(spec.dtype, job.count);
      try {
        await mapLimit(parts, PARTS_IN_FLIGHT, async (p) => {
          const part = await readPart(p, opts, stats);
          partRead(p);
          try {
            gathering.put(part, p.at);
          } finally {
            part.release();
          }
        });
      } catch (e) {
        gathering.abandon();
        throw e;
      }
      slab = gathering.finish();
    }
    let enc;
    try {
      enc = await slab.encode(spec, origin);
    } catch (e) {
      throw fromCore(e, { file: parts[0]!.file, variable: v.source.path });
    }
    // Only merging partial chunks needs the values again: otherwise free them before the writes.
    if (!enc.partial.length) slab.release();
    return { slab, enc };
  });
  await mapLimit(enc.chunks, 8, async (c) => {
    await store.set(archive.chunkKey(v.arrayPath, v.model, c.coords), c.bytes);
    stats.bytesStored += c.bytes.length;
    freeStored(archive, opts.backend, [c.bytes]);
  });
  stats.chunksWritten += enc.chunks.length;
  for (const coords of enc.partial) {
    const key = archive.chunkKey(v.arrayPath, v.model, coords);
    let replaced = 0;
    const merged = await store.update(key, (existing) => {
      replaced = existing?.length ?? 0;
      return slab.merge(spec, origin, coords, existing ?? null);
    });
    stats.bytesStored += merged.length;
    freeStored(archive, opts.backend, [merged]);
    stats.bytesReplaced += replaced;
    stats.chunksMerged++;
    stats.chunksWritten++;
  }
  slab.release();
  stats.bytesRead += raw;
  opts.progress?.advance(raw);
}

/**
 * Encoded bytes the store has written: free their memory now when the store keeps no reference to
 * them (a file or object store), rather than when JS collects them, which can be tens of MB later.
 */
function freeStored(archive: Archive, backend: Backend, bytes: Uint8Array[]): void {
  if (archive.store.keepsNoValues) backend.freeBytes(bytes);
}

/**
 * Whether a slab gathered from several files fills whole shards, each file's part whole chunks:
 * its shards are then built from each part's chunks, encoded as the part is read, with no copy of
 * the files' values into one slab and one part's values held at a time instead of a shard's.
 */
function shardsByPart(job: WriteJob, parts: WritePart[], backend: Backend): boolean {
  const { v } = job;
  const t = v.timeAxis;
  if (!v.model.shards || parts.length < 2 || t < 0) return false;
  const [chunk, len] = [v.model.chunks[t]!, v.model.shape[t]!];
  const onEdge = (x: number) => x % chunk === 0 || x === len;
  const aligned = parts.every((p) => onEdge(job.origin[t]! + p.at[t]!) && onEdge(job.origin[t]! + p.at[t]! + p.box.count[t]!));
  return aligned && backend.chunksInRegion(arraySpec(v.model), job.origin, job.count).full.every(Boolean);
}

/** Write a slab of whole shards from its parts' chunks (see shardsByPart). */
async function writeShardsByPart(
  archive: Archive,
  job: WriteJob,
  parts: WritePart[],
  opts: RunOptions,
  stats: WriteStats,
  compute: Budget,
  partRead: (p: WritePart) => void,
): Promise<void> {
  const { v, origin } = job;
  const spec = arraySpec(v.model);
  const chunkSpec = arraySpec({ ...v.model, shards: undefined });
  const shards = storedShape(v.model);
  const byShard = new Map<string, { coords: number[]; bytes: Uint8Array }[]>();
  // Two parts at once: one read while the other is encoded (each encode uses every core).
  await compute.run(compute.capacity, () =>
    mapLimit(parts, 2, async (p) => {
      const slab = await readPart(p, opts, stats);
      partRead(p);
      let enc;
      try {
        enc = await slab.encode(chunkSpec, origin.map((o, d) => o + p.at[d]!));
      } catch (e) {
        throw fromCore(e, { file: p.file, variable: v.source.path });
      } finally {
        slab.release();
      }
      if (enc.partial.length) throw new Error(`${p.file}: its part of '${v.arrayPath}' does not cover whole chunks`);
      for (const c of enc.chunks) {
        const key = outerCoords(c.coords, v.model.chunks, shards).join(",");
        const inner = byShard.get(key);
        if (inner) inner.push(c);
        else byShard.set(key, [c]);
      }
    }),
  );
  const { chunks } = opts.backend.chunksInRegion(spec, origin, job.count);
  await mapLimit(chunks, 8, async (coords) => {
    // Stored as the inner chunks' own buffers and the index, never joined into one copy.
    const inner = byShard.get(coords.join(",")) ?? [];
    const { order, index } = opts.backend.shardPieces(spec, coords, inner.map((c) => c.coords), inner.map((c) => c.bytes.length));
    const pieces = [...order.map((i) => inner[i]!.bytes), index];
    await setPieces(archive.store, archive.chunkKey(v.arrayPath, v.model, coords), pieces);
    stats.bytesStored += pieces.reduce((n, p) => n + p.length, 0);
    freeStored(archive, opts.backend, pieces);
  });
  stats.chunksWritten += chunks.length;
  const raw = jobBytes(job, parts);
  stats.bytesRead += raw;
  opts.progress?.advance(raw);
}

/** Write variable `v` of `ds` (file `file`) into the archive. */
export function writeVariable(
  archive: Archive,
  ds: Dataset,
  file: string,
  v: VarPlan,
  opts: PlacementOptions & RunOptions,
): Promise<WriteStats> {
  return runWrites(archive, planVariableWrites(ds, file, v, opts), opts);
}

/** Write a whole in-memory array (a coordinate computed on the JS side, such as a time axis). */
export async function writeWholeArray(
  backend: Backend,
  archive: Archive,
  v: VarPlan,
  values: ArrayLike<number>,
): Promise<number> {
  const bytes = typedBytes(v.model.dtype, values);
  const slab = backend.slabFromBytes(v.model.dtype, v.model.shape, bytes);
  const enc = await slab.encode(arraySpec(v.model), v.model.shape.map(() => 0));
  let stored = 0;
  for (const c of enc.chunks) {
    await archive.store.set(archive.chunkKey(v.arrayPath, v.model, c.coords), c.bytes);
    stored += c.bytes.length;
  }
  return stored;
}

/** Little-endian bytes of numbers in a dtype. */
export function typedBytes(dtype: string, values: ArrayLike<number>): Uint8Array {
  const n = values.length;
  switch (dtype) {
    case "float64":
      return new Uint8Array(Float64Array.from(values).buffer);
    case "float32":
      return new Uint8Array(Float32Array.from(values).buffer);
    case "int64":
      return new Uint8Array(BigInt64Array.from(Array.from(values, (x) => BigInt(Math.round(x)))).buffer);
    case "uint64":
      return new Uint8Array(BigUint64Array.from(Array.from(values, (x) => BigInt(Math.round(x)))).buffer);
    case "int32":
      return new Uint8Array(Int32Array.from(values).buffer);
    case "uint32":
      return new Uint8Array(Uint32Array.from(values).buffer);
    case "int16":
      return new Uint8Array(Int16Array.from(values).buffer);
    case "uint16":
      return new Uint8Array(Uint16Array.from(values).buffer);
    case "int8":
      return new Uint8Array(Int8Array.from(values).buffer);
    case "uint8":
      return Uint8Array.from(values);
    default:
      throw new Error(`cannot make ${n} numbers of type ${dtype}`);
  }
}

/** Numbers from little-endian bytes of a dtype. */
export function numbersFrom(dtype: string, bytes: Uint8Array): number[] {
  return Array.from(numericView(dtype, bytes));
}

/**
 * Little-endian bytes of a dtype seen as numbers without copying when the bytes are aligned
 * (large slabs are scanned this way); 64-bit integers are converted, as JS compares numbers.
 */
export function numericView(dtype: string, bytes: Uint8Array): ArrayLike<number> {
  const types: Record<string, { BYTES_PER_ELEMENT: number; new (b: ArrayBuffer, o: number, n: number): ArrayLike<number> }> = {
    float64: Float64Array, float32: Float32Array, int32: Int32Array, uint32: Uint32Array,
    int16: Int16Array, uint16: Uint16Array, int8: Int8Array, uint8: Uint8Array,
  };
  const big = dtype === "int64" ? BigInt64Array : dtype === "uint64" ? BigUint64Array : undefined;
  const T = types[dtype];
  if (!T && !big) throw new Error(`${dtype} is not numeric`);
  const size = T?.BYTES_PER_ELEMENT ?? 8;
  const aligned = bytes.byteOffset % size === 0;
  const buf = (aligned ? bytes.buffer : bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)) as ArrayBuffer;
  const offset = aligned ? bytes.byteOffset : 0;
  const n = bytes.byteLength / size;
  return big ? Array.from(new big(buf, offset, n), Number) : new T!(buf, offset, n);
}
