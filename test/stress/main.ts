/**
 * The randomized stress harness for the parallel-writer guarantees (issue #20).
 *
 *   npm run stress -- --runs 1000 [--store fs|s3|both] [--seed S] [--out DIR] [--no-shrink]
 *   npm run stress -- --replay test/stress/cases/<name>.json     one saved case, on its store
 *
 * Run i uses seed S + i (default S = 1): a random archive (Zarr v2/v3, sharded or not, 1–3
 * variables, packed or not, chunks and shards misaligned to the files), 1–40 files of 1–30
 * steps, 1–16 writer processes in random order, SIGKILLs at random moments followed by reruns,
 * a bad file, and on S3 503s and cut connections from the fault proxy (scenario.ts). Each run is
 * checked by validate (with the sources) and by xarray on every value (runner.ts).
 *
 * A failing run prints its seed, is shrunk to the smallest scenario that still fails (fewer
 * faults, variables, writers, files), and is saved in test/stress/cases/, which the test suite
 * replays. Results: test/results/<date>-stress-<store>.md (+ .json).
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

import { ROOT } from "../helpers.js";
import { CASES, PythonHelper, runScenario, type Outcome, type Target } from "./runner.js";
import { fsTarget, s3Target } from "./targets.js";
import { describe, drawScenario, shrinkCandidates, type Scenario } from "./scenario.js";

const arg = (name: string, def?: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : def;
};
const runs = Number(arg("runs", "20"));
const first = Number(arg("seed", "1"));
const replay = arg("replay");
const replayed = replay ? (JSON.parse(readFileSync(replay, "utf8")) as Scenario & { store?: "fs" | "s3" }) : undefined;
const store = replayed?.store ?? arg("store", "fs");
const stores = (store === "both" ? ["fs", "s3"] : [store]) as ("fs" | "s3")[];
const work = path.resolve(arg("out", path.join(os.tmpdir(), "zarrio-stress"))!);
const shrink = !process.argv.includes("--no-shrink");

type Runner = Target & { stop(): Promise<void> };

const once = (s: Scenario, target: Runner, py: PythonHelper): Promise<Outcome> => runScenario(s, target, py);

/** The smallest scenario that still fails (each candidate tried twice: timing decides some failures). */
async function shrinkFailure(s: Scenario, target: Runner, py: PythonHelper): Promise<{ scenario: Scenario; outcome: Outcome }> {
  let best = s;
  let outcome = await once(s, target, py);
  for (let round = 0; round < 30; round++) {
    let smaller: Scenario | undefined;
    for (const c of shrinkCandidates(best)) {
      for (let attempt = 0; attempt < 2 && !smaller; attempt++) {
        const o = await once(c, target, py);
        if (!o.ok) [smaller, outcome] = [c, o];
      }
      if (smaller) break;
    }
    if (!smaller) break;
    best = smaller;
    console.log(`  shrunk to: ${describe(best)}`);
  }
  return { scenario: best, outcome };
}

async function main(): Promise<void> {
  const started = new Date();
  let failed = 0;
  for (const store of stores) {
    const target: Runner = store === "fs" ? await fsTarget(path.join(work, "fs")) : await s3Target(path.join(work, "s3"));
    // The harness's own reads of the archive (openStore in runner.ts) and xarray's go to the same S3.
    Object.assign(process.env, target.env);
    const py = new PythonHelper(target.env);
    const outcomes: { scenario: Scenario; outcome: Outcome }[] = [];
    {
      try {
        const scenarios = replayed ? [replayed] : Array.from({ length: runs }, (_, i) => drawScenario(first + i, store === "s3"));
        for (const [i, scenario] of scenarios.entries()) {
          const outcome = await once(scenario, target, py);
          outcomes.push({ scenario, outcome });
          const mark = outcome.ok ? "ok  " : "FAIL";
          console.log(`[${store} ${i + 1}/${scenarios.length}] ${mark} seed ${scenario.seed} (${outcome.seconds.toFixed(1)} s): ${describe(scenario)}`);
          if (outcome.ok) continue;
          failed++;
          for (const p of outcome.problems) console.log(`    ${p}`);
          if (shrink && !replay) {
            const small = await shrinkFailure(scenario, target, py);
            mkdirSync(CASES, { recursive: true });
            const file = path.join(CASES, `${store}-seed-${scenario.seed}.json`);
            writeFileSync(file, JSON.stringify({ ...small.scenario, store, problems: small.outcome.problems.slice(0, 3) }, null, 2) + "\n");
            console.log(`    smallest failing scenario saved: ${path.relative(ROOT, file)} (replay: npm run stress -- --store ${store} --replay ${path.relative(ROOT, file)})`);
          }
        }
      } finally {
        py.close();
        await target.stop();
      }
      if (!replay) writeResults(store, started, outcomes);
    }
  }
  process.exitCode = failed ? 1 : 0;
}

/** The commit the runs tested (with "+changes" when the tree differs from it). */
function commit(): string {
  const git = (args: string[]) => spawnSync("git", args, { cwd: ROOT, encoding: "utf8" }).stdout.trim();
  return (git(["rev-parse", "--short", "HEAD"]) || "?") + (git(["status", "--porcelain", "--untracked-files=no"]) ? "+changes" : "");
}

function writeResults(store: string, started: Date, outcomes: { scenario: Scenario; outcome: Outcome }[]): void {
  const n = outcomes.length;
  const sum = (f: (x: { scenario: Scenario; outcome: Outcome }) => number) => outcomes.reduce((a, x) => a + f(x), 0);
  const failures = outcomes.filter((x) => !x.outcome.ok);
  const count = (p: (s: Scenario) => boolean) => outcomes.filter((x) => p(x.scenario)).length;
  const s3 = outcomes.map((x) => x.outcome.s3).filter(Boolean) as NonNullable<Outcome["s3"]>[];
  const lines = [
    `# zarrio stress runs (${store}) — ${started.toISOString().slice(0, 16).replace("T", " ")} UTC`,
    "",
    `${n} runs, seeds ${outcomes[0]?.scenario.seed}–${outcomes[n - 1]?.scenario.seed} (\`npm run stress -- --store ${store} --runs ${n} --seed ${outcomes[0]?.scenario.seed}\`), ` +
      `${os.cpus().length} cores, backend ${process.env.ZARRIO_BACKEND ?? "native"}, commit ${commit()}, ${(sum((x) => x.outcome.seconds) / 60).toFixed(1)} min.`,
    "",
    "| | runs |",
    "|---|---|",
    `| **failed** (a value lost or wrong, a writer failing, validate or xarray disagreeing, a refusal leaving a trace) | **${failures.length}** |`,
    `| Zarr v2 / v3 | ${count((s) => s.format === 2)} / ${count((s) => s.format === 3)} |`,
    `| sharded | ${count((s) => !!s.shards)} |`,
    `| with the packed int16 variable | ${count((s) => s.vars.includes("level"))} |`,
    `| several writers | ${count((s) => s.writers.length > 1)} (up to ${Math.max(...outcomes.map((x) => x.scenario.writers.length))}) |`,
    `| with SIGKILLs planned / writers actually killed, then rerun | ${count((s) => s.kills.length > 0)} / ${sum((x) => x.outcome.killed)} |`,
    `| with a bad file refused (truncated / other grid) | ${count((s) => s.bad?.kind === "truncated")} / ${count((s) => s.bad?.kind === "grid")} |`,
    `| files / time steps written | ${sum((x) => x.scenario.steps.length)} / ${sum((x) => x.scenario.steps.reduce((a, b) => a + b, 0))} |`,
    `| values compared by xarray | ${sum((x) => x.outcome.values).toLocaleString("en")} |`,
    ...(s3.length ? [`| S3 requests through the fault proxy / answered 503 / cut | ${s3.reduce((a, c) => a + c.requests, 0)} / ${s3.reduce((a, c) => a + c.slowDowns, 0)} / ${s3.reduce((a, c) => a + c.cuts, 0)} |`] : []),
    "",
    ...(failures.length ? ["## Failures", "", ...failures.flatMap((x) => [`- seed ${x.scenario.seed}: ${describe(x.scenario)}`, ...x.outcome.problems.slice(0, 3).map((p) => `  - ${p}`)])] : []),
  ];
  const dir = path.join(ROOT, "test", "results");
  mkdirSync(dir, { recursive: true });
  const base = path.join(dir, `${started.toISOString().slice(0, 10)}-stress-${store}`);
  writeFileSync(`${base}.md`, lines.join("\n") + "\n");
  writeFileSync(`${base}.json`, JSON.stringify(outcomes.map((x) => ({ ...x.outcome, scenario: describe(x.scenario) })), null, 1) + "\n");
  console.log(lines.slice(0, 18).join("\n"));
  console.log(`results: ${path.relative(ROOT, base)}.md`);
}

await main();
