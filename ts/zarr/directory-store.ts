/**
 * A Store over a folder of the File System Access API (`FileSystemDirectoryHandle`): a folder the
 * user picked in a browser (`showDirectoryPicker`), or the origin-private file system
 * (`navigator.storage.getDirectory()`). Keys are paths below the folder, as in a Zarr directory
 * store, so the folder is an archive xarray opens once copied anywhere. Writing straight into it
 * keeps a conversion's memory bounded by its slabs instead of holding the archive.
 *
 * One writer (one page or worker): locks are in-process. Browser-only; nothing here imports Node.
 */
import { lockedUpdate, type Store } from "./contract.js";
import { KeyedMutex } from "./memory-store.js";

/** What this store needs of `FileSystemDirectoryHandle` (declared here: the build has no DOM types). */
export interface DirectoryHandle {
  readonly kind: "directory";
  readonly name: string;
  getDirectoryHandle(name: string, options?: { create?: boolean }): Promise<DirectoryHandle>;
  getFileHandle(name: string, options?: { create?: boolean }): Promise<FileHandle>;
  removeEntry(name: string, options?: { recursive?: boolean }): Promise<void>;
  values(): AsyncIterable<DirectoryHandle | FileHandle>;
}

interface FileHandle {
  readonly kind: "file";
  readonly name: string;
  getFile(): Promise<{ arrayBuffer(): Promise<ArrayBuffer> }>;
  createWritable(): Promise<{ write(data: Uint8Array): Promise<void>; close(): Promise<void> }>;
}

const missing = (e: unknown) => (e as { name?: string })?.name === "NotFoundError" || (e as { name?: string })?.name === "TypeMismatchError";

export class DirectoryStore implements Store {
  readonly location: string;
  private readonly locks = new KeyedMutex();
  private readonly dirs = new Map<string, Promise<DirectoryHandle>>();

  constructor(private readonly root: DirectoryHandle) {
    this.location = `folder:${root.name || "/"}`;
  }

  /** The folder holding `key`, created on the way when `create`; undefined if absent. */
  private async parent(key: string, create: boolean): Promise<{ dir: DirectoryHandle; name: string } | undefined> {
    const parts = key.split("/");
    const name = parts.pop()!;
    let dir = this.root;
    let path = "";
    for (const part of parts) {
      path = path ? `${path}/${part}` : part;
      const known = create ? this.dirs.get(path) : undefined;
      try {
        const next = known ?? dir.getDirectoryHandle(part, { create });
        if (create && !known) this.dirs.set(path, next);
        dir = await next;
      } catch (e) {
        this.dirs.delete(path);
        if (!create && missing(e)) return undefined;
        throw e;
      }
    }
    return { dir, name };
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const at = await this.parent(key, false);
    if (!at) return undefined;
    try {
      const file = await (await at.dir.getFileHandle(at.name)).getFile();
      return new Uint8Array(await file.arrayBuffer());
    } catch (e) {
      if (missing(e)) return undefined;
      throw e;
    }
  }

  async has(key: string): Promise<boolean> {
    const at = await this.parent(key, false);
    if (!at) return false;
    try {
      await at.dir.getFileHandle(at.name);
      return true;
    } catch (e) {
      if (missing(e)) return false;
      throw e;
    }
  }

  async set(key: string, value: Uint8Array): Promise<void> {
    const at = (await this.parent(key, true))!;
    // A writable stream writes into a swap file that replaces the file on close: a reader never
    // sees half a chunk.
    const writable = await (await at.dir.getFileHandle(at.name, { create: true })).createWritable();
    await writable.write(value);
    await writable.close();
  }

  async delete(key: string): Promise<void> {
    const at = await this.parent(key, false);
    if (!at) return;
    try {
      await at.dir.removeEntry(at.name);
    } catch (e) {
      if (!missing(e)) throw e;
    }
  }

  async list(prefix = ""): Promise<string[]> {
    const base = prefix.replace(/\/$/, "");
    const out: string[] = [];
    const walk = async (dir: DirectoryHandle, path: string): Promise<void> => {
      for await (const entry of dir.values()) {
        const key = path ? `${path}/${entry.name}` : entry.name;
        if (entry.kind === "directory") await walk(entry, key);
        else out.push(key);
      }
    };
    let start: DirectoryHandle | undefined = this.root;
    if (base) {
      const at = await this.parent(`${base}/x`, false);
      start = at?.dir;
    }
    if (start) await walk(start, base);
    return out.sort();
  }

  withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    return this.locks.run(key, fn);
  }

  update(key: string, fn: (current: Uint8Array | undefined) => Uint8Array | Promise<Uint8Array>): Promise<Uint8Array> {
    return lockedUpdate(this, key, fn);
  }
}
