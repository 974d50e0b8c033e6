/**
 * serve-web: the browser page (dist/web-page, built from web/) over HTTP on this machine. The page
 * is static: any static host serves it the same way; this is the one-liner for a laptop. Files the
 * user converts never reach this server: the page reads them in the browser.
 */
import { existsSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import path from "node:path";

import { packageRoot } from "../backend/root.js";
import { ConfigError } from "../errors.js";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".wasm": "application/wasm",
  ".map": "application/json",
  ".nc": "application/x-netcdf",
  ".json": "application/json",
};

/** The built page's folder, or a ConfigError saying how to build it. */
export function pageRoot(): string {
  const dir = path.join(packageRoot(), "dist", "web-page");
  if (!existsSync(path.join(dir, "index.html"))) throw new ConfigError(`the browser page is not built (${dir} has no index.html): run bash scripts/build.sh ts`, "serve-web");
  return dir;
}

export interface ServeOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** The folder served (default: the built page). */
  root?: string;
}

/** Serve the page; resolves once listening, with its URL and a way to stop it. */
export async function serveWeb(options: ServeOptions = {}): Promise<{ url: string; server: Server; close(): Promise<void> }> {
  const root = options.root ?? pageRoot();
  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? "/", "http://localhost");
      const rel = decodeURIComponent(url.pathname).replace(/^\/+/, "") || "index.html";
      const file = path.resolve(root, rel);
      // Nothing outside the page's folder.
      if (file !== root && !file.startsWith(root + path.sep)) {
        res.writeHead(403).end("outside the page's folder");
        return;
      }
      if (req.method !== "GET" && req.method !== "HEAD") {
        res.writeHead(405, { allow: "GET, HEAD" }).end();
        return;
      }
      const info = await stat(file).catch(() => undefined);
      if (!info?.isFile()) {
        res.writeHead(404, { "content-type": "text/plain" }).end(`not found: ${url.pathname}`);
        return;
      }
      res.writeHead(200, {
        "content-type": TYPES[path.extname(file)] ?? "application/octet-stream",
        "content-length": info.size,
        "cache-control": "no-cache",
      });
      res.end(req.method === "HEAD" ? undefined : await readFile(file));
    } catch (e) {
      res.writeHead(500, { "content-type": "text/plain" }).end(String(e));
    }
  });
  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 8080, host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  const shown = host === "0.0.0.0" || host === "::" ? "localhost" : host.includes(":") ? `[${host}]` : host;
  return { url: `http://${shown}:${port}/`, server, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
