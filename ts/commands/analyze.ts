/**
 * analyze: what a NetCDF file holds and how to store it. Reports its dimensions, variables
 * (dtype, size, value range, fill and NaN fractions, source encoding) and time axis; the chunking
 * convert would choose for each access pattern (from the same plan convert builds, so what is
 * shown is what is written); for packing, each width's maximum error per variable; and, on
 * request, measured compression of a sample with candidate codecs.
 *
 * Codec figures are measurements, not theory: a sample shaped like one planned chunk (from the
 * middle of each of the largest variables, packed when packing is on) is compressed and
 * decompressed by the backend that will do the work, and the round trip is checked byte for byte.
 */

import { isNumeric, itemSize } from "../backend/dtype.js";
import { loadBackend, type Backend } from "../backend/index.js";
import type { Compressor, DType, Stats, VarMeta } from "../backend/types.js";
import { numericAttr, textAttr } from "../cf/attrs.js";
import { decodeValue, formatDate, inferFreq } from "../cf/time.js";
import { type AccessPattern, type ZarrConverterConfig, slabBytes } from "../config/model.js";
import { formatCompression, parseCompression } from "../config/parse.js";
import { silentLogger } from "../log.js";
import { chunkCount } from "../zarr/grid.js";
import { buildPlan, walkVars, type VarPlan } from "../plan/layout.js";
import { chooseShards } from "../plan/sharding.js";
import { dataRange, declaredRange, missingValues, notDataNames, packable, unpackedRange, type PackRange } from "../plan/packing.js";
import { takeSamples } from "../pipeline/sample.js";
import { scanStats } from "../pipeline/scan.js";
import { openSource, readTimeAxis, timeLength, type Source } from "../pipeline/source.js";
import { storageFill } from "../zarr/metadata.js";
import type { RunOptions } from "./convert.js";

export interface AnalyzeOptions extends RunOptions {
  /** Measure a few common codecs on a small sample. */
  testPerformance?: boolean;
  /** Measure the full candidate grid (blosc cnames × levels × shuffles, zstd, gzip) on a larger sample. */
  runTests?: boolean;
}

export interface VariableReport {
  path: string;
  dtype: DType;
  dims: string[];
  shape: number[];
  /** Uncompressed bytes. */
  bytes: number;
  coordinate: boolean;
  /** Smallest and largest valid value (scale_factor/add_offset applied). */
  min: number | null;
  max: number | null;
  /** Fractions of elements equal to _FillValue/missing_value, and NaN; null where there are no
   * numbers to count (text, records). */
  fillFraction: number | null;
  nanFraction: number | null;
  units?: string;
  /** How the file stores it. */
  encoding: { ncType: string; chunks: number[] | null; filters: string[]; scaleFactor?: number; addOffset?: number; fillValue?: number };
}

export interface ChunkingRecommendation {
  pattern: AccessPattern;
  /** Arrays sharing one chunk shape. */
  groups: {
    arrays: string[];
    dims: string[];
    chunks: number[];
    chunkBytes: number;
    chunksPerArray: number;
    why: string[];
    /**
     * Recommended Zarr v3 shards for these chunks (`--shards`, as `sharding: auto` chooses them
     * for an archive long along time: the file's own length does not cap them).
     */
    shards: number[];
    shardBytes: number;
    shardWhy: string[];
  }[];
  totalChunks: number;
}

export interface PackingAdvice {
  variable: string;
  range: PackRange;
  /** Maximum error (half a packing step) at each width. */
  maxError: Record<8 | 16 | 32, number>;
  recommendedBits: 8 | 16 | 32;
}

export interface CodecResult {
  codec: string;
  ratio: number;
  compressMBps: number;
  decompressMBps: number;
  roundTrip: boolean;
}

export interface CodecTrials {
  /** Uncompressed bytes compressed with each candidate. */
  sampleBytes: number;
  variables: string[];
  backend: string;
  results: CodecResult[];
  /** The candidate with the fastest write + read through a LINK_MBPS link (none when no sample could be taken). */
  recommended?: string;
}

export interface AnalysisReport {
  file: string;
  format: string;
  reader: string;
  backend: string;
  fileBytes: number;
  dataBytes: number;
  dims: { group: string; name: string; length: number; unlimited: boolean }[];
  time?: { dim: string; length: number; start: string; end: string; step?: string; units: string; calendar: string };
  variables: VariableReport[];
  targetChunkSizeMb: number;
  targetShardSizeMb: number;
  chunking: ChunkingRecommendation[];
  packing: PackingAdvice[];
  /** `--test-performance`. */
  performance?: CodecTrials;
  /** `--run-tests`. */
  trials?: CodecTrials;
  notes: string[];
}

/**
 * Packing is recommended at the narrowest width whose maximum error stays below this fraction
 * of the variable's range: about four significant digits, finer than most observations and
 * models resolve. The table shows every width so users can choose otherwise.
 */
export const PACKING_PRECISION = 1e-4;
/**
 * Codecs are ranked by the time to compress, move and decompress a megabyte through a link of
 * this speed (a typical single object-store stream): ratio matters only as much as it saves
 * transfer time.
 */
export const LINK_MBPS = 100;
const QUICK_SAMPLE_BYTES = 2 * 2 ** 20;
const FULL_SAMPLE_BYTES = 8 * 2 ** 20;
/** Each timing repeats for this long (at least one pass) and keeps the fastest pass. */
const MIN_TRIAL_MS = 50;

const QUICK_CODECS = ["blosc:lz4:5:shuffle", "blosc:zstd:3:shuffle", "blosc:zstd:3:bitshuffle", "zstd:3", "gzip:5"];
const FULL_CODECS = [
  ...["zstd", "lz4", "zlib"].flatMap((cname) =>
    [1, 3, 5, 9].flatMap((level) => ["noshuffle", "shuffle", "bitshuffle"].map((s) => `blosc:${cname}:${level}:${s}`)),
  ),
  ...[1, 3, 9].map((l) => `zstd:${l}`),
  ...[1, 5, 9].map((l) => `gzip:${l}`),
];

export async function analyze(file: string, config: ZarrConverterConfig, options: AnalyzeOptions = {}): Promise<AnalysisReport> {
  const log = options.log ?? silentLogger;
  const backend = options.backend ?? (await loadBackend());
  const source = await openSource(backend, file, config, log);
  try {
    const meta = source.ds.meta;
    const notes: string[] = [];
    const all = walkVars(source.root);
    const coordNames = new Set(all.filter(({ v }) => v.dims.length === 1 && v.dims[0] === v.name).map(({ v }) => v.name));

    const stats = new Map<string, Stats>();
    for (const { v } of all) {
      if (!isNumeric(v.dtype)) continue;
      stats.set(v.path, await scanStats(source, v, missingValues(v), slabBytes(config), config.concurrency));
    }
    log.info(`scanned ${stats.size} variables of ${file}`);
    const variables = all.map(({ v }) => describeVariable(v, stats.get(v.path), coordNames.has(v.name)));

    const time = await describeTime(source, config.time.dim, notes);
    const packing = packingAdvice(all.map(({ v }) => v), stats, config, notDataNames(all.map(({ v }) => v)), backend, notes);
    const ranges = new Map(packing.map((p) => [p.variable, p.range]));
    const plans = (["temporal", "spatial", "balanced"] as const).map((pattern) => ({
      pattern,
      plan: buildPlan({
        meta,
        file,
        config: { ...config, accessPattern: pattern },
        timeLength: timeLength(source, config.time.dim),
        packRanges: config.packing.enabled ? ranges : new Map(),
        backend,
      }),
    }));
    const chunking = plans.map(({ pattern, plan }) => recommendChunking(pattern, plan.vars, config));

    const report: AnalysisReport = {
      file,
      format: meta.format,
      reader: meta.reader,
      backend: backend.name,
      fileBytes: source.size,
      dataBytes: variables.reduce((a, v) => a + v.bytes, 0),
      dims: dimsOf(source),
      time,
      variables,
      targetChunkSizeMb: config.targetChunkSizeMb,
      targetShardSizeMb: config.targetShardSizeMb,
      chunking,
      packing,
      notes,
    };
    const planned = plans.find((p) => p.pattern === config.accessPattern)!.plan.vars;
    if (options.testPerformance) report.performance = await trialCodecs(source, planned, QUICK_CODECS, QUICK_SAMPLE_BYTES, backend, config);
    if (options.runTests) report.trials = await trialCodecs(source, planned, FULL_CODECS, FULL_SAMPLE_BYTES, backend, config);
    return report;
  } finally {
    source.ds.close();
  }
}

function dimsOf(source: Source): AnalysisReport["dims"] {
  const out: AnalysisReport["dims"] = [];
  const walk = (g: Source["root"]) => {
    for (const d of g.dims) out.push({ group: g.path, name: d.name, length: d.len, unlimited: d.unlimited });
    g.groups.forEach(walk);
  };
  walk(source.root);
  return out;
}

function describeVariable(v: VarMeta, s: Stats | undefined, coordinate: boolean): VariableReport {
  const scale = numericAttr(v.attrs, "scale_factor")[0];
  const offset = numericAttr(v.attrs, "add_offset")[0];
  const range = s && s.min !== null && s.max !== null ? unpackedRange(s.min, s.max, scale, offset) : [null, null];
  const count = s?.count ?? 0;
  const out: VariableReport = {
    path: v.path,
    dtype: v.dtype,
    dims: v.dims,
    shape: v.shape,
    bytes: v.shape.reduce((a, b) => a * b, 1) * itemSize(v.dtype),
    coordinate,
    min: range[0],
    max: range[1],
    fillFraction: !s ? null : count ? s.missing / count : 0,
    nanFraction: !s ? null : count ? s.nan / count : 0,
    encoding: { ncType: v.nc_type, chunks: v.encoding.chunks, filters: v.encoding.filters },
  };
  const units = textAttr(v.attrs, "units");
  if (units) out.units = units;
  if (scale !== undefined) out.encoding.scaleFactor = scale;
  if (offset !== undefined) out.encoding.addOffset = offset;
  const fill = numericAttr(v.attrs, "_FillValue")[0];
  if (fill !== undefined) out.encoding.fillValue = fill;
  return out;
}

async function describeTime(source: Source, dim: string, notes: string[]): Promise<AnalysisReport["time"]> {
  let axis;
  try {
    axis = await readTimeAxis(source, dim);
  } catch (e) {
    notes.push(`the time axis cannot be read: ${(e as Error).message}`);
    return undefined;
  }
  if (!axis) {
    notes.push(`no CF time coordinate '${dim}' (set time.dim / --time-dim if time has another name)`);
    return undefined;
  }
  const { values, units } = axis;
  const at = (x: number) => formatDate(decodeValue(x, units));
  const freq = inferFreq(values, units);
  if (!freq && values.length > 1) notes.push(`the time steps are irregular: templates need --freq, and write-region places such files step by step`);
  return {
    dim,
    length: values.length,
    start: at(values[0]!),
    end: at(values[values.length - 1]!),
    step: freq?.text,
    units: units.text,
    calendar: units.calendar,
  };
}

function packingAdvice(
  vars: VarMeta[],
  stats: Map<string, Stats>,
  config: ZarrConverterConfig,
  notData: Set<string>,
  backend: Backend,
  notes: string[],
): PackingAdvice[] {
  const cfg = { ...config.packing, enabled: true };
  const out: PackingAdvice[] = [];
  for (const v of vars) {
    if (numericAttr(v.attrs, "scale_factor").length && !v.dtype.startsWith("float")) {
      notes.push(`${v.path} is already packed in the file (${v.dtype} with scale_factor); it is copied as it is`);
      continue;
    }
    if (!packable(v, cfg, notData)) continue;
    const s = stats.get(v.path);
    const range = declaredRange(v, cfg) ?? (s && dataRange(s, cfg));
    if (!range) {
      notes.push(`${v.path} holds no valid value: nothing to pack`);
      continue;
    }
    const maxError = Object.fromEntries(
      ([8, 16, 32] as const).map((bits) => [bits, backend.packParams(range.min, range.max, bits, v.dtype).scale_factor / 2]),
    ) as Record<8 | 16 | 32, number>;
    const span = range.max - range.min;
    const recommendedBits = ([8, 16, 32] as const).find((b) => maxError[b] <= span * PACKING_PRECISION) ?? 32;
    out.push({ variable: v.path, range, maxError, recommendedBits });
  }
  return out;
}

function recommendChunking(pattern: AccessPattern, vars: VarPlan[], config: ZarrConverterConfig): ChunkingRecommendation {
  const groups = new Map<string, ChunkingRecommendation["groups"][number]>();
  let totalChunks = 0;
  for (const v of vars) {
    const m = v.model;
    const n = chunkCount(m.shape, m.chunks);
    totalChunks += n;
    // Dimension coordinates are stored whole whatever the pattern; the data arrays are the choice.
    if (!m.shape.length || (m.dimensionNames.length === 1 && m.dimensionNames[0] === v.name)) continue;
    const key = `${m.dimensionNames.join(",")}=${m.chunks.join(",")}/${m.dtype}`;
    const g = groups.get(key);
    if (g) g.arrays.push(v.arrayPath);
    else {
      const shard = chooseShards({
        dims: m.dimensionNames,
        // An archive of many files: time as long as the shard target allows.
        shape: m.shape.map((len, i) => (m.dimensionNames[i] === config.time.dim ? Number.MAX_SAFE_INTEGER : len)),
        chunks: m.chunks,
        itemSize: itemSize(m.dtype),
        asked: config.sharding ?? "auto",
        timeDim: config.time.dim,
        pattern,
        targetBytes: config.targetShardSizeMb * 2 ** 20,
      });
      groups.set(key, {
        shards: shard.shards,
        shardBytes: shard.bytes,
        shardWhy: shard.reasons,
        arrays: [v.arrayPath],
        dims: m.dimensionNames,
        chunks: m.chunks,
        chunkBytes: m.chunks.reduce((a, b) => a * b, 1) * itemSize(m.dtype),
        chunksPerArray: n,
        why: v.chunkReasons,
      });
    }
  }
  return { pattern, groups: [...groups.values()], totalChunks };
}

// ---- codec trials -----------------------------------------------------------------------------

async function trialCodecs(source: Source, planned: VarPlan[], codecs: string[], budget: number, backend: Backend, config: ZarrConverterConfig): Promise<CodecTrials> {
  const samples = await takeSamples(source, planned, budget, config.packing.rangeExceededAction);
  const sampleBytes = samples.reduce((a, s) => a + s.shape.reduce((x, y) => x * y, 1) * itemSize(s.slab.dtype as DType), 0);
  const results = [];
  for (const codec of codecs) results.push(await trialCodec(backend, samples, parseCompression(codec)!, sampleBytes));
  const cost = (r: CodecResult) => 1 / r.compressMBps + 1 / r.decompressMBps + 1 / (r.ratio * LINK_MBPS);
  const usable = results.filter((r) => r.roundTrip && r.ratio > 0);
  const recommended = [...usable].sort((a, b) => cost(a) - cost(b))[0]?.codec;
  return { sampleBytes, variables: samples.map((s) => s.variable), backend: backend.name, results, recommended };
}

/**
 * Compress and decompress every sample with one codec. Each pass over the samples is repeated
 * until MIN_TRIAL_MS has passed and the fastest pass counts: other work on the machine only ever
 * slows a pass down. The round trip is checked byte for byte.
 */
async function trialCodec(backend: Backend, samples: Awaited<ReturnType<typeof takeSamples>>, compressor: Compressor, sampleBytes: number): Promise<CodecResult> {
  const trials = samples.map((s) => {
    const dtype = s.slab.dtype;
    const spec = { shape: s.shape, chunks: s.shape, dtype, fill: storageFill({ dtype, cfFill: null }), pipeline: { compressor } };
    return { s, spec, zero: s.shape.map(() => 0), bytes: new Uint8Array() as Uint8Array<ArrayBufferLike>, back: s.slab };
  });
  const encodeAll = async () => {
    for (const t of trials) t.bytes = (await t.s.slab.encode(t.spec, t.zero)).chunks[0]!.bytes;
  };
  const decodeAll = () => {
    for (const t of trials) t.back = backend.readRegion(t.spec, t.zero, t.s.shape, [t.zero], [t.bytes]);
  };
  const fastest = async (run: () => unknown): Promise<number> => {
    let best = Infinity;
    const started = performance.now();
    do {
      const t = performance.now();
      await run();
      best = Math.min(best, performance.now() - t);
    } while (performance.now() - started < MIN_TRIAL_MS);
    return best;
  };
  // One untimed pass first: codec contexts and buffers are set up on first use.
  await encodeAll();
  decodeAll();
  const encodeMs = await fastest(encodeAll);
  const decodeMs = await fastest(decodeAll);
  const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
  const encoded = trials.reduce((a, t) => a + t.bytes.length, 0);
  return {
    codec: formatCompression(compressor) as string,
    ratio: encoded ? sampleBytes / encoded : 0,
    compressMBps: sampleBytes / 1e6 / Math.max(encodeMs / 1000, 1e-9),
    decompressMBps: sampleBytes / 1e6 / Math.max(decodeMs / 1000, 1e-9),
    roundTrip: trials.every((t) => same(t.s.slab.toBytes()!, t.back.toBytes()!)),
  };
}
