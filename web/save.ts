/**
 * Where the finished archive goes: one `.zarr.zip` (the ZIP store layout zarr-python and xarray
 * open with `zarr.storage.ZipStore`), a folder the user picks (File System Access API, where the
 * browser has it), or an S3 bucket over HTTP (a CORS-enabled bucket URL, or one presigned URL for
 * the zip).
 */
import { DirectoryStore, MemoryStore, zipParts, type DirectoryHandle } from "../ts/web.js";

/** The archive as one ZIP, ready to download or upload. */
export async function zipBlob(entries: Map<string, Uint8Array>): Promise<Blob> {
  const store = new MemoryStore();
  for (const [k, v] of entries) await store.set(k, v);
  return new Blob((await zipParts(store)) as BlobPart[], { type: "application/zip" });
}

/** Hand a Blob to the browser as a download named `name`. */
export function download(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** Browsers that let a page write into a folder the user picks (Chromium-based ones). */
export function canPickFolder(): boolean {
  return typeof (globalThis as { showDirectoryPicker?: unknown }).showDirectoryPicker === "function";
}

/**
 * Write the archive into a folder the user picks, as `<name>/` with one file per key (the layout
 * of a Zarr directory store). Returns the number of files written.
 */
export async function saveToFolder(entries: Map<string, Uint8Array>, name: string, progress: (done: number, total: number) => void): Promise<number> {
  const pick = (globalThis as unknown as { showDirectoryPicker(o: { mode: string }): Promise<DirectoryHandle> }).showDirectoryPicker;
  const parent = await pick({ mode: "readwrite" });
  const store = new DirectoryStore(await parent.getDirectoryHandle(name, { create: true }));
  let done = 0;
  for (const [key, value] of entries) {
    await store.set(key, value);
    progress(++done, entries.size);
  }
  return done;
}

/** An object URL: the base and the query string (a token, a signature) kept apart. */
function objectUrl(base: string, key: string): string {
  const url = new URL(base);
  url.pathname = `${url.pathname.replace(/\/$/, "")}/${key.split("/").map(encodeURIComponent).join("/")}`;
  return url.toString();
}

async function put(url: string, body: Blob | Uint8Array, what: string): Promise<void> {
  let response: Response;
  try {
    response = await fetch(url, { method: "PUT", body: body as BodyInit });
  } catch (e) {
    throw new Error(`${what}: the upload did not reach the server (${(e as Error).message}); is the bucket's CORS set to allow PUT from this page?`);
  }
  if (!response.ok) throw new Error(`${what}: the server answered ${response.status} ${response.statusText} ${(await response.text()).slice(0, 200)}`);
}

/**
 * Upload every key of the archive under a bucket URL (`https://bucket.s3.region.amazonaws.com/prefix`,
 * query string kept on every request), a few at a time. The bucket must allow PUT from this page
 * (CORS) for whoever the URL speaks for. Returns the number of objects written.
 */
export async function uploadObjects(entries: Map<string, Uint8Array>, base: string, progress: (done: number, total: number) => void): Promise<number> {
  const keys = [...entries.keys()].sort();
  // Metadata after every chunk: a reader that finds zarr.json / .zmetadata finds what it names.
  const meta = (k: string) => /(^|\/)(zarr\.json|\.zmetadata|\.zgroup|\.zarray|\.zattrs)$/.test(k);
  let done = 0;
  for (const batch of [keys.filter((k) => !meta(k)), keys.filter(meta)]) {
    let next = 0;
    const lane = async () => {
      while (next < batch.length) {
        const key = batch[next++]!;
        await put(objectUrl(base, key), entries.get(key)!, key);
        progress(++done, keys.length);
      }
    };
    await Promise.all(Array.from({ length: Math.min(6, batch.length) }, lane));
  }
  return done;
}

/** Upload the archive as one `.zarr.zip` to a presigned PUT URL. */
export async function uploadZip(entries: Map<string, Uint8Array>, presigned: string): Promise<number> {
  const blob = await zipBlob(entries);
  await put(presigned, blob, "the .zarr.zip");
  return blob.size;
}
