/**
 * The command line's contract: one line per error with a distinct exit code per failure kind
 * (stack only with -v), logging flags on every command (--log-level, -v/-q, --log-format json,
 * ZARRIO_LOG_LEVEL), end-of-run figures, and a progress bar only on a terminal.
 */
import test, { describe } from "node:test";
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import path from "node:path";

import * as zarrio from "../dist/index.js";
import { Progress } from "../dist/log.js";
import { BACKEND, cli, fixture, outDir } from "./helpers.js";

const ERRORS: [keyof typeof zarrio, number][] = [
  ["ConfigError", 2],
  ["SourceReadError", 3],
  ["IncompatibleSourceError", 4],
  ["RegionError", 5],
  ["PackingRangeError", 6],
  ["RetryLimitExceededError", 7],
  ["StoreError", 8],
  ["ConversionError", 9],
  ["ValidationError", 10],
];

const jsonLines = (text: string) =>
  text
    .split("\n")
    .filter(Boolean)
    .map((l) => {
      try {
        return JSON.parse(l);
      } catch {
        assert.fail(`not a JSON log line: ${l}`);
      }
    });

describe(`CLI [${BACKEND}]`, () => {
  test("typed errors: exported, one class per kind, distinct exit codes, with file, variable and cause", () => {
    const cause = new Error("underlying");
    for (const [name, code] of ERRORS) {
      const Cls = zarrio[name] as unknown as new (...a: unknown[]) => zarrio.ZarrioError;
      const e = name === "ConfigError" ? new Cls("bad", "packing.bits", { file: "a.yaml", cause }) : new Cls("bad", { file: "a.nc", variable: "t", cause });
      assert.ok(e instanceof zarrio.ZarrioError && e instanceof Error);
      assert.equal(e.name, name);
      assert.equal(e.exitCode, code);
      assert.equal(e.cause, cause);
      assert.ok(e.file);
      if (name !== "ConfigError") {
        assert.equal(e.variable, "t");
        assert.equal(e.message, "a.nc, variable 't': bad");
      } else {
        assert.equal((e as zarrio.ConfigError).key, "packing.bits");
      }
    }
    assert.equal(new Set(ERRORS.map(([, c]) => c)).size, ERRORS.length);
  });

  test("each failure kind exits with its code and one line on stderr; -v adds the stack", () => {
    const dir = outDir("cli-exit");
    const out = (n: string) => path.join(dir, n);
    const ranges = JSON.stringify({ temperature: { min: 0, max: 1 } });
    const cases: [string, string[], number, RegExp][] = [
      ["a bad flag value", ["convert", fixture("nc4_zlib.nc"), out("a.zarr"), "--packing-bits", "12"], 2, /^zarrio: ConfigError: packing\.bits: must be one of 8, 16, 32/],
      ["an unknown flag", ["convert", fixture("nc4_zlib.nc"), out("a.zarr"), "--frobnicate"], 2, /^zarrio: Unsupported option name \("--frobnicate"\)/],
      ["an unknown flag after known ones", ["write-region", fixture("nc4_zlib.nc"), out("a.zarr"), "-vv", "--jobs=2", "--frob=1"], 2, /^zarrio: Unsupported option name \("--frob"\)/],
      ["an unknown command", ["frobnicate"], 2, /^zarrio: Command not found/],
      ["a file that is not NetCDF", ["convert", fixture("corrupt_not_netcdf.nc"), out("b.zarr")], 3, /^zarrio: SourceReadError: .*corrupt_not_netcdf\.nc: /],
      ["files out of time order", ["convert", fixture("series_02.nc"), fixture("series_01.nc"), out("c.zarr")], 4, /^zarrio: IncompatibleSourceError: .*series_01\.nc: time is not increasing at step 0 \(the file's first, after the previous file's last\)/],
      ["values outside a packing range", ["convert", fixture("nc4_zlib.nc"), out("d.zarr"), "--packing", "--packing-manual-ranges", ranges], 6, /^zarrio: PackingRangeError: .*temperature/],
      ["no archive", ["validate", out("absent.zarr")], 8, /^zarrio: StoreError: .*absent\.zarr: no archive here/],
    ];
    for (const [what, args, code, message] of cases) {
      const r = cli(args);
      assert.equal(r.status, code, `${what}: ${r.stderr}`);
      assert.match(r.stderr, message, what);
      const lines = r.stderr.trim().split("\n");
      assert.ok(lines.length <= 2 && !/\n\s+at /.test(r.stderr), `${what}: ${r.stderr}`);
    }
    const verbose = cli(["convert", fixture("corrupt_not_netcdf.nc"), out("e.zarr"), "-v"]);
    assert.equal(verbose.status, 3);
    assert.match(verbose.stderr, /\n\s+at /, "stack with -v");
  });

  test("a file whose times are not on the archive's axis: RegionError, exit 5", () => {
    const dir = outDir("cli-region");
    const archive = path.join(dir, "a.zarr");
    assert.equal(cli(["convert", fixture("series_01.nc"), archive]).status, 0);
    const r = cli(["write-region", fixture("series_03.nc"), archive]);
    assert.equal(r.status, 5, r.stderr);
    assert.match(r.stderr, /^zarrio: RegionError: .*series_03\.nc: /);
  });

  test("--log-format json on every command: each log line and the error line are JSON objects", () => {
    const dir = outDir("cli-json");
    const archive = path.join(dir, "a.zarr");
    const runs: [string, string[]][] = [
      ["convert", ["convert", fixture("series_01.nc"), archive, "-v", "--log-format", "json"]],
      ["analyze", ["analyze", fixture("series_01.nc"), "-v", "--log-format", "json"]],
      ["validate", ["validate", archive, fixture("series_01.nc"), "-v", "--log-format", "json"]],
      ["config", ["config", "--print", "-v", "--log-format", "json"]],
    ];
    for (const [what, args] of runs) {
      const r = cli(args);
      assert.equal(r.status, 0, `${what}: ${r.stderr}`);
      const logs = jsonLines(r.stderr);
      for (const l of logs) assert.ok(l.time && l.level && typeof l.message === "string", JSON.stringify(l));
      if (what !== "config") assert.ok(logs.some((l) => l.level === "info"), `${what} logs at info with -v`);
    }
    const done = jsonLines(cli(["convert", fixture("nc4_zlib.nc"), path.join(dir, "b.zarr"), "--log-level", "info", "--log-format", "json"]).stderr).find((l) => /^convert done/.test(l.message));
    assert.ok(done, "end-of-run figures");
    for (const k of ["read", "stored", "ratio", "mb_per_s"]) assert.ok(k in done, k);
    const failed = cli(["convert", fixture("corrupt_not_netcdf.nc"), path.join(dir, "c.zarr"), "--log-format", "json"]);
    assert.equal(failed.status, 3);
    const [err] = jsonLines(failed.stderr);
    assert.equal(err.level, "error");
    assert.equal(err.error, "SourceReadError");
    assert.equal(err.exit_code, 3);
    assert.match(err.file, /corrupt_not_netcdf\.nc$/);
    const badConfig = jsonLines(cli(["config", "--packing-bits", "12", "--log-format", "json"]).stderr)[0];
    assert.equal(badConfig.key, "packing.bits");
  });

  test("log levels: warnings by default, -q silences them, ZARRIO_LOG_LEVEL and --log-level raise the level, flags win", () => {
    const dir = outDir("cli-levels");
    let n = 0;
    const run = (args: string[], env: Record<string, string> = {}) => {
      const ranges = JSON.stringify({ temperature: { min: 270, max: 290 } });
      const r = cli(["convert", fixture("nc4_zlib.nc"), path.join(dir, `${n++}.zarr`), "--packing", "--packing-manual-ranges", ranges, "--packing-range-exceeded-action", "clip", ...args], env);
      assert.equal(r.status, 0, r.stderr);
      return r.stderr;
    };
    assert.match(run([]), /warn .*values outside the packing range of temperature were clipped/);
    assert.doesNotMatch(run([]), / info /);
    assert.equal(run(["-q"]), "");
    assert.match(run([], { ZARRIO_LOG_LEVEL: "info" }), /info  convert done in/);
    assert.equal(run(["-q"], { ZARRIO_LOG_LEVEL: "debug" }), "", "a flag beats the environment");
    assert.match(run(["--log-level", "info"]), /info  packing \/temperature to int16 .*range_from=manual/);
  });

  test("no progress bar when stderr is not a terminal; on a terminal it draws and clears", () => {
    const r = cli(["convert", fixture("nc4_zlib.nc"), path.join(outDir("cli-progress"), "a.zarr"), "-v"]);
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /\r|█/);
    let drawn = "";
    const tty = Object.assign(new Writable({ write: (chunk, _enc, done) => ((drawn += String(chunk)), done()) }), { isTTY: true }) as unknown as NodeJS.WriteStream;
    const bar = new Progress("converting", 1000, true, tty);
    bar.advance(500);
    assert.match(drawn, /\rconverting █+░+  50% 500 B/);
    bar.clear();
    assert.match(drawn, /\r\x1b\[K$/);
    bar.advance(500);
    assert.match(drawn, /100%/);
    bar.finish();
    assert.ok(drawn.endsWith("\n"));
    let silent = "";
    const pipe = Object.assign(new Writable({ write: (chunk, _enc, done) => ((silent += String(chunk)), done()) }), { isTTY: false }) as unknown as NodeJS.WriteStream;
    const none = new Progress("converting", 1000, true, pipe);
    none.advance(1000);
    none.finish();
    assert.equal(silent, "");
  });
});
