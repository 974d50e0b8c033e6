/** 1. metadata: documents parse, consolidated metadata agrees with them, grids fit, dimensions agree. */
import { type ExistingArchive } from "../../pipeline/existing.js";
import { errorText, type Report } from "./report.js";

/** JSON with sorted keys: two documents that mean the same compare equal. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1))) : typeof v === "bigint" ? v.toString() : v,
  );
}

export async function checkMetadata(ex: ExistingArchive, problem: Report): Promise<void> {
  // The array documents, read one by one, against the consolidated view readers open.
  let documents;
  try {
    documents = await ex.archive.hierarchy();
  } catch (e) {
    problem("metadata", errorText(e));
  }
  if (!ex.consolidated) {
    problem("metadata", "has no consolidated metadata (readers open it slowly, and zarrio's writers commit through it)");
  } else if (documents) {
    for (const [path, model] of documents.arrays) {
      const committed = ex.arrays.get(path);
      if (!committed) problem("metadata", "has an array document that the consolidated metadata does not list", path);
      else if (canonical(committed) !== canonical(model)) problem("metadata", "its array document differs from the consolidated metadata", path);
    }
    for (const path of ex.arrays.keys()) {
      if (!documents.arrays.has(path)) problem("metadata", "is listed in the consolidated metadata but has no array document", path);
    }
  }
  const lengths = new Map<string, Map<number, string[]>>();
  for (const [path, m] of ex.arrays) {
    if (m.chunks.length !== m.shape.length || m.chunks.some((c) => !Number.isInteger(c) || c < 1)) {
      problem("metadata", `chunk shape [${m.chunks.join(", ")}] does not fit shape [${m.shape.join(", ")}]`, path);
    }
    if (m.dimensionNames.length !== m.shape.length) {
      problem("metadata", `names ${m.dimensionNames.length} dimensions for ${m.shape.length} axes`, path);
      continue;
    }
    m.dimensionNames.forEach((d, i) => {
      const byLength = lengths.get(d) ?? new Map<number, string[]>();
      byLength.set(m.shape[i]!, [...(byLength.get(m.shape[i]!) ?? []), path]);
      lengths.set(d, byLength);
    });
  }
  for (const [d, byLength] of lengths) {
    if (byLength.size > 1) {
      problem("metadata", `dimension '${d}' has different lengths: ${[...byLength].map(([n, paths]) => `${n} in ${paths.join(", ")}`).join("; ")}`);
    }
  }
}
