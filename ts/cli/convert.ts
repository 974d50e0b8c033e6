import { Command, Option } from "clipanion";

import { convert } from "../commands/convert.js";
import { ConfigError } from "../errors.js";
import { formatBytes } from "../log.js";
import { expandInputs } from "../pipeline/batch.js";
import { EncodingCommand } from "./options.js";

export class ConvertCommand extends EncodingCommand {
  static override paths = [["convert"]];
  static override usage = Command.Usage({
    description: "Convert one or more NetCDF files into one Zarr archive (several files are joined along time).",
    examples: [
      ["Convert with chunking and zstd", "zarrio convert in.nc out.zarr --chunking time:100,lat:50,lon:100 --compression blosc:zstd:3"],
      ["Join daily files, packed to 16 bits", "zarrio convert day1.nc day2.nc day3.nc out.zarr --packing --packing-bits 16"],
      ["Join every file a pattern names (quoted: zarrio expands it, in name order)", "zarrio convert 'hourly/*.nc' out.zarr"],
      ["Join the files a list names, in its order", "zarrio convert --files-from files.txt out.zarr"],
    ],
  });

  files = Option.Rest({ required: 1, name: "input.nc... output.zarr" });
  filesFrom = Option.String("--files-from", { description: "Read input files from this list (one per line, after any given as arguments)" });
  overwrite = Option.Boolean("--overwrite", false, { description: "Replace the output if it exists" });

  async execute(): Promise<number> {
    const config = this.resolved();
    const log = this.logger(config);
    const args = this.files.slice(0, -1);
    const output = this.files[this.files.length - 1]!;
    if (!args.length && this.filesFrom === undefined) throw new ConfigError("give the input file(s) before the output, or --files-from", "files");
    // Globs and lists, as write-region takes them (ten thousand paths overflow a shell's command
    // line); a file named twice stays twice, and the time checks refuse it.
    const inputs = await expandInputs(args, this.filesFrom, { s3: config.s3, log }, { keepRepeats: true });
    const s = await convert(inputs, output, config, { log, overwrite: this.overwrite, progress: this.showProgress(config) });
    this.context.stdout.write(
      `${s.output}: ${s.files} file(s)${s.filesWithoutSteps ? ` (${s.filesWithoutSteps} without time steps)` : ""}, ${s.variables} arrays, ${s.timeSteps} time steps; ` +
        `${formatBytes(s.stats.bytesRead)} → ${formatBytes(s.stats.bytesStored - s.stats.bytesReplaced)} in ${s.seconds.toFixed(2)} s ` +
        `(${(s.stats.bytesRead / 1e6 / s.seconds).toFixed(0)} MB/s, ${s.backend} backend)\n`,
    );
    return 0;
  }
}
