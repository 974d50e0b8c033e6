/**
 * Messages between the page (page.ts) and the conversion worker (worker.ts). The worker owns the
 * WebAssembly module and the files; the page only ever waits for messages, so it stays responsive
 * however long a conversion takes.
 */
import type { ArchivePreview, ConvertSummary } from "../ts/web.js";

/** Options as the configuration takes them (`chunking: "time:24,lat:181"`, `compression: "zstd:3"`...). */
export type Options = Record<string, unknown>;

export type Request =
  | { id: number; kind: "plan"; files: File[]; options: Options }
  | { id: number; kind: "convert"; files: File[]; options: Options; folder?: FileSystemDirectoryHandle };

/** An error as the page shows it: the typed class's name, the message, and what it names. */
export interface ErrorInfo {
  name: string;
  message: string;
}

export type Reply =
  | { id: number; kind: "plan"; preview: ArchivePreview }
  | { id: number; kind: "progress"; done: number; total: number }
  /** `entries`: the archive's keys, when it was converted into memory (none when into a folder). */
  | { id: number; kind: "done"; summary: ConvertSummary; entries: [string, Uint8Array][] }
  | { id: number; kind: "error"; error: ErrorInfo };
