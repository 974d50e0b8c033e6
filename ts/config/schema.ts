/**
 * The JSON Schema of a configuration file (`zarrio config --schema`), generated from
 * `CONFIG_SPEC` so it cannot drift from what `resolveConfig` accepts: every key in both
 * spellings (camelCase and snake_case), its doc line as `description`, its default, and the
 * value rule's own schema fragment. Draft-07, the draft editors' YAML and JSON plugins support.
 */
import { CONFIG_SPEC, type Node, type Section } from "./model.js";
import type { JsonSchema } from "./rules.js";

const snake = (k: string) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

function nodeSchema(node: Node<unknown>): JsonSchema {
  if (node.kind === "leaf") {
    const out: JsonSchema = { description: node.doc, ...node.schema };
    if (node.default !== undefined) out.default = node.print ? node.print(node.default) : node.default;
    return out;
  }
  const properties: Record<string, JsonSchema> = {};
  const add = (key: string, schema: JsonSchema) => {
    properties[key] = schema;
    if (snake(key) !== key) properties[snake(key)] = schema;
  };
  for (const [k, child] of Object.entries(node.fields) as [string, Node<unknown>][]) add(k, nodeSchema(child));
  for (const [k, alias] of Object.entries((node as Section<unknown>).aliases ?? {})) add(k, { description: alias.doc, ...alias.rule.schema });
  return { type: ["object", "null"], description: node.doc, additionalProperties: false, properties };
}

export function configSchema(): JsonSchema {
  const root = nodeSchema(CONFIG_SPEC as Node<unknown>);
  return {
    $schema: "http://json-schema.org/draft-07/schema#",
    title: "zarrio configuration",
    ...root,
    type: "object",
  };
}

/** Every key path of the configuration (`packing.bits`, ...), for docs and their tests. */
export function configKeys(): string[] {
  const out: string[] = [];
  const walk = (node: Node<unknown>, at: string) => {
    if (node.kind === "leaf") return void out.push(at);
    for (const [k, child] of Object.entries(node.fields) as [string, Node<unknown>][]) walk(child, at ? `${at}.${k}` : k);
  };
  walk(CONFIG_SPEC as Node<unknown>, "");
  return out;
}
