import { Command, Option } from "clipanion";

import { formatRange, summarize, validate, type ValidationReport } from "../commands/validate.js";
import { ValidationError } from "../errors.js";
import { formatTable } from "../log.js";
import { BaseCommand } from "./common.js";
import { configFlag } from "./flags.js";

export class ValidateCommand extends BaseCommand {
  static override paths = [["validate"]];
  static override usage = Command.Usage({
    description: "Check a finished archive: metadata, time axis, corrupt chunks, never-written time ranges, and (given source files) their values.",
    details:
      "Exits 0 when everything is sound and 10 (ValidationError) when anything is wrong; the report says what. " +
      "Every stored chunk is decoded, so this reads the whole archive.",
    examples: [
      ["Check an archive", "zarrio validate archive.zarr"],
      ["Check it against the files written into it", "zarrio validate archive.zarr data/*.nc"],
      ["Expect hourly steps, report as JSON", "zarrio validate archive.zarr --freq 1h --json"],
    ],
  });

  files = Option.Rest({ required: 1, name: "archive.zarr [source.nc...]" });
  json = Option.Boolean("--json", false, { description: "Print the report as JSON" });
  timeDim = configFlag("time.dim");
  freq = configFlag("time.freq", { help: "Expected time step (1h, 6h, 1D, 1MS)", default: "the axis' most common step" });
  group = configFlag("group", { help: "The NetCDF-4 group the archive was made from (compare with sources)" });
  reader = configFlag("reader");
  concurrency = configFlag("concurrency", { help: "Reads in flight" });

  async execute(): Promise<number> {
    const config = this.resolved();
    const [archive, ...sources] = this.files as [string, ...string[]];
    const report = await validate(archive, sources, config, { log: this.logger(config) });
    this.context.stdout.write(this.json ? JSON.stringify(report, null, 2) + "\n" : formatReport(report));
    if (!report.ok) throw new ValidationError(summarize(report), { file: archive });
    return 0;
  }
}

function formatReport(r: ValidationReport): string {
  const lines: string[] = [];
  lines.push(`${r.archive}: Zarr v${r.format ?? "?"}, ${r.arrays.length} arrays${r.consolidated ? ", consolidated" : ""}`);
  if (r.time) {
    const t = r.time;
    lines.push(`time: ${t.length} steps${t.start ? `, ${t.start} .. ${t.end}` : ""}${t.step ? `, step ${t.step}` : ""}${t.calendar ? ` (${t.calendar})` : ""}`);
  }
  if (r.arrays.length) {
    lines.push("");
    lines.push(
      formatTable(
        ["array", "dtype", "shape", "chunks", "stored", "shards", "min", "max", "missing"],
        r.arrays.map((a) => [
          a.path,
          a.dtype,
          a.shape.join("×"),
          a.chunks.join("×"),
          `${a.chunksStored}/${a.chunksTotal}`,
          a.shards ? `${a.shards.shape.join("×")}: ${a.shards.stored}/${a.shards.total}${a.shards.incomplete.length ? `, ${a.shards.incomplete.length} incomplete` : ""}` : "",
          a.min === null ? "" : fmt(a.min),
          a.max === null ? "" : fmt(a.max),
          `${(a.missingFraction * 100).toFixed(1)}%`,
        ]),
      ),
    );
  }
  if (r.unwritten.length) lines.push(`never written: ${r.unwritten.map(formatRange).join(", ")}`);
  for (const m of r.allMissing) lines.push(`all missing in ${m.variables.join(", ")} (other arrays hold data): ${m.ranges.map(formatRange).join(", ")}`);
  if (r.sources.length) {
    lines.push("");
    for (const s of r.sources) {
      const where = s.region ? ` (${formatRange(s.region)})` : "";
      // Variables the archive re-packed (the file packs them otherwise): equal within half the archive's step.
      const bounds = Object.entries(s.bounds ?? {}).map(([v, b]) => `${v} within ${Number(b.toPrecision(3))}`);
      lines.push(
        `${s.ok ? "OK      " : "MISMATCH"} ${s.file}${where}: ${s.variablesCompared} variables, ${s.valuesCompared} values compared` +
          (bounds.length ? ` (re-packed: ${bounds.join(", ")})` : ""),
      );
      if (s.error) lines.push(`         ${s.error}`);
      for (const m of s.mismatches) lines.push(`         ${m.variable}: ${m.message}`);
    }
  }
  lines.push("");
  if (r.ok) lines.push("valid");
  else for (const p of r.problems) lines.push(`problem (${p.kind}): ${p.variable ? `${p.variable}: ` : ""}${p.message}`);
  return lines.join("\n") + "\n";
}

function fmt(x: number): string {
  return Number.isInteger(x) ? String(x) : Math.abs(x) >= 1e5 || Math.abs(x) < 1e-3 ? x.toExponential(4) : x.toPrecision(6);
}
