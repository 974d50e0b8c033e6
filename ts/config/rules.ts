/**
 * Value rules of the configuration. Each rule carries both halves of what a value may be: the
 * check that turns user input into a typed value (refusing bad input with a ConfigError that
 * names the key path and what is allowed) and the JSON Schema fragment editors use. Keeping the
 * two in one object is what keeps `zarrio config --schema` and validation from drifting apart.
 *
 * Inputs come from three places: YAML/JSON files (typed values), library options (typed values)
 * and CLI flags (always strings), so number and boolean rules accept their string spellings too.
 */
import { ConfigError } from "../errors.js";

export type JsonSchema = Record<string, unknown>;

export interface Rule<T> {
  /** JSON Schema of the spellings a config file may use. */
  schema: JsonSchema;
  /** Turn an input value into T; `key` is the dotted key path used in error messages. */
  parse(value: unknown, key: string): T;
}

const shown = (v: unknown) => (typeof v === "string" ? `'${v}'` : JSON.stringify(v) ?? String(v));

export const bool: Rule<boolean> = {
  schema: { type: "boolean" },
  parse(value, key) {
    if (typeof value === "boolean") return value;
    if (value === "true") return true;
    if (value === "false") return false;
    throw new ConfigError(`must be true or false, not ${shown(value)}`, key);
  },
};

export function number(min: number, max = Infinity, integer = false): Rule<number> {
  const schema: JsonSchema = { type: integer ? "integer" : "number", minimum: min };
  if (max < Infinity) schema.maximum = max;
  return {
    schema,
    parse(value, key) {
      const v = typeof value === "number" ? value : typeof value === "string" && value.trim() !== "" ? Number(value) : NaN;
      if (!Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
        const range = max < Infinity ? `from ${min} to ${max}` : `>= ${min}`;
        throw new ConfigError(`must be ${integer ? "a whole number" : "a number"} ${range}, not ${shown(value)}`, key);
      }
      return v;
    },
  };
}

/**
 * One of a fixed set. `aliases` are other spellings accepted for compatibility (listed in the
 * schema too, so editors do not flag them).
 */
export function choice<T extends string | number>(values: readonly T[], aliases: Record<string, T> = {}): Rule<T> {
  const numeric = typeof values[0] === "number";
  return {
    schema: { enum: [...values, ...Object.keys(aliases)] },
    parse(value, key) {
      const v = numeric && typeof value === "string" && value.trim() !== "" ? Number(value) : value;
      if (values.includes(v as T)) return v as T;
      if (typeof v === "string" && Object.hasOwn(aliases, v)) return aliases[v]!;
      const extra = Object.keys(aliases).length ? ` (${Object.entries(aliases).map(([a, t]) => `${a} means ${t}`).join(", ")})` : "";
      throw new ConfigError(`must be one of ${values.join(", ")}${extra}, not ${shown(value)}`, key);
    },
  };
}

export const text: Rule<string> = {
  schema: { type: "string", minLength: 1 },
  parse(value, key) {
    if (typeof value !== "string" || value.trim() === "") throw new ConfigError(`must be non-empty text, not ${shown(value)}`, key);
    return value;
  },
};

/** A list of names; a comma-separated string is accepted too (`a,b,c`, as flags give it). */
export const names: Rule<string[]> = {
  schema: { oneOf: [{ type: "array", items: { type: "string", minLength: 1 } }, { type: "string" }] },
  parse(value, key) {
    const list = typeof value === "string" ? value.split(",") : value;
    if (!Array.isArray(list) || list.some((s) => typeof s !== "string")) {
      throw new ConfigError(`must be a list of names (or a comma-separated string), not ${shown(value)}`, key);
    }
    return list.map((s: string) => s.trim()).filter(Boolean);
  },
};

/** A mapping with free keys (attribute names to values). */
export const mapping: Rule<Record<string, unknown>> = {
  schema: { type: "object" },
  parse(value, key) {
    if (!isMapping(value)) throw new ConfigError(`must be a mapping of names to values, not ${shown(value)}`, key);
    return value;
  },
};

/** The same rule, where null (YAML's empty value) means "not set". */
export function optional<T>(rule: Rule<T>): Rule<T | undefined> {
  return {
    schema: { oneOf: [rule.schema, { type: "null" }] },
    parse: (value, key) => (value === null || value === undefined ? undefined : rule.parse(value, key)),
  };
}

/** A rule with an extra check after parsing (dates that must exist, frequencies that must parse). */
export function refine<T>(rule: Rule<T>, check: (value: T, key: string) => void): Rule<T> {
  return {
    schema: rule.schema,
    parse(value, key) {
      const v = rule.parse(value, key);
      check(v, key);
      return v;
    },
  };
}

export function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
