/**
 * Parsers for the compact spellings users type: `time:100,lat:50`, `blosc:zstd:3`,
 * `{"temperature":{"min":-50,"max":50}}`, `time=0:24,lat=10:20`. Each refuses bad input with a
 * ConfigError naming the key. The configuration rules for these fields (parser plus JSON Schema)
 * are at the end of this file.
 */
import type { BloscCname, Compressor, Shuffle } from "../backend/types.js";
import { ConfigError } from "../errors.js";
import { isMapping, type Rule } from "./rules.js";

/** `time:100,lat:50` or `{"time":100}` → `{ time: 100, lat: 50 }`. */
export function parseChunking(spec: unknown, key = "chunking"): Record<string, number> {
  let entries: [string, unknown][];
  if (typeof spec === "string") {
    entries = spec.trim().startsWith("{")
      ? Object.entries(parseMapping(parseJson(spec, key), key))
      : spec
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean)
          .map((part) => {
            const m = /^([^:=\s]+)\s*[:=]\s*(.+)$/.exec(part);
            if (!m) throw new ConfigError(`'${part}' is not dim:length (example: time:100,lat:50)`, key);
            return [m[1]!, m[2]!.trim()];
          });
  } else {
    entries = Object.entries(parseMapping(spec, key));
  }
  const out: Record<string, number> = {};
  for (const [dim, raw] of entries) {
    const n = typeof raw === "number" ? raw : typeof raw === "string" && raw.trim() !== "" ? Number(raw) : NaN;
    if (!Number.isInteger(n) || n < 1) throw new ConfigError(`${key === "sharding" ? "shard" : "chunk"} length must be a whole number >= 1, not ${JSON.stringify(raw)}`, `${key}.${dim}`);
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
/** The keys of the long form of `compression`. */
const COMPRESSION_KEYS = ["method", "cname", "clevel", "shuffle", "blocksize"];
/** Level ranges: blosc and gzip 0-9; zstd's negative levels are its fast modes. */
const LEVELS = { blosc: [0, 9], zstd: [-7, 22], gzip: [0, 9] } as const;

function level(raw: unknown, [lo, hi]: readonly [number, number], key: string): number {
  const n = typeof raw === "number" ? raw : typeof raw === "string" && raw.trim() !== "" ? Number(raw) : NaN;
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
export function parseCompression(spec: unknown, key = "compression"): Compressor | null {
  if (spec === null) return null;
  if (typeof spec === "object") {
    const obj = parseMapping(spec, key);
    const unknown = Object.keys(obj).find((k) => !COMPRESSION_KEYS.includes(k));
    if (unknown) throw new ConfigError(`unknown key (known: ${COMPRESSION_KEYS.join(", ")})`, `${key}.${unknown}`);
    const base = obj.method !== undefined ? parseCompression(String(obj.method), `${key}.method`) : null;
    const id = base?.id ?? (obj.cname !== undefined || obj.shuffle !== undefined ? "blosc" : undefined);
    if (!id) throw new ConfigError("give a method (blosc:zstd:3, zstd:3, gzip:5, none) or a blosc cname", key);
    if (id === "blosc") {
      const b = base?.id === "blosc" ? base : { id: "blosc" as const, cname: "zstd" as BloscCname, clevel: 3, shuffle: "byte" as Shuffle, blocksize: 0 };
      const cname = obj.cname === undefined ? b.cname : String(obj.cname);
      if (!CNAMES.includes(cname as BloscCname)) throw new ConfigError(`blosc cname must be one of ${CNAMES.join(", ")}, not '${cname}'`, `${key}.cname`);
      return {
        id: "blosc",
        cname: cname as BloscCname,
        clevel: obj.clevel === undefined ? b.clevel : level(obj.clevel, LEVELS.blosc, `${key}.clevel`),
        shuffle: obj.shuffle === undefined ? b.shuffle : shuffle(obj.shuffle, `${key}.shuffle`),
        blocksize: obj.blocksize === undefined ? (b.blocksize ?? 0) : level(obj.blocksize, [0, 2 ** 31], `${key}.blocksize`),
      };
    }
    for (const k of ["shuffle", "blocksize"]) {
      if (obj[k] !== undefined) throw new ConfigError(`only blosc has a ${k}`, `${key}.${k}`);
    }
    if (base && obj.clevel !== undefined) {
      return base.id === "zstd" ? { id: "zstd", level: level(obj.clevel, LEVELS.zstd, `${key}.clevel`) } : { id: "gzip", level: level(obj.clevel, LEVELS.gzip, `${key}.clevel`) };
    }
    return base;
  }
  if (typeof spec !== "string") throw new ConfigError(`must be a method string such as blosc:zstd:3, or a mapping, not ${JSON.stringify(spec)}`, key);
  const [method, ...rest] = spec.trim().toLowerCase().split(":");
  switch (method) {
    case "":
    case "none":
    case "null":
      return null;
    case "blosc": {
      const cname = (rest[0] || "zstd") as BloscCname;
      if (!CNAMES.includes(cname)) throw new ConfigError(`blosc cname must be one of ${CNAMES.join(", ")}, not '${rest[0]}'`, key);
      if (rest.length > 3) throw new ConfigError(`'${spec}' has too many parts (blosc:<cname>:<level>:<shuffle>)`, key);
      return {
        id: "blosc",
        cname,
        clevel: rest[1] ? level(rest[1], LEVELS.blosc, key) : 3,
        shuffle: rest[2] ? shuffle(rest[2], key) : "byte",
        blocksize: 0,
      };
    }
    case "zstd":
    case "gzip":
    case "zlib": {
      if (rest.length > 1) throw new ConfigError(`'${spec}' has too many parts (${method}:<level>)`, key);
      return method === "zstd"
        ? { id: "zstd", level: rest[0] ? level(rest[0], LEVELS.zstd, key) : 3 }
        : { id: "gzip", level: rest[0] ? level(rest[0], LEVELS.gzip, key) : 5 };
    }
    default:
      throw new ConfigError(`unknown compression '${spec}' (use blosc:<cname>:<level>[:shuffle|bitshuffle|noshuffle], zstd:<level>, gzip:<level> or none)`, key);
  }
}

/** The compact spelling of a compressor (what `parseCompression` reads back to the same value). */
export function formatCompression(c: Compressor | null): string | Record<string, unknown> {
  if (!c) return "none";
  if (c.id !== "blosc") return `${c.id}:${c.level}`;
  const method = `blosc:${c.cname}:${c.clevel}:${{ none: "noshuffle", byte: "shuffle", bit: "bitshuffle" }[c.shuffle]}`;
  return c.blocksize ? { method, blocksize: c.blocksize } : method;
}

/** `{"temperature":{"min":-50,"max":50}}` → validated ranges. */
export function parseManualRanges(spec: unknown, key = "packing.manualRanges"): Record<string, { min: number; max: number }> {
  const obj = parseMapping(typeof spec === "string" ? parseJson(spec, key) : spec, key);
  const out: Record<string, { min: number; max: number }> = {};
  for (const [name, r] of Object.entries(obj)) {
    const at = `${key}.${name}`;
    const range = parseMapping(r, at);
    const extra = Object.keys(range).find((k) => k !== "min" && k !== "max");
    if (extra) throw new ConfigError("unknown key (known: min, max)", `${at}.${extra}`);
    const [min, max] = [range.min, range.max];
    if (typeof min !== "number" || typeof max !== "number" || !Number.isFinite(min) || !Number.isFinite(max) || min > max) {
      throw new ConfigError(`needs finite numbers min <= max, got ${JSON.stringify(r)}`, at);
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

function parseMapping(value: unknown, key: string): Record<string, unknown> {
  if (!isMapping(value)) throw new ConfigError(`must be a mapping, not ${JSON.stringify(value)}`, key);
  return value;
}

// ---- configuration rules (parser + JSON Schema) ------------------------------------------------

/** `dim:length[,dim:length...]` (or `=`), lengths >= 1. */
const CHUNK_ENTRY = "\\s*[^:=,\\s]+\\s*[:=]\\s*[1-9]\\d*\\s*";
const CHUNKING_PATTERN = `^${CHUNK_ENTRY}(,${CHUNK_ENTRY})*$`;
const COMPRESSION_PATTERN = `^(none|null|(blosc(:(${CNAMES.join("|")})(:\\d(:(shuffle|bitshuffle|noshuffle|byte|bit|none|[012]))?)?)?)|(zstd(:-?\\d{1,2})?)|((gzip|zlib)(:\\d)?))$`;

export const chunkingRule: Rule<Record<string, number>> = {
  schema: {
    oneOf: [
      { type: "object", additionalProperties: { type: "integer", minimum: 1 } },
      { type: "string", pattern: CHUNKING_PATTERN },
    ],
  },
  parse: (value, key) => parseChunking(value, key),
};

/** Shard lengths per dimension (as chunking), or `auto`: zarrio chooses them. */
export const shardingRule: Rule<Record<string, number> | "auto"> = {
  schema: { oneOf: [{ const: "auto" }, ...(chunkingRule.schema.oneOf as object[])] },
  parse: (value, key) => (value === "auto" ? "auto" : parseChunking(value, key)),
};

export const compressionRule: Rule<Compressor | null> = {
  schema: {
    oneOf: [
      { type: "null" },
      { type: "string", pattern: COMPRESSION_PATTERN },
      {
        type: "object",
        additionalProperties: false,
        properties: {
          method: { type: "string", pattern: COMPRESSION_PATTERN },
          cname: { enum: CNAMES },
          clevel: { type: "integer", minimum: LEVELS.zstd[0], maximum: LEVELS.zstd[1] },
          shuffle: { enum: [...Object.keys(SHUFFLES).filter((s) => !/\d/.test(s)), 0, 1, 2] },
          blocksize: { type: "integer", minimum: 0 },
        },
      },
    ],
  },
  parse: (value, key) => parseCompression(value, key),
};

export const manualRangesRule: Rule<Record<string, { min: number; max: number }>> = {
  schema: {
    type: "object",
    additionalProperties: {
      type: "object",
      required: ["min", "max"],
      additionalProperties: false,
      properties: { min: { type: "number" }, max: { type: "number" } },
    },
  },
  parse: (value, key) => parseManualRanges(value, key),
};
