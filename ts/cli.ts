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
  // Parse first: clipanion reports unknown flags or commands on stdout with exit 1; ours are
  // configuration errors (exit 2, one line on stderr) like any other bad option.
  let command;
  try {
    command = cli.process(args);
  } catch (e) {
    process.stderr.write(`zarrio: ${(e as Error).message.split("\n")[0]}\n(zarrio --help lists commands; zarrio <command> -h its options)\n`);
    process.exitCode = 2;
  }
  if (command) {
    const code = await cli.run(command);
    if (code !== 0 && !process.exitCode) process.exitCode = code;
  }
}
