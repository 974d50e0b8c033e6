/**
 * The in-memory store (browsers, serverless, tests) and the in-process lock it uses. Free of Node
 * built-ins, so `zarrio/web` can use it in any runtime.
 */
import { lockedUpdate, type Store } from "./contract.js";

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
