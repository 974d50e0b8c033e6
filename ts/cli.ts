#!/usr/bin/env node
/** The `zarrio` command line. */
import { Builtins, Cli } from "clipanion";

import { commands } from "./cli/index.js";
import { versionLine } from "./cli/version.js";

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === "--version" || args[0] === "-V")) {
  process.stdout.write((await versionLine()) + "\n");
} else {
  const cli = new Cli({ binaryLabel: "zarrio", binaryName: "zarrio", binaryVersion: "" });
  for (const c of commands) cli.register(c);
  cli.register(Builtins.HelpCommand);
  const code = await cli.run(args);
  if (code !== 0 && !process.exitCode) process.exitCode = code;
}
