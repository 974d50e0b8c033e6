/** Writing a plan's groups and array metadata (no chunks), and naming them for consolidation. */
import type { ArchivePlan } from "../plan/layout.js";
import type { Archive, NodePaths } from "../zarr/archive.js";

export async function writeHierarchy(archive: Archive, plan: ArchivePlan, extraRootAttrs: Record<string, unknown> = {}): Promise<void> {
  for (const g of plan.groups) {
    await archive.writeGroup(g.path, g.path === "" ? { ...g.attrs, ...extraRootAttrs } : g.attrs);
  }
  for (const v of plan.vars) await archive.writeArray(v.arrayPath, v.model);
}

/** The groups and arrays writeHierarchy writes for `plan` (what its consolidated metadata names). */
export function nodePaths(plan: ArchivePlan): NodePaths {
  return { groups: plan.groups.map((g) => g.path), arrays: plan.vars.map((v) => v.arrayPath) };
}
