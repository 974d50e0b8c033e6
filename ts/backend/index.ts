/**
 * Backend loader: the native addon first, the WebAssembly build when the addon cannot load.
 * `ZARRIO_BACKEND=native|wasm` forces one (a forced backend that fails to load is an error, not a
 * silent fallback).
 */
import { createRequire } from "node:module";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import v8 from "node:v8";

import { ConfigError, ZarrioError } from "../errors.js";
import type * as NapiDeclarations from "../../bindings/napi/addon.js";
import type * as WasmDeclarations from "../../bindings/wasm/pkg/zarrio_wasm.js";
import { nativeBackend } from "./native.js";
import { packageRoot } from "./root.js";
import { wasmBackend } from "./wasm.js";
import type { Backend } from "./types.js";

export type { Backend } from "./types.js";
export type BackendChoice = "auto" | "native" | "wasm";

const require = createRequire(import.meta.url);

/**
 * The platform package for this machine, e.g. `linux-x64-gnu` (npm/<triple>/ in the repo): napi-rs's
 * names, `<os>-<cpu>` plus the C library on Linux (gnu = glibc, musl = Alpine) and the toolchain on
 * Windows. The Windows addon is built with MinGW-w64 (`gnu`): it needs only Windows' own DLLs and
 * takes Node-API's functions from the running node.exe, so it loads in the official (MSVC-built) Node.
 */
export function platformTriple(): string {
  const { platform, arch } = process;
  if (platform === "linux") return `linux-${arch}-${linuxLibc()}`;
  if (platform === "win32") return `win32-${arch}-gnu`;
  return `${platform}-${arch}`;
}

/** The C library named by a process's memory map (/proc/self/maps), if it names one. */
export function libcFromMaps(maps: string): "gnu" | "musl" | undefined {
  if (/\/ld-musl-|\/libc\.musl-/.test(maps)) return "musl";
  if (/\/libc\.so\.6\b/.test(maps)) return "gnu";
  return undefined;
}

/**
 * The C library this process runs on. The libraries mapped into it say so directly, in about a
 * millisecond; the diagnostic report, asked only when they don't (no /proc), takes five or more.
 */
function linuxLibc(): "gnu" | "musl" {
  try {
    const libc = libcFromMaps(readFileSync("/proc/self/maps", "latin1"));
    if (libc) return libc;
  } catch {
    // No /proc: ask the report.
  }
  // Skipping the network part of the report makes it cheap (it is only asked for glibc).
  if (process.report) (process.report as { excludeNetwork?: boolean }).excludeNetwork = true;
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  return report?.header?.glibcVersionRuntime ? "gnu" : "musl";
}

/** The platforms a prebuilt addon is published for, as `@zarrio/<triple>` (npm/<triple>/ in the repo). */
export const PREBUILT_TRIPLES = ["linux-x64-gnu", "linux-arm64-gnu", "linux-x64-musl", "darwin-x64", "darwin-arm64", "win32-x64-gnu"];

/** Where the addon may be: an explicit path, the platform package, a local build. */
function nativeCandidates(triple: string): { origin: string; missing: () => boolean }[] {
  const out: { origin: string; missing: () => boolean }[] = [];
  const explicit = process.env.ZARRIO_NATIVE_PATH;
  if (explicit) out.push({ origin: explicit, missing: () => false });
  const pkg = `@zarrio/${triple}`;
  out.push({
    origin: pkg,
    missing: () => {
      try {
        require.resolve(pkg);
        return false;
      } catch {
        return true;
      }
    },
  });
  const local = path.join(packageRoot(), "bindings", "napi", `zarrio.${triple}.node`);
  out.push({ origin: local, missing: () => !existsSync(local) });
  return out;
}

/**
 * The first addon that loads, with where it came from. Candidates that are simply absent are
 * skipped quietly; the error says why one that is present failed (a too old glibc, say), or
 * that none is installed.
 */
function loadNative(): { backend: Backend; origin: string } {
  const triple = platformTriple();
  const failures: string[] = [];
  for (const { origin, missing } of nativeCandidates(triple)) {
    if (missing()) continue;
    try {
      // Typed by the declarations napi generated from bindings/napi, checked against the shared
      // surface (native.ts) by the compiler.
      const addon = require(origin) as typeof NapiDeclarations;
      return { backend: nativeBackend(addon), origin };
    } catch (e) {
      failures.push(`${origin}: ${(e as Error).message.split("\n")[0]}`);
    }
  }
  if (failures.length) throw new Error(failures.join("; "));
  throw new Error(
    PREBUILT_TRIPLES.includes(triple)
      ? `the optional package @zarrio/${triple} is not installed`
      : `no prebuilt addon exists for ${triple}`,
  );
}

/** wasm-bindgen `web` target output, shipped in bindings/wasm/pkg/. */
async function loadWasm(): Promise<Backend> {
  const dir = path.join(packageRoot(), "bindings", "wasm", "pkg");
  const js = path.join(dir, "zarrio_wasm.js");
  if (!existsSync(js)) throw new Error(`${js}: not built`);
  // Typed by wasm-bindgen's generated declarations, checked against the shared surface (wasm.ts).
  // A file URL: on Windows an absolute path (C:\...) is not a module specifier.
  const mod = (await import(pathToFileURL(js).href)) as typeof WasmDeclarations;
  // V8's optimising tier compiles the whole 2 MB module up front: ~0.7 s of CPU in every process.
  // Measured on this code, the baseline compiler alone is faster end to end (sample: 0.24 s vs
  // 0.96 s CPU; a 75 MB file: 1.56 s vs 1.98 s), so it is the default. ZARRIO_WASM_OPTIMIZE=1
  // keeps V8's tiering for very long runs. The flag must be set before the module compiles.
  if (process.env.ZARRIO_WASM_OPTIMIZE !== "1") v8.setFlagsFromString("--liftoff-only");
  mod.initSync({ module: readFileSync(path.join(dir, "zarrio_wasm_bg.wasm")) });
  return wasmBackend(mod);
}

const cache = new Map<string, Promise<Backend>>();
/** Why the native addon was not used, when the loader fell back to WebAssembly (one line). */
export let fallbackReason: string | undefined;
/** Where the native addon was loaded from (a package name or a file), once it has been. */
export let nativeOrigin: string | undefined;
const fallbackListeners: ((reason: string) => void)[] = [];

/** Call `listener` when the automatic choice falls back to WebAssembly (the CLI prints a notice). */
export function onFallback(listener: (reason: string) => void): void {
  fallbackListeners.push(listener);
}

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
      const { backend, origin } = loadNative();
      nativeOrigin = origin;
      return backend;
    } catch (e) {
      if (want === "native") throw new ZarrioError(`the native addon cannot be loaded: ${(e as Error).message}`);
      fallbackReason = (e as Error).message;
      for (const listener of fallbackListeners) listener(fallbackReason);
      return loadWasm();
    }
  })();
  cache.set(want, loading);
  return loading;
}
