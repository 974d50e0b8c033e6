#!/usr/bin/env node
/** The `zarrio` command line. */
import { Builtins, Cli } from "clipanion";

import { onFallback } from "./backend/index.js";
import { foldArgs, unfoldInto } from "./cli/argv.js";
import { BaseCommand } from "./cli/common.js";
import { loadCommands } from "./cli/index.js";
import { versionLine } from "./cli/version.js";
import { collectBetweenManyFiles, collectPromptly, holdYoungGeneration } from "./heap.js";
import { Logger, type LogLevel } from "./log.js";

/**
 * Falling back to WebAssembly is said once, on stderr, as a warning of the command's logging:
 * -q or --log-level error (flag or ZARRIO_LOG_LEVEL) silence it, --log-format json makes it a
 * JSON line. `--version` says it in its own line instead.
 */
function fallbackNotice(command: unknown, reason: string): void {
  const c = command instanceof BaseCommand ? command : undefined;
  const level = (c?.logLevel ?? (c?.quiet ? "error" : undefined) ?? process.env.ZARRIO_LOG_LEVEL ?? "warn").toLowerCase() as LogLevel;
  new Logger({ level, format: c?.logFormat === "json" ? "json" : "text" }).warn(
    `native addon unavailable (${reason}); using the WebAssembly build, which is slower`,
  );
}

/**
 * The first option in `args` that command `args[0]` does not have, if any. clipanion names an
 * unknown option only for some shapes of positional arguments (behind a list that needs one
 * argument it answers "Command not found"); the option's name is what the user needs.
 */
function unknownOption(cli: Cli, args: string[]): string | undefined {
  const def = cli.definitions().find((d) => d.path.split(" ").slice(1).join(" ") === args[0]);
  if (!def) return undefined;
  const names = new Set(def.options.flatMap((o) => o.definition.split(" ")[0]!.split(",")));
  const known = (name: string) => names.has(name) || names.has(name.replace(/^--no-/, "--"));
  for (const a of args.slice(1)) {
    if (a === "--") return undefined;
    if (!a.startsWith("-") || a === "-") continue;
    const name = a.split("=")[0]!;
    // Short flags may come together (-vv).
    const ok = /^-[a-zA-Z]+$/.test(name) ? [...name.slice(1)].every((c) => known(`-${c}`)) : known(name);
    if (!ok) return name;
  }
  return undefined;
}

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === "--version" || args[0] === "-V")) {
  process.stdout.write((await versionLine()) + "\n");
} else {
  const cli = new Cli({ binaryLabel: "zarrio", binaryName: "zarrio", binaryVersion: "" });
  // clipanion builds one parser over every registered option; loading and registering only the
  // command asked for (all of them for help or a typo) keeps start-up fast.
  for (const c of await loadCommands(args[0])) cli.register(c);
  cli.register(Builtins.HelpCommand);
  // Parse first: clipanion reports unknown flags or commands on stdout with exit 1; ours are
  // configuration errors (exit 2, one line on stderr) like any other bad option.
  let command;
  try {
    const folded = foldArgs(args);
    command = cli.process(folded.args);
    unfoldInto(command, folded);
  } catch (e) {
    let message = (e as Error).message.split("\n")[0]!;
    const unknown = /^Command not found/.test(message) ? unknownOption(cli, args) : undefined;
    if (unknown) message = `Unsupported option name ("${unknown}").`;
    process.stderr.write(`zarrio: ${message}\n(zarrio --help lists commands; zarrio <command> -h its options)\n`);
    process.exitCode = 2;
  }
  if (command) {
    holdYoungGeneration();
    collectPromptly();
    collectBetweenManyFiles();
    onFallback((reason) => fallbackNotice(command, reason));
    const code = await cli.run(command);
    if (code !== 0 && !process.exitCode) process.exitCode = code;
    if (command instanceof BaseCommand) command.logStoreSummary();
  }
}
