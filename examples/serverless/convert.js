/**
 * A conversion with no filesystem, as a serverless function or a page's own code would run it
 * (the test proves it needs none): NetCDF bytes in memory → Zarr in an in-memory store.
 */
import { convertToZarr, init, MemoryStore } from "zarrio/web";

/**
 * Convert one NetCDF file held in memory. `wasm` is where the WebAssembly module comes from (its
 * bytes, or a URL); without it, it is fetched from beside zarrio's JS.
 */
export async function convertInMemory(name, bytes, { wasm } = {}) {
  await init(wasm);
  const store = new MemoryStore();
  const summary = await convertToZarr({ name, bytes }, store, { compression: "blosc:zstd:3", chunking: { time: 6 } });
  return { summary, store, arrays: describeArrays(store) };
}

/** Every array of the archive (from the root's consolidated metadata) with its stored bytes. */
export function describeArrays(store) {
  const root = JSON.parse(new TextDecoder().decode(store.map.get("zarr.json")));
  return Object.entries(root.consolidated_metadata.metadata)
    .filter(([, doc]) => doc.node_type === "array")
    .map(([path, doc]) => {
      let bytes = 0;
      for (const [key, value] of store.map) if (key.startsWith(`${path}/`)) bytes += value.length;
      return { path, shape: doc.shape, dtype: doc.data_type, chunks: doc.chunk_grid.configuration.chunk_shape, bytes };
    });
}
