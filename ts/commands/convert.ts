/**
 * convert: one or more NetCDF files → one Zarr archive. Several files are concatenated along the
 * time dimension in the order given; their times are re-encoded into the first file's units and
 * must increase. The archive is built beside the output path and moved into place when complete.
 * The pipeline itself (shared with zarrio/web's in-memory conversion) is in convert-core.ts.
 */
import { loadBackend } from "../backend/index.js";
import type { ZarrConverterConfig } from "../config/model.js";
import { ConfigError } from "../errors.js";
import { SeriesAgreement } from "../pipeline/agree.js";
import { fileDone } from "../pipeline/collect.js";
import { mapLimit } from "../pipeline/pool.js";
import { openSource, park, readTimeAxis, type Source } from "../pipeline/source.js";
import { convertSources, type ConvertSummary, type RunOptions } from "./convert-core.js";
import { prepareOutput } from "./output.js";
import { consolidateEnclosing } from "../zarr/open.js";

export { concatTimes, logSummary, packingRanges, type ConvertSummary, type RunOptions } from "./convert-core.js";

/** Inputs kept open from planning to writing; longer lists are closed between the two. */
const KEEP_OPEN = 64;
/** Files opened at once while planning. */
const OPENING = 4;

export interface ConvertOptions extends RunOptions {
  overwrite?: boolean;
}

export async function convert(inputs: string[], output: string, config: ZarrConverterConfig, options: ConvertOptions = {}): Promise<ConvertSummary> {
  const started = performance.now();
  if (!inputs.length) throw new ConfigError("give at least one input file", "inputs");
  const backend = options.backend ?? (await loadBackend());
  // Files are opened a few at a time (each open parses the file's metadata off the main thread).
  // Beyond a few dozen files, each is closed once its metadata and times are known, and opened
  // again when its data is written: open files cost descriptors and memory.
  // Those files are also checked against the first while open (what a series must share, see
  // pipeline/agree.ts): checked later, each would be opened again for it.
  const parking = inputs.length > KEEP_OPEN;
  let firstOpened!: (a: SeriesAgreement) => void;
  let firstFailed!: (e: unknown) => void;
  const agreement = new Promise<SeriesAgreement>((resolve, reject) => ([firstOpened, firstFailed] = [resolve, reject]));
  agreement.catch(() => {}); // the first file's own failure is the one reported
  const sources: Source[] = await mapLimit(inputs, OPENING, async (f, i) => {
    let s: Source;
    try {
      s = await openSource(backend, f, config, options.log);
    } catch (e) {
      if (i === 0) firstFailed(e);
      throw e;
    }
    if (i === 0) firstOpened(new SeriesAgreement(s, config, config.time.dim));
    if (parking) {
      await readTimeAxis(s, config.time.dim);
      await (await agreement).check(s);
      // The first file stays open: the others are compared with it while it would be closing.
      if (i > 0) park(s);
    }
    fileDone();
    return s;
  });
  const summary = await convertSources(sources, config, {
    seriesChecked: parking,
    backend,
    output,
    log: options.log,
    progress: options.progress,
    started,
    target: async () => {
      return prepareOutput(output, options.overwrite ?? false, { s3: config.s3, log: options.log });
    },
  });
  await consolidateEnclosing(output, options.log);
  return summary;
}
