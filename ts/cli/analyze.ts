import { existsSync, writeFileSync } from "node:fs";

import { Command, Option } from "clipanion";

import { analyze, LINK_MBPS, PACKING_PRECISION, type AnalysisReport, type CodecTrials } from "../commands/analyze.js";
import type { ZarrConverterConfig } from "../config/model.js";
import { formatCompression } from "../config/parse.js";
import { resolveConfig, toFileForm, type Layer } from "../config/resolve.js";
import { ConfigError, ZarrioError } from "../errors.js";
import { formatBytes, formatTable } from "../log.js";
import { EncodingCommand } from "./options.js";

export class AnalyzeCommand extends EncodingCommand {
  static override paths = [["analyze"]];
  static override usage = Command.Usage({
    description: "Describe a NetCDF file and recommend chunking, packing and compression for it.",
    details:
      "Shows dimensions, variables (dtype, size, value range, fill/NaN fractions, source encoding) and the time axis; the chunks convert would choose for " +
      "each access pattern (the same flags and --config apply); each packing width's maximum error. --test-performance measures a few codecs on a small " +
      "sample; --run-tests measures the full grid (blosc zstd/lz4/zlib × levels × shuffles, zstd, gzip). --interactive then asks a few questions and writes " +
      "a config file (answers may be piped in, one per line).",
    examples: [
      ["Describe a file", "zarrio analyze in.nc"],
      ["Measure codecs, as JSON", "zarrio analyze in.nc --run-tests --json"],
      ["Write a config file step by step", "zarrio analyze in.nc -i"],
    ],
  });

  file = Option.String({ name: "file.nc" });
  json = Option.Boolean("--json", false, { description: "Print the report as JSON" });
  testPerformance = Option.Boolean("--test-performance", false, { description: "Measure ratio and speed of a few codecs on a sample" });
  runTests = Option.Boolean("--run-tests", false, { description: "Measure every candidate codec (blosc cnames × levels × shuffles, zstd, gzip)" });
  interactive = Option.Boolean("-i,--interactive", false, { description: "Then walk through writing a config file" });

  async execute(): Promise<number> {
    const config = this.resolved();
    const report = await analyze(this.file, config, { log: this.logger(config), testPerformance: this.testPerformance, runTests: this.runTests });
    this.context.stdout.write(this.json ? JSON.stringify(report, null, 2) + "\n" : formatReport(report));
    if (this.interactive) await this.walkThrough(report, config);
    return 0;
  }

  /**
   * Ask for the settings that matter most, each with the analysis' recommendation as default,
   * check every answer against the configuration rules (asking again when it is refused), and
   * write the answers as a config file. Questions go to stderr so `--json` output stays clean.
   */
  private async walkThrough(report: AnalysisReport, config: ZarrConverterConfig): Promise<void> {
    const { createInterface } = await import("node:readline");
    const rl = createInterface({ input: this.context.stdin, terminal: false });
    const lines = rl[Symbol.asyncIterator]();
    const err = this.context.stderr;
    const ask = async (question: string, fallback: string): Promise<string> => {
      err.write(`${question} [${fallback}]: `);
      const next = await lines.next();
      if (next.done) {
        err.write("\n");
        throw new ConfigError("input ended before every question was answered", "interactive");
      }
      const answer = next.value.trim();
      // Piped answers are echoed, so the transcript reads like a session.
      if (!(this.context.stdin as { isTTY?: boolean }).isTTY) err.write(`${answer}\n`);
      return answer || fallback;
    };
    /** Ask until the answer passes `check` (a ConfigError says why not). */
    const askValid = async <T>(question: string, fallback: string, check: (answer: string) => T): Promise<T> => {
      for (;;) {
        const answer = await ask(question, fallback);
        try {
          return check(answer);
        } catch (e) {
          if (!(e instanceof ZarrioError)) throw e;
          err.write(`  ${e.message}\n`);
        }
      }
    };
    const yes = (a: string) => {
      if (/^(y|yes)$/i.test(a)) return true;
      if (/^(n|no)$/i.test(a)) return false;
      throw new ConfigError("answer y or n", "interactive");
    };
    const layer: Layer = {};
    const accept = (key: string, value: unknown) => {
      const trial: Layer = structuredClone(layer);
      const path = key.split(".");
      let at = trial;
      for (const k of path.slice(0, -1)) at = (at[k] ??= {}) as Layer;
      at[path[path.length - 1]!] = value;
      resolveConfig(trial);
      Object.assign(layer, trial);
      return value;
    };

    err.write("\nWriting a configuration file (press Enter to take the value in brackets).\n");
    await askValid("Access pattern: temporal (series at points), spatial (maps), balanced", config.accessPattern, (a) => accept("accessPattern", a));
    await askValid("Target chunk size in MiB", String(config.targetChunkSizeMb), (a) => accept("targetChunkSizeMb", a));
    const measured = report.trials ?? report.performance;
    const current = formatCompression(config.compression);
    const codec = measured?.recommended ?? (typeof current === "string" ? current : String(current.method));
    await askValid(`Compression${measured ? " (measured best for a 100 MB/s link)" : ""}`, codec, (a) => accept("compression", a));
    if (report.packing.length) {
      const pack = await askValid("Pack floats to integers with scale_factor/add_offset (lossy) y/n", config.packing.enabled ? "y" : "n", yes);
      accept("packing", { enabled: pack });
      if (pack) {
        const bits = Math.max(...report.packing.map((p) => p.recommendedBits));
        await askValid("Packing bits: 8, 16 or 32", String(bits), (a) => accept("packing.bits", a));
      }
    }
    const names = report.variables.filter((v) => !v.coordinate).map((v) => v.path.replace(/^\//, ""));
    await askValid(`Variables to write (comma list; 'all' for ${names.join(", ")})`, "all", (a) =>
      a === "all" ? undefined : accept("variables.include", a.split(",").map((s) => s.trim())),
    );
    await askValid("Zarr format: 2 or 3", String(config.zarrFormat), (a) => accept("zarrFormat", a));
    let target: string;
    do target = await ask("Write the configuration to", "zarrio.yaml");
    while (existsSync(target) && !(await askValid(`${target} exists; replace it? y/n`, "n", yes)));
    // Only the answers go into the file (in their checked, compact form): defaults stay defaults.
    const resolved = toFileForm(resolveConfig(layer));
    const chosen = pick(resolved, layer);
    const text = /\.json$/i.test(target) ? JSON.stringify(chosen, null, 2) + "\n" : (await import("yaml")).stringify(chosen);
    writeFileSync(target, text);
    err.write(`\nWrote ${target}:\n${text}\nUse it with: zarrio convert ${this.file} out.zarr --config ${target}\n`);
    rl.close();
  }

}

/** The keys of `full` that `given` names, recursively. */
function pick(full: Layer, given: Layer): Layer {
  const out: Layer = {};
  for (const [k, v] of Object.entries(given)) {
    if (v === undefined) continue;
    out[k] = v && typeof v === "object" && !Array.isArray(v) && full[k] && typeof full[k] === "object" ? pick(full[k] as Layer, v as Layer) : full[k];
  }
  return out;
}

function num(x: number | null): string {
  if (x === null) return "";
  if (Number.isInteger(x)) return String(x);
  return Math.abs(x) >= 1e5 || Math.abs(x) < 1e-3 ? x.toExponential(3) : x.toPrecision(5);
}

const pct = (x: number | null) => (x === null ? "" : x ? `${(x * 100).toFixed(x < 0.001 ? 3 : 1)}%` : "0%");

function formatReport(r: AnalysisReport): string {
  const out: string[] = [];
  out.push(`${r.file}: ${r.format}, ${formatBytes(r.fileBytes)} on disk, ${formatBytes(r.dataBytes)} of data (${r.backend} backend, ${r.reader} reader)`);
  out.push("");
  out.push(`dimensions: ${r.dims.map((d) => `${d.group === "/" ? "" : `${d.group}/`}${d.name}=${d.length}${d.unlimited ? " (unlimited)" : ""}`).join(", ")}`);
  if (r.time) {
    const t = r.time;
    out.push(`time: ${t.start} .. ${t.end}, ${t.length} steps${t.step ? ` of ${t.step}` : " (irregular)"}; ${t.units}, ${t.calendar} calendar`);
  }
  out.push("");
  out.push("variables");
  out.push(
    formatTable(
      ["name", "dtype", "dims", "size", "min", "max", "fill", "NaN", "source encoding"],
      r.variables.map((v) => [
        v.path.replace(/^\//, ""),
        v.dtype,
        v.dims.map((d, i) => `${d}=${v.shape[i]}`).join(" ") || "scalar",
        formatBytes(v.bytes),
        num(v.min),
        num(v.max),
        pct(v.fillFraction),
        pct(v.nanFraction),
        [
          v.encoding.ncType,
          v.encoding.chunks ? `chunks ${v.encoding.chunks.join("×")}` : "contiguous",
          ...v.encoding.filters,
          v.encoding.scaleFactor !== undefined ? `scale_factor ${v.encoding.scaleFactor}` : "",
          v.encoding.fillValue !== undefined ? `_FillValue ${v.encoding.fillValue}` : "",
        ]
          .filter(Boolean)
          .join(", "),
      ]),
    ),
  );
  out.push("");
  out.push(`recommended chunking (target ${r.targetChunkSizeMb} MiB per chunk, uncompressed), and shards of about ${r.targetShardSizeMb} MiB for a long archive (one object per shard instead of per chunk)`);
  out.push(
    formatTable(
      ["pattern", "arrays", "chunks", "chunk size", "chunks per array", "chunks in all", "shards (v3)", "shard size"],
      r.chunking.flatMap((c) =>
        c.groups.map((g, i) => [
          i === 0 ? c.pattern : "",
          g.arrays.join(", "),
          g.dims.map((d, k) => `${d}=${g.chunks[k]}`).join(" "),
          formatBytes(g.chunkBytes),
          String(g.chunksPerArray),
          i === 0 ? String(c.totalChunks) : "",
          `--shards ${g.dims.map((d, k) => `${d}:${g.shards[k]}`).join(",")}`,
          formatBytes(g.shardBytes),
        ]),
      ),
    ),
  );
  if (r.packing.length) {
    out.push("");
    out.push(`packing: maximum error (half a step) per width; recommended: the narrowest below ${PACKING_PRECISION * 100}% of the range`);
    out.push(
      formatTable(
        ["variable", "range", "from", "8 bits", "16 bits", "32 bits", "recommended"],
        r.packing.map((p) => [
          p.variable.replace(/^\//, ""),
          `${num(p.range.min)} .. ${num(p.range.max)}`,
          p.range.source,
          num(p.maxError[8]),
          num(p.maxError[16]),
          num(p.maxError[32]),
          `${p.recommendedBits} bits`,
        ]),
      ),
    );
  }
  for (const [title, t] of [["compression estimate (--test-performance)", r.performance], ["compression trials (--run-tests)", r.trials]] as const) {
    if (t) out.push("", ...formatTrials(title, t));
  }
  if (r.notes.length) out.push("", ...r.notes.map((n) => `note: ${n}`));
  return out.join("\n") + "\n";
}

function formatTrials(title: string, t: CodecTrials): string[] {
  const best = Math.max(...t.results.map((r) => r.ratio));
  return [
    `${title}: ${formatBytes(t.sampleBytes)} sample from ${t.variables.join(", ")}, ${t.backend} backend`,
    formatTable(
      ["codec", "ratio", "compress MB/s", "decompress MB/s", ""],
      t.results.map((r) => [
        r.codec,
        r.ratio.toFixed(2),
        r.compressMBps.toFixed(0),
        r.decompressMBps.toFixed(0),
        [r.codec === t.recommended ? "recommended" : "", r.ratio === best ? "best ratio" : "", r.roundTrip ? "" : "ROUND TRIP FAILED"].filter(Boolean).join(", "),
      ]),
    ),
    `recommended: ${t.recommended} (least time to compress, move through a ${LINK_MBPS} MB/s link, and decompress)`,
  ];
}
