/**
 * After a write, read the region back and check the archive holds data wherever the source had
 * data (what `missingData.retriesOnMissing` relies on). Counting is enough: a write only ever puts
 * the file's own values into its region, so every value lost to a failed or overwritten chunk
 * shows up as one fewer valid value than the source — packed with the same parameters and policy
 * first, so values the `fill` policy stores as missing are expected missing.
 */
import { isNumeric } from "../backend/dtype.js";
import type { Backend, Stats } from "../backend/types.js";
import { fromCore } from "../errors.js";
import { mapLimit } from "./pool.js";
import { readStored, type ExistingArchive } from "./existing.js";
import type { WriteJob } from "./writer.js";

export interface MissingReport {
  variable: string;
  /** Values the source has in the region (after packing). */
  expected: number;
  /** Values the archive holds there. */
  found: number;
}

const valid = (s: Stats) => s.count - s.nan - s.missing;

export async function findMissing(
  backend: Backend,
  ex: ExistingArchive,
  jobs: WriteJob[],
  policy: "error" | "clip" | "fill",
  concurrency: number,
): Promise<MissingReport[]> {
  const totals = new Map<string, MissingReport>();
  const parts = jobs.flatMap((j) => j.parts.map((p) => ({ ...p, origin: j.origin.map((o, d) => o + p.at[d]!) })));
  await mapLimit(parts, concurrency, async ({ ds, file, v, box, origin }) => {
    if (!isNumeric(v.model.dtype)) return;
    let slab = await ds.read(v.source.path, box.start, box.count).catch((e) => {
      throw fromCore(e, { file, variable: v.source.path });
    });
    if (v.decode) slab = slab.decode(v.decode);
    if (v.pack) slab = slab.pack(v.pack, v.decode ? [] : v.missing, policy).slab;
    const storedMissing = v.pack ? [v.pack.fill] : v.decode ? (v.decode.fill === null ? [] : [v.decode.fill]) : v.missing;
    const expected = valid(slab.stats(storedMissing));
    const stored = await readStored(backend, ex, v.arrayPath, v.model, origin, box.count);
    const found = valid(stored.stats(storedMissing));
    const t = totals.get(v.arrayPath) ?? { variable: v.arrayPath, expected: 0, found: 0 };
    t.expected += expected;
    t.found += found;
    totals.set(v.arrayPath, t);
  });
  return [...totals.values()].filter((t) => t.found < t.expected);
}
