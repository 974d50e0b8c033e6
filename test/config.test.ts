/**
 * Configuration: every refusal of bad input names the key path and what is allowed; precedence
 * is defaults < config file < ZARRIO_LOG_LEVEL < flags actually given; `config --print` reads
 * back to the same configuration; the JSON Schema (checked with a real validator, ajv) accepts
 * what resolveConfig accepts and refuses what it refuses.
 */
import test, { describe } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

import Ajv from "ajv";
import { parse as parseYaml, stringify as toYaml } from "yaml";

import { ConfigError, configKeys, configSchema, convertToZarr, DEFAULT_CONFIG, loadConfigFile, resolveConfig, toFileForm } from "../dist/index.js";
import { BACKEND, cli, fixture, outDir, ROOT } from "./helpers.js";

/** A file using every key (snake_case, as the Python tool's files are written). */
const FULL_EXAMPLE = `
chunking: {time: 24, lat: 90, lon: 180}
compression: {method: "blosc:lz4:5", shuffle: bitshuffle, blocksize: 0}
packing:
  enabled: true
  bits: 16
  manual_ranges: {temperature: {min: -50, max: 50}}
  auto_buffer_factor: 0.05
  range_exceeded_action: fill
  exclude: [salinity]
time: {dim: time, append_dim: time, global_start: "2020-01-01", global_end: "2020-12-31T18:00", freq: 6h}
variables: {include: [temperature, salinity], exclude: [quality]}
missing_data: {check_vars: [temperature], retries_on_missing: 2}
attrs: {title: "test archive", version: 2}
target_chunk_size_mb: 16
intelligent_chunking: true
access_pattern: temporal
zarr_format: 2
group: /ocean
concurrency: 4
slab_size_mb: 32
reader: pure
logging: {level: info, format: json}
`;

/** [layer, key path the message must name, what the message must say is allowed]. */
const REFUSALS: [string, Record<string, unknown>, string, RegExp][] = [
  ["chunk length 0", { chunking: "time:0" }, "chunking.time", /whole number >= 1/],
  ["negative chunk length", { chunking: { lat: -4 } }, "chunking.lat", /whole number >= 1/],
  ["chunk length that is not a number", { chunking: { lon: "wide" } }, "chunking.lon", /whole number >= 1/],
  ["chunking that is not a mapping", { chunking: 5 }, "chunking", /mapping/],
  ["packing bits 12", { packing: { bits: 12 } }, "packing.bits", /8, 16, 32/],
  ["an unknown codec", { compression: "blosc:snappy:3" }, "compression", /blosclz, lz4, lz4hc, zlib, zstd/],
  ["an unknown compression method", { compression: "lz77" }, "compression", /blosc:<cname>/],
  ["a blosc level above 9", { compression: "blosc:zstd:10" }, "compression", /0 to 9/],
  ["a shuffle name", { compression: "blosc:zstd:3:sideways" }, "compression", /shuffle, bitshuffle or noshuffle/],
  ["a shuffle on zstd", { compression: { method: "zstd:3", shuffle: "bitshuffle" } }, "compression.shuffle", /only blosc/],
  ["an unknown compression key", { compression: { method: "zstd", speed: 3 } }, "compression.speed", /known: method, cname, clevel, shuffle, blocksize/],
  ["an unknown top-level key", { chunkin: "time:1" }, "chunkin", /unknown key \(known: chunking, compression/],
  ["an unknown packing key", { packing: { bitz: 8 } }, "packing.bitz", /known: enabled, bits/],
  ["an unknown time key", { time: { start: "2020-01-01" } }, "time.start", /known: dim, appendDim, globalStart/],
  ["an unknown logging key", { logging: { colour: true } }, "logging.colour", /known: level, format/],
  ["an unknown key in a manual range", { packing: { manualRanges: { t: { min: 0, max: 1, step: 2 } } } }, "packing.manualRanges.t.step", /known: min, max/],
  ["a manual range with min > max", { packing: { manual_ranges: { t: { min: 5, max: 1 } } } }, "packing.manualRanges.t", /min <= max/],
  ["a section that is not a mapping", { packing: 5 }, "packing", /mapping with keys enabled, bits/],
  ["a number where text belongs", { time: { dim: 5 } }, "time.dim", /non-empty text/],
  ["a boolean spelled yes", { packing: { enabled: "yes" } }, "packing.enabled", /true or false/],
  ["target chunk size 0", { targetChunkSizeMb: 0 }, "targetChunkSizeMb", /from 0.001 to 4096/],
  ["a fractional concurrency", { concurrency: 1.5 }, "concurrency", /whole number from 1 to 64/],
  ["Zarr format 4", { zarrFormat: 4 }, "zarrFormat", /2, 3/],
  ["an unknown access pattern", { accessPattern: "diagonal" }, "accessPattern", /temporal, spatial, balanced/],
  ["an unknown range action", { packing: { rangeExceededAction: "wrap" } }, "packing.rangeExceededAction", /error, clip, fill \(warn means clip, ignore means clip\)/],
  ["an unknown log level", { logging: { level: "loud" } }, "logging.level", /error, warn, info, debug/],
  ["an unknown reader", { reader: "gdal" }, "reader", /auto, pure, libnetcdf/],
  ["variables that are not names", { variables: { include: 5 } }, "variables.include", /list of names/],
  ["check_vars that is not 'all' or names", { missingData: { checkVars: 7 } }, "missingData.checkVars", /list of names/],
  ["negative retries", { missing_data: { retries_on_missing: -1 } }, "missingData.retriesOnMissing", /whole number from 0 to 100/],
  ["a date that cannot be read", { time: { globalStart: "yesterday" } }, "time.globalStart", /ISO form/],
  ["an end before the start", { time: { globalStart: "2020-02-01", globalEnd: "2020-01-01" } }, "time.globalEnd", /before globalStart/],
  ["an unknown frequency", { time: { freq: "1q" } }, "time.freq", /examples: 1h, 6h, 1D/],
  ["attrs that are not a mapping", { attrs: "title=x" }, "attrs", /mapping/],
  ["one key in both spellings", { target_chunk_size_mb: 4, targetChunkSizeMb: 8 }, "targetChunkSizeMb", /given twice/],
  ["a Python alias beside its field", { packing: { check_range_exceeded: false, range_exceeded_action: "error" } }, "packing.rangeExceededAction", /given twice/],
];

describe(`configuration [${BACKEND}]`, () => {
  test("defaults: every field has one, and resolving nothing gives them", () => {
    assert.deepEqual(resolveConfig(), DEFAULT_CONFIG);
    assert.equal(DEFAULT_CONFIG.targetChunkSizeMb, 8);
    assert.deepEqual(DEFAULT_CONFIG.compression, { id: "blosc", cname: "zstd", clevel: 3, shuffle: "byte", blocksize: 0 });
    const schema = configSchema() as any;
    for (const key of configKeys()) {
      const node = key.split(".").reduce((s: any, k) => s.properties[k], schema);
      assert.ok(node?.description?.length > 10, `${key} has a doc line`);
    }
  });

  for (const [what, layer, key, allowed] of REFUSALS) {
    test(`refused: ${what}, naming ${key}`, () => {
      assert.throws(
        () => resolveConfig(layer),
        (e: Error) => {
          assert.ok(e instanceof ConfigError, `${e.name}: ${e.message}`);
          assert.equal(e.key, key);
          assert.ok(e.message.startsWith(`${key}: `), e.message);
          assert.match(e.message, allowed);
          return true;
        },
      );
    });
  }

  test("snake_case files and the Python tool's names are accepted", () => {
    const c = resolveConfig(parseYaml(FULL_EXAMPLE));
    assert.deepEqual(c.chunking, { time: 24, lat: 90, lon: 180 });
    assert.deepEqual(c.compression, { id: "blosc", cname: "lz4", clevel: 5, shuffle: "bit", blocksize: 0 });
    assert.deepEqual(c.packing.manualRanges, { temperature: { min: -50, max: 50 } });
    assert.equal(c.packing.rangeExceededAction, "fill");
    assert.deepEqual(c.missingData, { checkVars: ["temperature"], retriesOnMissing: 2 });
    assert.equal(c.time.globalEnd, "2020-12-31T18:00");
    assert.equal(c.targetChunkSizeMb, 16);
    assert.equal(c.zarrFormat, 2);
    assert.equal(resolveConfig({ packing: { check_range_exceeded: false } }).packing.rangeExceededAction, "clip");
    assert.equal(resolveConfig({ packing: { range_exceeded_action: "warn" } }).packing.rangeExceededAction, "clip");
    assert.equal(resolveConfig({ time: { dim: "valid_time" } }).time.appendDim, "valid_time", "appendDim follows dim");
  });

  test("layers: later ones win key by key, sections merge", () => {
    const c = resolveConfig({ packing: { enabled: true, bits: 8 }, compression: "zstd:5" }, { packing: { bits: 32 } });
    assert.equal(c.packing.enabled, true);
    assert.equal(c.packing.bits, 32);
    assert.deepEqual(c.compression, { id: "zstd", level: 5 });
    assert.equal(resolveConfig({ compression: "zstd:5" }, { compression: null }).compression, null);
  });

  test("the file form reads back to the same configuration (defaults and a full example)", () => {
    for (const c of [DEFAULT_CONFIG, resolveConfig(parseYaml(FULL_EXAMPLE)), resolveConfig({ compression: { method: "blosc:zstd:3", blocksize: 65536 } })]) {
      assert.deepEqual(resolveConfig(parseYaml(toYaml(toFileForm(c)))), c);
    }
  });

  test("the JSON Schema accepts the defaults and a full example and refuses what resolveConfig refuses (ajv)", () => {
    const ajv = new Ajv({ strict: false, allErrors: true });
    const check = ajv.compile(configSchema());
    for (const [name, doc] of [
      ["defaults", toFileForm(DEFAULT_CONFIG)],
      ["full example", parseYaml(FULL_EXAMPLE)],
      ["camelCase example", toFileForm(resolveConfig(parseYaml(FULL_EXAMPLE)))],
      ["empty file", {}],
    ] as const) {
      assert.ok(check(doc), `${name}: ${ajv.errorsText(check.errors)}`);
    }
    // Every refusal that is about a single value (not a relation between values) is in the schema too.
    const relational = new Set(["a date that cannot be read", "an end before the start", "an unknown frequency", "one key in both spellings", "a Python alias beside its field", "a manual range with min > max", "a shuffle on zstd"]);
    for (const [what, layer] of REFUSALS) {
      if (relational.has(what)) continue;
      assert.ok(!check(layer), `the schema accepts ${what}: ${JSON.stringify(layer)}`);
    }
  });

  test("docs/usage.md documents every key", () => {
    const docs = readFileSync(path.join(ROOT, "docs", "usage.md"), "utf8");
    for (const key of configKeys()) assert.ok(docs.includes(`\`${key}\``), `docs/usage.md lacks ${key}`);
  });

  test("config files: YAML and JSON load; unreadable or invalid ones are ConfigErrors naming the file", () => {
    const dir = outDir("config-files");
    const yaml = path.join(dir, "c.yaml");
    const json = path.join(dir, "c.json");
    writeFileSync(yaml, "packing:\n  bits: 8\n");
    writeFileSync(json, '{"packing": {"bits": 32}}');
    assert.equal(resolveConfig(loadConfigFile(yaml)).packing.bits, 8);
    assert.equal(resolveConfig(loadConfigFile(json)).packing.bits, 32);
    for (const [name, text, why] of [
      ["bad.yaml", "packing: [unclosed", /not valid YAML/],
      ["bad.json", "{packing: 1}", /not valid JSON/],
      ["list.yaml", "- a\n- b\n", /mapping of settings/],
    ] as const) {
      const f = path.join(dir, name);
      writeFileSync(f, text);
      assert.throws(() => loadConfigFile(f), (e: Error) => e instanceof ConfigError && e.message.includes(name) && why.test(e.message));
    }
    assert.throws(() => loadConfigFile(path.join(dir, "absent.yaml")), (e: Error) => e instanceof ConfigError && /cannot read/.test(e.message));
  });

  test("library: bad configuration is refused before any file is touched", async () => {
    const out = path.join(outDir("config-lib"), "out.zarr");
    await assert.rejects(async () => convertToZarr(fixture("nc4_zlib.nc"), out, { packing: { bits: 12 }, backend: BACKEND }), ConfigError);
    assert.ok(!existsSync(out));
  });

  test("CLI: precedence defaults < file < ZARRIO_LOG_LEVEL < flags given, and --print reads back", () => {
    const dir = outDir("config-cli");
    const file = path.join(dir, "site.yaml");
    writeFileSync(file, "compression: zstd:5\npacking: {enabled: true, bits: 8}\nlogging: {level: error}\ntarget_chunk_size_mb: 4\n");
    const printed = (args: string[], env: Record<string, string> = {}) => {
      const r = cli(["config", "--print", "--config", file, ...args], env);
      assert.equal(r.status, 0, r.stderr);
      return parseYaml(r.stdout);
    };
    const fromFile = printed([]);
    assert.equal(fromFile.compression, "zstd:5");
    assert.equal(fromFile.packing.bits, 8);
    assert.equal(fromFile.targetChunkSizeMb, 4, "flags not given do not override the file");
    assert.equal(fromFile.logging.level, "error");
    const withFlags = printed(["--packing-bits", "32", "--compression", "gzip:2"], { ZARRIO_LOG_LEVEL: "info" });
    assert.equal(withFlags.packing.bits, 32);
    assert.equal(withFlags.packing.enabled, true, "the rest of the section stays the file's");
    assert.equal(withFlags.compression, "gzip:2");
    assert.equal(withFlags.logging.level, "info", "the environment beats the file");
    assert.equal(printed(["-q"], { ZARRIO_LOG_LEVEL: "info" }).logging.level, "error", "flags beat the environment");
    assert.equal(printed(["-vv"]).logging.level, "debug");
    // What --print shows is a config file that gives the same configuration back.
    const again = path.join(dir, "again.yaml");
    const r = cli(["config", "--print", "--config", file, "--packing-bits", "16"]);
    writeFileSync(again, r.stdout);
    assert.deepEqual(printed([]).compression, parseYaml(cli(["config", "--config", again]).stdout).compression);
    assert.deepEqual(parseYaml(cli(["config", "--config", again]).stdout), parseYaml(r.stdout));
    const json = cli(["config", "--print", "--json", "--config", file]);
    assert.equal(JSON.parse(json.stdout).packing.bits, 8);
  });

  test("CLI flags are made from CONFIG_SPEC: each sets its field, only when given; help ends with the default", async () => {
    const { Cli } = await import("clipanion");
    const { loadCommands } = await import("../dist/cli/index.js");
    const { flagLayer } = await import("../dist/cli/flags.js");
    const parser = new Cli({ binaryName: "zarrio" });
    for (const c of await loadCommands(undefined)) parser.register(c);
    const layer = (args: string[]) => flagLayer(parser.process(args));
    assert.deepEqual(layer(["convert", "a.nc", "b.zarr"]), {}, "flags not given set nothing");
    assert.deepEqual(
      layer(["convert", "a.nc", "b.zarr", "--exclude", "a, b", "--packing", "--attrs", '{"x":1}', "--shards", "auto", "--s3-timeout", "9"]),
      { variables: { exclude: ["a", "b"] }, packing: { enabled: true }, attrs: { x: 1 }, sharding: "auto", s3: { requestTimeoutS: "9" } },
    );
    assert.deepEqual(layer(["write-region", "a.nc", "b.zarr", "--missing-check-vars", "t,u", "--retries-on-missing", "2", "-j", "2"]), {
      missingData: { checkVars: ["t", "u"], retriesOnMissing: "2" },
    });
    assert.deepEqual(layer(["append", "a.nc", "b.zarr", "--append-dim", "x", "--on-overlap", "skip"]), { time: { appendDim: "x" } });
    assert.deepEqual(layer(["validate", "a.zarr", "--freq", "1h", "--concurrency", "4", "--json"]), { time: { freq: "1h" }, concurrency: "4" });
    const help = (command: string) => cli([command, "--help"]).stdout.replace(/\x1b\[[0-9;]*m/g, "");
    assert.match(help("convert"), /--packing-bits #0 +8, 16 or 32 \(default: 16\)/);
    assert.match(help("convert"), /--drop-variables,--exclude #0 +Leave out these variables \(comma list\)\n/);
    assert.match(help("append"), /--append-dim #0 +Dimension to extend \(default: the time dimension\)/);
    assert.match(help("validate"), /--concurrency #0 +Reads in flight \(default: 2\)/);
  });

  test("CLI: config --schema is the library's schema; bad configuration exits 2 before touching files", () => {
    const r = cli(["config", "--schema"]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), configSchema());
    const dir = outDir("config-refuse");
    const out = path.join(dir, "out.zarr");
    const bad = path.join(dir, "bad.yaml");
    writeFileSync(bad, "packing:\n  bits: 12\n");
    for (const args of [
      ["--config", bad],
      ["--config", path.join(dir, "absent.yaml")],
      ["--chunking", "time:0"],
      ["--compression", "blosc:snappy"],
      ["--access-pattern", "diagonal"],
      ["--log-level", "loud"],
      ["--no-such-flag"],
    ]) {
      const res = cli(["convert", fixture("nc4_zlib.nc"), out, ...args]);
      assert.equal(res.status, 2, `${args.join(" ")}: ${res.stderr}`);
      assert.equal(res.stderr.trim().split("\n").length <= 2, true, res.stderr);
      assert.ok(!existsSync(out), `${args.join(" ")} left an output`);
    }
    const env = cli(["config"], { ZARRIO_LOG_LEVEL: "chatty" });
    assert.equal(env.status, 2);
    assert.match(env.stderr, /ZARRIO_LOG_LEVEL: must be one of error, warn, info, debug/);
  });
});
