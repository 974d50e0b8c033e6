/**
 * Turning what a user gives (library options, a config file, environment, CLI flags) into a
 * complete, validated `ZarrConverterConfig`. Layers merge in order — defaults < config file <
 * environment < flags — and every value is checked here, before any file is touched, by walking
 * `CONFIG_SPEC`. Unknown keys are refused at every level with the list of known ones; snake_case
 * spellings (the Python tool's config files) are accepted, but not both spellings of one key.
 */
import { ConfigError } from "../errors.js";
import { CONFIG_SPEC, type Leaf, type Node, type Section, type ZarrConverterConfig } from "./model.js";
import { isMapping } from "./rules.js";

export type Layer = Record<string, unknown>;

export const camel = (k: string) => k.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
const join = (at: string, k: string) => (at ? `${at}.${k}` : k);

/**
 * Normalise key spelling, turn compatibility aliases into their fields and refuse unknown keys,
 * recursively. Leaf values are kept as given (they are checked after merging).
 */
export function normalizeLayer(layer: Layer, node: Section<unknown> = CONFIG_SPEC as Section<unknown>, at = ""): Layer {
  const out: Layer = {};
  const spelled = new Map<string, string>();
  const fields = node.fields as Record<string, Node<unknown>>;
  const aliases = node.aliases ?? {};
  for (const [raw, value] of Object.entries(layer)) {
    if (value === undefined) continue;
    const key = camel(raw);
    const alias = aliases[key];
    const target = alias ? alias.field : key;
    const child = fields[target];
    if (!child) {
      const known = [...Object.keys(fields), ...Object.keys(aliases)];
      throw new ConfigError(`unknown key (known: ${known.join(", ")})`, join(at, raw));
    }
    const before = spelled.get(target);
    if (before !== undefined) throw new ConfigError(`given twice, as '${before}' and '${raw}'`, join(at, target));
    spelled.set(target, raw);
    if (alias) {
      out[target] = alias.value(alias.rule.parse(value, join(at, raw)));
    } else if (child.kind === "section") {
      if (value !== null && !isMapping(value)) {
        throw new ConfigError(`must be a mapping with keys ${Object.keys(child.fields).join(", ")}; not ${JSON.stringify(value)}`, join(at, raw));
      }
      out[target] = normalizeLayer(value ?? {}, child as Section<unknown>, join(at, target));
    } else {
      out[target] = value;
    }
  }
  return out;
}

/** Merge normalised layers: later layers win, sections merge key by key. */
function merge(node: Section<unknown>, layers: Layer[]): Layer {
  const out: Layer = {};
  const fields = node.fields as Record<string, Node<unknown>>;
  for (const [k, child] of Object.entries(fields)) {
    const given = layers.filter((l) => l[k] !== undefined);
    if (!given.length) continue;
    out[k] = child.kind === "section" ? merge(child as Section<unknown>, given.map((l) => l[k] as Layer)) : given[given.length - 1]![k];
  }
  return out;
}

function parse<T>(node: Node<T>, given: unknown, key: string): T {
  if (node.kind === "leaf") return given === undefined ? structuredClone(node.default) : (node as Leaf<T>).parse(given, key);
  const section = (given ?? {}) as Layer;
  const out: Record<string, unknown> = {};
  for (const [k, child] of Object.entries(node.fields) as [string, Node<unknown>][]) {
    const v = parse(child, section[k], join(key, k));
    if (v !== undefined) out[k] = v;
  }
  return node.finish ? node.finish(out as T, key, section) : (out as T);
}

/** Resolve layers (lowest precedence first) into a validated configuration. */
export function resolveConfig(...layers: Layer[]): ZarrConverterConfig {
  const spec = CONFIG_SPEC as Section<unknown>;
  return parse(CONFIG_SPEC, merge(spec, layers.map((l) => normalizeLayer(l))), "");
}

/**
 * A configuration in the form a config file takes (compact spellings, unset fields left out):
 * what `zarrio config --print` shows, and what `resolveConfig` reads back to the same value.
 */
export function toFileForm(config: ZarrConverterConfig): Layer {
  const walk = (node: Node<unknown>, value: unknown): unknown => {
    if (node.kind === "leaf") return value === undefined ? undefined : node.print ? node.print(value) : value;
    const out: Layer = {};
    for (const [k, child] of Object.entries(node.fields) as [string, Node<unknown>][]) {
      const v = walk(child, (value as Layer)[k]);
      if (v !== undefined) out[k] = v;
    }
    return out;
  };
  return walk(CONFIG_SPEC as Node<unknown>, config) as Layer;
}
