/**
 * What the files of a series must share when they are joined along time (convert): the archive's
 * variables come from the first file, and those without the time dimension (coordinates such as
 * lat and lon, masks, grid cell areas) are written once, from it. A later file on another grid,
 * with another mask, or with a variable the first file lacks would otherwise be joined onto the
 * first file's values without a word; each is refused here, naming the file, the variable and the
 * first difference, before anything is written.
 */
import { itemSize } from "../backend/dtype.js";
import type { Attr, VarMeta } from "../backend/types.js";
import { attrsToJson } from "../cf/attrs.js";
import type { ZarrConverterConfig } from "../config/model.js";
import { IncompatibleSourceError } from "../errors.js";
import { cfEncoding } from "../plan/encoding.js";
import { selectedBy, walkVars } from "../plan/layout.js";
import { unravel } from "../zarr/grid.js";
import { digestible, firstDifference, meaningOf, readingKey, unitsConflict } from "./differ.js";
import type { Source } from "./source.js";

/** Bytes read at once when comparing a large variable. */
const BLOCK_BYTES = 32 << 20;

export class SeriesAgreement {
  private readonly first: Source;
  private readonly firstVars: Map<string, VarMeta>;
  private readonly statics: VarMeta[];
  /** The first file's digests of the smaller variables without time, by path, taken once. */
  private readonly digests = new Map<string, Promise<string>>();

  constructor(
    first: Source,
    private readonly config: ZarrConverterConfig,
    private readonly timeDim: string,
  ) {
    this.first = first;
    this.firstVars = new Map(walkVars(first.root).map(({ v }) => [v.path, v]));
    this.statics = [...this.firstVars.values()].filter((v) => !v.dims.includes(timeDim) && selectedBy(config, v));
  }

  /**
   * Refuse `source` (a later file of the series) when it holds a variable the first file lacks, or
   * values without time that differ from the first file's. Reads the file's variables without time.
   */
  async check(source: Source): Promise<void> {
    if (source === this.first) return;
    const vars = new Map(walkVars(source.root).map(({ v }) => [v.path, v]));
    for (const [path, v] of vars) {
      if (this.firstVars.has(path) || !selectedBy(this.config, v)) continue;
      throw new IncompatibleSourceError(
        `is in this file but not in the first file (${this.first.file}), whose variables make the archive; ` +
          `convert the files apart, or leave it out with --drop-variables ${v.name}`,
        { file: source.file, variable: path },
      );
    }
    for (const ref of this.statics) {
      const v = vars.get(ref.path);
      // A file without one of them loses nothing: the archive holds the first file's.
      if (v) await this.compare(source, v, ref);
    }
  }

  private async compare(source: Source, v: VarMeta, ref: VarMeta): Promise<void> {
    const fail = (what: string) => {
      throw new IncompatibleSourceError(
        `${what}. Variables without '${this.timeDim}' are written once, from the first file (${this.first.file}); ` +
          `a file that differs cannot join it (convert the files apart, or leave the variable out with --drop-variables ${v.name})`,
        { file: source.file, variable: v.path },
      );
    };
    if (v.dims.join(",") !== ref.dims.join(",") || v.shape.join(",") !== ref.shape.join(",")) {
      fail(`has shape (${describe(v)}), the first file has (${describe(ref)})`);
    }
    const [mine, theirs] = [meaningOf(v.attrs), meaningOf(ref.attrs)];
    const units = unitsConflict(mine, theirs);
    if (units) fail(`has units '${units[0]}' here, '${units[1]}' in the first file`);
    const total = v.shape.reduce((a, b) => a * b, 1);
    if (total === 0) return;
    // The usual coordinates and masks are small: equal digests of bytes stored and read alike,
    // equal values. Different digests or encodings (another type, packing, fill value or time
    // units), or a large variable, are compared value by value, block by block
    // (pipeline/differ.ts), which also says where they differ.
    const [encoding, refEncoding] = [cfEncoding(v), cfEncoding(ref)];
    const alike = readingKey(encoding, mine) === readingKey(refEncoding, theirs);
    if (alike && digestible(v) && (await source.ds.digest(v.path)) === (await this.firstDigest(ref))) return;
    const rowItems = v.shape.slice(1).reduce((a, b) => a * b, 1);
    const rows = v.shape.length ? Math.max(1, Math.floor(BLOCK_BYTES / Math.max(1, rowItems * itemSize(v.dtype)))) : 1;
    for (let r = 0; r < (v.shape[0] ?? 1); r += rows) {
      const start = v.shape.map((_, i) => (i === 0 ? r : 0));
      const count = v.shape.map((n, i) => (i === 0 ? Math.min(rows, n - r) : n));
      const there = await this.first.ds.read(ref.path, start, count);
      try {
        const here = await source.ds.read(v.path, start, count);
        try {
          const at = firstDifference({ slab: here, encoding, meaning: mine }, { slab: there, encoding: refEncoding, meaning: theirs });
          if (at) fail(`differs from the first file's at [${unravel(r * rowItems + at.index, v.shape).join(", ")}]: ${at.here} here, ${at.there} there`);
        } finally {
          here.release();
        }
      } finally {
        there.release();
      }
    }
  }

  private firstDigest(ref: VarMeta): Promise<string> {
    let p = this.digests.get(ref.path);
    if (!p) this.digests.set(ref.path, (p = this.first.ds.digest(ref.path)));
    return p;
  }
}

/** One attribute that some files of a series hold otherwise than the first file. */
export interface AttributeDifference {
  /** "" for the group's (global) attributes, else the variable's path. */
  where: string;
  name: string;
  /** Files that hold it otherwise, lack it, or hold it where the first file does not. */
  files: number;
  /** The first of them, with what it holds there and in the first file. */
  example: { file: string; here: string; first: string };
}

/**
 * Attributes whose differences are not taken from the first file: an encoding (a file packed or
 * filled otherwise is decoded, plan/encoding.ts, and the log says so) or units (times are
 * re-expressed into the archive's, other units are refused).
 */
const HANDLED = new Set(["units", "calendar", "_FillValue", "missing_value", "scale_factor", "add_offset", "_Unsigned"]);

/**
 * Attributes the archive takes from the first file (as xarray's open_mfdataset does) that other
 * files hold otherwise: a `history` grown per file, a `comment` only in a later file, another
 * `valid_max`. NetCDF-internal ones (attrsToJson drops them) are left out. Files sharing the first
 * file's description (backend/meta.ts) cost nothing.
 */
export function attributeDifferences(first: Source, sources: Source[], config: ZarrConverterConfig): AttributeDifference[] {
  const found = new Map<string, AttributeDifference>();
  const text = (x: unknown) => (x === undefined ? "(none)" : JSON.stringify(x, (_k, v) => (typeof v === "bigint" ? v.toString() : v)));
  const compare = (where: string, mine: Record<string, unknown>, theirs: Record<string, unknown>, file: string) => {
    for (const name of new Set([...Object.keys(mine), ...Object.keys(theirs)])) {
      if (HANDLED.has(name)) continue;
      const [a, b] = [text(mine[name]), text(theirs[name])];
      if (a === b) continue;
      const key = `${where}\u0000${name}`;
      const d = found.get(key);
      if (d) d.files++;
      else found.set(key, { where, name, files: 1, example: { file, here: a, first: b } });
    }
  };
  const firstVars = new Map(walkVars(first.root).map(({ v }) => [v.path, v]));
  const jsonOf = new Map<object, Record<string, unknown>>();
  const json = (owner: object, attrs: Attr[]) => {
    let j = jsonOf.get(owner);
    if (!j) jsonOf.set(owner, (j = attrsToJson(attrs)));
    return j;
  };
  for (const s of sources) {
    if (s === first || s.root === first.root) continue;
    compare("", json(s.root, s.root.attrs), json(first.root, first.root.attrs), s.file);
    for (const { v } of walkVars(s.root)) {
      const ref = firstVars.get(v.path);
      if (ref && ref !== v && selectedBy(config, v)) compare(v.path, json(v, v.attrs), json(ref, ref.attrs), s.file);
    }
    jsonOf.clear();
  }
  return [...found.values()];
}

/** The log's account of attribute differences: each attribute, how many files, the first example. */
export function describeAttributeDifferences(diffs: AttributeDifference[], files: number): string {
  const shown = diffs.slice(0, 8).map((d) => {
    const what = d.where ? `${d.where.replace(/^\/+/, "")}:${d.name}` : d.name;
    return `${what} in ${d.files} of ${files} files (${d.example.file}: ${clip(d.example.here)}, the first file: ${clip(d.example.first)})`;
  });
  const more = diffs.length > 8 ? `; and ${diffs.length - 8} more` : "";
  return `attributes that differ between the files are the first file's in the archive, as xarray's open_mfdataset keeps them: ${shown.join("; ")}${more}`;
}

const clip = (s: string) => (s.length > 60 ? `${s.slice(0, 57)}…` : s);

function describe(v: VarMeta): string {
  return v.dims.map((d, i) => `${d}=${v.shape[i]}`).join(", ");
}
