/**
 * Where one file's data goes in an archive: its region. The one home of the placement rules.
 *
 * From times: the file's time values, re-encoded into the archive's units, must each equal (to a
 * millisecond) a value of the archive's time coordinate, at consecutive positions. A file is
 * refused — with the first offending time in the message — when its times do not increase, fall
 * outside the archive's range, are missing from the archive's axis, or skip or repeat archive
 * steps (its step differs from the archive's). A search on the first and last times alone, as the
 * Python tool does, would write shifted or irregular files into the wrong slots.
 *
 * By hand (`--region time=a:b[,lat=c:d]`): each range must lie inside the archive and be exactly
 * as long as the file's dimension; other dimensions are written whole.
 */
import { checkIncreasing, decodeValue, formatDate, reencode, sameUnits, type TimeUnits } from "../cf/time.js";
import { RegionError, timeProblem } from "../errors.js";

/** Half-open ranges [start, stop) per dimension. */
export type Region = Record<string, [number, number]>;

/** Two time values are the same instant when they differ by less than this many seconds. */
export const SAME_INSTANT_SECONDS = 1e-3;

export function describeRegion(region: Region): string {
  return Object.entries(region)
    .map(([d, [a, b]]) => `${d}=${a}:${b}`)
    .join(",");
}

/**
 * Where a file's CF times (`own`, in its own units) sit on the archive's time coordinate: they are
 * re-encoded into the archive's units and placed by `regionFromTimes`. With the file's first and
 * last dates, for messages.
 */
export function placeByTimes(
  own: { values: ArrayLike<number>; units: TimeUnits },
  archive: { values: number[]; units: TimeUnits },
  file: string,
  dim: string,
): { region: [number, number]; dates: [string, string] } {
  let values: number[];
  try {
    values = sameUnits(own.units, archive.units) ? Array.from(own.values) : reencode(own.values, own.units, archive.units);
  } catch (e) {
    throw timeProblem(e, file);
  }
  const region = regionFromTimes(values, archive.values, archive.units, file, dim);
  const date = (v: number) => formatDate(decodeValue(v, archive.units));
  return { region, dates: [date(values[0]!), date(values[values.length - 1]!)] };
}

/**
 * Where a file's values of a coordinate that is not CF time (`own`) sit among the archive's: they
 * must equal consecutive archive values. Returns the first slot.
 */
export function placeByValues(own: number[], archive: number[], file: string, dim: string): number {
  const start = archive.indexOf(own[0]!);
  if (start < 0 || own.some((x, i) => archive[start + i] !== x)) {
    const shown = own.slice(0, 3).join(", ") + (own.length > 3 ? ", ..." : "");
    throw new RegionError(`its '${dim}' values (${shown}) are not consecutive values of the archive's '${dim}'`, { file });
  }
  return start;
}

/**
 * The slots [start, stop) of `archiveTimes` that `fileTimes` occupy. Both are in the archive's
 * units; `archiveTimes` increases (the archive's own coordinate).
 */
export function regionFromTimes(fileTimes: number[], archiveTimes: number[], units: TimeUnits, file: string, dim: string): [number, number] {
  const at = (v: number) => formatDate(decodeValue(v, units));
  const tol = SAME_INSTANT_SECONDS / units.unitSeconds;
  const refuse = (msg: string) => {
    throw new RegionError(msg, { file });
  };
  if (!fileTimes.length) refuse(`has no '${dim}' steps to write`);
  if (!archiveTimes.length) refuse(`the archive's '${dim}' axis is empty`);
  checkIncreasing(fileTimes, units, file, dim, RegionError);
  const first = archiveTimes[0]!;
  const last = archiveTimes[archiveTimes.length - 1]!;
  const before = fileTimes.findIndex((t) => t < first - tol);
  if (before >= 0) refuse(`${dim} ${at(fileTimes[before]!)} (step ${before}) is before the archive's first time ${at(first)}`);
  const after = fileTimes.findIndex((t) => t > last + tol);
  if (after >= 0) refuse(`${dim} ${at(fileTimes[after]!)} (step ${after}) is after the archive's last time ${at(last)}`);

  const find = (t: number): number => {
    // First archive index whose value is >= t - tol.
    let lo = 0;
    let hi = archiveTimes.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (archiveTimes[mid]! < t - tol) lo = mid + 1;
      else hi = mid;
    }
    return lo < archiveTimes.length && Math.abs(archiveTimes[lo]! - t) <= tol ? lo : -1 - lo;
  };
  const start = find(fileTimes[0]!);
  for (let i = 0; i < fileTimes.length; i++) {
    const j = i === 0 ? start : find(fileTimes[i]!);
    if (j < 0) {
      const k = -1 - j;
      const near = [archiveTimes[k - 1], archiveTimes[k]].filter((x): x is number => x !== undefined).map(at);
      refuse(`${dim} ${at(fileTimes[i]!)} (step ${i}) is not on the archive's time axis (nearest: ${near.join(" and ")})`);
    }
    if (j !== start + i) {
      const expected = archiveTimes[start + i];
      refuse(
        `${dim} ${at(fileTimes[i]!)} (step ${i}) is archive step ${j}, but the archive's step after ${at(fileTimes[i - 1]!)} is ` +
          `${expected === undefined ? "beyond its end" : at(expected)}: the file's time step does not match the archive's`,
      );
    }
  }
  return [start, start + fileTimes.length];
}

/**
 * Check a region given by hand: every named dimension exists in the file and the archive, each
 * range lies inside the archive and is as long as the file's dimension.
 */
export function checkManualRegion(region: Region, fileDims: Map<string, number>, archiveDims: Map<string, number>, file: string): void {
  for (const [dim, [start, stop]] of Object.entries(region)) {
    const inFile = fileDims.get(dim);
    const inArchive = archiveDims.get(dim);
    if (inArchive === undefined) throw new RegionError(`region names '${dim}', which is not a dimension of the archive (it has: ${[...archiveDims.keys()].join(", ")})`, { file });
    if (inFile === undefined) throw new RegionError(`region names '${dim}', which is not a dimension of this file`, { file });
    if (stop > inArchive) throw new RegionError(`region ${dim}=${start}:${stop} ends after the archive's ${dim} length ${inArchive}`, { file });
    if (stop - start !== inFile) {
      throw new RegionError(`region ${dim}=${start}:${stop} is ${stop - start} long, but the file's '${dim}' has ${inFile}`, { file });
    }
  }
}

/**
 * Groups of consecutive files (by index in a sorted list of `n`) that fill the same time chunks,
 * for files `length` steps long placed back to back from `first` on an axis chunked by `chunk`:
 * a group ends where the next file starts a chunk, so groups share no chunk (24 hourly files per
 * daily chunk; 3 daily files per 36-hour chunk pair). Lengths whose alignment recurs only after
 * many chunks (25-step files on 24-step chunks) are also cut once a group spans `MAX_GROUP_CHUNKS`
 * chunks, sharing the chunk they are cut in (merged under its lock), so a group stays a bounded
 * amount of work. Every file is in exactly one group, in order.
 */
export function filesByChunk(n: number, first: number, length: number, chunk: number): number[][] {
  const groups: number[][] = [];
  let group: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = first + i * length;
    const startsChunk = chunk > 0 && start >= 0 && start % chunk === 0;
    if (group.length && (startsChunk || group.length * length >= MAX_GROUP_CHUNKS * chunk)) {
      groups.push(group);
      group = [];
    }
    group.push(i);
  }
  if (group.length) groups.push(group);
  return groups;
}

/** The most chunks along time a group of files spans when its files never start a chunk together. */
export const MAX_GROUP_CHUNKS = 8;
