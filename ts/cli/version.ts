import { readFileSync } from "node:fs";
import path from "node:path";

import { fallbackReason, loadBackend, nativeOrigin } from "../backend/index.js";
import { packageRoot } from "../backend/root.js";

/**
 * `zarrio 0.1.0 (native backend from @zarrio/linux-x64-gnu, libnetcdf reader built in)`, or
 * `zarrio 0.1.0 (wasm backend; native addon unavailable: <why>)` after a fallback.
 */
export async function versionLine(): Promise<string> {
  const pkg = JSON.parse(readFileSync(path.join(packageRoot(), "package.json"), "utf8")) as { version: string };
  try {
    const b = await loadBackend();
    const extra =
      b.name === "native"
        ? ` from ${nativeOrigin}${b.info.libnetcdf ? ", libnetcdf reader built in" : ""}`
        : fallbackReason
          ? `; native addon unavailable: ${fallbackReason}`
          : "";
    return `zarrio ${pkg.version} (${b.name} backend${extra})`;
  } catch (e) {
    return `zarrio ${pkg.version} (no backend loads: ${(e as Error).message})`;
  }
}
