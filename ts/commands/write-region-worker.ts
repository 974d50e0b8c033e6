/**
 * A writer process of `write-region --jobs N` (forked by writeRegions, see runWorkers in
 * pipeline/batch.ts): it takes the run's settings once and opens the archive once, then writes
 * one group of files (files that fill the same chunks) per request and reports back over IPC —
 * log records as they happen, one outcome per file, then the group's figures.
 */
import type { WorkerMessage } from "../pipeline/batch.js";
import { loadBackend } from "../backend/index.js";
import { resolveConfig, type Layer } from "../config/resolve.js";
import { collectBetweenManyFiles } from "../heap.js";
import { Logger } from "../log.js";
import { drainS3Counts } from "../s3/session.js";
import { openBatch, writeGroup, type BatchContext } from "./write-region.js";

type Request = { type: "init"; config: Layer; target: string } | { type: "write"; items: string[] };

collectBetweenManyFiles();
const send = (m: WorkerMessage) => process.send!(m);
let init: Extract<Request, { type: "init" }> | undefined;
let context: Promise<BatchContext> | undefined;
const warned = { chunking: true }; // the parent has said it once

process.on("message", async (m: Request) => {
  if (m.type === "init") {
    init = m;
    return;
  }
  const config = resolveConfig(init!.config);
  const log = new Logger({
    level: config.logging.level,
    format: "json",
    sink: (line) => {
      const { level, message, time: _time, ...fields } = JSON.parse(line) as Record<string, unknown>;
      send({ type: "log", level: String(level), message: String(message), fields });
    },
  });
  const report = (o: { file: string; failure?: { error: string; message: string; exitCode: number } }) =>
    send({ type: "done", item: o.file, ok: !o.failure, exitCode: o.failure?.exitCode ?? 0, error: o.failure?.error, message: o.failure?.message });
  let stats: unknown = null;
  try {
    context ??= loadBackend().then((backend) => openBatch(init!.target, config, log, backend));
    stats = await writeGroup(await context, m.items, report, warned);
  } catch (e) {
    // The archive itself could not be opened: every file of the group fails with it.
    context = undefined;
    const err = e as Error;
    for (const file of m.items) report({ file, failure: { error: err?.name ?? "Error", message: err?.message ?? String(e), exitCode: (e as { exitCode?: number }).exitCode ?? 1 } });
  }
  send({ type: "finished", stats, s3: drainS3Counts() });
});
// The parent disconnects when it has no more groups for this writer.
process.on("disconnect", () => process.exit(0));
