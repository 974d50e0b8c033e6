/**
 * create-template: an archive for a whole time range, before any data file is written into it.
 * Its time axis runs from `time.globalStart` to `time.globalEnd` at `time.freq` (or the template
 * file's own step), encoded in the template's time units and calendar. Every array is declared
 * with its full shape and encoding; coordinates, the time values and static variables (no time
 * dimension: a land mask, bathymetry) are written in full; no chunk of a time-dependent variable
 * is written, so times no writer has filled read as missing (NaN or the fill value), never as 0.
 * The archive is built beside its path and moved into place when complete, like convert's.
 *
 * Packing ranges cannot come from one file's data alone: later files go beyond it. They come
 * from manual ranges, or valid_min/valid_max, or else from the template's data widened by
 * TEMPLATE_RANGE_MARGIN of its span on each side (or packing.autoBufferFactor if larger). Values
 * that later fall outside are handled by packing.rangeExceededAction and reported.
 */
import { isNumeric } from "../backend/dtype.js";
import { loadBackend } from "../backend/index.js";
import type { DType } from "../backend/types.js";
import { decodeValue, exactTime, formatDate, inferFreq, parseDate, parseFreq, reencode, TimeError, timeAxis, wholeTimes, type Freq } from "../cf/time.js";
import { type ZarrConverterConfig, slabBytes } from "../config/model.js";
import { ConfigError, IncompatibleSourceError } from "../errors.js";
import { silentLogger, type Logger } from "../log.js";
import { logChunking } from "../plan/chunking.js";
import { cfEncoding, decodedDtype, describeEncoding, type MixedEncoding } from "../plan/encoding.js";
import { buildPlan, selectVars, walkVars } from "../plan/layout.js";
import { regionFromTimes } from "../plan/region.js";
import { nodePaths, writeHierarchy } from "../pipeline/hierarchy.js";
import { noTimeAxisReason, openSource, readTimeAxis, storedTimeDtype, type Source } from "../pipeline/source.js";
import { planVariableWrites, runOptions, runWrites, writeWholeArray, type WriteJob, type WriteStats } from "../pipeline/writer.js";
import { Archive } from "../zarr/archive.js";
import { retimedTimes } from "./convert-core.js";
import { logSummary, packingRanges, type RunOptions } from "./convert.js";
import { prepareOutput } from "./output.js";
import { consolidateEnclosing } from "../zarr/open.js";
import { pushAll } from "../lists.js";

/** A range taken from the template's data is widened by this fraction of its span on each side. */
export const TEMPLATE_RANGE_MARGIN = 0.25;

export interface TemplateOptions extends RunOptions {
  overwrite?: boolean;
}

export interface TemplateSummary {
  output: string;
  timeSteps: number;
  first: string;
  last: string;
  freq: string;
  /** Arrays declared along time (left unwritten). */
  timeVariables: number;
  /** Arrays written in full (coordinates and static variables). */
  writtenVariables: number;
  /** Packing ranges by variable path (without the leading slash), and where each came from. */
  packed: Record<string, { min: number; max: number; source: string }>;
  seconds: number;
  stats: WriteStats;
  backend: string;
}

/**
 * Variables along time that the template file packs itself (integers with scale_factor /
 * add_offset). Files written later may pack them otherwise (ERA5 files each carry their own), and
 * one file's scale cannot hold another's range, so the archive stores the decoded values (the
 * float type xarray reads), or packs them over one range with --packing.
 */
function ownPacking(source: Source, config: ZarrConverterConfig, log: Logger): Map<string, MixedEncoding> {
  const mixed = new Map<string, MixedEncoding>();
  for (const { v } of selectVars(walkVars(source.root), config, source.file)) {
    if (!v.dims.includes(config.time.dim) || (v.name === config.time.dim && v.dims.length === 1)) continue;
    const enc = cfEncoding(v);
    if (!isNumeric(enc.dtype) || (enc.scale === undefined && enc.offset === undefined)) continue;
    const m: MixedEncoding = { path: v.path.replace(/^\/+/, ""), dtype: decodedDtype(enc), files: [enc] };
    mixed.set(v.path, m);
    log.info(
      `${m.path}: ${source.file} packs it itself (${describeEncoding(enc)}); files written later may pack it otherwise, so the archive ` +
        (config.packing.enabled ? `packs the decoded values to int${config.packing.bits} over one range` : `stores the decoded ${m.dtype} values (--packing packs them over one range)`),
    );
  }
  return mixed;
}

export async function createTemplate(template: string, output: string, config: ZarrConverterConfig, options: TemplateOptions = {}): Promise<TemplateSummary> {
  const started = performance.now();
  const log = options.log ?? silentLogger;
  const { dim, globalStart, globalEnd } = config.time;
  if (globalStart === undefined) throw new ConfigError("a template needs the archive's first time (--global-start)", "time.globalStart");
  if (globalEnd === undefined) throw new ConfigError("a template needs the archive's last time (--global-end)", "time.globalEnd");
  const backend = options.backend ?? (await loadBackend());
  const source = await openSource(backend, template, config, log);
  try {
    const own = await readTimeAxis(source, dim);
    if (!own) {
      throw new IncompatibleSourceError(`${noTimeAxisReason(source, dim)}: a template takes the archive's time units and calendar from it (set time.dim / --time-dim)`, { file: template });
    }
    let freq: Freq;
    if (config.time.freq !== undefined) {
      freq = parseFreq(config.time.freq);
    } else {
      const inferred = inferFreq(own.values, own.units);
      if (!inferred) throw new ConfigError(`the time step of ${template} cannot be inferred (fewer than two steps, or irregular); give --freq`, "time.freq");
      freq = inferred;
      log.info(`time step ${freq.text} taken from ${template}`);
    }
    let values: number[];
    try {
      values = timeAxis(parseDate(globalStart), parseDate(globalEnd), freq, own.units);
    } catch (e) {
      if (e instanceof TimeError) throw new ConfigError(`${e.message} (calendar ${own.units.calendar})`, "time");
      throw e;
    }
    // Steps that are fractions of the file's unit (hours in "days since") decode a nanosecond off
    // from floats, and whole numbers beyond 2^53 ("nanoseconds since", months on) are not held
    // exactly at all: the axis is then whole numbers of the coarsest unit that holds every step.
    let units = own.units;
    let dtype = storedTimeDtype(values, own.dtype) as DType;
    const far = values.some((v) => !exactTime(v));
    const whole = far || values.some((v) => !Number.isInteger(v)) ? wholeTimes([{ values, units }], units) : undefined;
    if (whole) {
      ({ values, units } = whole);
      dtype = "int64";
      const why = far ? `whole numbers of ${own.units.unitName} this far from ${formatDate(own.units.ref)} are beyond what a float64 holds exactly (2^53)` : `fractions of ${own.units.unitName} in floats are a nanosecond or two off`;
      log.info(`${dim} is stored as int64 '${units.text}' (${template} has '${own.units.text}'): every ${freq.text} step is a whole number of ${units.unitName}, and ${why}`);
    } else if (far) {
      throw new ConfigError(`the axis from ${globalStart} to ${globalEnd} every ${freq.text} needs ${own.units.unitName} beyond 2^53 from ${formatDate(own.units.ref)} (${template}'s units), which no time unit holds exactly`, "time");
    }
    // Files shaped like the template must find their place on this axis; say so now if not.
    try {
      regionFromTimes(units === own.units ? own.values : reencode(own.values, own.units, units), values, units, template, dim);
    } catch (e) {
      log.warn(`the template's own times do not fit the archive's axis, so write-region will refuse files like it: ${(e as Error).message}`);
    }
    const mixed = ownPacking(source, config, log);
    const ranges = await packingRanges(
      [source],
      { ...config, packing: { ...config.packing, autoBufferFactor: Math.max(config.packing.autoBufferFactor, TEMPLATE_RANGE_MARGIN) } },
      log,
      mixed,
    );
    const plan = buildPlan({
      meta: source.ds.meta,
      file: template,
      config,
      timeLength: values.length,
      packRanges: ranges,
      mixed,
      timeDtype: dtype,
      timeUnits: units.text,
      // Bounds and other times as float64: those of steps no writer has filled yet read as missing
      // (NaN), not as the units' reference date (an integer's 0), and any file's re-express into them.
      retimed: retimedTimes([source], dim, units, true),
      backend,
    });
    logChunking(log, plan.vars, config.accessPattern);

    const out = await prepareOutput(output, options.overwrite ?? false, { s3: config.s3, log });
    let stats: WriteStats;
    try {
      const archive = new Archive(out.store, plan.format);
      await writeHierarchy(archive, plan);
      const jobs: WriteJob[] = [];
      let timeBytes = 0;
      for (const v of plan.vars) {
        if (v.isTimeCoord) timeBytes = await writeWholeArray(backend, archive, v, values);
        else if (v.timeAxis < 0) pushAll(jobs, planVariableWrites(source.ds, template, v, { timeOffset: 0, slabBytes: slabBytes(config) }));
      }
      stats = await runWrites(archive, jobs, runOptions(config, backend, log));
      stats.bytesStored += timeBytes;
      await archive.consolidate(nodePaths(plan));
      await out.commit();
    } catch (e) {
      await out.abandon();
      throw e;
    }
    await consolidateEnclosing(output, log);
    const seconds = (performance.now() - started) / 1000;
    const summary: TemplateSummary = {
      output,
      timeSteps: values.length,
      first: formatDate(decodeValue(values[0]!, units)),
      last: formatDate(decodeValue(values[values.length - 1]!, units)),
      freq: freq.text,
      timeVariables: plan.vars.filter((v) => v.timeAxis >= 0 && !v.isTimeCoord).length,
      writtenVariables: plan.vars.filter((v) => v.timeAxis < 0 || v.isTimeCoord).length,
      packed: Object.fromEntries([...ranges].map(([path, r]) => [path.replace(/^\/+/, ""), { ...r }])),
      seconds,
      stats,
      backend: backend.name,
    };
    log.info(`template ${output}: ${summary.timeSteps} time steps from ${summary.first} to ${summary.last} every ${summary.freq}`, {
      units: units.text,
      calendar: units.calendar,
    });
    logSummary(log, "create-template", stats, seconds);
    return summary;
  } finally {
    source.ds.close();
  }
}
