/**
 * A writer process of `write-region --jobs N` (forked by writeRegions, see runWorkers in
 * pipeline/batch.ts): it takes the run's settings once, then writes one file per request and
 * reports back over IPC — log records as they happen, then the outcome.
 */
import type { WorkerMessage } from "../pipeline/batch.js";
import { resolveConfig, type Layer } from "../config/resolve.js";
import type { ZarrConverterConfig } from "../config/model.js";
import { ZarrioError } from "../errors.js";
import { Logger } from "../log.js";
import { drainS3Counts } from "../s3/session.js";
import { writeRegion } from "./write-region.js";

type Request = { type: "init"; config: Layer; target: string } | { type: "write"; item: string };

const send = (m: WorkerMessage) => process.send!(m);
let settings: { config: ZarrConverterConfig; target: string; log: Logger } | undefined;

process.on("message", async (m: Request) => {
  if (m.type === "init") {
    const config = resolveConfig(m.config);
    const log = new Logger({
      level: config.logging.level,
      format: "json",
      sink: (line) => {
        const { level, message, time: _time, ...fields } = JSON.parse(line) as Record<string, unknown>;
        send({ type: "log", level: String(level), message: String(message), fields });
      },
    });
    settings = { config, target: m.target, log };
    return;
  }
  try {
    await writeRegion(m.item, settings!.target, settings!.config, { log: settings!.log });
    send({ type: "done", ok: true, exitCode: 0, s3: drainS3Counts() });
  } catch (e) {
    const known = e instanceof ZarrioError;
    send({ type: "done", ok: false, exitCode: known ? e.exitCode : 1, error: known ? e.name : "Error", message: (e as Error)?.message ?? String(e), s3: drainS3Counts() });
  }
});
// The parent disconnects when it has no more files for this writer.
process.on("disconnect", () => process.exit(0));
