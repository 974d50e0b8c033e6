/**
 * Values computed on the JS side (a re-encoded time axis) presented as a one-variable dataset, so
 * they go through the same write path as file data: chunks they cover fully are stored, chunks
 * they share with stored data are merged under the chunk's lock.
 */
import type { Backend, Dataset, DType, VarMeta } from "../backend/types.js";
import { typedBytes } from "./writer.js";

export function memoryVariable(backend: Backend, name: string, dtype: DType, dims: string[], values: number[]): { ds: Dataset; v: VarMeta } {
  const v: VarMeta = {
    name,
    path: `/${name}`,
    dtype,
    nc_type: dtype,
    dims,
    shape: [values.length],
    char_dim: null,
    attrs: [],
    encoding: { chunks: null, filters: [] },
    fields: [],
  };
  const ds: Dataset = {
    meta: { format: "memory", reader: "memory", root: { name: "", path: "/", dims: [], vars: [v], unsupported: [], attrs: [], groups: [] } },
    read: async (_path, start, count) => {
      const part = values.slice(start[0]!, start[0]! + count[0]!);
      return backend.slabFromBytes(dtype, [part.length], typedBytes(dtype, part));
    },
    stats: async (path, start, count, missing) => {
      const slab = await ds.read(path, start, count);
      const stats = slab.stats(missing);
      slab.release();
      return stats;
    },
    // The values themselves, written out: equal exactly when the values are (numbers print exactly).
    digest: async () => `${dtype}:${values.join(",")}`,
    close: () => {},
  };
  return { ds, v };
}
