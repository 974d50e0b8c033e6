/**
 * Parsers for the compact spellings users type: `time:100,lat:50`, `blosc:zstd:3`,
 * `{"temperature":{"min":-50,"max":50}}`, `time=0:24,lat=10:20`. Each refuses bad input with a
 * ConfigError naming the key.
 */
import type { BloscCname, Compressor, Shuffle } from "../backend/types.js";
import { ConfigError } from "../errors.js";

/** `time:100,lat:50` or `{"time":100}` → `{ time: 100, lat: 50 }`. */
export function parseChunking(spec: string | Record<string, unknown>, key = "chunking"): Record<string, number> {
  const entries: [string, unknown][] =
    typeof spec === "string"
      ? spec.trim().startsWith("{")
        ? Object.entries(parseJson(spec, key) as Record<string, unknown>)
        : spec
            .split(",")
            .map((s) => s.trim())
            .filter(Boolean)
            .map((part) => {
              const m = /^([^:=\s]+)\s*[:=]\s*(.+)$/.exec(part);
              if (!m) throw new ConfigError(`'${part}' is not dim:length (example: time:100,lat:50)`, key);
              return [m[1]!, m[2]!.trim()];
            })
      : Object.entries(spec);
  const out: Record<string, number> = {};
  for (const [dim, raw] of entries) {
    const n = typeof raw === "number" ? raw : Number(raw);
    if (!Number.isInteger(n) || n < 1) throw new ConfigError(`chunk length must be a whole number >= 1, not '${String(raw)}'`, `${key}.${dim}`);
    out[dim] = n;
  }
  return out;
}

const CNAMES: BloscCname[] = ["blosclz", "lz4", "lz4hc", "zlib", "zstd"];
const SHUFFLES: Record<string, Shuffle> = {
  none: "none", noshuffle: "none", "0": "none",
  byte: "byte", shuffle: "byte", "1": "byte",
  bit: "bit", bitshuffle: "bit", "2": "bit",
};

function level(raw: unknown, lo: number, hi: number, key: string): number {
  const n = typeof raw === "number" ? raw : Number(raw);
  if (!Number.isInteger(n) || n < lo || n > hi) throw new ConfigError(`level must be a whole number from ${lo} to ${hi}, not '${String(raw)}'`, key);
  return n;
}

function shuffle(raw: unknown, key: string): Shuffle {
  const s = SHUFFLES[String(raw).toLowerCase()];
  if (!s) throw new ConfigError(`shuffle must be shuffle, bitshuffle or noshuffle, not '${String(raw)}'`, key);
  return s;
}

/**
 * A compressor from `blosc:zstd:3[:bitshuffle]`, `zstd[:level]`, `gzip[:level]`, `none`, or the
 * long form `{ method, cname, clevel, shuffle, blocksize }` (either part may give a field; the
 * explicit fields win over the method string).
 */
export function parseCompression(spec: string | Record<string, unknown> | null, key = "compression"): Compressor | null {
  if (spec === null) return null;
  if (typeof spec === "object") {
    const base = spec.method !== undefined ? parseCompression(String(spec.method), `${key}.method`) : null;
    const id = base?.id ?? (spec.cname !== undefined || spec.shuffle !== undefined ? "blosc" : undefined);
    if (!id) throw new ConfigError("give a method (blosc:zstd:3, zstd:3, gzip:5, none) or a blosc cname", key);
    if (id === "blosc") {
      const b = base?.id === "blosc" ? base : { id: "blosc" as const, cname: "zstd" as BloscCname, clevel: 3, shuffle: "byte" as Shuffle, blocksize: 0 };
      const cname = spec.cname === undefined ? b.cname : String(spec.cname);
      if (!CNAMES.includes(cname as BloscCname)) throw new ConfigError(`blosc cname must be one of ${CNAMES.join(", ")}, not '${cname}'`, `${key}.cname`);
      return {
        id: "blosc",
        cname: cname as BloscCname,
        clevel: spec.clevel === undefined ? b.clevel : level(spec.clevel, 0, 9, `${key}.clevel`),
        shuffle: spec.shuffle === undefined ? b.shuffle : shuffle(spec.shuffle, `${key}.shuffle`),
        blocksize: spec.blocksize === undefined ? (b.blocksize ?? 0) : level(spec.blocksize, 0, 2 ** 31, `${key}.blocksize`),
      };
    }
    if (base && spec.clevel !== undefined) {
      return base.id === "zstd" ? { id: "zstd", level: level(spec.clevel, -7, 22, `${key}.clevel`) } : { id: "gzip", level: level(spec.clevel, 0, 9, `${key}.clevel`) };
    }
    return base;
  }
  const parts = spec.trim().toLowerCase().split(":");
  const [method, ...rest] = parts;
  switch (method) {
    case "":
    case "none":
    case "null":
      return null;
    case "blosc": {
      const cname = (rest[0] || "zstd") as BloscCname;
      if (!CNAMES.includes(cname)) throw new ConfigError(`blosc cname must be one of ${CNAMES.join(", ")}, not '${rest[0]}'`, key);
      return {
        id: "blosc",
        cname,
        clevel: rest[1] ? level(rest[1], 0, 9, key) : 3,
        shuffle: rest[2] ? shuffle(rest[2], key) : "byte",
        blocksize: 0,
      };
    }
    case "zstd":
      return { id: "zstd", level: rest[0] ? level(rest[0], -7, 22, key) : 3 };
    case "gzip":
    case "zlib":
      return { id: "gzip", level: rest[0] ? level(rest[0], 0, 9, key) : 5 };
    default:
      throw new ConfigError(`unknown compression '${spec}' (use blosc:<cname>:<level>[:shuffle|bitshuffle|noshuffle], zstd:<level>, gzip:<level> or none)`, key);
  }
}

/** `{"temperature":{"min":-50,"max":50}}` → validated ranges. */
export function parseManualRanges(spec: string | Record<string, unknown>, key = "packing.manualRanges"): Record<string, { min: number; max: number }> {
  const obj = typeof spec === "string" ? (parseJson(spec, key) as Record<string, unknown>) : spec;
  const out: Record<string, { min: number; max: number }> = {};
  for (const [name, r] of Object.entries(obj ?? {})) {
    const range = r as { min?: unknown; max?: unknown };
    const min = Number(range?.min);
    const max = Number(range?.max);
    if (!Number.isFinite(min) || !Number.isFinite(max) || min > max) {
      throw new ConfigError(`needs finite numbers min <= max, got ${JSON.stringify(r)}`, `${key}.${name}`);
    }
    out[name] = { min, max };
  }
  return out;
}

/** `time=0:24,lat=10:20` (or `time:0:24`) → `{ time: [0, 24], ... }` (end exclusive). */
export function parseRegion(spec: string, key = "region"): Record<string, [number, number]> {
  const out: Record<string, [number, number]> = {};
  for (const part of spec.split(",").map((s) => s.trim()).filter(Boolean)) {
    const m = /^([^=:\s]+)\s*[=:]\s*(\d+)\s*:\s*(\d+)$/.exec(part);
    if (!m) throw new ConfigError(`'${part}' is not dim=start:stop (example: time=0:24)`, key);
    const [start, stop] = [Number(m[2]), Number(m[3])];
    if (stop <= start) throw new ConfigError(`'${part}': stop must be greater than start`, key);
    out[m[1]!] = [start, stop];
  }
  if (!Object.keys(out).length) throw new ConfigError("empty region", key);
  return out;
}

/** `a,b , c` → `["a","b","c"]`. */
export function parseList(spec: string | string[] | undefined): string[] | undefined {
  if (spec === undefined) return undefined;
  const list = Array.isArray(spec) ? spec : spec.split(",");
  return list.map((s) => s.trim()).filter(Boolean);
}

export function parseJson(text: string, key: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`not valid JSON: ${(e as Error).message}`, key);
  }
}
