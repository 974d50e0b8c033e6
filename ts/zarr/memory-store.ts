/**
 * The Store contract and the in-memory store. Kept apart from the filesystem store (store.ts) and
 * free of Node built-ins, so `zarrio/web` can use them in a browser or any runtime without a
 * filesystem. Any object with these methods receives an archive (an IndexedDB or HTTP-backed
 * store, for instance).
 */

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

/** `update` for stores whose `withLock` excludes other writers: the whole read-merge-write under the key's lock. */
export function lockedUpdate(store: Store, key: string, fn: (current: Uint8Array | undefined) => Uint8Array | Promise<Uint8Array>): Promise<Uint8Array> {
  return store.withLock(key, async () => {
    const next = await fn(await store.get(key));
    await store.set(key, next);
    return next;
  });
}

/** Exclusive sections per key within one process: callers of the same key run one after another. */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const before = this.tails.get(key) ?? Promise.resolve();
    const mine = before.then(fn, fn);
    const tail = mine.catch(() => {});
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return mine;
  }
}

/** An in-memory store (browsers, serverless, tests). Locks are in-process. */
export class MemoryStore implements Store {
  readonly location = "memory://";
  readonly map = new Map<string, Uint8Array>();
  private readonly locks = new KeyedMutex();

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
  withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    return this.locks.run(key, fn);
  }
  update(key: string, fn: (current: Uint8Array | undefined) => Uint8Array | Promise<Uint8Array>): Promise<Uint8Array> {
    return lockedUpdate(this, key, fn);
  }
}
