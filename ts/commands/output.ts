/**
 * A new archive is built beside its final path and renamed into place only when complete, so a
 * failed or interrupted run never leaves something that looks like a finished archive.
 */
import { existsSync, promises as fs } from "node:fs";
import path from "node:path";

import { ConfigError, StoreError } from "../errors.js";
import { LOCKS, TEMP } from "../zarr/store.js";

export interface PendingOutput {
  /** Where to write now. */
  staging: string;
  /** Rename into place; removes an overwritten archive only after the new one is in place. */
  commit(): Promise<void>;
  /** Remove the staging directory after a failure. */
  abandon(): Promise<void>;
}

export async function prepareOutput(output: string, overwrite: boolean): Promise<PendingOutput> {
  const target = path.resolve(output);
  if (existsSync(target) && !overwrite) {
    throw new ConfigError(`${output} already exists; pass --overwrite (overwrite: true) to replace it`, "output");
  }
  const staging = `${target}.zarrio-partial-${process.pid}`;
  await fs.rm(staging, { recursive: true, force: true });
  await fs.mkdir(staging, { recursive: true });
  return {
    staging,
    async commit() {
      // The writers' scratch folders are of no use in a finished archive.
      await fs.rm(path.join(staging, TEMP), { recursive: true, force: true });
      await fs.rm(path.join(staging, LOCKS), { recursive: true, force: true });
      const old = `${target}.zarrio-old-${process.pid}`;
      try {
        if (existsSync(target)) await fs.rename(target, old);
        await fs.rename(staging, target);
        await fs.rm(old, { recursive: true, force: true });
      } catch (e) {
        throw new StoreError(`cannot move the finished archive into place: ${(e as Error).message}`, { file: output, cause: e });
      }
    },
    async abandon() {
      await fs.rm(staging, { recursive: true, force: true });
    },
  };
}
