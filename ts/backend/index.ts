/**
 * Backend loader: the native addon first, the WebAssembly build when the addon cannot load.
 * `ZARRIO_BACKEND=native|wasm` forces one (a forced backend that fails to load is an error, not a
 * silent fallback).
 */
import { createRequire } from "node:module";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

import { ConfigError, ZarrioError } from "../errors.js";
import { nativeBackend, type NativeAddon } from "./native.js";
import { wasmBackend, type WasmModule } from "./wasm.js";
import type { Backend } from "./types.js";

export type { Backend } from "./types.js";
export type BackendChoice = "auto" | "native" | "wasm";

/** The package root (dist/backend/ → ../../). */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const require = createRequire(import.meta.url);

/** The napi-rs platform triple of this machine, e.g. `linux-x64-gnu`. */
export function platformTriple(): string {
  const { platform, arch } = process;
  if (platform === "linux") {
    const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
    return `linux-${arch}-${report?.header?.glibcVersionRuntime ? "gnu" : "musl"}`;
  }
  if (platform === "win32") return `win32-${arch}-msvc`;
  return `${platform}-${arch}`;
}

/** Where the addon may be: an explicit path, the platform package, a local build. */
function nativeCandidates(): string[] {
  const triple = platformTriple();
  const out: string[] = [];
  if (process.env.ZARRIO_NATIVE_PATH) out.push(process.env.ZARRIO_NATIVE_PATH);
  out.push(`@zarrio/${triple}`);
  out.push(path.join(ROOT, "bindings", "napi", `zarrio.${triple}.node`));
  return out;
}

function loadNative(): Backend {
  const errors: string[] = [];
  for (const candidate of nativeCandidates()) {
    if (candidate.endsWith(".node") && !existsSync(candidate)) {
      errors.push(`${candidate}: not built`);
      continue;
    }
    try {
      return nativeBackend(require(candidate) as NativeAddon);
    } catch (e) {
      errors.push(`${candidate}: ${(e as Error).message.split("\n")[0]}`);
    }
  }
  throw new Error(errors.join("; "));
}

/** wasm-bindgen `web` target output, shipped in bindings/wasm/pkg/. */
async function loadWasm(): Promise<Backend> {
  const dir = path.join(ROOT, "bindings", "wasm", "pkg");
  const js = path.join(dir, "zarrio_wasm.js");
  if (!existsSync(js)) throw new Error(`${js}: not built`);
  const mod = (await import(js)) as WasmModule & { initSync(opts: { module: Uint8Array }): unknown };
  mod.initSync({ module: readFileSync(path.join(dir, "zarrio_wasm_bg.wasm")) });
  return wasmBackend(mod);
}

const cache = new Map<string, Promise<Backend>>();
/** Why the native addon was not used, when the loader fell back to WebAssembly. */
export let fallbackReason: string | undefined;

/** Load (once) the backend chosen by `choice` or `ZARRIO_BACKEND`. */
export function loadBackend(choice?: BackendChoice): Promise<Backend> {
  const want = (choice ?? process.env.ZARRIO_BACKEND ?? "auto").toLowerCase();
  const hit = cache.get(want);
  if (hit) return hit;
  if (!["auto", "native", "wasm"].includes(want)) {
    throw new ConfigError(`must be native, wasm or auto, not '${want}'`, "ZARRIO_BACKEND");
  }
  const loading = (async () => {
    if (want === "wasm") return loadWasm();
    try {
      return loadNative();
    } catch (e) {
      if (want === "native") throw new ZarrioError(`the native addon cannot be loaded: ${(e as Error).message}`);
      fallbackReason = (e as Error).message;
      return loadWasm();
    }
  })();
  cache.set(want, loading);
  return loading;
}
