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
