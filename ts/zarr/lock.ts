/**
 * Per-key locks on a filesystem, shared by every process (and every machine mounting the same
 * filesystem) that writes an archive. Writers whose regions share a chunk merge it under its lock,
 * so none loses another's data.
 *
 * A lock is a directory `<locks>/<key>` holding exactly one file, `<token>.owner`, naming its
 * holder (host, boot, pid namespace, pid, a random token). The protocol needs only three atomic
 * filesystem operations, which local filesystems and NFS provide:
 *
 * - acquire: build `<locks>/.new-<token>/<token>.owner`, then `rename` it onto `<locks>/<key>`.
 *   The rename fails while the lock directory exists and is not empty, so exactly one contender
 *   wins, and a holder's directory is never seen without its owner file.
 * - release: `unlink` the owner file (this is the release), then `rmdir` the empty directory. An
 *   empty lock directory therefore means "free", and removing one is always safe: `rmdir` cannot
 *   remove a directory that has an owner file.
 * - take over a stale lock: `unlink` the stale holder's owner file. That file's name carries the
 *   holder's token, so the unlink can only succeed once, and only on that holder's lock: two
 *   processes that both judge a lock stale cannot both break it, and neither can break the fresh
 *   lock the other takes next. (Renaming the lock away, as a simpler scheme would, can move a
 *   fresh lock taken a moment earlier by another contender, letting two writers in at once.)
 *
 * Stale means: the holder ran on this machine (same host name, boot and pid namespace — a pid is
 * meaningless across containers that share a host name) and its pid is gone, or its owner file
 * has not been touched for `staleMs` (holders touch it every `staleMs / 4`, so only a holder on
 * another machine that died, or one frozen for that long, goes stale). A holder whose lock was
 * taken over anyway finds its owner file gone at release and raises a StoreError, so such a write
 * is reported, never silently lost.
 */
import { promises as fs, readFileSync, readlinkSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";

import { StoreError } from "../errors.js";

interface Owner {
  host: string;
  boot: string;
  pidns: string;
  pid: number;
  token: string;
  since: number;
}

/** What identifies this machine and pid namespace; pids are only comparable when all match. */
const machine = (() => {
  let cached: { host: string; boot: string; pidns: string } | undefined;
  return () => {
    if (cached) return cached;
    const read = (f: () => string) => {
      try {
        return f().trim();
      } catch {
        return "";
      }
    };
    cached = {
      host: os.hostname(),
      boot: read(() => readFileSync("/proc/sys/kernel/random/boot_id", "utf8")),
      pidns: read(() => readlinkSync("/proc/self/ns/pid")),
    };
    return cached;
  };
})();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function code(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException)?.code;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return code(e) === "EPERM";
  }
}

export interface LockOptions {
  /** Directory that holds the locks. */
  dir: string;
  /** A lock untouched this long is stale (its holder is gone or frozen). */
  staleMs: number;
  /** For messages. */
  location: string;
}

/** Lock names are keys with every character a filename could mind escaped. */
function lockName(key: string): string {
  return encodeURIComponent(key).replaceAll(".", "%2E");
}

export async function withFileLock<T>(key: string, opts: LockOptions, fn: () => Promise<T>): Promise<T> {
  const lock = path.join(opts.dir, lockName(key));
  const token = `${process.pid.toString(36)}-${randomBytes(8).toString("hex")}`;
  const ownerFile = path.join(lock, `${token}.owner`);
  const owner: Owner = { ...machine(), pid: process.pid, token, since: Date.now() };
  const fail = (what: string, e: unknown) =>
    new StoreError(`cannot ${what} the lock of '${key}': ${(e as Error).message}`, { file: opts.location, cause: e });

  const candidate = path.join(opts.dir, `.new-${token}`);
  try {
    await fs.mkdir(candidate, { recursive: true });
    await fs.writeFile(path.join(candidate, `${token}.owner`), JSON.stringify(owner));
  } catch (e) {
    throw fail("prepare", e);
  }
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await fs.rename(candidate, lock);
        break;
      } catch (e) {
        // ENOTEMPTY/EEXIST: held. EPERM/EACCES/EISDIR: Windows will not rename onto an existing
        // (even empty) directory.
        if (!["ENOTEMPTY", "EEXIST", "EPERM", "EACCES", "EISDIR"].includes(code(e) ?? "")) throw fail("take", e);
      }
      if (await breakIfFree(lock, opts)) continue;
      await sleep(Math.min(100, 2 * 2 ** Math.min(attempt, 6)) * (0.5 + Math.random()));
    }
  } catch (e) {
    await fs.rm(candidate, { recursive: true, force: true }).catch(() => {});
    throw e;
  }

  const heartbeat = setInterval(() => {
    const now = new Date();
    fs.utimes(ownerFile, now, now).catch(() => {});
  }, Math.max(50, opts.staleMs / 4));
  heartbeat.unref();
  let result: T | undefined;
  let failure: { error: unknown } | undefined;
  try {
    result = await fn();
  } catch (error) {
    failure = { error };
  }
  clearInterval(heartbeat);
  let lost = false;
  try {
    await fs.unlink(ownerFile);
  } catch (e) {
    if (code(e) !== "ENOENT") throw fail("release", e);
    lost = true;
  }
  await fs.rmdir(lock).catch(() => {});
  if (failure) throw failure.error;
  if (lost) {
    // Not silent: whatever was merged under this lock may have raced with another writer.
    throw new StoreError(
      `the lock of '${key}' was taken over while held (this process was judged stale after ${opts.staleMs} ms); write it again`,
      { file: opts.location },
    );
  }
  return result as T;
}

/**
 * The lock is held by someone: remove it if it is in fact free (empty) or stale. True when the
 * caller should try to take it again at once.
 */
async function breakIfFree(lock: string, opts: LockOptions): Promise<boolean> {
  let entries: string[];
  try {
    entries = await fs.readdir(lock);
  } catch (e) {
    if (code(e) === "ENOENT") return true;
    throw new StoreError(`cannot inspect the lock ${lock}: ${(e as Error).message}`, { file: opts.location, cause: e });
  }
  const owners = entries.filter((n) => n.endsWith(".owner"));
  if (!owners.length) {
    // Released (or broken) and not yet removed: an empty lock directory is free.
    await fs.rmdir(lock).catch(() => {});
    return true;
  }
  for (const name of owners) {
    const file = path.join(lock, name);
    let info: Partial<Owner> = {};
    let touched: number;
    try {
      touched = (await fs.stat(file)).mtimeMs;
      info = JSON.parse(await fs.readFile(file, "utf8")) as Owner;
    } catch (e) {
      if (code(e) === "ENOENT") return true;
      // Unparseable: written before the rename, so never partial; judge it by age alone.
      touched = (await fs.stat(file).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs;
    }
    const here = machine();
    const sameMachine = info.host === here.host && info.boot === here.boot && info.pidns === here.pidns;
    const dead = sameMachine && typeof info.pid === "number" && !processAlive(info.pid);
    const old = Date.now() - touched > opts.staleMs;
    if (!dead && !old) return false;
    try {
      await fs.unlink(file);
    } catch (e) {
      if (code(e) === "ENOENT") return true;
      throw new StoreError(`cannot take over the stale lock ${lock}: ${(e as Error).message}`, { file: opts.location, cause: e });
    }
    await fs.rmdir(lock).catch(() => {});
    return true;
  }
  return false;
}
