/**
 * The installed package's root folder (where package.json and bindings/ are), found from the
 * module asking: the library's modules sit in dist/<folder>/, the bundled CLI in dist/.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

let root: string | undefined;

export function packageRoot(): string {
  if (root) return root;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, "package.json")) && existsSync(path.join(dir, "bindings"))) return (root = dir);
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`no zarrio package root above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}
