/**
 * Helpers of the template / write-region / append tests: series of small NetCDF files made on the
 * fly (test/python/make_series.py, make_variants.py), a fingerprint of a store's bytes, and the
 * CLI run asynchronously so several writers run at once.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import assert from "node:assert/strict";

import { BACKEND, CLI, python, ROOT } from "./helpers.js";

/** Write `files` series files into `dir` (options of make_series.py); returns their paths. */
export function makeSeries(dir: string, files: number, extra: string[] = []): string[] {
  const r = python([path.join(ROOT, "test", "python", "make_series.py"), dir, "--files", String(files), ...extra]);
  assert.equal(r.status, 0, `make_series.py failed: ${r.stderr}`);
  return r.stdout.trim().split("\n");
}

/** Variants of one series file (kinds of make_variants.py); returns kind → path. */
export function makeVariants(base: string, dir: string, kinds: string[]): Record<string, string> {
  const r = python([path.join(ROOT, "test", "python", "make_variants.py"), base, dir, ...kinds]);
  assert.equal(r.status, 0, `make_variants.py failed: ${r.stderr}`);
  return Object.fromEntries(kinds.map((k) => [k, path.join(dir, `${k}.nc`)]));
}

/** A digest of every file under `dir` (names and bytes): equal digests, identical stores. */
export function hashTree(dir: string): string {
  const h = createHash("sha256");
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const full = path.join(d, name);
      if (statSync(full).isDirectory()) walk(full);
      else h.update(path.relative(dir, full)).update("\0").update(readFileSync(full)).update("\0");
    }
  };
  if (existsSync(dir)) walk(dir);
  return h.digest("hex");
}

/** Files under `dir` whose path matches `re`. */
export function filesUnder(dir: string, re: RegExp): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const full = path.join(d, name);
      if (statSync(full).isDirectory()) walk(full);
      else if (re.test(path.relative(dir, full))) out.push(full);
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

export interface Run {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Start the CLI without waiting (the suite's backend); `done` settles when it exits. */
export function startCli(args: string[], env: Record<string, string> = {}): { pid: number; done: Promise<Run>; kill(signal: NodeJS.Signals): void } {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ZARRIO_BACKEND: BACKEND, ...env } });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c) => (stdout += c));
  child.stderr.on("data", (c) => (stderr += c));
  const done = new Promise<Run>((resolve) => child.on("close", (status, signal) => resolve({ status, signal, stdout, stderr })));
  return { pid: child.pid!, done, kill: (s) => child.kill(s) };
}

/** A deterministic shuffle (so a failing order can be reproduced). */
export function shuffle<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
