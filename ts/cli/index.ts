/** Every CLI command, registered by cli.ts. One file per command in this folder. */
import { ConvertCommand } from "./convert.js";
import { ConfigCommand } from "./config.js";
import { ValidateCommand } from "./validate.js";
import { AnalyzeCommand } from "./analyze.js";
import { CreateTemplateCommand } from "./create-template.js";
import { WriteRegionCommand } from "./write-region.js";
import { AppendCommand } from "./append.js";

export const commands = [ConvertCommand, ConfigCommand, ValidateCommand, AnalyzeCommand, CreateTemplateCommand, WriteRegionCommand, AppendCommand];
