/** Writing a plan's groups and array metadata (no chunks). */
import type { ArchivePlan } from "../plan/layout.js";
import type { Archive } from "../zarr/archive.js";

export async function writeHierarchy(archive: Archive, plan: ArchivePlan, extraRootAttrs: Record<string, unknown> = {}): Promise<void> {
  for (const g of plan.groups) {
    await archive.writeGroup(g.path, g.path === "" ? { ...g.attrs, ...extraRootAttrs } : g.attrs);
  }
  for (const v of plan.vars) await archive.writeArray(v.arrayPath, v.model);
}
