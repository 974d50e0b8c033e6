import { Command, Option } from "clipanion";

import { serveWeb } from "../commands/serve-web.js";
import { ConfigError } from "../errors.js";
import { BaseCommand } from "./common.js";

export class ServeWebCommand extends BaseCommand {
  static override paths = [["serve-web"]];
  static override usage = Command.Usage({
    description: "Serve the browser page (convert, preview and save NetCDF files in the browser) on this machine.",
    details:
      "The page is static and runs zarrio's WebAssembly build in the browser: files dropped on it are read there and never sent to this server. " +
      "Any static host can serve the same folder (dist/web-page in the package).",
    examples: [
      ["Serve on http://127.0.0.1:8080/", "zarrio serve-web"],
      ["Another port, reachable from other machines", "zarrio serve-web --port 9000 --host 0.0.0.0"],
    ],
  });

  port = Option.String("--port", "8080", { description: "Port to listen on (0: any free port; default 8080)" });
  host = Option.String("--host", "127.0.0.1", { description: "Address to listen on (default 127.0.0.1: this machine only)" });

  async execute(): Promise<number> {
    const port = Number(this.port);
    if (!/^\d+$/.test(this.port) || port > 65535) throw new ConfigError(`--port ${this.port} is not a port number (0-65535)`, "port");
    const { url, close } = await serveWeb({ host: this.host, port }).catch((e: NodeJS.ErrnoException) => {
      throw e.code === "EADDRINUSE" || e.code === "EACCES" || e.code === "EADDRNOTAVAIL"
        ? new ConfigError(`cannot listen on ${this.host}:${port} (${e.code}); choose another --port or --host`, "port")
        : e;
    });
    this.context.stdout.write(`zarrio page at ${url}  (Ctrl-C stops)\n`);
    await new Promise<void>((resolve) => {
      process.once("SIGINT", resolve);
      process.once("SIGTERM", resolve);
    });
    await close();
    return 0;
  }
}
