import { Command, Option } from "clipanion";

import { bytesKept } from "../commands/convert-core.js";
import { writeRegion, writeRegions } from "../commands/write-region.js";
import { ConfigError } from "../errors.js";
import { describeRegion } from "../plan/region.js";
import { expandInputs, parseShard, shardFromEnv } from "../pipeline/batch.js";
import { formatBytes } from "../log.js";
import { configFlag } from "./flags.js";
import { DataCommand, PACKED_RANGE } from "./options.js";

export class WriteRegionCommand extends DataCommand {
  static override paths = [["write-region"]];
  static override usage = Command.Usage({
    description: "Write files into their place in an archive made by create-template (or convert); many writers may run at once.",
    details:
      "Each file's place is found from its times (they must sit exactly on the archive's time axis), or given by hand with --region. " +
      "Writers sharing a chunk merge it under a per-chunk lock; nothing is written for a file that does not fit. " +
      "With several files, --jobs N runs N writer processes here; --shard I/N (or a Slurm, Kubernetes or AWS Batch job-array index) " +
      "takes this machine's share of the sorted list. Exit status: 0 when every file was written; otherwise the failed files' exit code " +
      "(1 when they differ), with a summary on stderr.",
    examples: [
      ["One file, placed by its times", "zarrio write-region data_2021.nc archive.zarr"],
      ["By hand", "zarrio write-region data_2021.nc archive.zarr --region time=365:730"],
      ["Eight writers on this machine", "zarrio write-region --jobs 8 'data/*.nc' archive.zarr"],
      ["A Slurm array task's share", "zarrio write-region --files-from files.txt archive.zarr --jobs 4   # SLURM_ARRAY_TASK_ID picks the share"],
    ],
  });

  files = Option.Rest({ required: 1, name: "file.nc... archive.zarr" });
  region = Option.String("--region", { description: "Where to write, e.g. time=365:730[,lat=0:90] (default: from the file's times)" });
  retriesOnMissing = configFlag("missingData.retriesOnMissing");
  missingCheckVars = configFlag("missingData.checkVars");
  packingRangeExceededAction = configFlag("packing.rangeExceededAction", PACKED_RANGE);
  jobs = Option.String("-j,--jobs", { description: "Writer processes to run on this machine (default 1)" });
  filesFrom = Option.String("--files-from", { description: "Read the files to write from this list (one per line)" });
  shard = Option.String("--shard", { description: "Write only share I of N (0-based, e.g. 3/16) of the sorted files; 'none' ignores job-array variables" });

  async execute(): Promise<number> {
    const config = this.resolved();
    const log = this.logger(config);
    const archive = this.files[this.files.length - 1]!;
    const args = this.files.slice(0, -1);
    if (!args.length && this.filesFrom === undefined) throw new ConfigError("give the file(s) to write before the archive, or --files-from", "files");
    const jobs = this.jobs === undefined ? 1 : Number(this.jobs);
    if (!Number.isInteger(jobs) || jobs < 1) throw new ConfigError(`must be a whole number >= 1, not '${this.jobs}'`, "jobs");
    const files = await expandInputs(args, this.filesFrom, { s3: config.s3, log });
    // A job-array index shares out a list; one file named explicitly is never shared away.
    const shard = this.shard === "none" ? undefined : this.shard !== undefined ? parseShard(this.shard) : files.length > 1 ? shardFromEnv() : undefined;

    if (files.length === 1 && !shard && this.filesFrom === undefined) {
      const s = await writeRegion(files[0]!, archive, config, { log, region: this.region });
      this.context.stdout.write(
        `${s.archive}: wrote ${s.file} at ${describeRegion(s.region)}${s.dates ? ` (${s.dates[0]} to ${s.dates[1]})` : ""}, ` +
          `${s.variables} arrays, ${formatBytes(s.stats.bytesStored)} written, ${s.stats.chunksMerged} shared chunks merged` +
          `${s.retries ? `, ${s.retries} rewrite(s)` : ""} in ${s.seconds.toFixed(2)} s\n`,
      );
      return 0;
    }
    if (this.region !== undefined) throw new ConfigError("a region places one file; give exactly one file with --region", "region");
    const s = await writeRegions(files, archive, config, { log, jobs, shard, progress: this.showProgress(config) });
    const share = s.shard ? ` (shard ${s.shard.index}/${s.shard.count} from ${s.shard.from}: ${s.files.length} of ${s.given} files)` : "";
    const kept = bytesKept(s.stats);
    const rewrites = s.stats.bytesReplaced > 0 ? `, ${formatBytes(s.stats.bytesStored)} written with the rewrites of ${s.stats.chunksMerged} shared chunks (write amplification ${(s.stats.bytesStored / Math.max(kept, 1)).toFixed(2)})` : "";
    this.context.stdout.write(
      `${s.archive}: ${s.written.length} of ${s.files.length} file(s) written by ${s.writers} writer(s) in ${s.seconds.toFixed(2)} s${share}` +
        `${s.failed.length ? `; ${s.failed.length} failed` : ""}; ${formatBytes(s.stats.bytesRead)} read, ${formatBytes(kept)} stored${rewrites}\n`,
    );
    if (!s.failed.length) return 0;
    this.context.stderr.write(`zarrio: ${s.failed.length} file(s) failed:\n${s.failed.map((f) => `  ${f.file}: ${f.error}: ${f.message}\n`).join("")}`);
    const codes = new Set(s.failed.map((f) => f.exitCode));
    return codes.size === 1 ? [...codes][0]! : 1;
  }
}
