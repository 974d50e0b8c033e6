/**
 * Many files, many writers: the file list (arguments, globs, `--files-from`), each machine's
 * share of it (`--shard I/N` or a job array's index), and a pool of N writer processes on this
 * machine.
 */
import { existsSync, promises as fs } from "node:fs";
import path from "node:path";

import { workerV8Flags } from "../heap.js";
import { DEFAULT_CONFIG } from "../config/model.js";
import { ConfigError } from "../errors.js";
import { GLOB, segmentRegex } from "../glob.js";
import { listInputs } from "../s3/input.js";
import { absorbS3Counts, s3Session, type S3Counts } from "../s3/session.js";
import { isS3Url } from "../s3/url.js";
import type { StoreOptions } from "../zarr/open.js";
import { pushAll } from "../lists.js";

// ---- file lists -------------------------------------------------------------------------------

/** Paths matching a shell-style pattern (`*`, `?`, `[...]`, and `**` for any depth), sorted. */
export async function expandGlob(pattern: string): Promise<string[]> {
  const parts = pattern.split(/[\\/]+/);
  let bases = [pattern.startsWith("/") ? "/" : ""];
  if (pattern.startsWith("/")) parts.shift();
  const list = async (dir: string) => {
    try {
      return await fs.readdir(dir || ".", { withFileTypes: true });
    } catch {
      return [];
    }
  };
  for (let k = 0; k < parts.length; k++) {
    const part = parts[k]!;
    const last = k === parts.length - 1;
    const next: string[] = [];
    if (part === "**") {
      // Zero or more directories: every directory below each base, the bases included.
      const walk = async (dir: string): Promise<void> => {
        next.push(dir);
        for (const e of await list(dir)) if (e.isDirectory() && !e.name.startsWith(".")) await walk(path.join(dir, e.name));
      };
      for (const b of bases) await walk(b);
    } else if (!GLOB.test(part)) {
      for (const b of bases) next.push(b ? path.join(b, part) : part);
    } else {
      const re = segmentRegex(part);
      for (const b of bases) {
        for (const e of await list(b)) {
          if (e.name.startsWith(".") && !part.startsWith(".")) continue;
          if (!re.test(e.name) || (!last && !e.isDirectory())) continue;
          next.push(b ? path.join(b, e.name) : e.name);
        }
      }
    }
    bases = next;
  }
  return [...new Set(bases.filter((p) => p && existsSync(p)))].sort();
}

/**
 * The files to write: arguments (a pattern that names no existing file is expanded, so quoted
 * globs work where no shell expands them) and the lines of `filesFrom` (blank lines and `#`
 * comments skipped). Duplicates are dropped, first occurrence kept (writing a file into its
 * place twice changes nothing); with `keepRepeats` (convert, where files are joined in order)
 * they stay, for the time checks to refuse.
 */
export async function expandInputs(args: string[], filesFrom?: string, store: StoreOptions = {}, { keepRepeats = false } = {}): Promise<string[]> {
  const out: string[] = [];
  for (const a of args) {
    if (GLOB.test(a) && (isS3Url(a) || !existsSync(a))) {
      const found = isS3Url(a) ? await listInputs(a, s3Session(store.s3 ?? DEFAULT_CONFIG.s3, store.log)) : await expandGlob(a);
      if (!found.length) throw new ConfigError(`'${a}' matches no files`, "files");
      pushAll(out, found);
    } else out.push(a);
  }
  if (filesFrom !== undefined) {
    let text: string;
    try {
      text = await fs.readFile(filesFrom, "utf8");
    } catch (e) {
      throw new ConfigError(`cannot read the list of files: ${(e as Error).message}`, "files-from");
    }
    for (const line of text.split(/\r?\n/)) {
      const f = line.trim();
      if (f && !f.startsWith("#")) out.push(f);
    }
  }
  return keepRepeats ? out : [...new Set(out)];
}

// ---- shards -----------------------------------------------------------------------------------

export interface Shard {
  /** 0-based. */
  index: number;
  count: number;
  /** Where it came from (the flag or the environment variable), for messages. */
  from: string;
}

function shardOf(index: number, count: number, from: string): Shard {
  if (!Number.isInteger(count) || count < 1) throw new ConfigError(`the shard count must be a whole number >= 1, not ${count}`, from);
  if (!Number.isInteger(index) || index < 0 || index >= count) throw new ConfigError(`shard index ${index} is not in 0..${count - 1}`, from);
  return { index, count, from };
}

/** `--shard I/N`: the I-th (0-based) of N shares. */
export function parseShard(spec: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(spec);
  if (!m) throw new ConfigError(`'${spec}' is not I/N (0-based index, e.g. 0/8)`, "shard");
  return shardOf(Number(m[1]), Number(m[2]), "--shard");
}

/**
 * The share a job array gives this process, from the scheduler's environment: Slurm
 * (SLURM_ARRAY_TASK_ID, _MIN, _STEP, _COUNT), AWS Batch (AWS_BATCH_JOB_ARRAY_INDEX, _SIZE),
 * Kubernetes indexed Jobs (JOB_COMPLETION_INDEX; the count, which Kubernetes does not export,
 * from ZARRIO_SHARD_COUNT).
 */
export function shardFromEnv(env: NodeJS.ProcessEnv = process.env): Shard | undefined {
  const int = (name: string) => {
    const v = env[name];
    if (v === undefined || v === "") return undefined;
    if (!/^\d+$/.test(v.trim())) throw new ConfigError(`must be a whole number, not '${v}'`, name);
    return Number(v);
  };
  const slurm = int("SLURM_ARRAY_TASK_ID");
  if (slurm !== undefined) {
    const count = int("SLURM_ARRAY_TASK_COUNT") ?? int("ZARRIO_SHARD_COUNT");
    if (count === undefined) throw new ConfigError("SLURM_ARRAY_TASK_ID is set but not SLURM_ARRAY_TASK_COUNT; set ZARRIO_SHARD_COUNT or pass --shard", "shard");
    const min = int("SLURM_ARRAY_TASK_MIN") ?? 0;
    const step = int("SLURM_ARRAY_TASK_STEP") ?? 1;
    return shardOf((slurm - min) / step, count, "SLURM_ARRAY_TASK_ID");
  }
  const aws = int("AWS_BATCH_JOB_ARRAY_INDEX");
  if (aws !== undefined) {
    const count = int("AWS_BATCH_JOB_ARRAY_SIZE") ?? int("ZARRIO_SHARD_COUNT");
    if (count === undefined) throw new ConfigError("AWS_BATCH_JOB_ARRAY_INDEX is set but not AWS_BATCH_JOB_ARRAY_SIZE; set ZARRIO_SHARD_COUNT or pass --shard", "shard");
    return shardOf(aws, count, "AWS_BATCH_JOB_ARRAY_INDEX");
  }
  const k8s = int("JOB_COMPLETION_INDEX");
  if (k8s !== undefined) {
    const count = int("ZARRIO_SHARD_COUNT");
    if (count === undefined) throw new ConfigError("JOB_COMPLETION_INDEX is set but not ZARRIO_SHARD_COUNT (set it to the Job's completions) or --shard", "shard");
    return shardOf(k8s, count, "JOB_COMPLETION_INDEX");
  }
  return undefined;
}

/**
 * This shard's files: the list is sorted (so every machine sees the same order whatever the
 * shell or `find` gave it) and cut into `count` contiguous runs of near-equal length. Contiguous
 * runs keep neighbouring files, which share time chunks, on one machine. The given order is kept
 * within the share.
 */
export function takeShare(files: string[], shard: Shard): string[] {
  const sorted = [...files].sort();
  const from = Math.floor((shard.index * sorted.length) / shard.count);
  const to = Math.floor(((shard.index + 1) * sorted.length) / shard.count);
  const mine = new Set(sorted.slice(from, to));
  return files.filter((f) => mine.has(f));
}

/**
 * This shard's groups (of files that fill the same chunks, in time order): `count` contiguous
 * shares of near-equal numbers of files. Each cut moves to the nearest group boundary within half
 * a share of where an even cut would fall, so neighbouring shares share no chunk; where no group
 * boundary is that close (fewer groups than shares), the cut splits a group, and the two shares
 * share the chunk it falls in (merged under its lock). Every file is in exactly one share.
 */
export function takeGroups(groups: string[][], shard: Shard): string[][] {
  const files = groups.flat();
  const n = files.length;
  const bounds: number[] = [];
  let at = 0;
  for (const g of groups.slice(0, -1)) bounds.push((at += g.length));
  const half = Math.floor(n / shard.count / 2);
  const cuts = [0];
  for (let k = 1; k < shard.count; k++) {
    const even = Math.floor((k * n) / shard.count);
    const prev = cuts[cuts.length - 1]!;
    const near = bounds.filter((b) => b > prev && Math.abs(b - even) <= half).sort((a, b) => Math.abs(a - even) - Math.abs(b - even))[0];
    cuts.push(Math.max(prev, near ?? even));
  }
  cuts.push(n);
  const [from, to] = [cuts[shard.index]!, cuts[shard.index + 1]!];
  // The share's part of each group it touches.
  const out: string[][] = [];
  let start = 0;
  for (const g of groups) {
    const [a, b] = [Math.max(from, start), Math.min(to, start + g.length)];
    if (a < b) out.push(files.slice(a, b));
    start += g.length;
  }
  return out;
}

// ---- writer processes -------------------------------------------------------------------------

export interface WorkerResult {
  item: string;
  ok: boolean;
  exitCode: number;
  /** The error class the writer reported (e.g. RegionError), when it failed. */
  error?: string;
  message?: string;
  seconds: number;
}

/** What a worker module sends back over IPC: log records, one `done` per file, then `finished` with the group's figures. */
export type WorkerMessage =
  | { type: "log"; level: string; message: string; fields: Record<string, unknown> }
  | { type: "done"; item: string; ok: boolean; exitCode: number; error?: string; message?: string }
  | { type: "finished"; stats: unknown; s3?: { endpoint: string; counts: S3Counts }[] };

export interface WorkerHooks {
  onLog?(group: string[], level: string, message: string, fields: Record<string, unknown>): void;
  onDone?(result: WorkerResult): void;
  /** The figures a worker reports for each group it finished. */
  onStats?(stats: unknown): void;
}

/**
 * Process `groups` of files with at most `limit` worker processes running `module` (forked with
 * an IPC channel). Each worker gets `init` once, then one `{ type: "write", items }` group at a
 * time, and answers with log records, one `done` per file and `finished` per group; a worker
 * lives for many groups, so the backend loads once per worker, not once per file. A failing file
 * does not stop the others; a worker that dies (a crash, SIGKILL) fails only the files of its
 * group it had not reported, and is replaced.
 */
export async function runWorkers(
  groups: string[][],
  limit: number,
  module: string,
  init: Record<string, unknown>,
  hooks: WorkerHooks = {},
  env: Record<string, string> = {},
): Promise<WorkerResult[]> {
  const queue = [...groups];
  const results: WorkerResult[] = [];
  const record = (r: WorkerResult) => {
    results.push(r);
    hooks.onDone?.(r);
  };
  // The settings reach the worker in `init`; an inherited ZARRIO_LOG_LEVEL would override them.
  const childEnv = { ...process.env, ...env };
  delete childEnv.ZARRIO_LOG_LEVEL;
  // Loaded here, not at the top: node:child_process costs every other run ~8 ms of start-up.
  const { fork } = await import("node:child_process");

  /** One worker process, until the queue is empty or it dies. */
  const worker = () =>
    new Promise<void>((resolve) => {
      const child = fork(module, [], { env: childEnv, execArgv: workerV8Flags(childEnv), stdio: ["ignore", "ignore", "pipe", "ipc"] });
      let current: { group: string[]; left: Set<string>; started: number } | undefined;
      let stderr = "";
      const next = () => {
        const group = queue.shift();
        if (group === undefined) {
          current = undefined;
          child.disconnect();
          return;
        }
        current = { group, left: new Set(group), started: performance.now() };
        child.send({ type: "write", items: group });
      };
      child.stderr!.setEncoding("utf8");
      child.stderr!.on("data", (chunk: string) => {
        // Only what bypasses the IPC log (a crash report): keep the tail for the failure message.
        stderr = (stderr + chunk).slice(-4000);
      });
      child.on("message", (m: WorkerMessage) => {
        if (!current) return;
        if (m.type === "log") hooks.onLog?.(current.group, m.level, m.message, m.fields);
        else if (m.type === "done") {
          current.left.delete(m.item);
          record({ item: m.item, ok: m.ok, exitCode: m.exitCode, error: m.error, message: m.message, seconds: (performance.now() - current.started) / 1000 });
        } else if (m.type === "finished") {
          // Object-store requests the writer made count in this process's summary.
          if (m.s3?.length) absorbS3Counts(m.s3);
          hooks.onStats?.(m.stats);
          next();
        }
      });
      child.on("exit", (code, signal) => {
        if (current) {
          const why = signal ? `killed by ${signal}` : `exited with status ${code}`;
          const tail = stderr.trim().split("\n").slice(-3).join(" | ");
          for (const item of current.left) {
            record({
              item,
              ok: false,
              exitCode: 1,
              error: "WriterDied",
              message: `the writer process ${why} while writing it${tail ? `: ${tail}` : ""}`,
              seconds: (performance.now() - current.started) / 1000,
            });
          }
        }
        resolve();
      });
      child.send({ type: "init", ...init });
      next();
    });
  const slot = async () => {
    while (queue.length) await worker();
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, groups.length)) }, slot));
  return results;
}
