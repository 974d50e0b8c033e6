/** Every CLI command, registered by cli.ts. One file per command in this folder. */
import { ConvertCommand } from "./convert.js";
import { ConfigCommand } from "./config.js";

export const commands = [ConvertCommand, ConfigCommand];
