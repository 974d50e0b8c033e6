/**
 * An archive in an S3 bucket (or any S3-compatible store): each key an object under a prefix.
 *
 * Safety between writers comes from conditional writes, not locks: `update` (the read-merge-write of
 * a chunk two files share) reads the object's ETag, writes with `If-Match` on it (or
 * `If-None-Match: *` when the chunk is new) and merges again when another writer got there first
 * (412/409). Chunks a file covers completely are plain PUTs, which S3 makes atomic. A store that
 * ignores the conditions is found by `safeUpdates` (a probe, once per process); write-region then
 * refuses regions that share chunks instead of racing.
 *
 * `withLock` (append's whole-archive lock) is a lease object created with `If-None-Match: *`,
 * renewed while held, and taken over with `If-Match` when its holder stopped renewing it.
 */
import { hostname } from "node:os";
import { randomBytes } from "node:crypto";

import { StoreError } from "../errors.js";
import type { Store } from "../zarr/contract.js";
import { KeyedMutex } from "../zarr/memory-store.js";
import { LOCKS } from "../zarr/store.js";
import { backoffMs, sleep, statusOf } from "./retry.js";
import { listKeys, NOT_HANDLED, type S3Session } from "./session.js";
import { parseS3Url, s3Url, type S3Location } from "./url.js";

/** Where the probe of conditional writes puts its object (never part of the hierarchy). */
const PROBE = ".zarrio-probe";
const CONFLICT = Symbol("conflict");

const isConflict = (e: unknown) => {
  const s = statusOf(e);
  return s === 412 || s === 409 || (e as Error)?.name === "PreconditionFailed" || (e as Error)?.name === "ConditionalRequestConflict";
};
const isMissing = (e: unknown) => statusOf(e) === 404 || ["NoSuchKey", "NotFound"].includes((e as Error)?.name);

export interface Versioned {
  bytes: Uint8Array;
  etag: string;
  /** The server's time of the last write. */
  modified?: Date;
}

export class S3Store implements Store {
  readonly location: string;
  /** A request's body is not used once it has answered (a timed-out attempt is aborted first). */
  readonly keepsNoValues = true;
  readonly root: S3Location;
  private readonly inProcess = new KeyedMutex();
  private probe?: Promise<boolean>;

  constructor(
    url: string,
    readonly session: S3Session,
    /** A lease not renewed for this long is taken over (its holder died). */
    private readonly staleMs = 2 * 60_000,
  ) {
    this.root = parseS3Url(url);
    this.location = s3Url(this.root);
  }

  private objectKey(key: string): string {
    if (key.split("/").some((p) => p === ".." || p === ".")) throw new StoreError(`bad key '${key}'`, { file: this.location });
    return [this.root.prefix, key].filter(Boolean).join("/");
  }

  private url(key: string): string {
    return s3Url(this.root, key);
  }

  /** The object and its ETag; undefined when absent. */
  getVersioned(key: string): Promise<Versioned | undefined> {
    const s = this.session;
    return s.send<Versioned | undefined>({
      op: "GET",
      what: this.url(key),
      command: (sdk) => new sdk.GetObjectCommand({ Bucket: this.root.bucket, Key: this.objectKey(key) }),
      consume: async (out) => {
        const bytes: Uint8Array = await out.Body.transformToByteArray();
        if (typeof out.ContentLength === "number" && bytes.length !== out.ContentLength) {
          throw Object.assign(new Error(`body cut short: ${bytes.length} of ${out.ContentLength} bytes`), { name: "TruncatedBody" });
        }
        s.counts.bytesDown += bytes.length;
        return { bytes, etag: out.ETag, modified: out.LastModified };
      },
      answer: (e) => (isMissing(e) ? undefined : NOT_HANDLED),
    });
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    return (await this.getVersioned(key))?.bytes;
  }

  /**
   * Write `value`; with `ifMatch` only over that version, with `ifNoneMatch` only where nothing is.
   * Returns the new ETag, or CONFLICT when the condition failed.
   */
  private put(key: string, value: Uint8Array, cond: { ifMatch?: string; ifNoneMatch?: boolean } = {}): Promise<string | typeof CONFLICT> {
    const s = this.session;
    return s.send<string | typeof CONFLICT>({
      op: "PUT",
      what: this.url(key),
      command: (sdk) =>
        new sdk.PutObjectCommand({
          Bucket: this.root.bucket,
          Key: this.objectKey(key),
          Body: value,
          ContentLength: value.length,
          IfMatch: cond.ifMatch,
          IfNoneMatch: cond.ifNoneMatch ? "*" : undefined,
        }),
      consume: (out) => {
        s.counts.bytesUp += value.length;
        return out.ETag as string;
      },
      answer: (e) => (cond.ifMatch !== undefined || cond.ifNoneMatch ? (isConflict(e) ? CONFLICT : NOT_HANDLED) : NOT_HANDLED),
    });
  }

  async set(key: string, value: Uint8Array): Promise<void> {
    await this.put(key, value);
  }

  private async deleteObject(key: string, ifMatch?: string): Promise<boolean> {
    return this.session.send<boolean>({
      op: "DELETE",
      what: this.url(key),
      command: (sdk) => new sdk.DeleteObjectCommand({ Bucket: this.root.bucket, Key: this.objectKey(key), IfMatch: ifMatch }),
      consume: () => true,
      answer: (e) => (isMissing(e) || (ifMatch !== undefined && isConflict(e)) ? false : NOT_HANDLED),
    });
  }

  /** Delete `key`, and every key below it (a group or array with its chunks). */
  async delete(key: string): Promise<void> {
    const below = await this.list(key);
    await Promise.all([key, ...below.filter((k) => k !== key)].map((k) => this.deleteObject(k)));
  }

  async has(key: string): Promise<boolean> {
    return this.session.send<boolean>({
      op: "HEAD",
      what: this.url(key),
      command: (sdk) => new sdk.HeadObjectCommand({ Bucket: this.root.bucket, Key: this.objectKey(key) }),
      consume: () => true,
      answer: (e) => (isMissing(e) ? false : NOT_HANDLED),
    });
  }

  /** Every key under `prefix` (recursive), without the scratch keys of locks and probes. */
  async list(prefix = "", limit = Infinity): Promise<string[]> {
    const base = this.objectKey(prefix);
    const start = base ? `${base}/` : "";
    const strip = this.root.prefix ? this.root.prefix.length + 1 : 0;
    const keys = await listKeys(this.session, this.root.bucket, start, this.url(prefix), limit);
    return keys.map((k) => k.slice(strip)).filter((rel) => !rel.startsWith(`${LOCKS}/`) && !rel.startsWith(`${PROBE}/`)).sort();
  }

  /**
   * Replace `key` with `fn(current)`, safe against writers in other processes: written only over
   * the version read (or only where nothing is), merged again from the new version when another
   * writer got there first.
   */
  update(key: string, fn: (current: Uint8Array | undefined) => Uint8Array | Promise<Uint8Array>): Promise<Uint8Array> {
    // Writers in this process queue up rather than conflict with each other.
    return this.inProcess.run(key, async () => {
      for (let round = 1; ; round++) {
        const current = await this.getVersioned(key);
        const next = await fn(current?.bytes);
        const written = await this.put(key, next, current ? { ifMatch: current.etag } : { ifNoneMatch: true });
        if (written !== CONFLICT) return next;
        this.session.counts.conflicts++;
        if (round >= 100) throw new StoreError(`gave up merging after ${round} rounds: other writers kept changing it`, { file: this.url(key) });
        this.session.log.debug(`s3: ${this.url(key)} changed while merging; merging again (round ${round + 1})`);
        await sleep(backoffMs(Math.min(round, 6), this.session.policy));
      }
    });
  }

  /**
   * Whether this store honours `If-Match` and `If-None-Match: *` on PUT (probed once: a second
   * create and a write over a wrong ETag must both be refused).
   */
  safeUpdates(): Promise<boolean> {
    return (this.probe ??= (async () => {
      const key = `${PROBE}/${randomBytes(8).toString("hex")}`;
      const bytes = new TextEncoder().encode("zarrio conditional-write probe");
      try {
        // The first create's answer says nothing: if it was lost and retried, the retry meets the
        // object the first attempt made. What counts is that the store refuses the next two.
        await this.put(key, bytes, { ifNoneMatch: true });
        const again = await this.put(key, bytes, { ifNoneMatch: true }).catch(() => "error");
        const stale = await this.put(key, bytes, { ifMatch: '"00000000000000000000000000000000"' }).catch(() => "error");
        const ok = again === CONFLICT && stale === CONFLICT;
        this.session.log.debug(`s3: ${this.session.endpoint} ${ok ? "honours" : "does not honour"} conditional writes`);
        return ok;
      } finally {
        await this.deleteObject(key).catch(() => false);
      }
    })());
  }

  /** See the module comment: a lease object, renewed while `fn` runs. */
  async withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const lease = `${LOCKS}/${key}`;
    const body = new TextEncoder().encode(JSON.stringify({ host: hostname(), pid: process.pid, token: randomBytes(8).toString("hex") }));
    if (!(await this.safeUpdates())) {
      this.session.log.warn(`${this.session.endpoint} ignores conditional writes: the lock on ${key} cannot keep other writers out; run one at a time`);
      return fn();
    }
    let etag: string | undefined;
    for (let round = 1; etag === undefined; round++) {
      const made = await this.put(lease, body, { ifNoneMatch: true });
      if (made !== CONFLICT) {
        etag = made;
        break;
      }
      const held = await this.getVersioned(lease);
      if (held && held.modified && Date.now() - held.modified.getTime() > this.staleMs) {
        const taken = await this.put(lease, body, { ifMatch: held.etag });
        if (taken !== CONFLICT) {
          this.session.log.warn(`took over the lock on ${key}: its holder (${new TextDecoder().decode(held.bytes)}) stopped renewing it`);
          etag = taken;
          break;
        }
      }
      await sleep(Math.min(2000, 100 * round));
    }
    let lost: Error | undefined;
    const renew = setInterval(() => {
      void this.put(lease, body, { ifMatch: etag }).then(
        (r) => (r === CONFLICT ? (lost = new StoreError(`lost the lock on ${key} to another writer`, { file: this.location })) : (etag = r)),
        () => {},
      );
    }, this.staleMs / 4);
    try {
      const result = await fn();
      if (lost) throw lost;
      return result;
    } finally {
      clearInterval(renew);
      await this.deleteObject(lease, etag).catch(() => false);
    }
  }
}
