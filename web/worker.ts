/**
 * The conversion worker: plans and converts with zarrio/web off the page's thread. Files are read
 * by range (`Blob.slice`), so their size is bounded by the slab budget, not by memory; the
 * finished archive's keys are handed to the page without a copy.
 */
import { convertToZarr, DirectoryStore, MemoryStore, planArchive, type DirectoryHandle } from "../ts/web.js";
import type { ErrorInfo, Reply, Request } from "./protocol.js";

const scope = self as unknown as { onmessage: (e: MessageEvent<Request>) => void; postMessage(m: Reply, transfer?: Transferable[]): void };
const post = (m: Reply, transfer: Transferable[] = []) => scope.postMessage(m, transfer);

scope.onmessage = async ({ data: req }) => {
  try {
    if (req.kind === "plan") {
      post({ id: req.id, kind: "plan", preview: await planArchive(req.files, req.options) });
      return;
    }
    // Into a folder: chunks go to disk as they are encoded, and memory holds only the slabs.
    const memory = req.folder ? undefined : new MemoryStore();
    const store = memory ?? new DirectoryStore(req.folder as unknown as DirectoryHandle);
    let last = 0;
    const summary = await convertToZarr(req.files, store, {
      ...req.options,
      onProgress: (done, total) => {
        // At most ~20 messages a second, and always the last one.
        const now = performance.now();
        if (done < total && now - last < 50) return;
        last = now;
        post({ id: req.id, kind: "progress", done, total });
      },
    });
    const entries = memory ? [...memory.map.entries()] : [];
    // Each buffer handed over once (two keys could share one).
    post({ id: req.id, kind: "done", summary, entries }, [...new Set(entries.map(([, v]) => v.buffer as ArrayBuffer))]);
  } catch (e) {
    post({ id: req.id, kind: "error", error: errorInfo(e) });
  }
};

function errorInfo(e: unknown): ErrorInfo {
  if (e instanceof Error) return { name: e.name, message: e.message };
  return { name: "Error", message: String(e) };
}
