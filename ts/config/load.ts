/** Reading a configuration file (YAML or JSON) into a layer for `resolveConfig`. */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

import { ConfigError } from "../errors.js";
import type { Layer } from "./resolve.js";

/**
 * The YAML parser, loaded on first use: most runs have no config file, and loading the package
 * costs every command's start-up about 10 ms.
 */
function parseYaml(text: string): unknown {
  return (createRequire(import.meta.url)("yaml") as typeof import("yaml")).parse(text);
}

export function loadConfigFile(file: string): Layer {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new ConfigError(`cannot read the config file: ${(e as Error).message}`, undefined, { file });
  }
  let value: unknown;
  try {
    value = /\.json$/i.test(file) ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new ConfigError(`not valid ${/\.json$/i.test(file) ? "JSON" : "YAML"}: ${(e as Error).message}`, undefined, { file });
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== "object" || Array.isArray(value)) throw new ConfigError("must hold a mapping of settings", undefined, { file });
  return value as Layer;
}
