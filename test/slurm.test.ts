/**
 * write-region on a real Slurm scheduler. test/cluster/slurm.sh starts a one-node cluster (its own
 * munged, slurmctld and slurmd, under test/.out/<backend>/slurm-cluster) and the job script users
 * copy, examples/cluster/slurm-write-region.sbatch, runs unchanged as a job array: each task takes
 * its share of the file list from Slurm's array variables, all tasks write one archive at once,
 * and the archive is compared with xarray's reading of every source and checked by `zarrio
 * validate`. A second run gives the shares explicitly (--shard I/N, the way a failed share is
 * re-run) with a refused file among them, whose task alone must fail, with write-region's exit code.
 *
 * Needs root and Debian's slurmctld, slurmd, slurm-client and munge (scripts/setup.sh installs them).
 * Without them the tests are skipped, except under CI, where they fail.
 */
import test, { after, before, describe } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

import { filesByChunk, takeGroups } from "../dist/index.js";
import { assertMatchesSources, BACKEND, CLI, cli, outDir, ROOT } from "./helpers.js";
import { makeSeries, makeVariants, shuffle } from "./series.js";

const SLURM_SH = path.join(ROOT, "test", "cluster", "slurm.sh");
const SCRIPT = path.join(ROOT, "examples", "cluster", "slurm-write-region.sbatch");
const DOC = path.join(ROOT, "docs", "cluster.md");
const CI = !!process.env.CI && !["0", "false"].includes(process.env.CI.toLowerCase());

/** Why the test cluster cannot run here, or undefined when it can. */
function unavailable(): string | undefined {
  const r = spawnSync("bash", [SLURM_SH, "check"], { encoding: "utf8" });
  if (r.error) return `cannot run ${SLURM_SH}: ${r.error.message}`;
  return r.status === 0 ? undefined : r.stdout.trim() || r.stderr.trim() || `slurm.sh check exited ${r.status}`;
}

const missing = unavailable();
const skip = missing && !CI ? `no Slurm test cluster here: ${missing} (under CI this fails instead)` : false;

/** The environment of every Slurm command: ours without any scheduler variables, plus SLURM_CONF. */
function slurmEnv(conf: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(SLURM_|SBATCH_|SALLOC_|SRUN_|AWS_BATCH_JOB_ARRAY_|JOB_COMPLETION_INDEX$|ZARRIO_SHARD_COUNT$)/.test(k)) continue;
    env[k] = v;
  }
  return { ...env, SLURM_CONF: conf, ...extra };
}

interface Submitted {
  status: number | null;
  jobId: string;
  stdout: string;
  stderr: string;
  seconds: number;
}

/** `sbatch --wait --parsable ARGS` in `cwd`; settles when every task of the job has ended. */
function sbatchWait(args: string[], cwd: string, env: NodeJS.ProcessEnv, timeoutMs = 180_000): Promise<Submitted> {
  const started = performance.now();
  const child = spawn("sbatch", ["--wait", "--parsable", ...args], { cwd, env });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c) => (stdout += c));
  child.stderr.on("data", (c) => (stderr += c));
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  return new Promise((resolve) =>
    child.on("close", (status) => {
      clearTimeout(timer);
      resolve({ status, jobId: stdout.trim().split(";")[0]!, stdout, stderr, seconds: (performance.now() - started) / 1000 });
    }),
  );
}

interface TaskRecord {
  jobId: string;
  arrayJobId: string;
  arrayTaskId: number;
  state: string;
  exitCode: number;
  cpus: number;
  /** Epoch ms (slurmctld's clock, whole seconds). */
  start: number;
  end: number;
}

/** What slurmctld recorded for each finished task (jobcomp/filetxt), keyed by array task id. */
function taskRecords(jobcomp: string, arrayJobId: string): Map<number, TaskRecord> {
  const out = new Map<number, TaskRecord>();
  if (!existsSync(jobcomp)) return out;
  for (const line of readFileSync(jobcomp, "utf8").split("\n")) {
    const f = Object.fromEntries(line.trim().split(/\s+/).map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]));
    if (f.ArrayJobId !== arrayJobId) continue;
    out.set(Number(f.ArrayTaskId), {
      jobId: f.JobId!,
      arrayJobId: f.ArrayJobId!,
      arrayTaskId: Number(f.ArrayTaskId),
      state: f.JobState!,
      exitCode: Number(f.ExitCode!.split(":")[0]),
      cpus: Number(f.ProcCnt),
      start: Date.parse(f.StartTime!),
      end: Date.parse(f.EndTime!),
    });
  }
  return out;
}

/** From the first task's start to the last one's end, by slurmctld's records (whole seconds). */
const span = (records: TaskRecord[]) => (Math.max(...records.map((r) => r.end)) - Math.min(...records.map((r) => r.start))) / 1000;

/** Files a task's log says it wrote (write-region -v: "wrote <file>"). */
const wroteIn = (log: string) => [...log.matchAll(/ info {2}wrote (\S+)/g)].map((m) => m[1]!);

/**
 * Share i of n of the sorted list, as the docs define it: contiguous runs of near-equal length, cut
 * between groups of files that fill the same chunks where one is near (daily files from the
 * archive's first step, the template's chunks of 40 h). With the share's groups (one writer each at most).
 */
const shareOf = (files: string[], i: number, n: number) => {
  const sorted = [...files].sort();
  const groups = filesByChunk(sorted.length, 0, 24, 40).map((g) => g.map((k) => sorted[k]!));
  const mine = takeGroups(groups, { index: i, count: n, from: "test" });
  return { files: mine.flat(), groups: mine.length };
};
const share = (files: string[], i: number, n: number) => shareOf(files, i, n).files;

test("README.md and docs/cluster.md carry the Slurm job script and the Kubernetes writers' Job verbatim", () => {
  const script = readFileSync(SCRIPT, "utf8");
  const k8s = readFileSync(path.join(ROOT, "examples", "cluster", "k8s-indexed-job.yaml"), "utf8");
  const writers = k8s.split(/^---\n/m).find((d) => d.includes("name: zarrio-write"));
  assert.ok(writers && /completionMode: Indexed/.test(writers), "k8s-indexed-job.yaml has the Indexed Job zarrio-write");
  for (const file of [DOC, path.join(ROOT, "README.md")]) {
    const doc = readFileSync(file, "utf8");
    assert.ok(doc.includes("```bash\n" + script + "```\n"), `${file} must contain examples/cluster/slurm-write-region.sbatch exactly (copy it over)`);
    assert.ok(doc.includes("```yaml\n" + writers + "```\n"), `${file} must contain the zarrio-write Job of examples/cluster/k8s-indexed-job.yaml exactly`);
  }
});

describe(`write-region on Slurm [${BACKEND}]`, { skip }, () => {
  const clusterDir = path.join(ROOT, "test", ".out", BACKEND, "slurm-cluster");
  const conf = path.join(clusterDir, "slurm.conf");
  const jobcomp = path.join(clusterDir, "log", "jobcomp.txt");
  let started = false;
  let days: string[] = [];

  /** Stops the cluster (once); undefined when it went well, else what went wrong. */
  const stop = (): string | undefined => {
    if (!started) return;
    started = false;
    const r = spawnSync("bash", [SLURM_SH, "stop", clusterDir], { encoding: "utf8", timeout: 60_000 });
    if (r.status === 0) return;
    const why = `slurm.sh stop ${clusterDir} failed (${r.error?.message ?? `exit ${r.status}`}):\n${r.stderr}`;
    process.stderr.write(why + "\n");
    return why;
  };
  // The daemons must not outlive the test: stopped after the tests, on exit, on SIGINT/SIGTERM, and by
  // slurm.sh's watchdog when this process is gone (a SIGKILL, a runner that exits first).
  const onSignal = (sig: NodeJS.Signals) => {
    stop();
    process.exit(sig === "SIGINT" ? 130 : 143);
  };

  before(() => {
    assert.equal(missing, undefined, `CI is set and the Slurm test cluster cannot run here: ${missing}`);
    days = makeSeries(outDir("slurm-src"), 12);
    outDir("slurm-cluster");
    process.on("exit", stop);
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    started = true;
    // With our pid, slurm.sh leaves a watchdog that stops the cluster should this process die unannounced.
    const r = spawnSync("bash", [SLURM_SH, "start", clusterDir, String(process.pid)], { encoding: "utf8", timeout: 90_000 });
    assert.equal(r.status, 0, `the test cluster did not start:\n${r.stderr}`);
    assert.equal(r.stdout.trim(), `SLURM_CONF=${conf}`);
  });

  after(() => {
    const failed = stop();
    process.off("exit", stop);
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    assert.equal(failed, undefined);
  });

  /** A fresh archive over the 12 days, time chunks of 40 h: shards' boundaries fall inside chunks, so tasks merge shared chunks. */
  const template = (dir: string) => {
    const archive = path.join(dir, "archive.zarr");
    const t = cli(["create-template", days[0]!, archive, "--global-start", "2020-01-01", "--global-end", "2020-01-12T23:00", "--chunking", "time:40"]);
    assert.equal(t.status, 0, t.stderr);
    return archive;
  };

  /** The job script's settings: this checkout's CLI on this suite's backend. */
  const scriptEnv = (list: string, archive: string) => {
    assert.ok(!/\s/.test(process.execPath + CLI), "ZARRIO is split on spaces");
    return slurmEnv(conf, { ZARRIO: `${process.execPath} ${CLI}`, ZARRIO_BACKEND: BACKEND, ZARRIO_FILE_LIST: list, ZARRIO_ARCHIVE: archive });
  };

  const validate = (archive: string, sources: string[]) => {
    const v = cli(["validate", archive, ...sources]);
    assert.equal(v.status, 0, `zarrio validate failed:\n${v.stdout}\n${v.stderr}`);
    assert.match(v.stdout, /time: 288 steps, 2020-01-01 00:00:00 \.\. 2020-01-12 23:00:00, step 1h/);
    assert.match(v.stdout, /temperature +float32 +288×20×30 +40×20×30 +8\/8 /, "every temperature chunk stored");
    assert.match(v.stdout, /salinity +float64 +288×20×30 +40×20×30 +8\/8 /, "every salinity chunk stored");
  };

  test("the example job script as an array of 4: each task writes its share (from SLURM_ARRAY_TASK_ID) into one archive", { timeout: 300_000 }, async () => {
    const dir = outDir("slurm-array");
    const archive = template(dir);
    // The list in a scrambled order: every task must still cut the same shares from it (it is sorted first).
    const list = path.join(dir, "files.txt");
    writeFileSync(list, `# 12 daily files\n${shuffle(days, 7).join("\n")}\n`);

    // The node has 2 CPUs: one per task, so two tasks write at once (the script asks for 4 per task).
    const job = await sbatchWait(["--cpus-per-task=1", SCRIPT, "-v"], dir, scriptEnv(list, archive));
    assert.equal(job.status, 0, `sbatch --wait exited ${job.status}:\n${job.stdout}\n${job.stderr}`);
    assert.match(job.jobId, /^\d+$/, `sbatch --parsable printed '${job.stdout}'`);
    const records = taskRecords(jobcomp, job.jobId);
    assert.deepEqual([...records.keys()].sort(), [0, 1, 2, 3], `slurmctld recorded tasks ${[...records.keys()]}`);
    console.log(
      `slurm: 4 tasks, 12 files, ${job.seconds.toFixed(1)} s (sbatch --wait, which polls every 2 s; ` +
        `first start to last end ${span([...records.values()])} s by slurmctld; backend ${BACKEND})`,
    );
    const written: string[] = [];
    for (let i = 0; i < 4; i++) {
      const rec = records.get(i)!;
      assert.deepEqual([rec.state, rec.exitCode, rec.cpus], ["COMPLETED", 0, 1], `task ${i}: ${JSON.stringify(rec)}`);
      const logFile = path.join(dir, `zarrio-${job.jobId}_${i}.out`);
      assert.ok(existsSync(logFile), `no log ${logFile} (the script's --output)`);
      const log = readFileSync(logFile, "utf8");
      assert.match(log, new RegExp(`^task ${i} of 4 on .*: ${list} -> ${archive}, 1 writer\\(s\\)$`, "m"), log);
      assert.match(log, new RegExp(`^zarrio \\S+ \\(${BACKEND} backend`, "m"), `task ${i} ran the suite's backend:\n${log}`);
      const n = share(days, i, 4).length;
      assert.match(log, new RegExp(`${n} of ${n} file\\(s\\) written by 1 writer\\(s\\) in [\\d.]+ s \\(shard ${i}/4 from SLURM_ARRAY_TASK_ID: ${n} of 12 files\\)`), log);
      const mine = wroteIn(log);
      assert.deepEqual([...mine].sort(), share(days, i, 4), `task ${i} wrote its own share:\n${log}`);
      written.push(...mine);
    }
    assert.deepEqual(written.sort(), [...days].sort(), "every file written exactly once");

    assertMatchesSources(archive, days);
    validate(archive, days);
  });

  test("--shard I/N given explicitly (one-task arrays, as a failed share is re-run): a refused file fails its task alone, with write-region's exit code", { timeout: 300_000 }, async () => {
    const dir = outDir("slurm-shard");
    const archive = template(dir);
    // A file whose times are half an hour off the archive's axis: write-region refuses it (RegionError, exit 5).
    const bad = makeVariants(days[5]!, path.join(path.dirname(days[0]!), "zz-bad"), ["shifted"]).shifted!;
    const files = [...days, bad];
    const list = path.join(dir, "files.txt");
    writeFileSync(list, files.join("\n") + "\n");
    const badShare = [0, 1, 2, 3].find((i) => share(files, i, 4).includes(bad))!;

    // Four jobs at once, each an array of one task (index i, count 1: alone, the variables would mean all 13
    // files), each told its share by --shard; 2 CPUs each, so the script runs a pool of 2 writers.
    const env = scriptEnv(list, archive);
    const t0 = performance.now();
    const jobs = await Promise.all([0, 1, 2, 3].map((i) => sbatchWait([`--array=${i}`, "--cpus-per-task=2", SCRIPT, "--shard", `${i}/4`, "-v"], dir, env)));
    const seconds = (performance.now() - t0) / 1000;
    const all = jobs.flatMap((j) => [...taskRecords(jobcomp, j.jobId).values()]);
    console.log(
      `slurm: 4 one-task arrays with --shard, 13 files (1 refused), ${seconds.toFixed(1)} s ` +
        `(first start to last end ${all.length ? span(all) : "?"} s by slurmctld; backend ${BACKEND})`,
    );

    for (let i = 0; i < 4; i++) {
      const job = jobs[i]!;
      const mineAll = share(files, i, 4);
      const failing = i === badShare;
      assert.equal(job.status, failing ? 5 : 0, `sbatch --wait for share ${i} exited ${job.status}:\n${job.stderr}`);
      const records = taskRecords(jobcomp, job.jobId);
      assert.deepEqual([...records.keys()], [i]);
      const rec = records.get(i)!;
      assert.deepEqual([rec.state, rec.exitCode, rec.cpus], failing ? ["FAILED", 5, 2] : ["COMPLETED", 0, 2], `share ${i}: ${JSON.stringify(rec)}`);
      const log = readFileSync(path.join(dir, `zarrio-${job.jobId}_${i}.out`), "utf8");
      assert.match(log, new RegExp(`^task ${i} of 1 on .*, 2 writer\\(s\\)$`, "m"), log);
      assert.match(log, new RegExp(`^zarrio \\S+ \\(${BACKEND} backend`, "m"), log);
      const n = mineAll.length;
      assert.match(
        log,
        new RegExp(`${failing ? n - 1 : n} of ${n} file\\(s\\) written by ${Math.min(2, shareOf(files, i, 4).groups)} writer\\(s\\) in [\\d.]+ s \\(shard ${i}/4 from --shard: ${n} of 13 files\\)${failing ? "; 1 failed; " : "; "}`),
        log,
      );
      assert.deepEqual(wroteIn(log).sort(), mineAll.filter((f) => f !== bad), `share ${i}:\n${log}`);
      if (failing) assert.match(log, /1 file\(s\) failed:\n {2}\S*shifted\.nc: RegionError: .*not on the archive's time axis/, log);
    }

    assertMatchesSources(archive, days);
    validate(archive, days);
  });
});
