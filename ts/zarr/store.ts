/**
 * Stores: where an archive's keys live. Each is a small get/set/delete interface (like zarrita's)
 * plus the one thing concurrent writers need: a per-key lock.
 *
 * `FsStore` writes every key atomically (a temporary file renamed into place), so a reader or a
 * writer killed midway never leaves a half-written chunk. Its locks live under `.zarrio-locks/`
 * (protocol in `zarr/lock.ts`); a lock whose holder died (same machine, pid gone) or went silent
 * for `staleMs` is taken over, so a SIGKILLed writer cannot block the archive.
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import { randomBytes } from "node:crypto";

import { StoreError } from "../errors.js";
import { withFileLock } from "./lock.js";

/** The folder of an archive that holds its locks (never part of the Zarr hierarchy). */
export const LOCKS = ".zarrio-locks";

export interface Store {
  /** A human name for messages (a path or URL). */
  readonly location: string;
  get(key: string): Promise<Uint8Array | undefined>;
  set(key: string, value: Uint8Array): Promise<void>;
  delete(key: string): Promise<void>;
  has(key: string): Promise<boolean>;
  /** Every key under `prefix` (recursive). */
  list(prefix?: string): Promise<string[]>;
  /** Run `fn` while holding the lock of `key` (exclusive across processes using the store). */
  withLock<T>(key: string, fn: () => Promise<T>): Promise<T>;
}

export class FsStore implements Store {
  readonly location: string;
  constructor(
    readonly root: string,
    private readonly staleMs = 2 * 60_000,
  ) {
    this.location = root;
  }

  private file(key: string): string {
    if (key.split("/").some((p) => p === ".." )) throw new StoreError(`bad key '${key}'`, { file: this.root });
    return path.join(this.root, ...key.split("/"));
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      return await fs.readFile(this.file(key));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw new StoreError(`cannot read '${key}': ${(e as Error).message}`, { file: this.root, cause: e });
    }
  }

  async set(key: string, value: Uint8Array): Promise<void> {
    const target = this.file(key);
    const tmp = `${target}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
    try {
      await fs.mkdir(path.dirname(target), { recursive: true });
      await fs.writeFile(tmp, value);
      await fs.rename(tmp, target);
    } catch (e) {
      await fs.rm(tmp, { force: true }).catch(() => {});
      throw new StoreError(`cannot write '${key}': ${(e as Error).message}`, { file: this.root, cause: e });
    }
  }

  async delete(key: string): Promise<void> {
    await fs.rm(this.file(key), { force: true, recursive: true });
  }

  async has(key: string): Promise<boolean> {
    try {
      await fs.access(this.file(key));
      return true;
    } catch {
      return false;
    }
  }

  async list(prefix = ""): Promise<string[]> {
    const base = prefix ? this.file(prefix) : this.root;
    const out: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries: import("node:fs").Dirent[];
      try {
        entries = await fs.readdir(dir, { withFileTypes: true });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
        throw e;
      }
      for (const entry of entries) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) {
          if (entry.name !== LOCKS) await walk(full);
        } else if (!entry.name.includes(".tmp-")) {
          out.push(path.relative(this.root, full).split(path.sep).join("/"));
        }
      }
    };
    await walk(base);
    return out.sort();
  }

  /** See zarr/lock.ts for the protocol and why it is safe. */
  withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    return withFileLock(key, { dir: path.join(this.root, LOCKS), staleMs: this.staleMs, location: this.root }, fn);
  }
}

/** An in-memory store (browsers, serverless, tests). Locks are in-process. */
export class MemoryStore implements Store {
  readonly location = "memory://";
  readonly map = new Map<string, Uint8Array>();
  private readonly locks = new Map<string, Promise<void>>();

  async get(key: string): Promise<Uint8Array | undefined> {
    return this.map.get(key);
  }
  async set(key: string, value: Uint8Array): Promise<void> {
    this.map.set(key, value);
  }
  async delete(key: string): Promise<void> {
    for (const k of [...this.map.keys()]) if (k === key || k.startsWith(key + "/")) this.map.delete(k);
  }
  async has(key: string): Promise<boolean> {
    return this.map.has(key);
  }
  async list(prefix = ""): Promise<string[]> {
    return [...this.map.keys()].filter((k) => !prefix || k.startsWith(prefix.endsWith("/") ? prefix : prefix + "/")).sort();
  }
  async withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    while (this.locks.has(key)) await this.locks.get(key);
    let release!: () => void;
    this.locks.set(key, new Promise<void>((r) => (release = r)));
    try {
      return await fn();
    } finally {
      this.locks.delete(key);
      release();
    }
  }
}

/** zarrita reads stores through `get("/key")`: adapt ours for it. */
export function asZarritaStore(store: Store): { get(key: string): Promise<Uint8Array | undefined> } {
  return { get: (key: string) => store.get(key.replace(/^\//, "")) };
}
