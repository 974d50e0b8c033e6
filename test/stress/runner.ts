/**
 * One stress run: make the scenario's files, lay out the archive with create-template, start its
 * writer processes at once (`write-region` with each writer's files), SIGKILL the chosen ones,
 * run those again, try the bad file (in a writer's list, or alone after them), then check: every
 * writer not killed succeeded (the one given the bad file failed, naming it), `validate` with
 * the sources finds the archive complete, sound and equal to them (zarrio's reader), xarray reads
 * every value of every source back (test/python/compare.py), and a bad file tried alone changed
 * no byte.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { rmSync } from "node:fs";
import path from "node:path";
import readline from "node:readline";

import { openStore } from "../../ts/index.js";
import { BACKEND, CLI, PYTHON, ROOT } from "../helpers.js";
import type { Scenario } from "./scenario.js";

/** Smallest failing scenarios found so far: the test suite replays each (test/stress.test.ts). */
export const CASES = path.join(ROOT, "test", "stress", "cases");

export interface Outcome {
  seed: number;
  ok: boolean;
  /** What went wrong, first problem first (empty when ok). */
  problems: string[];
  /** Writers actually killed (a writer that finished before its moment was not). */
  killed: number;
  /** Values xarray compared. */
  values: number;
  seconds: number;
  /** On S3: requests through the fault proxy, answered 503, cut. */
  s3?: { requests: number; slowDowns: number; cuts: number };
}

/** Where a run writes: a folder (its archive inside), or S3 through a fault proxy. */
export interface Target {
  dir: string;
  /** The archive's address for run `seed` (a path, or an s3:// URL). */
  archive(seed: number): string;
  /** Arguments every zarrio command of the run gets (the S3 endpoint). */
  args: string[];
  env: Record<string, string>;
  /** Before a run: start its fault proxy with the run's rates (S3). */
  prepare?(rates: { slowDown: number; cut: number }, seed: number): Promise<void>;
  /** The fault proxy's counts for the run so far (S3). */
  counts?(): { requests: number; slowDowns: number; cuts: number };
}

/** The long-lived Python helper (test/python/stress_server.py): makes files, compares with xarray. */
export class PythonHelper {
  private readonly child: ChildProcess;
  private readonly lines: AsyncIterator<string>;
  constructor(env: Record<string, string> = {}) {
    this.child = spawn(PYTHON, [path.join(ROOT, "test", "python", "stress_server.py")], {
      stdio: ["pipe", "pipe", "inherit"],
      env: { ...process.env, ...env },
    });
    this.lines = readline.createInterface({ input: this.child.stdout! })[Symbol.asyncIterator]();
  }
  async call<T>(request: Record<string, unknown>): Promise<T> {
    this.child.stdin!.write(JSON.stringify(request) + "\n");
    const { value, done } = await this.lines.next();
    if (done) throw new Error("the Python helper exited");
    const answer = JSON.parse(value);
    if (answer.error) throw new Error(`Python helper, ${request.op}: ${answer.error}\n${answer.trace ?? ""}`);
    return answer as T;
  }
  close(): void {
    this.child.stdin!.end();
  }
}

interface Exit {
  status: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

function zarrio(args: string[], env: Record<string, string>): { child: ChildProcess; done: Promise<Exit> } {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ZARRIO_BACKEND: BACKEND, ...env }, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (c) => (stderr += c));
  const done = new Promise<Exit>((resolve) => child.on("close", (status, signal) => resolve({ status, signal, stderr })));
  return { child, done };
}

const tail = (s: string) => s.trim().split("\n").slice(-4).join(" | ");

/** A digest of every key and its bytes: equal digests, identical archives. */
async function digest(archive: string): Promise<string> {
  const store = openStore(archive);
  const h = createHash("sha256");
  for (const key of (await store.list()).sort()) h.update(key).update("\0").update((await store.get(key)) ?? new Uint8Array()).update("\0");
  return h.digest("hex");
}

/**
 * Run scenario `s`. `tamper` (the suite's proof that the checks can fail) changes the archive
 * after the writers, before the checks.
 */
export async function runScenario(s: Scenario, target: Target, py: PythonHelper, tamper?: (archive: string) => Promise<void>): Promise<Outcome> {
  const t0 = performance.now();
  const problems: string[] = [];
  const dir = path.join(target.dir, `run-${s.seed}`);
  const archive = target.archive(s.seed);
  const out: Outcome = { seed: s.seed, ok: false, problems, killed: 0, values: 0, seconds: 0 };
  try {
    rmSync(dir, { recursive: true, force: true });
    const { files } = await py.call<{ files: string[] }>({ op: "make", dir: path.join(dir, "src"), seed: s.seed, steps: s.steps, lat: s.lat, lon: s.lon, vars: s.vars });
    await target.prepare?.(s.s3Faults ?? { slowDown: 0, cut: 0 }, s.seed);
    const total = s.steps.reduce((a, b) => a + b, 0);
    const end = new Date(Date.UTC(2020, 0, 1) + (total - 1) * 3_600_000).toISOString().slice(0, 16);
    const dims = (c: { time: number; lat: number; lon: number }) => `time:${c.time},lat:${c.lat},lon:${c.lon}`;
    const layout = ["--chunking", dims(s.chunks), ...(s.shards ? ["--shards", dims(s.shards)] : []), "--zarr-format", String(s.format)];
    const t = await zarrio(["create-template", files[0]!, archive, "--global-start", "2020-01-01", "--global-end", end, "--freq", "1h", ...layout, ...target.args], target.env).done;
    if (t.status !== 0) {
      problems.push(`create-template exited ${t.status}: ${tail(t.stderr)}`);
      return out;
    }

    // The bad file, when a writer gets it in its list.
    const makeBad = async () => (await py.call<{ file: string }>({ op: "bad", kind: s.bad!.kind, like: files[s.bad!.like], out: path.join(dir, "bad", `bad_${s.bad!.kind}.nc`) })).file;
    const badFile = s.bad?.writer !== undefined ? await makeBad() : undefined;
    const listOf = (w: number) => {
      const list = s.writers[w]!.map((f) => files[f]!);
      if (badFile && s.bad!.writer === w) list.splice(s.bad!.at ?? 0, 0, badFile);
      return list;
    };
    // A writer given the bad file writes its other files and exits non-zero, naming it.
    const judge = (w: number, e: Exit, what: string) => {
      const hasBad = badFile !== undefined && s.bad!.writer === w;
      if (hasBad && e.status === 0) problems.push(`${what}: the ${s.bad!.kind} file in its list was accepted`);
      else if (hasBad && !e.stderr.includes(path.basename(badFile!))) problems.push(`${what}: the refusal of the ${s.bad!.kind} file does not name it: ${tail(e.stderr)}`);
      else if (!hasBad && e.status !== 0) problems.push(`${what} (${s.writers[w]!.length} file(s)) exited ${e.status ?? e.signal}: ${tail(e.stderr)}`);
    };

    // All writers at once; the chosen ones killed at their moment.
    const write = (w: number) => zarrio(["write-region", ...listOf(w), archive, "-q", ...target.args], target.env);
    const running = s.writers.map((_, w) => write(w));
    const timers = s.kills.map((k) => setTimeout(() => running[k.writer]!.child.kill("SIGKILL"), k.afterMs));
    const exits = await Promise.all(running.map((r) => r.done));
    timers.forEach(clearTimeout);
    const again: number[] = [];
    exits.forEach((e, w) => (e.signal === "SIGKILL" ? again.push(w) : judge(w, e, `writer ${w}`)));
    out.killed = again.length;
    // The killed writers run again, at once, with the same lists.
    const reruns = await Promise.all(again.map((w) => write(w).done));
    reruns.forEach((e, i) => judge(again[i]!, e, `writer ${again[i]} run again`));
    if (problems.length) return out;
    await tamper?.(archive);

    if (s.bad && s.bad.writer === undefined) {
      const file = await makeBad();
      const before = await digest(archive);
      const r = await zarrio(["write-region", file, archive, "-q", ...target.args], target.env).done;
      if (r.status === 0) problems.push(`the ${s.bad.kind} file was accepted`);
      else if (!r.stderr.includes(path.basename(file))) problems.push(`the refusal of the ${s.bad.kind} file does not name it: ${tail(r.stderr)}`);
      if ((await digest(archive)) !== before) problems.push(`refusing the ${s.bad.kind} file changed the archive`);
    }

    // validate with the sources: complete, every chunk sound, and the values as zarrio's own
    // reader reads the files; then xarray's reading of both.
    const v = await zarrio(["validate", archive, ...files, "--json", ...target.args], target.env).done;
    if (v.status !== 0) problems.push(`validate exited ${v.status}: ${tail(v.stderr)}`);
    const c = await py.call<{ ok: boolean; problems: { where: string; kind: string; message: string }[]; values: number }>({ op: "compare", zarr: archive, sources: files });
    out.values = c.values;
    if (!c.ok) problems.push(...c.problems.map((p) => `xarray: ${p.where}: [${p.kind}] ${p.message}`));
    out.ok = problems.length === 0;
    return out;
  } catch (e) {
    problems.push(`harness: ${(e as Error).stack ?? e}`);
    return out;
  } finally {
    out.seconds = (performance.now() - t0) / 1000;
    out.s3 = target.counts?.();
    if (out.ok) rmSync(dir, { recursive: true, force: true });
  }
}
