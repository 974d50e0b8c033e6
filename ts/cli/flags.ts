/**
 * Command-line flags made from `CONFIG_SPEC`: a field's flag names, its help line (ending with the
 * field's default) and how its text becomes the field's input are the field's `cli` in the spec.
 * A command picks the fields it takes (`chunking = configFlag("chunking")`); `flagLayer` turns the
 * flags actually given into a configuration layer, so a flag left out never overrides a config
 * file's value.
 */
import { Option } from "clipanion";

import { CONFIG_SPEC, type CliFlag, type Leaf, type Node, type ZarrConverterConfig } from "../config/model.js";
import type { Layer } from "../config/resolve.js";

type IsUnion<T, U = T> = T extends unknown ? ([U] extends [T] ? false : true) : never;
/** A nested part of the configuration (packing, time, s3...): a plain interface, not a map or a union of shapes. */
type IsSection<V> = [V] extends [unknown[]] ? false : [V] extends [object] ? (string extends keyof V ? false : true extends IsUnion<V> ? false : true) : false;

/** The dotted path of every field: "chunking", "packing.bits", "s3.requestTimeoutS". */
export type ConfigPath<T = ZarrConverterConfig> = {
  [K in keyof T & string]-?: IsSection<NonNullable<T[K]>> extends true ? `${K}.${ConfigPath<NonNullable<T[K]>>}` : K;
}[keyof T & string];

type ValueAt<T, P> = P extends `${infer K}.${infer Rest}` ? (K extends keyof T ? ValueAt<NonNullable<T[K]>, Rest> : never) : P extends keyof T ? T[P] : never;

/** What a parsed flag holds: switches are booleans, the others the text given. */
export type FlagValue<P extends ConfigPath> = NonNullable<ValueAt<ZarrConverterConfig, P>> extends boolean ? boolean | undefined : string | undefined;

const CONFIG_PATH = Symbol("zarrio.configPath");

/** The spec's leaf at `path`. */
function leafAt(path: string): Leaf<unknown> {
  let node = CONFIG_SPEC as Node<unknown>;
  for (const key of path.split(".")) {
    if (node.kind !== "section" || !Object.hasOwn(node.fields, key)) throw new Error(`no configuration field ${path}`);
    node = (node.fields as Record<string, Node<unknown>>)[key]!;
  }
  if (node.kind !== "leaf") throw new Error(`configuration field ${path} is a section`);
  return node;
}

/** The help line: the flag's text, then the default unless it is empty, false or unset. */
export function flagHelp(leaf: Leaf<unknown>, cli: Pick<CliFlag, "help" | "default">): string {
  const value = leaf.default;
  const empty =
    value === undefined || value === false || (Array.isArray(value) && !value.length) || (typeof value === "object" && value !== null && !Object.keys(value).length);
  const shown = cli.default ?? (empty ? undefined : String(leaf.print ? leaf.print(value) : value));
  return shown === undefined ? cli.help : `${cli.help} (default: ${shown})`;
}

/**
 * The clipanion option of a configuration field, named and described by the spec; `wording`
 * rephrases the help for one command (validate's `--concurrency` counts reads, not slabs).
 */
export function configFlag<P extends ConfigPath>(path: P, wording?: Pick<CliFlag, "help" | "default">): FlagValue<P> {
  const leaf = leafAt(path);
  if (!leaf.cli) throw new Error(`configuration field ${path} has no command-line flag`);
  const description = flagHelp(leaf, wording ?? leaf.cli);
  const option = leaf.schema.type === "boolean" ? Option.Boolean(leaf.cli.names, { description }) : Option.String(leaf.cli.names, { description });
  // The option object stands in the property until clipanion parses; it carries its field.
  return Object.assign(option as unknown as object, { [CONFIG_PATH]: path }) as unknown as FlagValue<P>;
}

/** Per command class: which property holds which field's flag (read off a fresh, unparsed instance). */
const FIELDS = new WeakMap<object, [property: string, path: string][]>();

function flagFields(command: object): [string, string][] {
  const ctor = command.constructor as new () => object;
  let fields = FIELDS.get(ctor);
  if (!fields) {
    fields = [];
    for (const [property, option] of Object.entries(new ctor())) {
      const path = option !== null && typeof option === "object" ? (option as { [CONFIG_PATH]?: string })[CONFIG_PATH] : undefined;
      if (path !== undefined) fields.push([property, path]);
    }
    FIELDS.set(ctor, fields);
  }
  return fields;
}

/** The configuration layer of the flags a parsed command was given (only those given). */
export function flagLayer(command: object): Layer {
  const layer: Layer = {};
  for (const [property, path] of flagFields(command)) {
    const value = (command as Record<string, unknown>)[property];
    if (value === undefined) continue;
    const parse = leafAt(path).cli!.parse;
    put(layer, path, typeof value === "string" && parse ? parse(value, path) : value);
  }
  return layer;
}

/** Set `layer[path]` (dotted). */
function put(layer: Layer, path: string, value: unknown): void {
  const keys = path.split(".");
  let at = layer;
  for (const k of keys.slice(0, -1)) at = (at[k] ??= {}) as Layer;
  at[keys[keys.length - 1]!] = value;
}
