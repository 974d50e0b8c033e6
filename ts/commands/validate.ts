/**
 * validate: is a finished archive sound? Run after every writer of a template has finished (or
 * after convert/append), it checks, without changing anything:
 *
 * 1. metadata: every document parses, the consolidated metadata (what readers open) agrees with
 *    the array documents, each array's chunk grid fits its shape, and every dimension has one
 *    length across arrays;
 * 2. the time axis: every value present, strictly increasing, at the expected step (`time.freq`,
 *    else the axis' most common step);
 * 3. every stored chunk decodes (a truncated or corrupted chunk is named), and which time ranges
 *    no writer ever filled (no chunk stored, or nothing but fill values);
 * 4. with source files: each file's times are found on the axis and its values compared with the
 *    archive's, exactly, or within half a packing step where zarrio packed the data.
 *
 * The report lists problems (which make the CLI exit with ValidationError) and facts (value
 * ranges, chunk counts) for the record.
 */
import { isNumeric, isRecord, itemSize } from "../backend/dtype.js";
import { existsSync } from "node:fs";

import { loadBackend, type Backend } from "../backend/index.js";
import type { Dataset, Decoding, Slab, Stats, VarMeta } from "../backend/types.js";
import { decodeValue, describeSeconds, formatDate, inferFreq, parseFreq, reencode, timeAxis, type Freq, type TimeUnits } from "../cf/time.js";
import { type ZarrConverterConfig, slabBytes } from "../config/model.js";
import { fromCore, StoreError, ZarrioError } from "../errors.js";
import { silentLogger } from "../log.js";
import { chunkCount } from "../plan/chunking.js";
import { walkVars } from "../plan/layout.js";
import { cfEncoding, decodedDtype, decodingOf, sameEncoding, storedEncoding } from "../plan/encoding.js";
import { unpackedRange } from "../plan/packing.js";
import { regionFromTimes, SAME_INSTANT_SECONDS } from "../plan/region.js";
import { isCoordinate, openArchive, readAxis, readStored, type Axis, type ExistingArchive } from "../pipeline/existing.js";
import { mapLimit } from "../pipeline/pool.js";
import { mergeStats } from "../pipeline/scan.js";
import { isS3Url } from "../s3/url.js";
import { planSlabs } from "../pipeline/slabs.js";
import { findVar, openSource, readTimeAxis, timeLength, type Source } from "../pipeline/source.js";
import { numbersFrom, numericView } from "../pipeline/writer.js";
import { arraySpec, storageFill, storedShape, type ArrayModel } from "../zarr/metadata.js";
import type { RunOptions } from "./convert.js";

export type ProblemKind = "metadata" | "time" | "chunk" | "unwritten" | "source";

export interface Problem {
  kind: ProblemKind;
  message: string;
  /** The array concerned, when one is. */
  variable?: string;
}

export interface TimeRange {
  /** Archive positions [start, stop). */
  start: number;
  stop: number;
  /** The first and last times of the range, when the axis is CF time. */
  from?: string;
  to?: string;
}

export interface ArrayFacts {
  path: string;
  dtype: string;
  shape: number[];
  chunks: number[];
  chunksTotal: number;
  /** Chunks stored (inner chunks, when sharded: from each shard's index). */
  chunksStored: number;
  /** A sharded array's shards: their shape, how many are stored, and those lacking inner chunks. */
  shards?: { shape: number[]; total: number; stored: number; incomplete: IncompleteShard[] };
  /** Smallest and largest valid value, decoded (scale_factor/add_offset applied). */
  min: number | null;
  max: number | null;
  /** Fraction of elements that are missing (fill or NaN, unwritten included). */
  missingFraction: number;
}

/** A stored shard some of whose inner chunks (inside the array) were never written. */
export interface IncompleteShard {
  key: string;
  /** Inner chunks missing, out of `chunks` the shard holds inside the array. */
  missing: number;
  chunks: number;
}

export interface SourceCheck {
  file: string;
  ok: boolean;
  /** Where the file's times sit on the archive's axis. */
  region?: TimeRange;
  variablesCompared: number;
  valuesCompared: number;
  mismatches: { variable: string; message: string; count?: number; first?: { index: number[]; file: number | string; archive: number | string } }[];
  /**
   * Variables the archive holds re-packed with its own scale and offset (the file packs them
   * otherwise, or not at all): their values agree within this bound, half the archive's step.
   */
  bounds?: Record<string, number>;
  /** Why the file could not be compared at all. */
  error?: string;
}

export interface ValidationReport {
  archive: string;
  ok: boolean;
  format?: 2 | 3;
  consolidated?: boolean;
  arrays: ArrayFacts[];
  time?: { dim: string; length: number; start?: string; end?: string; step?: string; calendar?: string; units?: string };
  /** Time ranges no writer filled: no array along time holds a value there (problems). */
  unwritten: TimeRange[];
  /** Ranges where some arrays hold nothing while others hold data (facts, not problems). */
  allMissing: { variables: string[]; ranges: TimeRange[] }[];
  sources: SourceCheck[];
  problems: Problem[];
}

/** Examples named per kind of finding before the rest are counted. */
const EXAMPLES = 5;

export async function validate(archivePath: string, sources: string[], config: ZarrConverterConfig, options: RunOptions = {}): Promise<ValidationReport> {
  const log = options.log ?? silentLogger;
  const backend = options.backend ?? (await loadBackend());
  if (!isS3Url(archivePath) && !existsSync(archivePath)) throw new StoreError("no archive here", { file: archivePath });
  const report: ValidationReport = { archive: archivePath, ok: false, arrays: [], unwritten: [], allMissing: [], sources: [], problems: [] };
  const problem = (kind: ProblemKind, message: string, variable?: string) => {
    report.problems.push({ kind, message, variable });
    // The report carries the problems; the log line is for following a long run (-v).
    log.info(`found a ${kind} problem: ${variable ? `${variable}: ` : ""}${message}`);
  };

  let ex: ExistingArchive;
  try {
    ex = await openArchive(archivePath, { s3: config.s3, log });
    report.format = ex.archive.format;
    report.consolidated = ex.consolidated;
    await checkMetadata(ex, problem);
  } catch (e) {
    problem("metadata", `does not open: ${(e as Error).message}`);
    return finish(report);
  }
  log.info(`validating ${archivePath}`, { format: ex.archive.format, arrays: ex.arrays.size, consolidated: ex.consolidated });

  const dim = config.time.dim;
  const hasTime = [...ex.arrays.values()].some((m) => m.dimensionNames.includes(dim));
  let axis: Axis | undefined;
  if (hasTime) {
    try {
      axis = await readAxis(backend, ex, dim);
      report.time = checkTimeAxis(axis, config.time.freq, problem);
    } catch (e) {
      problem("time", (e as Error).message);
    }
  }

  const concurrency = Math.max(2, config.concurrency * 2);
  const written = new Map<string, Uint8Array>();
  for (const [path, model] of [...ex.arrays].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const t = model.dimensionNames.indexOf(dim);
    const coordinate = isCoordinate(path, model);
    const scan = await scanArray(backend, ex, path, model, coordinate ? -1 : t, concurrency, problem);
    report.arrays.push(scan.facts);
    if (scan.written) written.set(path, scan.written);
    else if (scan.facts.chunksStored === 0 && model.shape.every((s) => s > 0)) problem("unwritten", "no chunk was ever written", path);
  }
  Object.assign(report, unwrittenRanges(written, axis, problem));

  for (const file of sources) {
    const check = await compareSource(backend, ex, file, axis, config);
    report.sources.push(check);
    if (check.error) problem("source", check.error);
    for (const m of check.mismatches) problem("source", `${file}: ${m.message}`, m.variable);
    log.info(`compared ${file}`, { ok: check.ok, values: check.valuesCompared });
  }
  return finish(report);
}

function finish(report: ValidationReport): ValidationReport {
  report.ok = report.problems.length === 0;
  return report;
}

type Report = (kind: ProblemKind, message: string, variable?: string) => void;

// ---- 1. metadata ----------------------------------------------------------------------------

/** JSON with sorted keys: two documents that mean the same compare equal. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1))) : typeof v === "bigint" ? v.toString() : v,
  );
}

async function checkMetadata(ex: ExistingArchive, problem: Report): Promise<void> {
  // The array documents, read one by one, against the consolidated view readers open.
  let documents;
  try {
    documents = await ex.archive.hierarchy();
  } catch (e) {
    problem("metadata", errorText(e));
  }
  if (!ex.consolidated) {
    problem("metadata", "has no consolidated metadata (readers open it slowly, and zarrio's writers commit through it)");
  } else if (documents) {
    for (const [path, model] of documents.arrays) {
      const committed = ex.arrays.get(path);
      if (!committed) problem("metadata", "has an array document that the consolidated metadata does not list", path);
      else if (canonical(committed) !== canonical(model)) problem("metadata", "its array document differs from the consolidated metadata", path);
    }
    for (const path of ex.arrays.keys()) {
      if (!documents.arrays.has(path)) problem("metadata", "is listed in the consolidated metadata but has no array document", path);
    }
  }
  const lengths = new Map<string, Map<number, string[]>>();
  for (const [path, m] of ex.arrays) {
    if (m.chunks.length !== m.shape.length || m.chunks.some((c) => !Number.isInteger(c) || c < 1)) {
      problem("metadata", `chunk shape [${m.chunks.join(", ")}] does not fit shape [${m.shape.join(", ")}]`, path);
    }
    if (m.dimensionNames.length !== m.shape.length) {
      problem("metadata", `names ${m.dimensionNames.length} dimensions for ${m.shape.length} axes`, path);
      continue;
    }
    m.dimensionNames.forEach((d, i) => {
      const byLength = lengths.get(d) ?? new Map<number, string[]>();
      byLength.set(m.shape[i]!, [...(byLength.get(m.shape[i]!) ?? []), path]);
      lengths.set(d, byLength);
    });
  }
  for (const [d, byLength] of lengths) {
    if (byLength.size > 1) {
      problem("metadata", `dimension '${d}' has different lengths: ${[...byLength].map(([n, paths]) => `${n} in ${paths.join(", ")}`).join("; ")}`);
    }
  }
}

// ---- 2. the time axis ---------------------------------------------------------------------------

function checkTimeAxis(axis: Axis, freqText: string | undefined, problem: Report): ValidationReport["time"] {
  const out: NonNullable<ValidationReport["time"]> = { dim: axis.dim, length: axis.length };
  const coord = axis.coord;
  if (!coord) return out;
  const { values, units, path } = coord;
  const fill = coord.model.cfFill === null ? undefined : Number(coord.model.cfFill);
  const missing = values.flatMap((v, i) => (Number.isFinite(v) && v !== fill ? [] : [i]));
  if (missing.length) {
    problem("time", `${missing.length} time value(s) missing, at position(s) ${examples(missing)}`, path);
  }
  if (!units) return out;
  const at = (v: number) => formatDate(decodeValue(v, units));
  out.units = units.text;
  out.calendar = units.calendar;
  const present = values.filter((_, i) => !missing.includes(i));
  if (!present.length) return out;
  out.start = at(present[0]!);
  out.end = at(present[present.length - 1]!);

  const backwards = present.flatMap((v, i) => (i > 0 && !(v > present[i - 1]!) ? [i] : []));
  if (backwards.length) {
    const i = backwards[0]!;
    problem("time", `not increasing at ${backwards.length} position(s), first: ${at(present[i]!)} follows ${at(present[i - 1]!)}`, path);
    return out;
  }
  const freq = freqText ? parseFreq(freqText) : (inferFreq(present, units) ?? mostCommonStep(present, units));
  if (!freq) return out;
  out.step = freq.text;
  const off = offSteps(present, freq, units);
  if (off.length) {
    const i = off[0]!;
    problem(
      "time",
      `${off.length} step(s) are not ${freq.text}${freqText ? " (time.freq)" : ""}, first: ${at(present[i]!)} follows ${at(present[i - 1]!)}`,
      path,
    );
  }
  return out;
}

/** The step most neighbours are apart, for an axis too irregular for `inferFreq`. */
function mostCommonStep(values: number[], units: TimeUnits): Freq | undefined {
  const counts = new Map<number, number>();
  for (let i = 1; i < values.length; i++) {
    const s = Math.round((values[i]! - values[i - 1]!) * units.unitSeconds * 1e3) / 1e3;
    counts.set(s, (counts.get(s) ?? 0) + 1);
  }
  const best = [...counts].sort((a, b) => b[1] - a[1])[0];
  return best && best[0] > 0 ? { kind: "seconds", seconds: best[0], text: describeSeconds(best[0]) } : undefined;
}

/** Positions i whose step from i-1 is not `freq` (an axis at `freq` from the first value). */
function offSteps(values: number[], freq: Freq, units: TimeUnits): number[] {
  const tol = SAME_INSTANT_SECONDS / units.unitSeconds;
  const out: number[] = [];
  if (freq.kind === "seconds") {
    const step = freq.seconds / units.unitSeconds;
    for (let i = 1; i < values.length; i++) if (Math.abs(values[i]! - values[i - 1]! - step) > tol) out.push(i);
    return out;
  }
  // Calendar months: compare each value with the axis stepped from its predecessor.
  for (let i = 1; i < values.length; i++) {
    const next = timeAxis(decodeValue(values[i - 1]!, units), decodeValue(values[i]!, units), freq, units);
    if (next.length !== 2 || Math.abs(next[1]! - values[i]!) > tol) out.push(i);
  }
  return out;
}

// ---- 3. chunks and unwritten ranges -------------------------------------------------------------

interface ArrayScan {
  facts: ArrayFacts;
  /** For arrays along time: 1 where a time step holds any value. */
  written?: Uint8Array;
}

/**
 * Decode every chunk of an array: chunks that fail are reported as corrupt; for an array along
 * time (axis `t` >= 0), note which time steps hold a value other than the fill.
 */
async function scanArray(backend: Backend, ex: ExistingArchive, path: string, model: ArrayModel, t: number, concurrency: number, problem: Report): Promise<ArrayScan> {
  const spec = arraySpec(model);
  // What is stored under one key: a chunk, or a shard of many chunks.
  const unit = storedShape(model);
  const grid = model.shape.map((s, i) => Math.ceil(s / unit[i]!));
  const total = chunkCount(model.shape, unit);
  const written = t >= 0 ? new Uint8Array(model.shape[t]!) : undefined;
  const fill = !isNumeric(model.dtype) ? undefined : Number(storageFill(model));
  const isFloat = model.dtype.startsWith("float");
  // An integer array without a CF fill cannot tell a written 0 from an unwritten one: a stored
  // chunk counts as written throughout.
  const maskable = isFloat || model.cfFill !== null;
  const missing = model.cfFill === null ? [] : [Number(model.cfFill)];
  let stored = 0;
  let innerStored = 0;
  const incomplete: IncompleteShard[] = [];
  let stats: Stats | undefined;
  await mapLimit(Array.from({ length: total }, (_, i) => i), concurrency, async (index) => {
    const coords = unravel(index, grid);
    const key = ex.archive.chunkKey(path, coords);
    const bytes = await ex.archive.store.get(key);
    if (!bytes) return;
    stored++;
    const origin = coords.map((c, i) => c * unit[i]!);
    const box = origin.map((o, i) => Math.min(unit[i]!, model.shape[i]! - o));
    // A shard's inner chunks, and which of them its index says were never written.
    let inner = [{ origin, box }];
    if (model.shards) {
      let gaps: number[][];
      try {
        gaps = backend.shardGaps(spec, coords, bytes);
      } catch (e) {
        problem("chunk", `shard ${key} has a damaged index (${errorText(e)})`, path);
        if (written) markAll(written, origin[t]!, box[t]!);
        return;
      }
      const absent = new Set(gaps.map((g) => g.join(",")));
      const all = innerChunks(origin, box, model.chunks, model.shape);
      inner = all.filter((c) => !absent.has(c.coords.join(",")));
      innerStored += inner.length;
      if (gaps.length) incomplete.push({ key, missing: gaps.length, chunks: all.length });
    } else {
      innerStored++;
    }
    let slab: Slab;
    try {
      slab = backend.readRegion(spec, origin, box, [coords], [bytes]);
    } catch (e) {
      problem("chunk", `${model.shards ? "shard" : "chunk"} ${key} does not decode (${errorText(e)})`, path);
      // Its steps were written, if badly: reported as corrupt, not again as never written.
      if (written) markAll(written, origin[t]!, box[t]!);
      return;
    }
    if (!isNumeric(model.dtype)) {
      if (written) for (const c of inner) markAll(written, c.origin[t]!, c.box[t]!);
      return;
    }
    stats = mergeStats(stats, slab.stats(missing));
    if (!written) return;
    if (!maskable) {
      for (const c of inner) markAll(written, c.origin[t]!, c.box[t]!);
      return;
    }
    markWritten(numericView(model.dtype, slab.toBytes()!), box, t, origin[t]!, written, fill!);
  });
  if (incomplete.length) {
    incomplete.sort((a, b) => (a.key < b.key ? -1 : 1));
    const shown = incomplete.slice(0, EXAMPLES).map((s) => `${s.key} (${s.missing} of ${s.chunks} missing)`).join(", ");
    const more = incomplete.length > EXAMPLES ? ` and ${incomplete.length - EXAMPLES} more` : "";
    problem("unwritten", `${incomplete.length} shard(s) lack inner chunks that were never written: ${shown}${more}`, path);
  }
  const decoded = decodeRange(stats, model);
  const count = model.shape.reduce((a, b) => a * b, 1);
  const valid = stats ? stats.count - stats.nan - stats.missing : 0;
  return {
    facts: {
      path,
      dtype: model.dtype,
      shape: model.shape,
      chunks: model.chunks,
      chunksTotal: chunkCount(model.shape, model.chunks),
      chunksStored: innerStored,
      ...(model.shards ? { shards: { shape: model.shards, total, stored, incomplete } } : {}),
      min: decoded[0],
      max: decoded[1],
      missingFraction: !isNumeric(model.dtype) || !count ? 0 : 1 - valid / count,
    },
    written,
  };
}

/** An error's message as a user reads it (a core error's without its kind prefix). */
function errorText(e: unknown): string {
  return fromCore(e).message;
}

function unravel(index: number, grid: number[]): number[] {
  const coords = new Array<number>(grid.length);
  for (let d = grid.length - 1; d >= 0; d--) {
    coords[d] = index % grid[d]!;
    index = Math.floor(index / grid[d]!);
  }
  return coords;
}

/** The inner chunks of the shard at `origin` (its part `box` inside the array), with their boxes. */
function innerChunks(origin: number[], box: number[], chunks: number[], shape: number[]): { coords: number[]; origin: number[]; box: number[] }[] {
  const per = box.map((b, i) => Math.ceil(b / chunks[i]!));
  const out = [];
  for (let k = 0; k < per.reduce((a, b) => a * b, 1); k++) {
    const local = unravel(k, per);
    const o = local.map((l, i) => origin[i]! + l * chunks[i]!);
    out.push({ coords: o.map((x, i) => x / chunks[i]!), origin: o, box: o.map((x, i) => Math.min(chunks[i]!, shape[i]! - x)) });
  }
  return out;
}

function markAll(written: Uint8Array, start: number, count: number): void {
  written.fill(1, start, start + count);
}

/** Mark the time steps of a decoded chunk (shape `box`, time on axis `t`) holding a non-fill value. */
function markWritten(values: ArrayLike<number>, box: number[], t: number, t0: number, written: Uint8Array, fill: number): void {
  const inner = box.slice(t + 1).reduce((a, b) => a * b, 1);
  const steps = box[t]!;
  const outer = box.slice(0, t).reduce((a, b) => a * b, 1);
  for (let k = 0; k < steps; k++) {
    if (written[t0 + k]) continue;
    search: for (let o = 0; o < outer; o++) {
      const base = (o * steps + k) * inner;
      for (let j = 0; j < inner; j++) {
        const x = values[base + j]!;
        // x === x is false only for NaN.
        if (x === x && x !== fill) {
          written[t0 + k] = 1;
          break search;
        }
      }
    }
  }
}

/** Stats of stored values as the numbers they stand for (scale_factor/add_offset applied). */
function decodeRange(stats: Stats | undefined, model: ArrayModel): [number | null, number | null] {
  if (!stats || stats.min === null || stats.max === null) return [null, null];
  const scale = typeof model.attributes.scale_factor === "number" ? model.attributes.scale_factor : 1;
  const offset = typeof model.attributes.add_offset === "number" ? model.attributes.add_offset : 0;
  return unpackedRange(stats.min, stats.max, scale, offset);
}

/** Runs of steps whose flag is 0, as ranges. */
function gaps(flags: ArrayLike<number>, axis: Axis | undefined): TimeRange[] {
  const ranges: TimeRange[] = [];
  for (let i = 0; i < flags.length; i++) {
    if (flags[i]) continue;
    let j = i;
    while (j < flags.length && !flags[j]) j++;
    ranges.push(describeRange(i, j, axis));
    i = j;
  }
  return ranges;
}

/**
 * Time ranges no writer filled: steps where no array along time holds a value. Steps where only
 * some arrays hold nothing are, as far as the archive can tell, data missing at the source (a
 * sensor gap, a variable defined on part of the period): listed per group of arrays, not problems.
 */
function unwrittenRanges(written: Map<string, Uint8Array>, axis: Axis | undefined, problem: Report): Pick<ValidationReport, "unwritten" | "allMissing"> {
  if (!written.size) return { unwritten: [], allMissing: [] };
  const any = new Uint8Array(axis?.length ?? [...written.values()][0]!.length);
  for (const flags of written.values()) flags.forEach((f, i) => (any[i] ||= f));
  const unwritten = gaps(any, axis);
  if (unwritten.length) {
    const steps = unwritten.reduce((a, r) => a + r.stop - r.start, 0);
    const shown = unwritten.slice(0, EXAMPLES).map(formatRange).join(", ");
    const more = unwritten.length > EXAMPLES ? ` and ${unwritten.length - EXAMPLES} more range(s)` : "";
    problem("unwritten", `${steps} time step(s) never written (no array along '${axis?.dim}' holds a value there): ${shown}${more}`);
  }
  const byRanges = new Map<string, { variables: string[]; ranges: TimeRange[] }>();
  for (const [path, flags] of written) {
    const ranges = gaps(flags.map((f, i) => f || (any[i] ? 0 : 1)), axis);
    if (!ranges.length) continue;
    const key = ranges.map((r) => `${r.start}:${r.stop}`).join(",");
    const entry = byRanges.get(key) ?? { variables: [], ranges };
    entry.variables.push(path);
    byRanges.set(key, entry);
  }
  return { unwritten, allMissing: [...byRanges.values()] };
}

function describeRange(start: number, stop: number, axis: Axis | undefined): TimeRange {
  const r: TimeRange = { start, stop };
  const units = axis?.coord?.units;
  const values = axis?.coord?.values;
  if (units && values && Number.isFinite(values[start]) && Number.isFinite(values[stop - 1])) {
    r.from = formatDate(decodeValue(values[start]!, units));
    r.to = formatDate(decodeValue(values[stop - 1]!, units));
  }
  return r;
}

export function formatRange(r: TimeRange): string {
  const where = `steps ${r.start}..${r.stop - 1}`;
  return r.from ? `${r.from} .. ${r.to} (${where})` : where;
}

function examples(list: number[]): string {
  return list.slice(0, EXAMPLES).join(", ") + (list.length > EXAMPLES ? ` and ${list.length - EXAMPLES} more` : "");
}

// ---- 4. comparing with sources ------------------------------------------------------------------

/**
 * How a file's values are compared with the archive's: stored values side by side when both
 * encode them alike; otherwise both decoded (each with its own encoding, plan/encoding.ts), equal
 * within half the archive's packing step when the archive packs them, else exactly.
 */
interface Comparison {
  /** Both sides decoded: the file's decoding and the archive's; absent: compared as stored. */
  decoded?: { file: Decoding; archive: Decoding };
  /** Allowed difference of decoded values: absolute, plus this fraction of the value. */
  tolerance: number;
  relative: number;
}

function comparisonOf(v: VarMeta, model: ArrayModel): Comparison {
  const here = cfEncoding(v);
  const there = storedEncoding(model);
  if (!isNumeric(v.dtype) || !isNumeric(model.dtype) || sameEncoding(here, there)) return { tolerance: 0, relative: 0 };
  const packed = there.scale !== undefined && /^u?int/.test(model.dtype);
  const scale = Math.abs(there.scale ?? 1);
  // The file decodes as xarray reads it; a packed archive holds it within half a step (plus room for
  // the float32 rounding of attributes and values), an unpacked one exactly in its own float type.
  const fileType = packed ? "float64" : (model.dtype === "float32" || model.dtype === "float64" ? model.dtype : decodedDtype(here));
  return {
    decoded: { file: decodingOf(here, fileType), archive: decodingOf(there, "float64") },
    tolerance: packed ? scale / 2 + scale * 1e-6 : 0,
    relative: packed ? 1e-7 : 0,
  };
}

/** The packing bound a comparison allows, for the report ("within 0.0005"), when there is one. */
function boundOf(c: Comparison): number | undefined {
  return c.decoded && c.tolerance > 0 ? c.tolerance : undefined;
}

interface Difference {
  count: number;
  first?: { at: number; file: number; archive: number };
}

function compareNumbers(src: ArrayLike<number>, stored: ArrayLike<number>, c: Comparison): Difference {
  const out: Difference = { count: 0 };
  for (let i = 0; i < src.length; i++) {
    const a = src[i]!;
    const b = stored[i]!;
    // NaN only equals NaN; decoded values within the bound (huge magnitudes compare relatively).
    const same = a === b || (a !== a && b !== b) || (a === a && b === b && Math.abs(a - b) <= c.tolerance + Math.abs(a) * c.relative);
    if (!same) {
      out.count++;
      out.first ??= { at: i, file: a, archive: b };
    }
  }
  return out;
}

async function compareSource(backend: Backend, ex: ExistingArchive, file: string, axis: Axis | undefined, config: ZarrConverterConfig): Promise<SourceCheck> {
  const check: SourceCheck = { file, ok: false, variablesCompared: 0, valuesCompared: 0, mismatches: [] };
  const dim = config.time.dim;
  let source;
  try {
    source = await openSource(backend, file, config);
  } catch (e) {
    check.error = `${file}: ${(e as Error).message}`;
    return check;
  }
  try {
    const vars = new Map(walkVars(source.root).map(({ v, groupPath }) => [groupPath ? `${groupPath}/${v.name}` : v.name, v]));
    // Where the file's steps are on the archive's axis.
    let start = 0;
    const steps = timeLength(source, dim);
    if (axis && steps > 0) {
      start = await placeFile(source, axis, steps);
      check.region = describeRange(start, start + steps, axis);
    }
    for (const [path, model] of ex.arrays) {
      const t = model.dimensionNames.indexOf(dim);
      if (t >= 0 && path === axis?.coord?.path) continue; // compared as times above
      const v = vars.get(path);
      if (!v) {
        check.mismatches.push({ variable: path, message: "is in the archive but not in the file" });
        continue;
      }
      if (v.dims.join(",") !== model.dimensionNames.join(",")) {
        check.mismatches.push({ variable: path, message: `has dims (${v.dims.join(", ")}) in the file, (${model.dimensionNames.join(", ")}) in the archive` });
        continue;
      }
      const sizeOk = v.shape.every((len, i) => (i === t ? start + len <= model.shape[i]! : len === model.shape[i]));
      if (!sizeOk) {
        check.mismatches.push({ variable: path, message: `shape [${v.shape.join(", ")}] in the file does not fit [${model.shape.join(", ")}] in the archive` + (t >= 0 ? ` at step ${start}` : "") });
        continue;
      }
      let diff;
      try {
        diff = await compareVariable(backend, ex, source.ds, v, path, model, t, start, config);
      } catch (e) {
        check.mismatches.push({ variable: path, message: `cannot be compared: ${errorText(e)}` });
        continue;
      }
      check.variablesCompared++;
      check.valuesCompared += diff.compared;
      if (diff.bound !== undefined) (check.bounds ??= {})[path] = diff.bound;
      if (diff.count) {
        const f = diff.first!;
        check.mismatches.push({
          variable: path,
          message: `${diff.count} value(s) differ, first at [${f.index.join(", ")}]: ${f.file} in the file, ${f.archive} in the archive`,
          count: diff.count,
          first: f,
        });
      }
    }
  } catch (e) {
    check.error = e instanceof ZarrioError && e.file ? e.message : `${file}: ${errorText(e)}`;
  } finally {
    source.ds.close();
  }
  check.ok = !check.error && check.mismatches.length === 0;
  return check;
}

/**
 * Where a file's steps start on the archive's axis: found from CF times (re-encoded into the
 * archive's units) by the placement rules write-region uses; for a coordinate that is not CF time,
 * by its values, which must equal consecutive archive values; without a coordinate, a file as
 * long as the axis covers it.
 */
async function placeFile(source: Source, axis: Axis, steps: number): Promise<number> {
  const dim = axis.dim;
  const coord = axis.coord;
  if (coord?.units) {
    const fileTime = await readTimeAxis(source, dim);
    if (!fileTime) throw new Error(`cannot find its '${dim}' steps in the archive: the archive's '${dim}' is CF time, the file's is not`);
    const values = fileTime.units.text === coord.units.text ? fileTime.values : reencode(fileTime.values, fileTime.units, coord.units);
    return regionFromTimes(values, coord.values, coord.units, source.file, dim)[0];
  }
  const v = findVar(source, dim);
  const own = v && v.dims.length === 1 && v.dims[0] === dim && isNumeric(v.dtype) ? v : undefined;
  if (!coord || !own) {
    if (steps === axis.length) return 0;
    throw new Error(`cannot find its ${steps} '${dim}' steps among the archive's ${axis.length}: no '${dim}' coordinate to match them by`);
  }
  const here = numbersFrom(own.dtype, (await source.ds.read(own.path, [0], [steps])).toBytes()!);
  const start = coord.values.indexOf(here[0]!);
  if (start < 0 || here.some((x, i) => coord.values[start + i] !== x)) {
    throw new Error(`its '${dim}' values (${here.slice(0, 3).join(", ")}${steps > 3 ? ", ..." : ""}) are not consecutive values of the archive's '${dim}'`);
  }
  return start;
}

async function compareVariable(
  backend: Backend,
  ex: ExistingArchive,
  ds: Dataset,
  v: VarMeta,
  path: string,
  model: ArrayModel,
  t: number,
  timeStart: number,
  config: ZarrConverterConfig,
): Promise<{ count: number; compared: number; first?: NonNullable<SourceCheck["mismatches"][number]["first"]>; bound?: number }> {
  const origin = v.shape.map((_, i) => (i === t ? timeStart : 0));
  const boxes = planSlabs(v.shape, storedShape(model), origin, itemSize(v.dtype), slabBytes(config));
  const cmp = comparisonOf(v, model);
  const bound = boundOf(cmp);
  let count = 0;
  let compared = 0;
  let first: NonNullable<SourceCheck["mismatches"][number]["first"]> | undefined;
  await mapLimit(boxes, config.concurrency, async (box) => {
    const at = box.start.map((s, i) => s + origin[i]!);
    // One after the other: a failed archive read must not leave a file read running.
    const src = await ds.read(v.path, box.start, box.count);
    const stored = await readStored(backend, ex, path, model, at, box.count);
    compared += box.count.reduce((a, b) => a * b, 1);
    if (isRecord(v.dtype) || isRecord(model.dtype)) {
      // Records compare byte for byte (fields in the stored order, little-endian).
      const diff = compareRecords(src.toBytes()!, stored.toBytes()!, itemSize(v.dtype));
      count += diff.count;
      if (diff.first && !first) first = { index: unravel(diff.first.at, box.count).map((c, d) => c + at[d]!), file: diff.first.file, archive: diff.first.archive };
      return;
    }
    if (v.dtype === "str" || model.dtype === "str") {
      const [a, b] = [src.toStrings() ?? [], stored.toStrings() ?? []];
      const i = a.findIndex((s, k) => s !== b[k]);
      if (i >= 0) {
        count += a.filter((s, k) => s !== b[k]).length;
        first ??= { index: unravel(i, box.count).map((c, d) => c + at[d]!), file: a[i]!, archive: b[i]! };
      }
      return;
    }
    const [a, b] = cmp.decoded ? [src.decode(cmp.decoded.file), stored.decode(cmp.decoded.archive)] : [src, stored];
    const diff = compareNumbers(numericView(a.dtype, a.toBytes()!), numericView(b.dtype, b.toBytes()!), cmp);
    count += diff.count;
    if (diff.first && !first) first = { index: unravel(diff.first.at, box.count).map((c, d) => c + at[d]!), file: diff.first.file, archive: diff.first.archive };
  });
  return { count, compared, first, bound };
}

/** Records that differ in any byte; the first shown as hex. */
function compareRecords(a: Uint8Array, b: Uint8Array, size: number): { count: number; first?: { at: number; file: string; archive: string } } {
  const hex = (x: Uint8Array, i: number) => Array.from(x.subarray(i * size, (i + 1) * size), (c) => c.toString(16).padStart(2, "0")).join("");
  let count = 0;
  let first: { at: number; file: string; archive: string } | undefined;
  const n = Math.max(a.length, b.length) / size;
  for (let i = 0; i < n; i++) {
    for (let k = i * size; k < (i + 1) * size; k++) {
      if (a[k] !== b[k]) {
        count++;
        first ??= { at: i, file: hex(a, i), archive: hex(b, i) };
        break;
      }
    }
  }
  return { count, first };
}

/** One line per finding, for the CLI and logs. */
export function summarize(report: ValidationReport): string {
  if (report.ok) return "OK";
  const kinds = new Map<ProblemKind, number>();
  for (const p of report.problems) kinds.set(p.kind, (kinds.get(p.kind) ?? 0) + 1);
  return `${report.problems.length} problem(s): ${[...kinds].map(([k, n]) => `${n} ${k}`).join(", ")}`;
}

