/**
 * V8's young generation in zarrio's processes (ts/heap.ts): a long run that keeps objects grows
 * it to 2 × 16 MiB unless held; held, it stops at 2 MiB. Each case runs in its own process, as
 * the CLI does, with the same work: 600,000 small objects kept, the event loop turning between
 * batches (where the CLI awaits its I/O).
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const heap = fileURLToPath(new URL("../dist/heap.js", import.meta.url));

function youngGeneration(args: { hold: boolean; nodeOptions?: string }): number {
  const script = `
    import v8 from "node:v8";
    import { holdYoungGeneration } from ${JSON.stringify(heap)};
    if (${args.hold}) holdYoungGeneration();
    const kept = [];
    for (let i = 0; i < 600000; i++) {
      kept.push({ i, text: "step " + i });
      if (i % 2000 === 0) await new Promise((r) => setImmediate(r));
    }
    const young = v8.getHeapSpaceStatistics().find((s) => s.space_name === "new_space").space_size;
    console.log(JSON.stringify({ young, kept: kept.length }));
  `;
  const env = { ...process.env, NODE_OPTIONS: args.nodeOptions ?? "" };
  const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], { env, encoding: "utf8" });
  const { young, kept } = JSON.parse(out) as { young: number; kept: number };
  assert.equal(kept, 600000);
  return young;
}

const MiB = 2 ** 20;

describe("the young generation (heap.ts)", () => {
  it("grows past 8 MiB in a long run left alone, and stops at 2 MiB when held", () => {
    const free = youngGeneration({ hold: false });
    const held = youngGeneration({ hold: true });
    assert.ok(free > 8 * MiB, `left alone it should grow past 8 MiB (the work is meant to make it grow): ${free / MiB} MiB`);
    assert.ok(held <= 2 * MiB, `held, it should stay at 2 MiB: ${held / MiB} MiB`);
  });

  it("leaves a size the user set in NODE_OPTIONS alone", () => {
    const young = youngGeneration({ hold: true, nodeOptions: "--max-semi-space-size=32" });
    assert.ok(young > 8 * MiB, `the user's --max-semi-space-size=32 should let it grow past 8 MiB: ${young / MiB} MiB`);
  });
});

/**
 * Full (mark-compact) collections in a run that keeps 400,000 small objects and drops many more,
 * some after they were promoted to the old generation.
 */
function fullCollections(prompt: boolean): number {
  const script = `
    import { PerformanceObserver, constants } from "node:perf_hooks";
    import { collectPromptly } from ${JSON.stringify(heap)};
    if (${prompt}) collectPromptly({}, []);
    let full = 0;
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) if (e.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) full++;
    }).observe({ entryTypes: ["gc"] });
    const kept = [];
    let recent = [];
    for (let i = 0; i < 400000; i++) {
      kept.push({ i });
      recent.push({ i, text: "step " + i, more: [i, i + 1, i + 2] });
      if (recent.length > 20000) recent = [];
      if (i % 2000 === 0) await new Promise((r) => setImmediate(r));
    }
    await new Promise((r) => setTimeout(r, 10));
    console.log(JSON.stringify({ full, kept: kept.length }));
  `;
  const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], { env: { ...process.env, NODE_OPTIONS: "" }, encoding: "utf8" });
  const { full, kept } = JSON.parse(out) as { full: number; kept: number };
  assert.equal(kept, 400000);
  return full;
}

describe("full collections that come sooner (heap.ts collectPromptly)", () => {
  it("brings full collections sooner than V8 left alone", () => {
    // Measured, idle and with both cores busy: 1 left alone, 3 to 6 collected promptly.
    const alone = Math.max(fullCollections(false), fullCollections(false));
    const prompt = Math.min(fullCollections(true), fullCollections(true));
    assert.ok(prompt > alone, `full collections: ${prompt} collected promptly, ${alone} left alone`);
  });

  it("writer processes get the same, unless the user chose a size mode or semi-space size", async () => {
    const { workerV8Flags } = await import("../dist/heap.js");
    assert.deepEqual(workerV8Flags({}, []), ["--max-semi-space-size=2", "--optimize-for-size"]);
    assert.deepEqual(workerV8Flags({}, ["--no-optimize-for-size"]), ["--max-semi-space-size=2"]);
    assert.deepEqual(workerV8Flags({ NODE_OPTIONS: "--max-semi-space-size=16" }, []), ["--optimize-for-size"]);
  });
});

/** Full collections while `files` files are said done (pipeline/collect.ts), the CLI's collector offered or not. */
function collectionsOverFiles(files: number, offered: boolean): number {
  const collect = fileURLToPath(new URL("../dist/pipeline/collect.js", import.meta.url));
  const script = `
    import { PerformanceObserver, constants } from "node:perf_hooks";
    import { collectBetweenManyFiles } from ${JSON.stringify(heap)};
    import { fileDone } from ${JSON.stringify(collect)};
    if (${offered}) collectBetweenManyFiles();
    let full = 0;
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) if (e.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) full++;
    }).observe({ entryTypes: ["gc"] });
    for (let i = 0; i < ${files}; i++) {
      fileDone();
      if (i % 500 === 0) await new Promise((r) => setImmediate(r));
    }
    await new Promise((r) => setTimeout(r, 10));
    console.log(JSON.stringify({ full, gc: typeof globalThis.gc }));
  `;
  const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], { env: { ...process.env, NODE_OPTIONS: "" }, encoding: "utf8" });
  const { full, gc } = JSON.parse(out) as { full: number; gc: string };
  assert.equal(gc, "undefined", "the collector is not left on the global object");
  return full;
}

describe("full collections every few thousand files (pipeline/collect.ts)", () => {
  it("the CLI's processes collect every 2,000 files; a library's host is left alone", () => {
    assert.equal(collectionsOverFiles(10_000, true), 5);
    assert.equal(collectionsOverFiles(10_000, false), 0);
  });
});
