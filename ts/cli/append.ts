import { Command, Option } from "clipanion";

import { appendFiles, type OverlapPolicy } from "../commands/append.js";
import { ConfigError } from "../errors.js";
import { expandInputs } from "../pipeline/batch.js";
import { configFlag } from "./flags.js";
import { DataCommand, PACKED_RANGE } from "./options.js";

export class AppendCommand extends DataCommand {
  static override paths = [["append"]];
  static override usage = Command.Usage({
    description: "Extend an archive along time (or --append-dim) with one or more files, in the order given, encoded as the archive's arrays are.",
    details:
      "Each file's times must increase and come after the archive's last time and the file before it; --on-overlap skip leaves out the steps already covered " +
      "(otherwise such a file is refused). Every file is checked before anything is written; the files are then written together (a chunk that several " +
      "fill is encoded and written once) and committed at once: the consolidated metadata is rewritten last, so an append that fails leaves the archive as it was.",
    examples: [
      ["Add a new day", "zarrio append day_2024-01-01.nc archive.zarr"],
      ["Add files that overlap the end", "zarrio append latest_run.nc archive.zarr --on-overlap skip"],
      ["Add a month of hourly files (quoted: zarrio expands it, in name order)", "zarrio append 'hourly/2024-02-*.nc' archive.zarr"],
    ],
  });

  files = Option.Rest({ required: 1, name: "new.nc... archive.zarr" });
  filesFrom = Option.String("--files-from", { description: "Read files to append from this list (one per line, after any given as arguments)" });
  appendDim = configFlag("time.appendDim");
  onOverlap = Option.String("--on-overlap", { description: "error (default): refuse files overlapping the archive; skip: keep only the later steps" });
  packingRangeExceededAction = configFlag("packing.rangeExceededAction", PACKED_RANGE);

  async execute(): Promise<number> {
    const config = this.resolved();
    const log = this.logger(config);
    if (this.onOverlap !== undefined && !["error", "skip"].includes(this.onOverlap)) {
      throw new ConfigError(`must be error or skip, not '${this.onOverlap}'`, "on-overlap");
    }
    const archive = this.files[this.files.length - 1]!;
    const args = this.files.slice(0, -1);
    if (!args.length && this.filesFrom === undefined) throw new ConfigError("give the file(s) to append before the archive, or --files-from", "files");
    // As convert takes them: a file named twice stays, and the time checks refuse it.
    const files = await expandInputs(args, this.filesFrom, { s3: config.s3, log }, { keepRepeats: true });
    const s = await appendFiles(files, archive, config, { log, onOverlap: this.onOverlap as OverlapPolicy | undefined });
    // One line per file, as the archive grows through the list; the time is the whole run's.
    let length = s.length - s.files.reduce((n, f) => n + f.appended, 0);
    s.files.forEach((f, i) => {
      length += f.appended;
      this.context.stdout.write(
        `${s.archive}: appended ${f.appended} step(s) of ${f.file} along ${s.dim}${f.skipped ? ` (${f.skipped} already covered, left out)` : ""}` +
          `${f.dates ? `, ${f.dates[0]} to ${f.dates[1]}` : ""}; ${s.dim} now has ${length}${i === s.files.length - 1 ? ` (${s.seconds.toFixed(2)} s)` : ""}\n`,
      );
    });
    return 0;
  }
}
