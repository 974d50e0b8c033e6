/**
 * A file's description from the core's JSON. Files of one series usually describe themselves in
 * the same bytes (same variables, attributes, time length and units): the last few texts seen map
 * to the description already parsed, so ten thousand such files share one instead of holding ten
 * thousand copies (and skip the parse). Descriptions are frozen, so sharing one is safe.
 */
import { parseJsonExt } from "../json.js";
import { Recent } from "../recent.js";
import type { FileMeta } from "./types.js";

const recent = new Recent<string, FileMeta>(4);

export function fileMeta(text: string): FileMeta {
  return recent.get(text, () => deepFreeze(parseJsonExt(text) as FileMeta));
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
