/**
 * The Store contract: what an archive is written to and read from. A filesystem folder
 * (store.ts), an S3-compatible bucket (s3/store.ts), memory (memory-store.ts) or any object of
 * the caller's with these methods (IndexedDB, an HTTP store) receives an archive. Free of Node
 * built-ins, so `zarrio/web` uses it anywhere.
 *
 * Two parts: reading and writing keys (`ReadableStore`, `WritableStore`), and the capability
 * that lets several writers share chunks safely (`LockingStore`: exclusive sections and atomic
 * updates). Readers need only the first part.
 */

/** Keys to read. */
export interface ReadableStore {
  /** A human name for messages (a path or URL). */
  readonly location: string;
  get(key: string): Promise<Uint8Array | undefined>;
  has(key: string): Promise<boolean>;
  /** Every key under `prefix` (recursive). */
  list(prefix?: string): Promise<string[]>;
}

/** Keys to read and write. */
export interface WritableStore extends ReadableStore {
  set(key: string, value: Uint8Array): Promise<void>;
  /**
   * `set` with the value given in pieces, to be stored joined (a shard of tens of MB is its
   * inner chunks and its index): a store that can write them without first copying them into
   * one buffer says so with this method. Optional; `setPieces` below joins them otherwise.
   */
  setPieces?(key: string, pieces: readonly Uint8Array[]): Promise<void>;
  /** Remove `key` and every key below it. */
  delete(key: string): Promise<void>;
  /**
   * True when the store keeps no reference to a value once `set` or `setPieces` resolves (it has
   * written the bytes out, to a file or an object store): a writer may then free a stored
   * chunk's memory at once (Backend.freeBytes) instead of when JS collects it. Absent or false:
   * the store may keep the value itself (a memory store does), and nothing is freed.
   */
  readonly keepsNoValues?: boolean;
}

/** Writers sharing a store without losing each other's updates. */
export interface LockingStore {
  /** Run `fn` while holding the lock of `key` (exclusive across processes using the store). */
  withLock<T>(key: string, fn: () => Promise<T>): Promise<T>;
  /**
   * Replace `key` with `fn(current)` so that no other writer's update in between is lost (the
   * read-merge-write of a chunk that two files share). Returns what was written.
   */
  update(key: string, fn: (current: Uint8Array | undefined) => Uint8Array | Promise<Uint8Array>): Promise<Uint8Array>;
  /**
   * Whether `update` is safe between processes. A store that can't tell (an object store that
   * ignores conditional writes) answers false, and writers refuse to share chunks through it.
   * Absent means true.
   */
  safeUpdates?(): Promise<boolean>;
}

/** What zarrio writes archives to: keys to read and write, and safe shared updates. */
export type Store = WritableStore & LockingStore;

/** Store `pieces`, joined, at `key`: with the store's own `setPieces` when it has one. */
export function setPieces(store: WritableStore, key: string, pieces: readonly Uint8Array[]): Promise<void> {
  return store.setPieces ? store.setPieces(key, pieces) : store.set(key, joinPieces(pieces));
}

/** `pieces` back to back in one buffer. */
export function joinPieces(pieces: readonly Uint8Array[]): Uint8Array {
  if (pieces.length === 1) return pieces[0]!;
  const joined = new Uint8Array(pieces.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of pieces) {
    joined.set(p, at);
    at += p.length;
  }
  return joined;
}

/** `update` for stores whose `withLock` excludes other writers: the whole read-merge-write under the key's lock. */
export function lockedUpdate(store: Store, key: string, fn: (current: Uint8Array | undefined) => Uint8Array | Promise<Uint8Array>): Promise<Uint8Array> {
  return store.withLock(key, async () => {
    const next = await fn(await store.get(key));
    await store.set(key, next);
    return next;
  });
}
