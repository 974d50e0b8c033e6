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
    this.sink = options.sink ?? ((line) => process.stderr.write(line + "\n"));
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

/** Progress of a long run, in bytes of source data. Draws on a TTY, otherwise stays silent. */
export class Progress {
  private done = 0;
  private lastDraw = 0;
  private readonly started = Date.now();
  private readonly tty: boolean;

  constructor(
    private readonly label: string,
    private readonly total: number,
    enabled = true,
  ) {
    this.tty = enabled && Boolean(process.stderr.isTTY) && total > 0;
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
    process.stderr.write(`\r${this.label} ${bar} ${(frac * 100).toFixed(0).padStart(3)}% ${rate.toFixed(0)} MB/s `);
  }

  finish(): void {
    if (this.tty) process.stderr.write("\n");
  }
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
