/**
 * Where a new archive (convert, create-template) is written until it is complete, so that a failed
 * or interrupted run never leaves something that looks like a finished archive.
 *
 * - A folder is built beside its final path and renamed into place; an archive it replaces is
 *   removed only after the new one is in place.
 * - In an object store nothing can be renamed: the archive is written at its final prefix, but the
 *   root group's documents (which every reader opens first) are held back and written last, at
 *   commit. With `overwrite`, the old archive's root documents go first (so it stops looking
 *   complete), and its keys that the new archive did not rewrite go at commit.
 */
import { existsSync, promises as fs } from "node:fs";
import path from "node:path";

import { ConfigError, StoreError } from "../errors.js";
import type { Store } from "../zarr/contract.js";
import { HeldRootStore, ROOT_DOCS } from "../zarr/held-root-store.js";
import { openStore, type StoreOptions } from "../zarr/open.js";
import { isS3Url } from "../s3/url.js";
import { FsStore, LOCKS, TEMP } from "../zarr/store.js";

export interface PendingOutput {
  /** Where to write now. */
  store: Store;
  /** Make the finished archive visible. */
  commit(): Promise<void>;
  /** Remove what was written after a failure. */
  abandon(): Promise<void>;
}

export async function prepareOutput(output: string, overwrite: boolean, options: StoreOptions = {}): Promise<PendingOutput> {
  return isS3Url(output) ? prepareObjectOutput(output, overwrite, options) : prepareFolderOutput(output, overwrite);
}

const exists = (output: string) => new ConfigError(`${output} already exists; pass --overwrite (overwrite: true) to replace it`, "output");

async function prepareFolderOutput(output: string, overwrite: boolean): Promise<PendingOutput> {
  const target = path.resolve(output);
  if (existsSync(target) && !overwrite) throw exists(output);
  const staging = `${target}.zarrio-partial-${process.pid}`;
  await fs.rm(staging, { recursive: true, force: true });
  await fs.mkdir(staging, { recursive: true });
  return {
    store: new FsStore(staging),
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


async function prepareObjectOutput(output: string, overwrite: boolean, options: StoreOptions): Promise<PendingOutput> {
  const target = openStore(output, options);
  const old = await target.list();
  if (old.length && !overwrite) throw exists(output);
  // The old archive stops looking complete before any of its chunks is replaced.
  for (const key of ROOT_DOCS) if (old.includes(key)) await target.delete(key);
  const store = new HeldRootStore(target);
  return {
    store,
    async commit() {
      await store.flush();
      const keep = new Set(store.written);
      await Promise.all(old.filter((k) => !keep.has(k) && !ROOT_DOCS.includes(k)).map((k) => target.delete(k)));
    },
    async abandon() {
      await Promise.all([...store.written].map((k) => target.delete(k).catch(() => {})));
    },
  };
}
