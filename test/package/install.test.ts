/**
 * The packages as users get them. scripts/pack.sh's tarballs are installed into empty
 * directories with the Dockerfile's npm command, on a PATH that holds node, npm and sh only (no
 * cargo, rustc or C compiler), and used from there: `npx zarrio`, the ESM and CommonJS library,
 * the shipped types. Once with the platform package (native addon), once without it (the
 * WebAssembly build, chosen automatically). Outputs are checked with xarray.
 */
import test, { before, describe } from "node:test";
import assert from "node:assert/strict";
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

import { PREBUILT_TRIPLES, platformTriple } from "../../dist/backend/index.js";
import { assertMatchesSources, ROOT, userEnvironment } from "../helpers.js";

const SAMPLE = path.join(ROOT, "samples", "ocean_sample.nc");
const TRIPLE = platformTriple();
/** The Dockerfile installs with exactly this command (checked below). */
const INSTALL = ["install", "--omit=dev", "--no-audit", "--no-fund"];

const work = mkdtempSync(path.join(os.tmpdir(), "zarrio-install-"));
process.on("exit", () => rmSync(work, { recursive: true, force: true }));
/** Tarballs go here, not to .pack/: a user's tarballs are left alone, and two runs do not collide. */
const PACK = path.join(work, "pack");

const ENV = userEnvironment(work);
/** Its PATH: node, npm, npx and sh only. */
const bin = ENV.PATH!;

function run(cwd: string, file: string, args: string[]): SpawnSyncReturns<string> {
  return spawnSync(file, args, { cwd, env: ENV, encoding: "utf8", maxBuffer: 64 << 20 });
}

function ok(r: SpawnSyncReturns<string>, what: string): string {
  assert.equal(r.status, 0, `${what} failed (exit ${r.status}):\n${r.stderr}\n${r.stdout}`);
  return r.stdout;
}

/** stderr without npm's own warnings: what zarrio itself said. */
const zarrioLines = (stderr: string) => stderr.split("\n").filter((l) => l.trim() && !/^npm (warn|notice)/.test(l));

interface Packed {
  name: string;
  filename: string;
  size: number;
  unpackedSize: number;
}
let packed: Packed[] = [];
const tarball = (name: string) => {
  const p = packed.find((x) => x.name === name);
  assert.ok(p, `pack.sh made no tarball for ${name}`);
  return path.join(PACK, p.filename);
};

before(() => {
  // npm test has just built everything; pack what is there. The addon for this machine is usually the
  // host build (scripts/build.sh native), which needs this machine's glibc: allowed here, for a pack
  // that is installed on this machine only (the release checks, GLIBC_2.17, are npm run test:platforms').
  ok(spawnSync("bash", [path.join(ROOT, "scripts", "pack.sh"), "--no-build", "--out", PACK, "--glibc-max", "host"], { encoding: "utf8", cwd: ROOT }), "scripts/pack.sh");
  packed = JSON.parse(readFileSync(path.join(PACK, "packages.json"), "utf8")) as Packed[];
});

describe("packages", () => {
  test("a platform package is declared for every prebuilt target of the loader, and packed for this machine", (t) => {
    assert.deepEqual(readdirSync(path.join(ROOT, "npm")).sort(), [...PREBUILT_TRIPLES].sort());
    const stagedManifest = JSON.parse(readFileSync(path.join(PACK, "stage", "package.json"), "utf8"));
    assert.deepEqual(Object.keys(stagedManifest.optionalDependencies).sort(), PREBUILT_TRIPLES.map((t) => `@zarrio/${t}`).sort());
    for (const t of PREBUILT_TRIPLES) {
      const pkg = JSON.parse(readFileSync(path.join(ROOT, "npm", t, "package.json"), "utf8"));
      assert.equal(pkg.name, `@zarrio/${t}`);
      assert.equal(pkg.main, `zarrio.${t}.node`);
      assert.equal(stagedManifest.optionalDependencies[pkg.name], stagedManifest.version);
    }
    tarball(`@zarrio/${TRIPLE}`);
    for (const p of packed) t.diagnostic(`${p.filename}: ${(p.size / 2 ** 20).toFixed(2)} MiB packed, ${(p.unpackedSize / 2 ** 20).toFixed(2)} MiB unpacked`);
  });

  test("the Dockerfile installs the same tarballs with the same npm command, and runs the installed CLI", () => {
    const dockerfile = readFileSync(path.join(ROOT, "Dockerfile"), "utf8");
    assert.match(dockerfile, /^COPY \.pack\/\*\.tgz /m);
    assert.ok(dockerfile.includes(`RUN npm ${INSTALL.join(" ")} ./zarrio-[0-9]*.tgz ./zarrio-linux-$(node -p process.arch)-gnu-*.tgz`), "the Dockerfile's npm install differs from the test's");
    assert.match(dockerfile, /^ENTRYPOINT \["\/opt\/zarrio\/node_modules\/\.bin\/zarrio"\]/m);
  });

  test("nothing on the install PATH compiles", () => {
    const r = run(work, path.join(bin, "sh"), ["-c", "command -v cargo || command -v rustc || command -v cc || command -v gcc"]);
    assert.notEqual(r.status, 0, `found a compiler: ${r.stdout}`);
  });
});

for (const flavour of ["native", "wasm"] as const) {
  describe(`installed from the tarballs, ${flavour === "native" ? "with" : "without"} @zarrio/${TRIPLE}`, () => {
    const dir = path.join(work, flavour);
    const out = path.join(ROOT, "test", ".out", "package", flavour);

    before(() => {
      mkdirSync(dir);
      rmSync(out, { recursive: true, force: true });
      mkdirSync(out, { recursive: true });
      const files = flavour === "native" ? [tarball("zarrio"), tarball(`@zarrio/${TRIPLE}`)] : [tarball("zarrio")];
      // Without the platform package, as on a platform that has none (or where it failed to install).
      const extra = flavour === "wasm" ? ["--omit=optional"] : [];
      ok(run(dir, path.join(bin, "npm"), [...INSTALL, ...extra, ...files]), "npm install");
    });

    test("npx zarrio --version names the backend", () => {
      const line = ok(run(dir, path.join(bin, "npx"), ["zarrio", "--version"]), "npx zarrio --version");
      if (flavour === "native") assert.match(line, new RegExp(`\\(native backend from @zarrio/${TRIPLE}[,)]`));
      else assert.match(line, new RegExp(`\\(wasm backend; native addon unavailable: the optional package @zarrio/${TRIPLE} is not installed\\)`));
      // The Dockerfile's entrypoint is this file.
      assert.equal(ok(run(dir, path.join(dir, "node_modules", ".bin", "zarrio"), ["--version"]), "node_modules/.bin/zarrio --version"), line);
    });

    test("npx zarrio convert: the sample, read back equal by xarray; a fallback says so in one line", () => {
      const zarr = path.join(out, "cli.zarr");
      const r = run(dir, path.join(bin, "npx"), ["zarrio", "convert", SAMPLE, zarr]);
      ok(r, "npx zarrio convert");
      assert.match(r.stdout, new RegExp(`${flavour} backend`));
      const said = zarrioLines(r.stderr);
      if (flavour === "native") assert.deepEqual(said, []);
      else {
        assert.equal(said.length, 1, `expected one notice, got:\n${said.join("\n")}`);
        assert.match(said[0]!, /native addon unavailable \(the optional package @zarrio\/\S+ is not installed\); using the WebAssembly build/);
      }
      assertMatchesSources(zarr, [SAMPLE]);
    });

    test("the library from ESM: functions, classes and typed errors", () => {
      const zarr = path.join(out, "esm.zarr");
      writeFileSync(
        path.join(dir, "esm.mjs"),
        `import { convertToZarr, ZarrConverter, ConfigError } from "zarrio";
const s = await convertToZarr(${JSON.stringify(SAMPLE)}, ${JSON.stringify(zarr)}, { compression: "zstd:3" });
let refused = false;
try { new ZarrConverter({ compression: "lzma" }); } catch (e) { refused = e instanceof ConfigError; }
console.log(JSON.stringify({ backend: s.backend, refused }));
`,
      );
      const res = JSON.parse(ok(run(dir, path.join(bin, "node"), ["esm.mjs"]), "node esm.mjs"));
      assert.deepEqual(res, { backend: flavour, refused: true });
      assertMatchesSources(zarr, [SAMPLE]);
    });

    test("the library from CommonJS: require() works, the ESM classes come with load()", () => {
      const zarr = path.join(out, "cjs.zarr");
      writeFileSync(
        path.join(dir, "cjs.cjs"),
        `const zarrio = require("zarrio");
(async () => {
  const s = await zarrio.convertToZarr(${JSON.stringify(SAMPLE)}, ${JSON.stringify(zarr)});
  const { ConfigError, MemoryStore } = await zarrio.load();
  const refused = await zarrio.createConverter({ compression: "lzma" }).then(() => false, (e) => e instanceof ConfigError);
  console.log(JSON.stringify({ backend: s.backend, refused, store: typeof MemoryStore, sameModule: (await zarrio.load()) === (await zarrio.load()) }));
})().catch((e) => { console.error(e); process.exit(1); });
`,
      );
      const res = JSON.parse(ok(run(dir, path.join(bin, "node"), ["cjs.cjs"]), "node cjs.cjs"));
      assert.deepEqual(res, { backend: flavour, refused: true, store: "function", sameModule: true });
      assertMatchesSources(zarr, [SAMPLE]);
    });

    if (flavour === "native") {
      test("the shipped .d.ts type ESM, CommonJS and zarrio/web code (and catch a wrong call)", () => {
        writeFileSync(
          path.join(dir, "consumer.mts"),
          `import { convertToZarr, ZarrConverter, type ConvertSummary, type Store } from "zarrio";
import { convertToZarr as convertBytes, init, MemoryStore } from "zarrio/web";
export async function f(): Promise<number> {
  const s: ConvertSummary = await convertToZarr("in.nc", "out.zarr", { compression: "zstd:3" });
  await new ZarrConverter({}).createTemplate({ templateDataset: "t.nc", outputPath: "a.zarr", globalStart: "2020-01-01", globalEnd: "2020-12-31" });
  const store: Store = new MemoryStore();
  await init(new Uint8Array(8));
  const w = await convertBytes({ name: "x.nc", bytes: new Uint8Array(8) }, store);
  // @ts-expect-error an output is required
  await convertToZarr("in.nc");
  return s.timeSteps + w.variables;
}
`,
        );
        writeFileSync(
          path.join(dir, "consumer.cts"),
          `import zarrio = require("zarrio");
export async function g(): Promise<string> {
  const s: zarrio.ConvertSummary = await zarrio.convertToZarr(["a.nc", "b.nc"], "out.zarr");
  const { ZarrConverter } = await zarrio.load();
  const c: zarrio.ZarrConverter = new ZarrConverter({ packing: { enabled: true } });
  // @ts-expect-error the summary has no such field
  s.nonexistent;
  return s.backend + String(c.config.packing.enabled);
}
`,
        );
        writeFileSync(
          path.join(dir, "tsconfig.json"),
          JSON.stringify({
            compilerOptions: {
              module: "NodeNext",
              moduleResolution: "NodeNext",
              target: "ES2022",
              strict: true,
              noEmit: true,
              types: ["node"],
              typeRoots: [path.join(ROOT, "node_modules", "@types")],
            },
            files: ["consumer.mts", "consumer.cts"],
          }),
        );
        ok(run(dir, path.join(bin, "node"), [path.join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.json"]), "tsc on the consumer");
      });
    } else {
      test("zarrio/web and zarrio/wasm resolve from the installed package and convert bytes in memory", () => {
        writeFileSync(
          path.join(dir, "web.mjs"),
          `import { readFile } from "node:fs/promises";
import { init, convertToZarr, MemoryStore } from "zarrio/web";
await init(await readFile(new URL(import.meta.resolve("zarrio/wasm"))));
const store = new MemoryStore();
const s = await convertToZarr({ name: "sample.nc", bytes: await readFile(${JSON.stringify(SAMPLE)}) }, store);
console.log(JSON.stringify({ backend: s.backend, arrays: s.variables, root: store.map.has("zarr.json") }));
`,
        );
        const res = JSON.parse(ok(run(dir, path.join(bin, "node"), ["web.mjs"]), "node web.mjs"));
        assert.deepEqual(res, { backend: "wasm", arrays: 5, root: true });
      });
    }
  });
}
