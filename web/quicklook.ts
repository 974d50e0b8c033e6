/**
 * Quick-look: a 2-D slice of an array of the archive just written, read back through zarrita (an
 * independent Zarr reader, not zarrio) and drawn with a colour map and a legend. What the user
 * sees is what any Zarr reader gets from the archive, CF-decoded as xarray would: packed values
 * unpacked, fill values masked.
 */
import * as zarr from "zarrita";

/** How the page reads the archive's keys (`zarr.json`, `sst/c/0/0/0`...): from memory or a folder. */
export type ReadKey = (key: string) => Promise<Uint8Array | undefined>;

/** A read-only zarrita store over those keys (zarrita asks for `/zarr.json`). */
function keyStore(read: ReadKey) {
  return { get: (key: string) => read(key.replace(/^\//, "")) };
}

export interface Slice {
  width: number;
  height: number;
  /** Row-major, `height` rows of `width`; NaN where missing. */
  values: Float64Array;
  min: number;
  max: number;
  /** Values that are not missing. */
  valid: number;
  units: string;
  /** The first row is the northernmost / largest coordinate (drawn at the top). */
  flipped: boolean;
}

type Store = ReturnType<typeof keyStore>;

/** CF decoding attributes: `_FillValue` in v3 may be base64 of a little-endian float64 (xarray's spelling). */
function fillOf(attrs: Record<string, unknown>): number[] {
  const out: number[] = [];
  for (const key of ["_FillValue", "missing_value"]) {
    const raw = attrs[key];
    for (const v of Array.isArray(raw) ? raw : [raw]) {
      if (typeof v === "number") out.push(v);
      else if (typeof v === "string" && v.length === 12 && /^[A-Za-z0-9+/]+=*$/.test(v)) {
        const bytes = Uint8Array.from(atob(v), (c) => c.charCodeAt(0));
        out.push(new DataView(bytes.buffer).getFloat64(0, true));
      }
    }
  }
  return out;
}

/** The slice at `index` along every dimension but the last two. */
export async function readSlice(read: ReadKey, path: string, leading: number[]): Promise<Slice> {
  const store: Store = keyStore(read);
  const root = zarr.root(store);
  const arr = (await zarr.open(root.resolve(path), { kind: "array" })) as zarr.Array<zarr.DataType, Store>;
  const rank = arr.shape.length;
  if (rank < 2) throw new Error(`${path} has ${rank} dimension(s); a quick-look needs two`);
  const selection = [...leading.slice(0, rank - 2), null, null];
  const chunk = await zarr.get(arr, selection);
  const [height, width] = chunk.shape.slice(-2) as [number, number];
  const attrs = arr.attrs as Record<string, unknown>;
  const scale = typeof attrs.scale_factor === "number" ? attrs.scale_factor : 1;
  const offset = typeof attrs.add_offset === "number" ? attrs.add_offset : 0;
  // v3 keeps the CF fill in the attributes; v2 in the array's fill_value (as xarray writes and reads it).
  const fills = fillOf(attrs);
  const v2 = Array.isArray(attrs._ARRAY_DIMENSIONS);
  if (v2 && !fills.length && typeof arr.fillValue === "number" && !Number.isNaN(arr.fillValue)) fills.push(arr.fillValue);
  const data = chunk.data as ArrayLike<number | bigint>;
  const values = new Float64Array(width * height);
  let min = Infinity;
  let max = -Infinity;
  let valid = 0;
  for (let i = 0; i < values.length; i++) {
    const raw = Number(data[i]);
    const v = fills.includes(raw) || Number.isNaN(raw) ? NaN : raw * scale + offset;
    values[i] = v;
    if (Number.isFinite(v)) {
      valid++;
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  // North up: rows along an increasing y coordinate are drawn bottom to top.
  const yDim = ((attrs._ARRAY_DIMENSIONS as string[] | undefined) ?? arr.dimensionNames ?? [])[rank - 2];
  let flipped = false;
  if (yDim) {
    const y = await zarr.open(root.resolve(path.includes("/") ? path.replace(/[^/]+$/, yDim) : yDim), { kind: "array" }).catch(() => undefined);
    if (y && y.shape.length === 1 && y.shape[0] === height && height > 1) {
      const ys = (await zarr.get(y as zarr.Array<zarr.DataType, Store>, [null])).data as ArrayLike<number>;
      flipped = Number(ys[height - 1]) > Number(ys[0]);
    }
  }
  return { width, height, values, min, max, valid, units: typeof attrs.units === "string" ? attrs.units : "", flipped };
}

/** viridis, sampled at nine points (matplotlib's values); linear in between. */
const STOPS: [number, number, number][] = [
  [68, 1, 84], [71, 44, 122], [59, 81, 139], [44, 113, 142], [33, 144, 141],
  [39, 173, 129], [92, 200, 99], [170, 220, 50], [253, 231, 37],
];

export function colour(t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, t)) * (STOPS.length - 1);
  const i = Math.min(STOPS.length - 2, Math.floor(x));
  const f = x - i;
  const a = STOPS[i]!;
  const b = STOPS[i + 1]!;
  return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f];
}

/** Draw the slice into `canvas` (one pixel per value, missing values grey) and the legend into `legend`. */
export function draw(slice: Slice, canvas: HTMLCanvasElement, legend: HTMLCanvasElement): void {
  canvas.width = slice.width;
  canvas.height = slice.height;
  const ctx = canvas.getContext("2d")!;
  const image = ctx.createImageData(slice.width, slice.height);
  const span = slice.max > slice.min ? slice.max - slice.min : 1;
  for (let row = 0; row < slice.height; row++) {
    const src = slice.flipped ? slice.height - 1 - row : row;
    for (let col = 0; col < slice.width; col++) {
      const v = slice.values[src * slice.width + col]!;
      const [r, g, b] = Number.isFinite(v) ? colour((v - slice.min) / span) : [200, 200, 200];
      const o = (row * slice.width + col) * 4;
      image.data[o] = r;
      image.data[o + 1] = g;
      image.data[o + 2] = b;
      image.data[o + 3] = 255;
    }
  }
  ctx.putImageData(image, 0, 0);

  // The legend at the screen's resolution, so its labels stay sharp.
  const dpr = globalThis.devicePixelRatio || 1;
  legend.width = Math.round((legend.clientWidth || 360) * dpr);
  legend.height = Math.round((legend.clientHeight || 40) * dpr);
  const lc = legend.getContext("2d")!;
  lc.scale(dpr, dpr);
  const w = legend.width / dpr;
  const h = legend.height / dpr;
  lc.clearRect(0, 0, w, h);
  const barTop = 4;
  const barHeight = Math.max(8, h - 26);
  for (let x = 0; x < w; x++) {
    const [r, g, b] = colour(x / (w - 1));
    lc.fillStyle = `rgb(${r},${g},${b})`;
    lc.fillRect(x, barTop, 1, barHeight);
  }
  lc.fillStyle = "#222";
  lc.font = "12px system-ui, sans-serif";
  const label = (v: number) => (Number.isFinite(v) ? (Math.abs(v) >= 1e5 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(3) : String(+v.toFixed(4))) : "—");
  const y = barTop + barHeight + 14;
  lc.textAlign = "left";
  lc.fillText(label(slice.min), 0, y);
  lc.textAlign = "right";
  lc.fillText(label(slice.max), w, y);
  lc.textAlign = "center";
  lc.fillText(slice.units, w / 2, y);
}
