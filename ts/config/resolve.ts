/**
 * Turning what a user gives (library options, a config file, CLI flags) into a complete,
 * validated `ZarrConverterConfig`. Layers merge in order — defaults < config file < flags — and
 * every value is checked here, before any file is touched. Unknown keys are refused with the
 * list of known ones; snake_case spellings (the Python tool's config files) are accepted.
 */
import { ConfigError } from "../errors.js";
import { DEFAULT_CONFIG, type ZarrConverterConfig } from "./model.js";
import { parseChunking, parseCompression, parseList, parseManualRanges } from "./parse.js";

export type Layer = Record<string, unknown>;

const camel = (k: string) => k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/** Keys allowed at each level (nested objects listed by their own key). */
const SHAPE: Record<string, string[] | null> = {
  "": [
    "chunking", "compression", "packing", "time", "variables", "missingData", "attrs", "targetChunkSizeMb",
    "intelligentChunking", "accessPattern", "zarrFormat", "group", "concurrency", "slabSizeMb", "reader", "logging",
  ],
  chunking: null,
  compression: null,
  attrs: null,
  packing: ["enabled", "bits", "manualRanges", "autoBufferFactor", "rangeExceededAction", "exclude", "checkRangeExceeded"],
  time: ["dim", "appendDim", "globalStart", "globalEnd", "freq"],
  variables: ["include", "exclude"],
  missingData: ["checkVars", "retriesOnMissing"],
  logging: ["level", "format"],
};

/** Normalise key spelling and refuse unknown keys, recursively where the shape is known. */
export function normalizeLayer(layer: Layer, at = ""): Layer {
  const allowed = SHAPE[at];
  const out: Layer = {};
  for (const [raw, value] of Object.entries(layer)) {
    const key = camel(raw);
    if (allowed && !allowed.includes(key)) {
      throw new ConfigError(`unknown key (known: ${allowed.join(", ")})`, at ? `${at}.${raw}` : raw);
    }
    const nested = at === "" && SHAPE[key] !== undefined && SHAPE[key] !== null && value !== null && typeof value === "object" && !Array.isArray(value);
    out[key] = nested ? normalizeLayer(value as Layer, key) : value;
  }
  return out;
}

/** Merge layers: later layers win, nested sections merge key by key. */
export function mergeLayers(...layers: Layer[]): Layer {
  const out: Layer = {};
  for (const layer of layers) {
    for (const [k, v] of Object.entries(layer)) {
      if (v === undefined) continue;
      const prev = out[k];
      const mergeable = SHAPE[k] && prev && typeof prev === "object" && !Array.isArray(prev) && v && typeof v === "object" && !Array.isArray(v);
      out[k] = mergeable ? { ...(prev as Layer), ...(v as Layer) } : v;
    }
  }
  return out;
}

function oneOf<T extends string | number>(value: unknown, allowed: readonly T[], key: string): T {
  const v = typeof allowed[0] === "number" ? Number(value) : value;
  if (!allowed.includes(v as T)) throw new ConfigError(`must be one of ${allowed.join(", ")}, not '${String(value)}'`, key);
  return v as T;
}

function num(value: unknown, key: string, min: number, max = Infinity, integer = false): number {
  const v = Number(value);
  if (typeof value === "boolean" || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
    throw new ConfigError(`must be ${integer ? "a whole number" : "a number"} from ${min}${max < Infinity ? ` to ${max}` : ""}, not '${String(value)}'`, key);
  }
  return v;
}

function bool(value: unknown, key: string): boolean {
  if (typeof value === "boolean") return value;
  if (value === "true") return true;
  if (value === "false") return false;
  throw new ConfigError(`must be true or false, not '${String(value)}'`, key);
}

function strings(value: unknown, key: string): string[] {
  const list = typeof value === "string" || Array.isArray(value) ? parseList(value as string | string[]) : undefined;
  if (!list || list.some((s) => typeof s !== "string")) throw new ConfigError(`must be a list of names`, key);
  return list;
}

function str(value: unknown, key: string): string {
  if (typeof value !== "string" && typeof value !== "number") throw new ConfigError(`must be text, not ${JSON.stringify(value)}`, key);
  return String(value);
}

/** Resolve layers (lowest precedence first) into a validated configuration. */
export function resolveConfig(...layers: Layer[]): ZarrConverterConfig {
  const m = mergeLayers(...layers.map((l) => normalizeLayer(l)));
  const d = DEFAULT_CONFIG;
  const sect = (k: string) => (m[k] ?? {}) as Layer;
  const packing = sect("packing");
  const time = sect("time");
  const variables = sect("variables");
  const missing = sect("missingData");
  const logging = sect("logging");
  const action = packing.rangeExceededAction ?? (packing.checkRangeExceeded === false ? "clip" : undefined);
  const policyAlias: Record<string, "error" | "clip" | "fill"> = { error: "error", clip: "clip", fill: "fill", warn: "clip", ignore: "clip" };
  const policy = action === undefined ? d.packing.rangeExceededAction : policyAlias[String(action)];
  if (!policy) throw new ConfigError(`must be error, clip or fill (warn and ignore mean clip), not '${String(action)}'`, "packing.rangeExceededAction");
  const timeDim = time.dim === undefined ? d.time.dim : str(time.dim, "time.dim");
  const checkVars = missing.checkVars === undefined || missing.checkVars === "all" ? "all" : strings(missing.checkVars, "missingData.checkVars");
  return {
    chunking: m.chunking === undefined ? d.chunking : parseChunking(m.chunking as string | Record<string, unknown>),
    compression:
      m.compression === undefined ? d.compression : parseCompression(m.compression as string | Record<string, unknown> | null),
    packing: {
      enabled: packing.enabled === undefined ? d.packing.enabled : bool(packing.enabled, "packing.enabled"),
      bits: packing.bits === undefined ? d.packing.bits : oneOf(packing.bits, [8, 16, 32] as const, "packing.bits"),
      manualRanges: packing.manualRanges === undefined ? {} : parseManualRanges(packing.manualRanges as Record<string, unknown>),
      autoBufferFactor:
        packing.autoBufferFactor === undefined ? d.packing.autoBufferFactor : num(packing.autoBufferFactor, "packing.autoBufferFactor", 0, 10),
      rangeExceededAction: policy,
      exclude: packing.exclude === undefined ? [] : strings(packing.exclude, "packing.exclude"),
    },
    time: {
      dim: timeDim,
      appendDim: time.appendDim === undefined ? timeDim : str(time.appendDim, "time.appendDim"),
      globalStart: time.globalStart === undefined ? undefined : str(time.globalStart, "time.globalStart"),
      globalEnd: time.globalEnd === undefined ? undefined : str(time.globalEnd, "time.globalEnd"),
      freq: time.freq === undefined ? undefined : str(time.freq, "time.freq"),
    },
    variables: {
      include: variables.include === undefined || variables.include === null ? undefined : strings(variables.include, "variables.include"),
      exclude: variables.exclude === undefined ? [] : strings(variables.exclude, "variables.exclude"),
    },
    missingData: {
      checkVars,
      retriesOnMissing:
        missing.retriesOnMissing === undefined ? d.missingData.retriesOnMissing : num(missing.retriesOnMissing, "missingData.retriesOnMissing", 0, 100, true),
    },
    attrs: m.attrs === undefined ? {} : (() => {
      if (typeof m.attrs !== "object" || m.attrs === null || Array.isArray(m.attrs)) throw new ConfigError("must be an object of attribute names to values", "attrs");
      return m.attrs as Record<string, unknown>;
    })(),
    targetChunkSizeMb: m.targetChunkSizeMb === undefined ? d.targetChunkSizeMb : num(m.targetChunkSizeMb, "targetChunkSizeMb", 0.001, 4096),
    intelligentChunking: m.intelligentChunking === undefined ? d.intelligentChunking : bool(m.intelligentChunking, "intelligentChunking"),
    accessPattern: m.accessPattern === undefined ? d.accessPattern : oneOf(m.accessPattern, ["temporal", "spatial", "balanced"] as const, "accessPattern"),
    zarrFormat: m.zarrFormat === undefined ? d.zarrFormat : oneOf(m.zarrFormat, [2, 3] as const, "zarrFormat"),
    group: m.group === undefined ? undefined : str(m.group, "group"),
    concurrency: m.concurrency === undefined ? d.concurrency : num(m.concurrency, "concurrency", 1, 64, true),
    slabSizeMb: m.slabSizeMb === undefined ? d.slabSizeMb : num(m.slabSizeMb, "slabSizeMb", 1, 65536),
    reader: m.reader === undefined ? d.reader : oneOf(m.reader, ["auto", "pure", "libnetcdf"] as const, "reader"),
    logging: {
      level: logging.level === undefined ? d.logging.level : oneOf(logging.level, ["error", "warn", "info", "debug"] as const, "logging.level"),
      format: logging.format === undefined ? d.logging.format : oneOf(logging.format, ["text", "json"] as const, "logging.format"),
    },
  };
}
