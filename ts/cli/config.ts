import { Command, Option } from "clipanion";

import { toFileForm } from "../config/resolve.js";
import { configSchema } from "../config/schema.js";
import { ConfigError } from "../errors.js";
import { EncodingCommand } from "./options.js";

export class ConfigCommand extends EncodingCommand {
  static override paths = [["config"]];
  static override usage = Command.Usage({
    description: "Show the effective configuration (defaults < --config file < ZARRIO_LOG_LEVEL < flags), or the JSON Schema of config files.",
    details:
      "`--print` (the default) writes the configuration a command given the same --config and flags would use, as YAML (or JSON with --json); " +
      "it can be saved and passed back with --config. `--schema` writes a JSON Schema (draft-07) for editors.",
    examples: [
      ["What a config file plus a flag amounts to", "zarrio config --print --config site.yaml --packing-bits 8"],
      ["Schema for an editor", "zarrio config --schema > zarrio.schema.json"],
    ],
  });

  print = Option.Boolean("--print", false, { description: "Print the effective configuration (default)" });
  schema = Option.Boolean("--schema", false, { description: "Print the JSON Schema of configuration files" });
  json = Option.Boolean("--json", false, { description: "JSON instead of YAML" });

  async execute(): Promise<number> {
    if (this.print && this.schema) throw new ConfigError("give --print or --schema, not both", "config");
    if (this.schema) {
      this.context.stdout.write(JSON.stringify(configSchema(), null, 2) + "\n");
      return 0;
    }
    const form = toFileForm(this.resolved());
    this.context.stdout.write(this.json ? JSON.stringify(form, null, 2) + "\n" : (await import("yaml")).stringify(form));
    return 0;
  }
}
