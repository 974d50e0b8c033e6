/** Reading a configuration file (YAML or JSON) into a layer for `resolveConfig`. */
import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";

import { ConfigError } from "../errors.js";
import type { Layer } from "./resolve.js";

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
