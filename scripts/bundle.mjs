// Bundles the CLI (dist/cli.js) and the write-region worker (dist/write-region-worker.js) into
// one file each, over tsc's per-module output. Node then reads and links one file instead of
// about a hundred modules at every start: the fixed cost of each zarrio process (a small file's
// convert, each --jobs writer). The library's entry points (dist/index.js, …) stay per-module.
//
// Left out and loaded at run time only when used: the AWS SDK (s3:// addresses), the yaml parser
// (YAML config files), the WebAssembly glue (bindings/wasm/pkg), the native addon.
//
//   node scripts/bundle.mjs [outdir] [--no-sourcemap]      default: dist, with source maps
import { build } from "esbuild";

const args = process.argv.slice(2);
const outdir = args.find((a) => !a.startsWith("--")) ?? "dist";

await build({
  entryPoints: { cli: "ts/cli.ts", "write-region-worker": "ts/commands/write-region-worker.ts" },
  outdir,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  external: ["@aws-sdk/*", "yaml"],
  // Bundled CommonJS dependencies (clipanion) require Node built-ins: give them a `require`.
  banner: { js: 'import { createRequire as __zarrioCreateRequire } from "node:module"; const require = __zarrioCreateRequire(import.meta.url);' },
  sourcemap: !args.includes("--no-sourcemap"),
  logLevel: "warning",
});

// The browser page (web/): the page and its conversion worker, each one ES module, beside the
// WebAssembly module (found next to worker.js at run time), the HTML, the CSS and the sample.
// `zarrio serve-web` serves this folder; any static host can.
{
  const { copyFileSync, mkdirSync } = await import("node:fs");
  const page = `${outdir}/web-page`;
  mkdirSync(page, { recursive: true });
  await build({
    entryPoints: { page: "web/page.ts", worker: "web/worker.ts" },
    outdir: page,
    bundle: true,
    platform: "browser",
    format: "esm",
    target: "es2022",
    // Reached only by code paths that run under Node (files by path, S3): never loaded in a browser.
    external: ["node:*", "@aws-sdk/*", "yaml"],
    sourcemap: !args.includes("--no-sourcemap"),
    minify: true,
    // Error classes keep their names: the page shows them (SourceReadError, ConfigError...).
    keepNames: true,
    logLevel: "warning",
  });
  for (const [from, to] of [
    ["web/index.html", "index.html"],
    ["web/style.css", "style.css"],
    ["samples/ocean_sample.nc", "ocean_sample.nc"],
    ["bindings/wasm/pkg/zarrio_wasm_bg.wasm", "zarrio_wasm_bg.wasm"],
  ]) copyFileSync(from, `${page}/${to}`);
}
