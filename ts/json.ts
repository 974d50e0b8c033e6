/**
 * JSON as the Zarr/Python ecosystem writes it: attributes may hold bare `NaN`, `Infinity` and
 * `-Infinity` (Python's json module and zarr-python write and read them), and 64-bit integer
 * attributes must keep every digit (JavaScript numbers keep 53 bits, so they travel as BigInt).
 */

const TOKEN = /"(?:[^"\\]|\\.)*"|-?Infinity|NaN|(?<![\d.eE+-])-?\d{16,}(?![.eE\d])/g;
const MARK = "\u0000zarrio:";
/** Whether a text may hold a bare non-finite number or a long integer (a cheap test before the token pass). */
const EXTENDED = /Infinity|NaN|\d{16,}/;

/** Parse JSON that may contain bare non-finite numbers and integers beyond 2^53. */
export function parseJsonExt(text: string): unknown {
  // Most documents hold neither (the core writes non-finite numbers as strings): plain JSON.parse.
  if (!EXTENDED.test(text)) return JSON.parse(text);
  const marked = text.replace(TOKEN, (tok) => (tok.startsWith('"') ? tok : JSON.stringify(MARK + tok)));
  return JSON.parse(marked, (_key, value: unknown) => {
    if (typeof value !== "string" || !value.startsWith(MARK)) return value;
    const tok = value.slice(MARK.length);
    if (tok === "NaN") return NaN;
    if (tok === "Infinity") return Infinity;
    if (tok === "-Infinity") return -Infinity;
    const big = BigInt(tok);
    return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
  });
}

/**
 * A finite number as JSON. A float beyond 2^53 with no fraction (1e20 as float32, CMIP's fill
 * value) is written with its exponent, as Python writes it ("1.0000000200408773e+20"): as bare
 * digits it would read back as a 64-bit integer.
 */
function finite(v: number): string {
  return Number.isInteger(v) && Math.abs(v) > Number.MAX_SAFE_INTEGER ? v.toExponential() : JSON.stringify(v);
}

/** Serialise with bare non-finite numbers and BigInt digits, indented like zarr-python's. */
export function stringifyJsonExt(value: unknown, indent = 2): string {
  const pad = (n: number) => " ".repeat(n * indent);
  const write = (v: unknown, depth: number): string => {
    if (typeof v === "number") return Number.isFinite(v) ? finite(v) : Number.isNaN(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity";
    if (typeof v === "bigint") return v.toString();
    if (v === null || typeof v !== "object") return JSON.stringify(v) ?? "null";
    if (Array.isArray(v)) {
      if (!v.length) return "[]";
      if (v.every((x) => x === null || typeof x !== "object")) return `[${v.map((x) => write(x, depth)).join(", ")}]`;
      return `[\n${v.map((x) => pad(depth + 1) + write(x, depth + 1)).join(",\n")}\n${pad(depth)}]`;
    }
    const entries = Object.entries(v).filter(([, x]) => x !== undefined);
    if (!entries.length) return "{}";
    return `{\n${entries.map(([k, x]) => `${pad(depth + 1)}${JSON.stringify(k)}: ${write(x, depth + 1)}`).join(",\n")}\n${pad(depth)}}`;
  };
  return write(value, 0);
}
