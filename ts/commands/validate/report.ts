/** validate's report: what it finds (problems) and records (facts), and their wording. */
import { decodeValue, formatDate } from "../../cf/time.js";
import { fromCore } from "../../errors.js";
import { type Axis } from "../../pipeline/existing.js";

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
export const EXAMPLES = 5;

export type Report = (kind: ProblemKind, message: string, variable?: string) => void;

/** An error's message as a user reads it (a core error's without its kind prefix). */
export function errorText(e: unknown): string {
  return fromCore(e).message;
}

export function describeRange(start: number, stop: number, axis: Axis | undefined): TimeRange {
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

export function examples(list: number[]): string {
  return list.slice(0, EXAMPLES).join(", ") + (list.length > EXAMPLES ? ` and ${list.length - EXAMPLES} more` : "");
}

/** One line per finding, for the CLI and logs. */
export function summarize(report: ValidationReport): string {
  if (report.ok) return "OK";
  const kinds = new Map<ProblemKind, number>();
  for (const p of report.problems) kinds.set(p.kind, (kinds.get(p.kind) ?? 0) + 1);
  return `${report.problems.length} problem(s): ${[...kinds].map(([k, n]) => `${n} ${k}`).join(", ")}`;
}
