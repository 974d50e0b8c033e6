/**
 * A store that holds back the root group's documents until `flush`, for archives written where
 * nothing can be renamed (object stores): readers open the root documents first, so an archive
 * looks complete only once they are written, last.
 */
import { joinPieces, setPieces, type Store } from "./contract.js";

/** The root documents readers open first; `.zgroup`/`zarr.json` go very last. */
export const ROOT_DOCS = [".zattrs", ".zmetadata", ".zgroup", "zarr.json"];

/** A store that keeps the root group's documents in memory until `flush`, and records every key written. */
export class HeldRootStore implements Store {
  readonly location: string;
  readonly keepsNoValues: boolean;
  readonly written = new Set<string>();
  private readonly held = new Map<string, Uint8Array>();

  constructor(private readonly inner: Store) {
    this.location = inner.location;
    this.keepsNoValues = inner.keepsNoValues ?? false;
  }
  async get(key: string) {
    return this.held.get(key) ?? this.inner.get(key);
  }
  async set(key: string, value: Uint8Array) {
    this.written.add(key);
    // A copy: the caller may free what it gave once this resolves (keepsNoValues).
    if (ROOT_DOCS.includes(key)) this.held.set(key, value.slice());
    else await this.inner.set(key, value);
  }
  async setPieces(key: string, pieces: readonly Uint8Array[]) {
    if (ROOT_DOCS.includes(key)) return this.set(key, joinPieces(pieces));
    this.written.add(key);
    await setPieces(this.inner, key, pieces);
  }
  async delete(key: string) {
    this.held.delete(key);
    await this.inner.delete(key);
  }
  async has(key: string) {
    return this.held.has(key) || this.inner.has(key);
  }
  async list(prefix?: string) {
    const mine = prefix ? [] : [...this.held.keys()];
    return [...new Set([...(await this.inner.list(prefix)), ...mine])].sort();
  }
  withLock<T>(key: string, fn: () => Promise<T>) {
    return this.inner.withLock(key, fn);
  }
  update(key: string, fn: (current: Uint8Array | undefined) => Uint8Array | Promise<Uint8Array>) {
    this.written.add(key);
    return this.inner.update(key, fn);
  }
  /** Write the held documents, the group document last. */
  async flush(): Promise<void> {
    for (const key of ROOT_DOCS) {
      const value = this.held.get(key);
      if (value) await this.inner.set(key, value);
    }
    this.held.clear();
  }
}
