/**
 * The stress harness in the suite (issue #20): a fixed-seed sample of randomized runs on a
 * filesystem and on S3 through the fault proxy (test/stress/), every saved regression case
 * replayed, and the proof that the harness's checks catch a lost chunk. The full runs are
 * `npm run stress -- --runs 1000` (results in test/results/).
 */
import test, { after, before, describe } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";

import { openStore } from "../ts/index.js";
import { BACKEND, outDir } from "./helpers.js";
import { CASES, PythonHelper, runScenario, type Outcome, type Target } from "./stress/runner.js";
import { describe as describeScenario, drawScenario, shrinkCandidates, type Scenario } from "./stress/scenario.js";
import { fsTarget, s3Target } from "./stress/targets.js";

const failures = (o: Outcome) => `seed ${o.seed}:\n  ${o.problems.join("\n  ")}`;

describe(`stress sample [${BACKEND}]`, () => {
  let fs: Target & { stop(): Promise<void> };
  let py: PythonHelper;
  before(async () => {
    fs = await fsTarget(outDir("stress-fs"));
    py = new PythonHelper();
  });
  after(async () => {
    py?.close();
    await fs?.stop();
  });

  test("scenarios are drawn from their seed alone, and shrink to smaller ones", () => {
    assert.deepEqual(drawScenario(42), drawScenario(42));
    assert.notDeepEqual(drawScenario(42), drawScenario(43));
    // Over many seeds the draws cover what the harness promises.
    const many = Array.from({ length: 300 }, (_, i) => drawScenario(i + 1));
    for (const [what, has] of [
      ["Zarr v2", (s: Scenario) => s.format === 2],
      ["sharded", (s: Scenario) => !!s.shards],
      ["packed", (s: Scenario) => s.vars.includes("level")],
      ["16 writers", (s: Scenario) => s.writers.length === 16],
      ["40 files", (s: Scenario) => s.steps.length === 40],
      ["kills", (s: Scenario) => s.kills.length > 1],
      ["truncated file", (s: Scenario) => s.bad?.kind === "truncated"],
      ["file on another grid", (s: Scenario) => s.bad?.kind === "grid"],
    ] as const) {
      assert.ok(many.some(has), `no draw has ${what}`);
    }
    for (const s of many.filter((s) => s.steps.length > 3).slice(0, 20)) {
      for (const c of shrinkCandidates(s)) {
        assert.ok(c.steps.length <= s.steps.length && c.writers.length <= s.writers.length, describeScenario(c));
        // Every file of the smaller scenario is written by exactly one writer.
        assert.deepEqual(c.writers.flat().sort((a, b) => a - b), c.steps.map((_, i) => i));
        assert.ok(c.kills.every((k) => k.writer < c.writers.length));
      }
    }
  });

  test("the checks catch a lost chunk: a stored object deleted after the writers fails the run", async () => {
    const s: Scenario = { ...drawScenario(5), kills: [], bad: undefined };
    const o = await runScenario(s, fs, py, async (archive) => {
      const store = openStore(archive);
      const chunk = (await store.list()).find((k) => /^(salinity|temperature|level)\/(c\/)?\d/.test(k));
      assert.ok(chunk, "a chunk to delete");
      await store.delete(chunk);
    });
    assert.equal(o.ok, false);
    assert.ok(o.problems.some((p) => p.startsWith("validate")), o.problems.join("\n"));
    assert.ok(o.problems.some((p) => p.startsWith("xarray")), o.problems.join("\n"));
  });

  test("14 fixed seeds on a filesystem: nothing lost, killed writers completed by a rerun, bad files refused without a trace", async () => {
    // Seeds 1001-1013, and 1054 (writers killed while one of them holds a truncated file).
    const seeds = [...Array.from({ length: 13 }, (_, i) => 1001 + i), 1054];
    const scenarios = seeds.map((seed) => drawScenario(seed));
    for (const [what, has] of [
      ["Zarr v2", (s: Scenario) => s.format === 2],
      ["sharded", (s: Scenario) => !!s.shards],
      ["several writers", (s: Scenario) => s.writers.length > 1],
      ["a bad file alone", (s: Scenario) => !!s.bad && s.bad.writer === undefined],
      ["a bad file in a list", (s: Scenario) => s.bad?.writer !== undefined],
    ] as const) {
      assert.ok(scenarios.some(has), `the sample has ${what}`);
    }
    const outcomes: Outcome[] = [];
    for (const s of scenarios) outcomes.push(await runScenario(s, fs, py));
    assert.deepEqual(outcomes.filter((o) => !o.ok).map(failures), []);
    assert.ok(outcomes.reduce((n, o) => n + o.killed, 0) > 0, "some writers were killed");
  });

  test("4 fixed seeds on S3 through the fault proxy (503s, cut connections)", async () => {
    const s3 = await s3Target(outDir("stress-s3"));
    const saved = { ...process.env };
    Object.assign(process.env, s3.env);
    const pys3 = new PythonHelper(s3.env);
    try {
      const outcomes: Outcome[] = [];
      for (let seed = 2001; seed <= 2004; seed++) {
        outcomes.push(await runScenario(drawScenario(seed, true), s3, pys3));
      }
      assert.deepEqual(outcomes.filter((o) => !o.ok).map(failures), []);
      assert.ok(outcomes.some((o) => (o.s3?.slowDowns ?? 0) + (o.s3?.cuts ?? 0) > 0), "faults were injected");
    } finally {
      pys3.close();
      await s3.stop();
      process.env = saved;
    }
  });

  test("every saved regression case (test/stress/cases/) passes", async () => {
    const cases = existsSync(CASES) ? readdirSync(CASES).filter((f) => f.endsWith(".json")) : [];
    for (const name of cases) {
      const s = JSON.parse(readFileSync(path.join(CASES, name), "utf8")) as Scenario & { store?: string };
      if (s.store === "s3") continue; // replayed with its store by `npm run stress -- --replay`
      const o = await runScenario(s, fs, py);
      assert.ok(o.ok, `${name}: ${failures(o)}`);
    }
  });
});
