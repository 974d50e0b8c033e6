/**
 * Logging and progress. Logs go to stderr (stdout stays for command output such as `analyze
 * --json`); `json` format writes one object per line for log collectors. The progress bar is drawn
 * only when stderr is a terminal.
 */

export type LogLevel = "error" | "warn" | "info" | "debug";
export type LogFormat = "text" | "json";

const RANK: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export interface LoggerOptions {
  level?: LogLevel;
  format?: LogFormat;
  /** Where lines go; stderr by default. Tests pass a collector. */
  sink?: (line: string) => void;
}

export class Logger {
  readonly level: LogLevel;
  readonly format: LogFormat;
  private readonly sink: (line: string) => void;

  constructor(options: LoggerOptions = {}) {
    this.level = options.level ?? "warn";
    this.format = options.format ?? "text";
    this.sink =
      options.sink ??
      ((line) => {
        drawnBar?.clear();
        process.stderr.write(line + "\n");
      });
  }

  enabled(level: LogLevel): boolean {
    return RANK[level] <= RANK[this.level];
  }

  log(level: LogLevel, message: string, fields: Record<string, unknown> = {}): void {
    if (!this.enabled(level)) return;
    if (this.format === "json") {
      this.sink(JSON.stringify({ time: new Date().toISOString(), level, message, ...fields }));
    } else {
      const extra = Object.entries(fields)
        .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
        .join(" ");
      this.sink(`[zarrio] ${level.padEnd(5)} ${message}${extra ? "  " + extra : ""}`);
    }
  }

  error(message: string, fields?: Record<string, unknown>): void {
    this.log("error", message, fields);
  }
  warn(message: string, fields?: Record<string, unknown>): void {
    this.log("warn", message, fields);
  }
  info(message: string, fields?: Record<string, unknown>): void {
    this.log("info", message, fields);
  }
  debug(message: string, fields?: Record<string, unknown>): void {
    this.log("debug", message, fields);
  }
}

/** A logger that says nothing (library default). */
export const silentLogger = new Logger({ level: "error", sink: () => {} });

/** The bar currently drawn on the terminal, which a log line must clear first. */
let drawnBar: Progress | undefined;

/**
 * Progress of a long run, in bytes of source data. Draws on a terminal only (a bar, percent,
 * MB/s and time left, redrawn at most 10 times a second); on anything else it stays silent, so
 * logs piped to a file or a collector are not filled with carriage returns.
 */
export class Progress {
  private done = 0;
  private lastDraw = 0;
  private readonly started = Date.now();
  private readonly tty: boolean;

  constructor(
    private readonly label: string,
    private readonly total: number,
    enabled = true,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {
    this.tty = enabled && Boolean(stream.isTTY) && total > 0;
  }

  advance(bytes: number): void {
    this.done += bytes;
    if (!this.tty) return;
    const now = Date.now();
    if (now - this.lastDraw < 100 && this.done < this.total) return;
    this.lastDraw = now;
    const frac = Math.min(1, this.done / this.total);
    const width = 28;
    const bar = "█".repeat(Math.round(frac * width)).padEnd(width, "░");
    const secs = (now - this.started) / 1000;
    const rate = secs > 0 ? this.done / 1e6 / secs : 0;
    const eta = rate > 0 && frac < 1 ? ` ${formatSeconds((this.total - this.done) / 1e6 / rate)} left` : "";
    this.stream.write(`\r${this.label} ${bar} ${(frac * 100).toFixed(0).padStart(3)}% ${formatBytes(this.done)} ${rate.toFixed(0)} MB/s${eta}\x1b[K`);
    drawnBar = this;
  }

  /** Erase the bar (before a log line); the next advance draws it again. */
  clear(): void {
    if (drawnBar !== this) return;
    this.stream.write("\r\x1b[K");
    drawnBar = undefined;
    this.lastDraw = 0;
  }

  finish(): void {
    if (drawnBar === this) {
      this.stream.write("\n");
      drawnBar = undefined;
    }
  }
}

function formatSeconds(s: number): string {
  if (s < 60) return `${Math.ceil(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.round((s % 3600) / 60)).padStart(2, "0")}m`;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}

/** A plain text table (columns padded, numbers right-aligned) for command output. */
export function formatTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((r) => /^[-+]?[\d.,]+(e[-+]?\d+)?(%|x| MiB| MB\/s)?$/i.test(r[i] ?? "") || !r[i]));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(headers), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}
