/**
 * How big V8's young generation may grow in zarrio's processes. V8 doubles it (up to 2 × 16 MiB
 * semi-spaces) each time the objects that survived its collections since the last doubling add
 * up to its size, so a long run grows it whatever it keeps: a convert of 10,000 one-step files
 * held 32 MiB of young generation against 8 MiB for 1,000, most of its growth in peak memory.
 * Small semi-spaces cost nothing measurable here (zarrio's own objects are few; the data lives
 * outside V8's heap).
 */
import { PerformanceObserver } from "node:perf_hooks";
import v8 from "node:v8";
import vm from "node:vm";

import { collectBetweenFiles } from "./pipeline/collect.js";

/**
 * The young generation a CLI process keeps growing to (both semi-spaces). With full collections
 * every few thousand files (collectBetweenManyFiles), 2 MiB against 8: 10,000 one-step files
 * given as a glob, convert's peak 83 → 78 MiB, CPU 1.01× (1,000 files: 73 → 72 MiB, 0.98×).
 */
const HOLD_BYTES = 2 * 2 ** 20;

/** Whether the user's NODE_OPTIONS already size the young generation (theirs to decide). */
function userSized(env: NodeJS.ProcessEnv): boolean {
  return /--(max|min)-semi-space-size|--semi-space-growth-factor/.test(env.NODE_OPTIONS ?? "");
}

/** Whether the user chose V8's size mode themselves (theirs to decide). */
function userMode(env: NodeJS.ProcessEnv, execArgv: string[]): boolean {
  return [...execArgv, env.NODE_OPTIONS ?? ""].some((a) => /--(no-)?optimize[-_]for[-_]size/.test(a));
}

/**
 * V8 flags for a forked worker process: semi-spaces of 2 MiB from the start (10,000 one-step
 * files, write-region --jobs 2: each writer's peak 89 → 84 MiB, CPU and wall unchanged within 2 %),
 * and full collections that come sooner (see collectPromptly).
 */
export function workerV8Flags(env: NodeJS.ProcessEnv, execArgv: string[] = process.execArgv): string[] {
  return [...(userSized(env) ? [] : ["--max-semi-space-size=2"]), ...(userMode(env, execArgv) ? [] : ["--optimize-for-size"])];
}

/**
 * Have V8 grow its old generation by smaller steps (as it does when optimizing for size), so that
 * full collections come sooner. The core's objects (slabs, open files, encoded chunks) are
 * napi-rs instances that outlive V8's young-generation collections, and their native memory goes
 * only when a full collection finds them dead: collected sooner, the allocator hands the same
 * pages out again instead of faulting in new ones. Measured side by side (convert, alternating
 * runs): the large corpus CPU 0.90×, wall 0.90×, system time −35 %; 10,000 one-step files peak
 * 95 → 82 MiB, CPU 0.99×. For the CLI only: a library leaves its host's V8 settings alone.
 */
export function collectPromptly(env: NodeJS.ProcessEnv = process.env, execArgv: string[] = process.execArgv): void {
  if (!userMode(env, execArgv)) v8.setFlagsFromString("--optimize-for-size");
}

/**
 * Stop the young generation of this process growing once it has reached HOLD_BYTES: the size limit is
 * fixed when the process starts, but the factor V8 grows it by is read at each growth, so it is
 * set to 1 after the first collection that finds the young generation at that size (10,000
 * one-step files: convert's peak 120 → 98 MiB, CPU 0.98×). For the CLI only: a library leaves its
 * host's V8 settings alone.
 */
export function holdYoungGeneration(env: NodeJS.ProcessEnv = process.env, bytes = HOLD_BYTES): void {
  if (userSized(env)) return;
  const youngBytes = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === "new_space")?.space_size ?? 0;
  const hold = () => {
    if (youngBytes() < bytes) return false;
    v8.setFlagsFromString("--semi-space-growth-factor=1");
    return true;
  };
  if (hold()) return;
  const watch = new PerformanceObserver(() => {
    if (hold()) watch.disconnect();
  });
  watch.observe({ entryTypes: ["gc"] });
}

/**
 * Have long runs collect V8's whole heap every few thousand files (pipeline/collect.ts): the
 * collector is made available to this process (`--expose-gc`, set at run time). For the CLI and
 * its writer processes only: a library leaves its host's V8 settings alone.
 */
export function collectBetweenManyFiles(): void {
  v8.setFlagsFromString("--expose-gc");
  collectBetweenFiles(vm.runInNewContext("gc") as () => void);
}
