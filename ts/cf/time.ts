/**
 * CF time: units ("hours since 2020-01-01 00:00:00"), calendars, and moving time values between
 * encodings. Every rule about dates lives here. Calendars: standard/gregorian (Julian before
 * 1582-10-15, Gregorian after), proleptic_gregorian, julian, noleap/365_day, all_leap/366_day,
 * 360_day. Values are handled relative to their reference dates so float64 keeps
 * sub-millisecond precision over millennia.
 */
import { IncompatibleSourceError, type ErrorContext, type ZarrioError } from "../errors.js";

export type Calendar = "standard" | "proleptic_gregorian" | "julian" | "noleap" | "all_leap" | "360_day";

export interface CfDate {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

export interface TimeUnits {
  /** Seconds in one unit. */
  unitSeconds: number;
  unitName: string;
  ref: CfDate;
  calendar: Calendar;
  /** The units attribute as written. */
  text: string;
}

export class TimeError extends Error {}

const CALENDARS: Record<string, Calendar> = {
  standard: "standard",
  gregorian: "standard",
  proleptic_gregorian: "proleptic_gregorian",
  julian: "julian",
  noleap: "noleap",
  "365_day": "noleap",
  all_leap: "all_leap",
  "366_day": "all_leap",
  "360_day": "360_day",
};

export function normalizeCalendar(name: string | undefined): Calendar {
  if (name === undefined || name === "") return "standard";
  const cal = CALENDARS[name.toLowerCase()];
  if (!cal) throw new TimeError(`unknown calendar '${name}' (known: ${Object.keys(CALENDARS).join(", ")})`);
  return cal;
}

const UNIT_SECONDS: [RegExp, string, number][] = [
  [/^(days?|d)$/i, "days", 86400],
  [/^(hours?|hrs?|h)$/i, "hours", 3600],
  [/^(minutes?|mins?)$/i, "minutes", 60],
  [/^(seconds?|secs?|s)$/i, "seconds", 1],
  [/^(milliseconds?|msecs?|ms)$/i, "milliseconds", 1e-3],
  [/^(microseconds?|usecs?|us)$/i, "microseconds", 1e-6],
  // xarray writes times with sub-microsecond parts as int64 "nanoseconds since" the first one.
  [/^(nanoseconds?|nsecs?|ns)$/i, "nanoseconds", 1e-9],
];

/** xarray's timedelta units: a unit's full name, with no 'since' (a forecast lead in 'hours'). */
const DURATION_UNITS = new Set(["days", "hours", "minutes", "seconds", "milliseconds", "microseconds", "nanoseconds"]);

/**
 * Whether `units` and `dtype` attributes name durations as xarray reads them (timedelta64): a
 * unit's full name, and the `dtype` attribute 'timedelta64[…]' xarray writes beside it (without
 * it, xarray reads plain numbers: a wave period in 'seconds').
 */
export function isDurationUnits(units: unknown, dtype: unknown): units is string {
  return typeof units === "string" && DURATION_UNITS.has(units.trim()) && typeof dtype === "string" && dtype.startsWith("timedelta64");
}

/**
 * Durations as times since one fixed origin: re-expressing them between units ('days' in one file,
 * 'hours' in the next) is then reencode's exact scaling. Keeps the attribute's text.
 */
export function durationUnits(units: string): TimeUnits {
  return { ...parseUnits(`${units.trim()} since 1970-01-01`, "proleptic_gregorian"), text: units };
}

/**
 * The units of values that are times of their own (a variable's attributes: `units`,
 * `calendar`, `dtype`, and whether a `scale_factor` or `add_offset` makes its stored numbers
 * others): CF time units zarrio reads, with their calendar or `calendar`, or durations.
 * Undefined for anything else: units zarrio does not read ('months since', an unknown calendar)
 * and scaled values are copied or decoded as data.
 */
export function ownTimeUnitsOf(a: { units: unknown; calendar: unknown; dtype: unknown; scaled: boolean }, calendar?: string): TimeUnits | undefined {
  if (a.scaled || typeof a.units !== "string") return undefined;
  if (isDurationUnits(a.units, a.dtype)) return durationUnits(a.units);
  if (!isTimeUnits(a.units)) return undefined;
  try {
    return parseUnits(a.units, typeof a.calendar === "string" ? a.calendar : calendar);
  } catch (e) {
    if (e instanceof TimeError) return undefined;
    throw e;
  }
}

/** Whether a `units` attribute looks like CF time ("<unit> since <date>"). */
export function isTimeUnits(units: unknown): units is string {
  return typeof units === "string" && /^\s*\w+\s+since\s+/i.test(units);
}

export function parseUnits(units: string, calendar?: string): TimeUnits {
  const m = /^\s*(\w+)\s+since\s+(.+?)\s*$/i.exec(units);
  if (!m) throw new TimeError(`'${units}' is not CF time units ("<unit> since <date>")`);
  const found = UNIT_SECONDS.find(([re]) => re.test(m[1]!));
  if (!found) throw new TimeError(`unknown time unit '${m[1]}' in '${units}'`);
  const cal = normalizeCalendar(calendar);
  return { unitSeconds: found[2], unitName: found[1], ref: parseDate(m[2]!), calendar: cal, text: units };
}

/** Parse "2020-01-01", "2020-1-1 6:00", "2020-01-01T06:00:00Z", "2020-01-01 00:00:00 +00:00". */
export function parseDate(text: string): CfDate {
  const m =
    /^\s*(-?\d{1,4})-(\d{1,2})(?:-(\d{1,2}))?(?:[T\s]+(\d{1,2})(?::(\d{1,2})(?::(\d{1,2}(?:\.\d*)?))?)?)?\s*(Z|UTC|GMT|[+-]\d{1,2}(?::?\d{2})?|\d{1,2}:\d{2})?\s*$/i.exec(
      text,
    );
  if (!m) throw new TimeError(`cannot read the date '${text}'`);
  const date: CfDate = {
    year: Number(m[1]),
    month: Number(m[2]),
    day: m[3] ? Number(m[3]) : 1,
    hour: m[4] ? Number(m[4]) : 0,
    minute: m[5] ? Number(m[5]) : 0,
    second: m[6] ? Number(m[6]) : 0,
  };
  const tz = m[7];
  if (tz && /^[+-]?\d/.test(tz)) {
    // Shift to UTC: "+02:00" means the local time is 2 hours ahead of UTC ("0:00", unsigned, as ARM files write it, is +).
    const t = /^([+-]?)(\d{1,2}):?(\d{2})?$/.exec(tz)!;
    const minutes = (Number(t[2]) * 60 + Number(t[3] ?? 0)) * (t[1] === "-" ? -1 : 1);
    date.minute -= minutes;
  }
  if (date.month < 1 || date.month > 12 || date.day < 1 || date.day > 31) {
    throw new TimeError(`'${text}' is not a valid date`);
  }
  return date;
}

// ---- day numbers ----------------------------------------------------------------------------

const NOLEAP_MONTHS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const LEAP_MONTHS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function cumulative(lengths: number[]): number[] {
  const out = [0];
  for (const l of lengths) out.push(out[out.length - 1]! + l);
  return out;
}
const NOLEAP_CUM = cumulative(NOLEAP_MONTHS);
const LEAP_CUM = cumulative(LEAP_MONTHS);

/** Julian Day Number of a proleptic Gregorian date. */
function jdnGregorian(y: number, m: number, d: number): number {
  const a = Math.floor((14 - m) / 12);
  const yy = y + 4800 - a;
  const mm = m + 12 * a - 3;
  return d + Math.floor((153 * mm + 2) / 5) + 365 * yy + Math.floor(yy / 4) - Math.floor(yy / 100) + Math.floor(yy / 400) - 32045;
}

/** Julian Day Number of a Julian-calendar date. */
function jdnJulian(y: number, m: number, d: number): number {
  const a = Math.floor((14 - m) / 12);
  const yy = y + 4800 - a;
  const mm = m + 12 * a - 3;
  return d + Math.floor((153 * mm + 2) / 5) + 365 * yy + Math.floor(yy / 4) - 32083;
}

function gregorianFromJdn(j: number): [number, number, number] {
  const a = j + 32044;
  const b = Math.floor((4 * a + 3) / 146097);
  const c = a - Math.floor((146097 * b) / 4);
  const d = Math.floor((4 * c + 3) / 1461);
  const e = c - Math.floor((1461 * d) / 4);
  const m = Math.floor((5 * e + 2) / 153);
  return [100 * b + d - 4800 + Math.floor(m / 10), m + 3 - 12 * Math.floor(m / 10), e - Math.floor((153 * m + 2) / 5) + 1];
}

function julianFromJdn(j: number): [number, number, number] {
  const c = j + 32082;
  const d = Math.floor((4 * c + 3) / 1461);
  const e = c - Math.floor((1461 * d) / 4);
  const m = Math.floor((5 * e + 2) / 153);
  return [d - 4800 + Math.floor(m / 10), m + 3 - 12 * Math.floor(m / 10), e - Math.floor((153 * m + 2) / 5) + 1];
}

/** JDN of 1582-10-15, the first Gregorian day of the standard calendar. */
const GREGORIAN_START = jdnGregorian(1582, 10, 15);

function isLeapGregorian(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

/** A continuous day count for a date in a calendar (the epoch differs by calendar). */
export function dayNumber(y: number, m: number, d: number, cal: Calendar): number {
  switch (cal) {
    case "proleptic_gregorian":
      return jdnGregorian(y, m, d);
    case "julian":
      return jdnJulian(y, m, d);
    case "standard": {
      const g = jdnGregorian(y, m, d);
      return g >= GREGORIAN_START ? g : jdnJulian(y, m, d);
    }
    case "noleap":
      return y * 365 + NOLEAP_CUM[m - 1]! + d - 1;
    case "all_leap":
      return y * 366 + LEAP_CUM[m - 1]! + d - 1;
    case "360_day":
      return y * 360 + (m - 1) * 30 + d - 1;
  }
}

export function fromDayNumber(n: number, cal: Calendar): [number, number, number] {
  switch (cal) {
    case "proleptic_gregorian":
      return gregorianFromJdn(n);
    case "julian":
      return julianFromJdn(n);
    case "standard":
      return n >= GREGORIAN_START ? gregorianFromJdn(n) : julianFromJdn(n);
    case "noleap":
    case "all_leap": {
      const len = cal === "noleap" ? 365 : 366;
      const cum = cal === "noleap" ? NOLEAP_CUM : LEAP_CUM;
      const y = Math.floor(n / len);
      const doy = n - y * len;
      let m = 1;
      while (cum[m]! <= doy) m++;
      return [y, m, doy - cum[m - 1]! + 1];
    }
    case "360_day": {
      const y = Math.floor(n / 360);
      const doy = n - y * 360;
      return [y, Math.floor(doy / 30) + 1, (doy % 30) + 1];
    }
  }
}

export function daysInMonth(y: number, m: number, cal: Calendar): number {
  switch (cal) {
    case "360_day":
      return 30;
    case "noleap":
      return NOLEAP_MONTHS[m - 1]!;
    case "all_leap":
      return LEAP_MONTHS[m - 1]!;
    case "julian":
      return m === 2 ? (y % 4 === 0 ? 29 : 28) : NOLEAP_MONTHS[m - 1]!;
    default:
      return m === 2 ? (isLeapGregorian(y) || (cal === "standard" && y < 1582 && y % 4 === 0) ? 29 : 28) : NOLEAP_MONTHS[m - 1]!;
  }
}

/** Check a date exists in a calendar (Feb 30 exists only in 360_day, Feb 29 not in noleap...). */
export function validateDate(date: CfDate, cal: Calendar): void {
  if (date.day > daysInMonth(date.year, date.month, cal)) {
    throw new TimeError(`${formatDate(date)} does not exist in the ${cal} calendar`);
  }
}

// ---- instants -------------------------------------------------------------------------------

/** An instant as (day number, seconds into the day), kept apart for precision. */
interface Instant {
  day: number;
  seconds: number;
}

function instantOf(date: CfDate, cal: Calendar): Instant {
  return { day: dayNumber(date.year, date.month, date.day, cal), seconds: date.hour * 3600 + date.minute * 60 + date.second };
}

/** Seconds from instant b to instant a. */
function diffSeconds(a: Instant, b: Instant): number {
  return (a.day - b.day) * 86400 + (a.seconds - b.seconds);
}

/** The value that encodes `date` in `units`. */
export function encodeDate(date: CfDate, units: TimeUnits): number {
  return diffSeconds(instantOf(date, units.calendar), instantOf(units.ref, units.calendar)) / units.unitSeconds;
}

/** The date a value stands for. */
export function decodeValue(value: number, units: TimeUnits): CfDate {
  const ref = instantOf(units.ref, units.calendar);
  const total = ref.seconds + value * units.unitSeconds;
  const extraDays = Math.floor(total / 86400);
  let secs = total - extraDays * 86400;
  // Round away float noise below a microsecond.
  secs = Math.round(secs * 1e6) / 1e6;
  const [year, month, day] = fromDayNumber(ref.day + extraDays, units.calendar);
  const hour = Math.floor(secs / 3600);
  const minute = Math.floor((secs - hour * 3600) / 60);
  return { year, month, day, hour, minute, second: secs - hour * 3600 - minute * 60 };
}

// ---- exact re-expression --------------------------------------------------------------------
//
// A time re-expressed in other units through floats lands a nanosecond or two away from the
// instant the file means once it is past about 104 days (2^53 ns) from the reference, and
// readers decode floats by multiplying in floats (xarray truncates the product): "hours since"
// values of whole minutes then read back as 04:01:00.000000001. Re-expression therefore goes
// through whole nanoseconds, as integers, and yields a whole number wherever the instant is a
// whole number of the new unit, to within what the file's own float can tell apart.

/** Nanoseconds in one unit (every CF unit zarrio reads is a whole number of them). */
function unitNanos(units: TimeUnits): bigint {
  return BigInt(Math.round(units.unitSeconds * 1e9));
}

/** A number of seconds (a float, maybe fractional) as whole nanoseconds, to the nearest. */
function secondsToNanos(seconds: number): bigint {
  const whole = Math.trunc(seconds);
  return BigInt(whole) * 1_000_000_000n + BigInt(Math.round((seconds - whole) * 1e9));
}

/** Nanoseconds from the reference to the instant `value` units stand for, to the nearest. */
function valueNanos(value: number, perUnit: bigint): bigint {
  const whole = Math.trunc(value);
  return BigInt(whole) * perUnit + BigInt(Math.round((value - whole) * Number(perUnit)));
}

/**
 * How far (ns) the instant a float value stands for may be from the one meant: the float's own
 * spacing at that magnitude (2,499.98333… hours is 1.6 ns from its neighbours), at least 1 ns.
 */
function slackNanos(value: number, perUnit: bigint): number {
  return Math.max(1, Math.abs(value) * Number.EPSILON * Number(perUnit));
}

/**
 * `nanos` as a number of `perUnit`: the whole number when the instant is one within `slack`,
 * else the nearest float.
 */
function nanosToValue(nanos: bigint, perUnit: bigint, slack: number): number {
  const units = Number(perUnit);
  const whole = nanos / perUnit;
  const rest = Number(nanos - whole * perUnit);
  if (Math.abs(rest) <= slack) return Number(whole);
  if (units - Math.abs(rest) <= slack) return Number(whole) + Math.sign(rest);
  return Number(whole) + rest / units;
}

/**
 * Thrown where a time would be a whole number beyond 2^53 in the units asked for ("nanoseconds
 * since" more than 104 days away): a float64 (every time value zarrio handles) cannot hold it
 * exactly, and rounding it would move the instant.
 */
export class InexactTimeError extends TimeError {}

/** Whether a time value is one float64 holds exactly: fractional, or a whole number up to 2^53. */
export const exactTime = (x: number) => !Number.isInteger(x) || Number.isSafeInteger(x);

function refuseInexact(values: ArrayLike<number>, units: TimeUnits): void {
  for (let i = 0; i < values.length; i++) {
    if (!exactTime(values[i]!)) {
      throw new InexactTimeError(`${formatDate(decodeValue(values[i]!, units))} is ${values[i]} ${units.unitName} from ${formatDate(units.ref)}, beyond the 2^53 that a float64 holds exactly: it cannot be stored in units '${units.text}' without moving it`);
    }
  }
}

/** Whether values in `a` and in `b` mean the same instants (same units text and calendar): no re-expression needed. */
export function sameUnits(a: TimeUnits, b: TimeUnits): boolean {
  return a.text === b.text && a.calendar === b.calendar;
}

/**
 * Refuse to read `values` (in `from`) as times of `to`'s calendar unless every one is the same
 * date in both: one calendar, or the standard (mixed Julian/Gregorian) and proleptic Gregorian
 * calendars from 1582-10-15 on, where they agree (xarray writes `proleptic_gregorian` for a
 * file that names no calendar, CF's default being `standard`).
 */
function checkCalendars(values: ArrayLike<number>, from: TimeUnits, to: TimeUnits): void {
  if (from.calendar === to.calendar) return;
  const gregorian = (c: Calendar) => c === "standard" || c === "proleptic_gregorian";
  if (!gregorian(from.calendar) || !gregorian(to.calendar)) throw new TimeError(`cannot mix calendars '${from.calendar}' and '${to.calendar}'`);
  let min = Infinity;
  for (let i = 0; i < values.length; i++) if (values[i]! < min) min = values[i]!;
  if (!Number.isFinite(min)) return;
  const first = decodeValue(min, from);
  if (dayNumber(first.year, first.month, first.day, from.calendar) < GREGORIAN_START) {
    throw new TimeError(`cannot mix calendars '${from.calendar}' and '${to.calendar}' for ${formatDate(first)}: before 1582-10-15 they give other dates`);
  }
}

/**
 * Values in `from` re-expressed in `to` (see checkCalendars): whole where the instant is. A whole
 * number beyond 2^53 is refused (InexactTimeError) unless `inexact` allows it: convert then
 * stores the axis in coarser units (wholeTimes).
 */
export function reencode(values: ArrayLike<number>, from: TimeUnits, to: TimeUnits, inexact = false): number[] {
  checkCalendars(values, from, to);
  const shift = secondsToNanos(diffSeconds(instantOf(from.ref, from.calendar), instantOf(to.ref, to.calendar)));
  const [perFrom, perTo] = [unitNanos(from), unitNanos(to)];
  const out = new Array<number>(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    out[i] = Number.isFinite(v) ? nanosToValue(valueNanos(v, perFrom) + shift, perTo, slackNanos(v, perFrom)) : v;
  }
  if (!inexact) refuseInexact(out, to);
  return out;
}

/** Units a joined axis may be stored in as whole numbers, coarsest first. */
const WHOLE_UNITS = UNIT_SECONDS.map(([, name, seconds]) => ({ name, perUnit: BigInt(Math.round(seconds * 1e9)) }));

/**
 * Times of several files (each in its own units) as whole numbers of one unit since `first`'s
 * reference: the coarsest unit that holds every instant (to within what each file's float can
 * tell apart) as a whole number up to 2^53. Undefined when none does (nanoseconds over more than
 * 104 days). Called for times that are fractions of `first`'s unit (no coarser unit holds those)
 * or beyond 2^53 of it ("nanoseconds since", where a coarser one may).
 */
export function wholeTimes(axes: { values: ArrayLike<number>; units: TimeUnits }[], first: TimeUnits): { values: number[]; units: TimeUnits } | undefined {
  const nanos: bigint[] = [];
  const slack: number[] = [];
  for (const { values, units } of axes) {
    checkCalendars(values, units, first);
    const shift = secondsToNanos(diffSeconds(instantOf(units.ref, units.calendar), instantOf(first.ref, first.calendar)));
    const perUnit = unitNanos(units);
    for (let i = 0; i < values.length; i++) {
      nanos.push(valueNanos(values[i]!, perUnit) + shift);
      slack.push(slackNanos(values[i]!, perUnit));
    }
  }
  for (const u of WHOLE_UNITS) {
    const values: number[] = [];
    for (let i = 0; i < nanos.length; i++) {
      const x = nanosToValue(nanos[i]!, u.perUnit, slack[i]!);
      if (!Number.isInteger(x) || !Number.isSafeInteger(x)) break;
      values.push(x);
    }
    if (values.length < nanos.length) continue;
    const text = first.text.replace(/^\s*\w+/, u.name);
    return { values, units: { ...first, unitName: u.name, unitSeconds: Number(u.perUnit) / 1e9, text } };
  }
  return undefined;
}

export function formatDate(d: CfDate): string {
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  const sec = Number.isInteger(d.second) ? p(d.second) : d.second.toFixed(3).padStart(6, "0");
  return `${p(d.year, 4)}-${p(d.month)}-${p(d.day)} ${p(d.hour)}:${p(d.minute)}:${sec}`;
}

// ---- frequencies ----------------------------------------------------------------------------

/**
 * A time step: a fixed number of seconds, or calendar months (months and years). `monthEnd`
 * (pandas' "ME"/"M"): an axis that starts on the last day of a month keeps to the last day of
 * each month (1999-02-28, 1999-03-31), where one that steps from its start date keeps its day.
 */
export type Freq = { kind: "seconds"; seconds: number; text: string } | { kind: "months"; months: number; text: string; monthEnd?: boolean };

/** Parse "1h", "3H", "30min", "1D", "6h", "1W", "1MS"/"1M" (monthly), "1YS"/"1Y" (yearly), "10s", "100ms", "500us". */
export function parseFreq(text: string): Freq {
  const m = /^\s*(\d*\.?\d*)\s*([a-zA-Z]+)\s*$/.exec(text);
  if (!m) throw new TimeError(`cannot read the frequency '${text}'`);
  const n = m[1] === "" ? 1 : Number(m[1]);
  if (!(n > 0)) throw new TimeError(`frequency '${text}' must be positive`);
  const unit = m[2]!;
  const fixed: [RegExp, number][] = [
    // Case matters here, as in pandas: "ms" is milliseconds, "MS" month start.
    [/^(ms|L|msecs?|milliseconds?)$/, 1e-3],
    [/^(us|U|usecs?|microseconds?)$/, 1e-6],
    [/^(s|sec|secs|second|seconds)$/i, 1],
    [/^(t|min|mins|minute|minutes)$/i, 60],
    [/^(h|hr|hrs|hour|hours)$/i, 3600],
    [/^(d|day|days)$/i, 86400],
    [/^(w|week|weeks)$/i, 7 * 86400],
  ];
  for (const [re, secs] of fixed) if (re.test(unit)) return { kind: "seconds", seconds: n * secs, text };
  // pandas spellings: "MS" month start, "M"/"ME" month end; both step by calendar months from
  // the start date, which is what an archive axis needs; month end keeps to month ends.
  if (/^(MS|ME|M|mon|month|months)$/.test(unit)) {
    if (!Number.isInteger(n)) throw new TimeError(`a monthly frequency needs a whole number of months: '${text}'`);
    return { kind: "months", months: n, text, ...(unit === "ME" || unit === "M" ? { monthEnd: true } : {}) };
  }
  if (/^(ys|y|a|as|year|years)$/i.test(unit)) {
    if (!Number.isInteger(n)) throw new TimeError(`a yearly frequency needs a whole number of years: '${text}'`);
    return { kind: "months", months: 12 * n, text };
  }
  throw new TimeError(`unknown frequency unit '${unit}' in '${text}'`);
}

/** `d` moved by `months` calendar months; on a month end and `monthEnd`, to that month's end. */
function addMonths(d: CfDate, months: number, cal: Calendar, monthEnd = false): CfDate {
  const total = d.year * 12 + (d.month - 1) + months;
  const year = Math.floor(total / 12);
  const month = total - year * 12 + 1;
  const last = daysInMonth(year, month, cal);
  const day = monthEnd && isMonthEnd(d, cal) ? last : Math.min(d.day, last);
  return { ...d, year, month, day };
}

const isMonthEnd = (d: CfDate, cal: Calendar) => d.day === daysInMonth(d.year, d.month, cal);

/** Every instant from `start` to `end` inclusive at `freq`, as values in `units`. */
export function timeAxis(start: CfDate, end: CfDate, freq: Freq, units: TimeUnits, maxSteps = 50_000_000): number[] {
  validateDate(start, units.calendar);
  validateDate(end, units.calendar);
  const endValue = encodeDate(end, units);
  const startValue = encodeDate(start, units);
  if (endValue < startValue) throw new TimeError(`the end ${formatDate(end)} is before the start ${formatDate(start)}`);
  const out: number[] = [];
  if (freq.kind === "seconds") {
    const step = freq.seconds / units.unitSeconds;
    const n = Math.floor((endValue - startValue) / step + 1e-9);
    if (n + 1 > maxSteps) throw new TimeError(`${n + 1} time steps is more than ${maxSteps}`);
    if (Number.isInteger(startValue) && Number.isInteger(step)) {
      for (let i = 0; i <= n; i++) out.push(startValue + i * step);
    } else {
      // Fractions of the unit: each step counted in whole nanoseconds, so that a time that is a
      // whole number of some unit stays one (see wholeTimes), with no error piling up.
      const perUnit = unitNanos(units);
      const first = secondsToNanos(diffSeconds(instantOf(start, units.calendar), instantOf(units.ref, units.calendar)));
      const stepNanos = secondsToNanos(freq.seconds);
      for (let i = 0; i <= n; i++) out.push(nanosToValue(first + BigInt(i) * stepNanos, perUnit, 0));
    }
  } else {
    for (let i = 0; ; i++) {
      const v = encodeDate(addMonths(start, i * freq.months, units.calendar, freq.monthEnd), units);
      if (v > endValue + 1e-9) break;
      out.push(v);
      if (out.length > maxSteps) throw new TimeError(`more than ${maxSteps} time steps`);
    }
  }
  return out;
}

/** Calendar months from `a` to `b`, whatever the day. */
const monthsApart = (a: CfDate, b: CfDate) => (b.year - a.year) * 12 + (b.month - a.month);

/**
 * The step of a time axis: fixed seconds when every step is equal, months when every step is a
 * whole number of calendar months, `undefined` when irregular or too short to tell.
 */
export function inferFreq(values: ArrayLike<number>, units: TimeUnits): Freq | undefined {
  if (values.length < 2) return undefined;
  const step = (values[1]! - values[0]!) * units.unitSeconds;
  let regular = step > 0;
  for (let i = 2; i < values.length && regular; i++) {
    regular = Math.abs((values[i]! - values[i - 1]!) * units.unitSeconds - step) < 1e-6;
  }
  if (regular) return { kind: "seconds", seconds: step, text: describeSeconds(step) };
  const dates = Array.from(values, (v) => decodeValue(v, units));
  const months = monthsApart(dates[0]!, dates[1]!);
  if (months <= 0) return undefined;
  for (let i = 1; i < dates.length; i++) {
    const a = dates[i - 1]!;
    const b = dates[i]!;
    if (monthsApart(a, b) !== months || b.hour !== a.hour || b.minute !== a.minute) return undefined;
  }
  // Every time on the last day of its month (and not all on the 31st, as December's are): month ends.
  if (dates.every((d) => isMonthEnd(d, units.calendar)) && dates.some((d) => d.day < 31)) return { kind: "months", months, text: `${months}ME`, monthEnd: true };
  return { kind: "months", months, text: months % 12 === 0 ? `${months / 12}YS` : `${months}MS` };
}

/**
 * The number of calendar months every step of an axis moves by, whatever the day (monthly means
 * stamped mid-month, as CMIP and OSTIA stamp them, on days and hours that vary); undefined when
 * the steps differ.
 */
export function monthsEach(values: ArrayLike<number>, units: TimeUnits): number | undefined {
  if (values.length < 2) return undefined;
  const dates = Array.from(values, (v) => decodeValue(v, units));
  const step = monthsApart(dates[0]!, dates[1]!);
  return step > 0 && dates.every((d, i) => i === 0 || monthsApart(dates[i - 1]!, d) === step) ? step : undefined;
}

export function describeSeconds(s: number): string {
  if (s % 86400 === 0) return `${s / 86400}D`;
  if (s % 3600 === 0) return `${s / 3600}h`;
  if (s % 60 === 0) return `${s / 60}min`;
  // To the nanosecond: a step of 1 h and 7 ns is a product in floats of 3600.0000000070004 s.
  return `${Number(s.toFixed(9))}s`;
}

/**
 * Refuse a time axis that does not strictly increase, naming the first offending time (as an
 * IncompatibleSourceError, or the error class a caller names, e.g. RegionError for placement).
 */
export function checkIncreasing(
  values: number[],
  units: TimeUnits,
  file: string,
  what = "time",
  Err: new (message: string, context: ErrorContext) => ZarrioError = IncompatibleSourceError,
  previous?: number,
): void {
  // Steps are counted in the file from 0; `previous` (the last time before the file's) is compared too.
  const all = previous === undefined ? values : [previous, ...values];
  const shift = previous === undefined ? 0 : 1;
  for (let i = 1; i < all.length; i++) {
    if (!(all[i]! > all[i - 1]!)) {
      const step = i - shift;
      throw new Err(
        `${what} is not increasing at step ${step}${step === 0 ? " (the file's first, after the previous file's last)" : ""}: ` +
          `${formatDate(decodeValue(all[i]!, units))} follows ${formatDate(decodeValue(all[i - 1]!, units))}`,
        { file },
      );
    }
  }
}
