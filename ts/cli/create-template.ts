import { Command, Option } from "clipanion";

import { createTemplate } from "../commands/create-template.js";
import { configFlag } from "./flags.js";
import { EncodingCommand } from "./options.js";

export class CreateTemplateCommand extends EncodingCommand {
  static override paths = [["create-template"]];
  static override usage = Command.Usage({
    description: "Create an archive for a whole time range from one template file: metadata, coordinates, time values and static variables; no data.",
    details:
      "The time axis runs from --global-start to --global-end (inclusive) at --freq, or at the template's own step, in the template's time units and calendar " +
      "(noleap and 360_day included). Times no writer fills read as missing. Then write files into it with write-region, in any order and in parallel. " +
      "A packed template takes its ranges from --packing-manual-ranges, valid_min/valid_max, or its own data widened by 25% of the span on each side.",
    examples: [
      ["Hourly archive for 2020-2023", "zarrio create-template day0.nc archive.zarr --global-start 2020-01-01 --global-end 2023-12-31T23:00 --freq 1h --chunking time:240"],
      ["Monthly, in the template's noleap calendar", "zarrio create-template month0.nc archive.zarr --global-start 2000-01-01 --global-end 2099-12-01 --freq 1MS"],
    ],
  });

  template = Option.String({ name: "template.nc" });
  output = Option.String({ name: "archive.zarr" });
  globalStart = configFlag("time.globalStart");
  globalEnd = configFlag("time.globalEnd");
  freq = configFlag("time.freq");
  metadataOnly = Option.Boolean("--metadata-only", { description: "Accepted for compatibility: a template never holds data chunks" });
  overwrite = Option.Boolean("--overwrite", false, { description: "Replace the output if it exists" });

  async execute(): Promise<number> {
    const config = this.resolved();
    const log = this.logger(config);
    const s = await createTemplate(this.template, this.output, config, { log, overwrite: this.overwrite, progress: this.showProgress(config) });
    this.context.stdout.write(
      `${s.output}: template of ${s.timeSteps} time steps, ${s.first} to ${s.last} every ${s.freq}; ` +
        `${s.timeVariables} arrays along time left for write-region, ${s.writtenVariables} written (${s.seconds.toFixed(2)} s, ${s.backend} backend)\n`,
    );
    return 0;
  }
}
