/** 4. source files: each file found on the time axis and its values compared with the archive's. */
import { isNumeric, isRecord, itemSize } from "../../backend/dtype.js";
import { type Backend } from "../../backend/index.js";
import type { Dataset, Decoding, VarMeta } from "../../backend/types.js";
import { type ZarrConverterConfig, slabBytes } from "../../config/model.js";
import { RegionError, ZarrioError } from "../../errors.js";
import { arrayOwnTimeAttrs, selectedBy, walkVars } from "../../plan/layout.js";
import { cfEncoding, decodedDtype, decodingOf, sameEncoding, storedEncoding } from "../../plan/encoding.js";
import { placeByTimes, placeByValues } from "../../plan/region.js";
import { readStored, storedTexts, timeBoundsOf, type Axis, type ExistingArchive } from "../../pipeline/existing.js";
import { mapLimit } from "../../pipeline/pool.js";
import { planSlabs } from "../../pipeline/slabs.js";
import { findVar, openSource, ownTimeUnits, readTimeAxis, storedTimeUnits, timeLength, timeUnitsOf, type Source } from "../../pipeline/source.js";
import { ownTimeUnitsOf, type TimeUnits } from "../../cf/time.js";
import { missingValues } from "../../plan/packing.js";
import { numbersFrom, numericView, retimedValues } from "../../pipeline/writer.js";
import { storedShape, type ArrayModel } from "../../zarr/metadata.js";
import { unravel } from "../../zarr/grid.js";
import { describeRange, errorText, type SourceCheck } from "./report.js";

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

export async function compareSource(backend: Backend, ex: ExistingArchive, file: string, axis: Axis | undefined, config: ZarrConverterConfig): Promise<SourceCheck> {
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
    // The archive's time bounds hold times in its own time units: the file's are re-expressed in
    // them (as the writers store them) before they are compared.
    const boundsPath = timeBoundsOf(axis?.coord?.model.attributes);
    // A variable of the file that the archive lacks was left out (unless the user leaves it out here too).
    for (const [path, v] of vars) {
      if (!ex.arrays.has(path) && selectedBy(config, v)) {
        check.mismatches.push({ variable: path, message: `is in the file but not in the archive (leave it out of the check with --drop-variables ${v.name})` });
      }
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
        // The bounds and times of their own are compared re-expressed as the writers store them.
        const own = t >= 0 && path !== boundsPath && ownTimeUnitsOf(arrayOwnTimeAttrs(model.attributes)) !== undefined;
        const from = axis?.coord?.units && (path === boundsPath ? timeUnitsOf(source, v, dim) : own ? ownTimeUnits(source, v, dim) : undefined);
        const retime = from && axis?.coord?.units ? { from, to: storedTimeUnits(model.attributes, axis.coord.units) } : undefined;
        diff = await compareVariable(backend, ex, source.ds, v, path, model, t, start, config, retime);
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
  const { dim, coord } = axis;
  if (coord?.units) {
    const fileTime = await readTimeAxis(source, dim);
    if (!fileTime) throw new RegionError(`cannot find its '${dim}' steps in the archive: the archive's '${dim}' is CF time, the file's is not`, { file: source.file });
    return placeByTimes(fileTime, { values: coord.values, units: coord.units }, source.file, dim).region[0];
  }
  const v = findVar(source, dim);
  const own = v && v.dims.length === 1 && v.dims[0] === dim && isNumeric(v.dtype) ? v : undefined;
  if (!coord || !own) {
    if (steps === axis.length) return 0;
    throw new RegionError(`cannot find its ${steps} '${dim}' steps among the archive's ${axis.length}: no '${dim}' coordinate to match them by`, { file: source.file });
  }
  const here = numbersFrom(own.dtype, (await source.ds.read(own.path, [0], [steps])).toBytes()!);
  return placeByValues(here, coord.values, source.file, dim);
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
  retime?: { from: TimeUnits; to: TimeUnits },
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
    if (v.dtype === "str" || model.dtype === "str" || model.fixedText) {
      const [a, b] = [src.toStrings() ?? [], storedTexts(stored, model) ?? []];
      const i = a.findIndex((s, k) => s !== b[k]);
      if (i >= 0) {
        count += a.filter((s, k) => s !== b[k]).length;
        first ??= { index: unravel(i, box.count).map((c, d) => c + at[d]!), file: a[i]!, archive: b[i]! };
      }
      return;
    }
    if (isRecord(v.dtype) || isRecord(model.dtype)) {
      // Records compare byte for byte (fields in the stored order, little-endian).
      const diff = compareRecords(src.toBytes()!, stored.toBytes()!, itemSize(v.dtype));
      count += diff.count;
      if (diff.first && !first) first = { index: unravel(diff.first.at, box.count).map((c, d) => c + at[d]!), file: diff.first.file, archive: diff.first.archive };
      return;
    }
    if (retime) {
      // Times in the file's units, re-expressed exactly as the writers store them; compared exactly.
      const here = retimedValues(numbersFrom(v.dtype, src.toBytes()!), retime, missingValues(v));
      const diff = compareNumbers(here, numericView(stored.dtype, stored.toBytes()!), { tolerance: 0, relative: 0 });
      count += diff.count;
      if (diff.first && !first) first = { index: unravel(diff.first.at, box.count).map((c, d) => c + at[d]!), file: diff.first.file, archive: diff.first.archive };
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
