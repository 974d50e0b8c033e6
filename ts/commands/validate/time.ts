/** 2. the time axis (present, increasing, at its step) and the time ranges no writer filled. */
import { decodeValue, describeSeconds, formatDate, inferFreq, monthsEach, parseFreq, timeAxis, type Freq, type TimeUnits } from "../../cf/time.js";
import { SAME_INSTANT_SECONDS } from "../../plan/region.js";
import { type Axis } from "../../pipeline/existing.js";
import { EXAMPLES, describeRange, examples, formatRange, type Report, type TimeRange, type ValidationReport } from "./report.js";

export function checkTimeAxis(axis: Axis, freqText: string | undefined, problem: Report): ValidationReport["time"] {
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
  const inferred = freqText ? undefined : inferFreq(present, units);
  if (!freqText && !inferred) {
    // Monthly means stamped mid-month (CMIP's, OSTIA's: the 16th at 00:00 or 12:00): one time in
    // each calendar month, on days that vary. Regular as months are, though no fixed step fits.
    const months = monthsEach(present, units);
    if (months) {
      out.step = `${months} month${months > 1 ? "s" : ""}, on varying days`;
      return out;
    }
  }
  const freq = freqText ? parseFreq(freqText) : (inferred ?? mostCommonStep(present, units));
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
 * Time ranges no writer filled: steps where no array along time holds a value, unless a source
 * file matched the archive there value for value (`matched`: the file holds nothing there
 * either). Steps where only some arrays hold nothing are, as far as the archive can tell, data
 * missing at the source (a sensor gap, a variable defined on part of the period): listed per
 * group of arrays, not problems.
 */
export function unwrittenRanges(written: Map<string, Uint8Array>, axis: Axis | undefined, problem: Report, matched: TimeRange[] = []): Pick<ValidationReport, "unwritten" | "allMissing"> {
  if (!written.size) return { unwritten: [], allMissing: [] };
  const any = new Uint8Array(axis?.length ?? [...written.values()][0]!.length);
  for (const flags of written.values()) flags.forEach((f, i) => (any[i] ||= f));
  for (const r of matched) any.fill(1, r.start, r.stop);
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
