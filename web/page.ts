/**
 * The page: files in, a plan to edit, a conversion in a worker with a progress bar, a quick-look
 * of the archive just written, and the archive saved. All zarrio work happens in worker.ts; this
 * thread only draws and waits for messages.
 */
import type { ArchivePreview, ConvertSummary } from "../ts/web.js";
import type { Options, Reply, Request } from "./protocol.js";
import { draw, readSlice, type ReadKey } from "./quicklook.js";
import { canPickFolder, download, saveToFolder, uploadObjects, uploadZip, zipBlob } from "./save.js";
import { DirectoryStore, type DirectoryHandle } from "../ts/web.js";

const $ = <T extends HTMLElement = HTMLElement>(sel: string) => document.querySelector<T>(sel)!;

const worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
let nextId = 1;
const waiting = new Map<number, { resolve: (r: Reply) => void; progress?: (done: number, total: number) => void }>();
worker.onmessage = ({ data }: MessageEvent<Reply>) => {
  const w = waiting.get(data.id);
  if (!w) return;
  if (data.kind === "progress") return w.progress?.(data.done, data.total);
  waiting.delete(data.id);
  w.resolve(data);
};
worker.onerror = (e) => showError(`the conversion worker failed: ${e.message}`);

/** A request before it is numbered (distributes over the union, keeping each kind's fields). */
type Unnumbered<T> = T extends unknown ? Omit<T, "id"> : never;

function ask(req: Unnumbered<Request>, progress?: (done: number, total: number) => void): Promise<Reply> {
  const id = nextId++;
  return new Promise((resolve) => {
    waiting.set(id, { resolve, progress });
    worker.postMessage({ ...req, id });
  });
}

// ---- state ------------------------------------------------------------------------------------

let files: File[] = [];
let preview: ArchivePreview | undefined;
/** The archive just written, in memory (savable from here), or in a folder the user picked. */
let archive: Map<string, Uint8Array> | undefined;
let readKey: ReadKey | undefined;
let archiveName = "archive";

const fmtBytes = (n: number) => {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) (n /= 1024), i++;
  return `${i ? n.toFixed(1) : n} ${units[i]}`;
};

function showError(message: string | undefined): void {
  const el = $("#error");
  el.hidden = !message;
  el.textContent = message ?? "";
}

function setStatus(text: string): void {
  $("#status").textContent = text;
}

/** The form as configuration (the same keys and spellings as a config file or the CLI's flags). */
function options(): Options {
  const form = new FormData($<HTMLFormElement>("#options"));
  const text = (k: string) => String(form.get(k) ?? "").trim();
  const out: Options = {
    accessPattern: text("accessPattern"),
    compression: text("compression") || "none",
    zarrFormat: Number(text("zarrFormat")),
    packing: { enabled: form.get("packing") === "on", bits: Number(text("packingBits")) },
  };
  if (text("chunking") && text("chunking") !== "auto") out.chunking = text("chunking");
  if (text("sharding") && text("sharding") !== "none") out.sharding = text("sharding");
  return out;
}

// ---- 1. files ---------------------------------------------------------------------------------

async function useFiles(list: File[]): Promise<void> {
  files = [...list].sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }));
  archive = undefined;
  readKey = undefined;
  $("#look").hidden = true;
  $("#save").hidden = true;
  $("#file-list").replaceChildren(...files.map((f) => Object.assign(document.createElement("li"), { textContent: `${f.name} (${fmtBytes(f.size)})` })));
  archiveName = files[0] ? files[0].name.replace(/\.[^.]*$/, "") : "archive";
  await plan();
}

const drop = $("#drop");
$<HTMLInputElement>("#files").addEventListener("change", (e) => void useFiles([...((e.target as HTMLInputElement).files ?? [])]));
drop.addEventListener("dragover", (e) => {
  e.preventDefault();
  drop.classList.add("over");
});
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => {
  e.preventDefault();
  drop.classList.remove("over");
  void useFiles([...(e.dataTransfer?.files ?? [])]);
});
$("#sample").addEventListener("click", async () => {
  const response = await fetch(new URL("./ocean_sample.nc", import.meta.url));
  if (!response.ok) return showError(`the sample could not be fetched (${response.status})`);
  await useFiles([new File([await response.blob()], "ocean_sample.nc")]);
});

// ---- 2. plan ----------------------------------------------------------------------------------

/** What the shown preview was made from: Convert plans again only when the files or options changed. */
let plannedFor: { files: File[]; options: string } | undefined;

async function plan(): Promise<boolean> {
  showError(undefined);
  plannedFor = undefined;
  preview = undefined;
  $<HTMLButtonElement>("#go").disabled = true;
  $<HTMLButtonElement>("#go-folder").disabled = true;
  const body = $("#plan-table tbody");
  body.replaceChildren();
  if (!files.length) return false;
  $("#plan-summary").textContent = "planning…";
  const reply = await ask({ kind: "plan", files, options: options() });
  if (reply.kind === "error") {
    $("#plan-summary").textContent = "no plan: fix the files or the options";
    showError(`${reply.error.name}: ${reply.error.message}`);
    return false;
  }
  if (reply.kind !== "plan") return false;
  preview = reply.preview;
  plannedFor = { files, options: JSON.stringify(options()) };
  for (const a of preview.arrays) {
    const row = document.createElement("tr");
    const cells = [
      a.path,
      a.dims.join(", "),
      a.shape.join(" × "),
      a.chunks.join(" × ") + (a.shards ? ` (shards ${a.shards.join(" × ")})` : ""),
      a.dtype + (a.packing ? ` (packed, ${a.packing.bits} bits)` : ""),
      a.codec,
      fmtBytes(a.bytes),
    ];
    cells.forEach((c, i) => row.append(Object.assign(document.createElement("td"), { textContent: c, className: i === 6 ? "num" : "" })));
    row.title = a.chunkReasons.join("\n");
    body.append(row);
  }
  const dims = Object.entries(preview.dims).map(([d, n]) => `${d} ${n}`).join(", ");
  $("#plan-summary").textContent =
    `${preview.files.length} file(s), ${preview.arrays.length} arrays, Zarr v${preview.zarrFormat}, dims ${dims}; ` +
    `${fmtBytes(preview.rawBytes)} of values, about ${fmtBytes(preview.estimatedBytes)} stored (estimated from a sample)`;
  $<HTMLButtonElement>("#go").disabled = false;
  $<HTMLButtonElement>("#go-folder").disabled = !canPickFolder();
  return true;
}

$<HTMLFormElement>("#options").addEventListener("submit", (e) => {
  e.preventDefault();
  void plan();
});

// ---- 3. convert -------------------------------------------------------------------------------

/** The folder API as this page uses it (Chromium-based browsers have it; tests may stand in for it). */
type PickFolder = (o: { mode: string; id?: string }) => Promise<FileSystemDirectoryHandle>;

$("#go").addEventListener("click", () => void convert());
$("#go-folder").addEventListener("click", async () => {
  // Asked first, while the click still counts as the user's gesture.
  let parent: FileSystemDirectoryHandle;
  try {
    parent = await (globalThis as unknown as { showDirectoryPicker: PickFolder }).showDirectoryPicker({ mode: "readwrite", id: "zarrio" });
  } catch (e) {
    if ((e as Error).name !== "AbortError") showError(`no folder: ${(e as Error).message}`);
    return;
  }
  await convert(parent);
});

/** Convert the files into memory, or into `<name>.zarr` inside `parent` (made here; removed again if the conversion fails). */
async function convert(parent?: FileSystemDirectoryHandle): Promise<void> {
  const current = plannedFor?.files === files && plannedFor.options === JSON.stringify(options());
  if (!current && !(await plan())) return;
  const buttons = [$<HTMLButtonElement>("#go"), $<HTMLButtonElement>("#go-folder")];
  const bar = $<HTMLProgressElement>("#progress");
  let folder: FileSystemDirectoryHandle | undefined;
  const name = `${archiveName}.zarr`;
  if (parent) {
    try {
      await parent.getDirectoryHandle(name);
      showError(`${parent.name}/${name} exists already: pick another folder, or remove it first`);
      return;
    } catch {
      folder = await parent.getDirectoryHandle(name, { create: true });
    }
  }
  for (const b of buttons) b.disabled = true;
  archive = undefined;
  readKey = undefined;
  $("#look").hidden = true;
  $("#save").hidden = true;
  bar.value = 0;
  setStatus("converting…");
  document.body.dataset.state = "converting";
  const started = performance.now();
  const reply = await ask({ kind: "convert", files, options: options(), folder }, (done, total) => {
    bar.value = total ? done / total : 0;
    const secs = (performance.now() - started) / 1000;
    setStatus(`converting… ${fmtBytes(done)} of ${fmtBytes(total)}, ${(done / 1e6 / Math.max(secs, 1e-3)).toFixed(0)} MB/s`);
  });
  buttons[0]!.disabled = false;
  buttons[1]!.disabled = !canPickFolder();
  if (reply.kind === "error") {
    document.body.dataset.state = "failed";
    setStatus("failed");
    showError(`${reply.error.name}: ${reply.error.message}`);
    if (parent) await parent.removeEntry(name, { recursive: true }).catch(() => {});
    return;
  }
  if (reply.kind !== "done") return;
  bar.value = 1;
  if (folder) {
    const store = new DirectoryStore(folder as unknown as DirectoryHandle);
    readKey = (key) => store.get(key);
    const keys = await store.list();
    let stored = 0;
    for (const k of keys) stored += (await store.get(k))?.length ?? 0;
    setStatus(`${done(reply.summary, keys.length, stored)}, written into ${parent!.name}/${name}`);
  } else {
    const entries = new Map(reply.entries);
    archive = entries;
    readKey = async (key) => entries.get(key);
    const stored = reply.entries.reduce((a, [, v]) => a + v.length, 0);
    setStatus(done(reply.summary, entries.size, stored));
    $("#save").hidden = false;
    $<HTMLButtonElement>("#save-folder").disabled = !canPickFolder();
    $("#save-folder").title = canPickFolder() ? "" : "this browser cannot write into folders (File System Access API)";
  }
  document.body.dataset.state = "done";
  showLook();
}

function done(s: ConvertSummary, objects: number, stored: number): string {
  return `done: ${s.files} file(s), ${s.variables} arrays, ${s.timeSteps} time steps, ${objects} objects, ${fmtBytes(stored)} in ${s.seconds.toFixed(2)} s (${s.backend})`;
}

// ---- 4. look ----------------------------------------------------------------------------------

function showLook(): void {
  const arrays = (preview?.arrays ?? []).filter((a) => a.shape.length >= 2 && a.dtype !== "str" && a.dtype !== "record");
  $("#look").hidden = arrays.length === 0;
  const select = $<HTMLSelectElement>("#look-array");
  select.replaceChildren(...arrays.map((a) => Object.assign(document.createElement("option"), { value: a.path, textContent: `${a.path} (${a.dims.join(", ")})` })));
  // The largest array first: usually the data the user came for.
  const largest = [...arrays].sort((a, b) => b.bytes - a.bytes)[0];
  if (largest) select.value = largest.path;
  dimControls();
}

function dimControls(): void {
  const a = preview?.arrays.find((x) => x.path === $<HTMLSelectElement>("#look-array").value);
  const holder = $("#look-dims");
  holder.replaceChildren();
  if (!a) return;
  a.dims.slice(0, -2).forEach((d, i) => {
    const label = document.createElement("label");
    const input = Object.assign(document.createElement("input"), { type: "range", min: "0", max: String(a.shape[i]! - 1), value: "0", name: d });
    const out = Object.assign(document.createElement("output"), { textContent: `0 / ${a.shape[i]! - 1}` });
    input.addEventListener("input", () => {
      out.textContent = `${input.value} / ${a.shape[i]! - 1}`;
      void redraw();
    });
    label.append(`${d} `, input, " ", out);
    holder.append(label);
  });
  void redraw();
}

let drawing = Promise.resolve();
function redraw(): Promise<void> {
  drawing = drawing.then(async () => {
    const path = $<HTMLSelectElement>("#look-array").value;
    if (!readKey || !path) return;
    const leading = [...$("#look-dims").querySelectorAll<HTMLInputElement>("input")].map((i) => Number(i.value));
    try {
      const slice = await readSlice(readKey, path, leading);
      draw(slice, $<HTMLCanvasElement>("#look-canvas"), $<HTMLCanvasElement>("#look-legend"));
      const where = leading.length ? ` at [${leading.join(", ")}]` : "";
      $("#look-caption").textContent = `${path}${where}: ${slice.width} × ${slice.height}, ${slice.valid} values (${slice.width * slice.height - slice.valid} missing), min ${+slice.min.toPrecision(6)}, max ${+slice.max.toPrecision(6)}${slice.units ? " " + slice.units : ""}`;
      document.body.dataset.look = path;
    } catch (e) {
      showError(`quick-look of ${path} failed: ${(e as Error).message}`);
    }
  });
  return drawing;
}
$("#look-array").addEventListener("change", dimControls);

// ---- 5. save ----------------------------------------------------------------------------------

const saveStatus = (t: string) => ($("#save-status").textContent = t);
async function saving(what: string, run: () => Promise<string>): Promise<void> {
  if (!archive) return;
  showError(undefined);
  saveStatus(`${what}…`);
  try {
    saveStatus(await run());
  } catch (e) {
    saveStatus(`${what} failed`);
    if ((e as Error).name !== "AbortError") showError(`${what} failed: ${(e as Error).message}`);
  }
}
$("#save-zip").addEventListener("click", () =>
  saving("zipping", async () => {
    const blob = await zipBlob(archive!);
    download(blob, `${archiveName}.zarr.zip`);
    return `${archiveName}.zarr.zip: ${fmtBytes(blob.size)} (open with xarray.open_zarr(zarr.storage.ZipStore(path, mode="r")))`;
  }),
);
$("#save-folder").addEventListener("click", () =>
  saving("saving into the folder", async () => {
    const n = await saveToFolder(archive!, `${archiveName}.zarr`, (d, t) => saveStatus(`saving ${d} / ${t} files…`));
    return `${archiveName}.zarr: ${n} files written`;
  }),
);
$("#save-s3").addEventListener("click", () =>
  saving("uploading", async () => {
    const url = $<HTMLInputElement>("#s3-url").value.trim();
    if (!url) throw new Error("give the bucket URL to upload under");
    const n = await uploadObjects(archive!, url, (d, t) => saveStatus(`uploading ${d} / ${t} objects…`));
    return `${n} objects uploaded under ${url.replace(/\?.*$/, "")}`;
  }),
);
$("#save-presigned").addEventListener("click", () =>
  saving("uploading the zip", async () => {
    const url = $<HTMLInputElement>("#s3-presigned").value.trim();
    if (!url) throw new Error("give the presigned PUT URL");
    return `${fmtBytes(await uploadZip(archive!, url))} uploaded as one .zarr.zip`;
  }),
);
