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
 * ranges, chunk counts) for the record. Each check has its module in validate/ (metadata.ts,
 * time.ts, chunks.ts, sources.ts); the report's shape and wording are validate/report.ts.
 */
import { existsSync } from "node:fs";

import { loadBackend } from "../backend/index.js";
import { type ZarrConverterConfig } from "../config/model.js";
import { StoreError } from "../errors.js";
import { silentLogger } from "../log.js";
import { isCoordinate, openArchive, readAxis, type Axis, type ExistingArchive } from "../pipeline/existing.js";
import { isS3Url } from "../s3/url.js";
import type { RunOptions } from "./convert.js";
import { scanArray } from "./validate/chunks.js";
import { checkMetadata } from "./validate/metadata.js";
import { type Problem, type ProblemKind, type TimeRange, type ValidationReport } from "./validate/report.js";
import { compareSource } from "./validate/sources.js";
import { checkTimeAxis, unwrittenRanges } from "./validate/time.js";

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

  // Steps a source file matched value for value were written, even where every value is missing
  // (the file holds nothing there either): not gaps.
  const matched: TimeRange[] = [];
  const mismatched: Problem[] = [];
  for (const file of sources) {
    const check = await compareSource(backend, ex, file, axis, config);
    report.sources.push(check);
    if (check.error) mismatched.push({ kind: "source", message: check.error });
    for (const m of check.mismatches) mismatched.push({ kind: "source", message: `${file}: ${m.message}`, variable: m.variable });
    if (check.ok && check.region) matched.push(check.region);
    log.info(`compared ${file}`, { ok: check.ok, values: check.valuesCompared });
  }
  Object.assign(report, unwrittenRanges(written, axis, problem, matched));
  for (const p of mismatched) problem(p.kind, p.message, p.variable);
  return finish(report);
}

function finish(report: ValidationReport): ValidationReport {
  report.ok = report.problems.length === 0;
  return report;
}

export { formatRange, summarize } from "./validate/report.js";
export type { ArrayFacts, IncompleteShard, Problem, ProblemKind, SourceCheck, TimeRange, ValidationReport } from "./validate/report.js";
