/**
 * When an S3 request is worth repeating, and how long to wait first. The one retry policy of the
 * S3 layer: every request (store keys, NetCDF inputs, locks) goes through `S3Session.send`, which
 * asks these two functions.
 */

/** HTTP statuses a later attempt may get past: throttling, server trouble, timeouts. */
const RETRY_STATUS = new Set([408, 429, 500, 502, 503, 504]);
/** Error names S3 and S3-compatible stores give to the same conditions. */
const RETRY_NAMES = new Set([
  "SlowDown",
  "Throttling",
  "ThrottlingException",
  "RequestTimeout",
  "RequestTimeoutException",
  "InternalError",
  "ServiceUnavailable",
  "TimeoutError",
  "AbortError",
  "TruncatedBody",
]);
/** Connection-level failures (a reset, a cut mid-body, a refused or stalled socket). */
const RETRY_CODES = new Set(["ECONNRESET", "ECONNREFUSED", "ECONNABORTED", "EPIPE", "ETIMEDOUT", "EAI_AGAIN", "ERR_STREAM_PREMATURE_CLOSE", "UND_ERR_SOCKET"]);

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  /** The first backoff's ceiling; each later one doubles it up to `capMs`. */
  baseMs: number;
  capMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 8, baseMs: 100, capMs: 10_000 };

/** The HTTP status of an SDK error, when the server answered. */
export function statusOf(e: unknown): number | undefined {
  return (e as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

/** A short name for logs: `503 SlowDown`, `ECONNRESET`, `TimeoutError`. */
export function reasonOf(e: unknown): string {
  const err = e as { name?: string; code?: string; message?: string };
  const status = statusOf(e);
  const name = err?.code ?? err?.name ?? "Error";
  return status ? `${status} ${name}` : name === "Error" ? String(err?.message ?? e).slice(0, 60) : name;
}

export function isRetryable(e: unknown): boolean {
  const err = e as { name?: string; code?: string; message?: string; $retryable?: unknown; cause?: unknown };
  const status = statusOf(e);
  if (status !== undefined && RETRY_STATUS.has(status)) return true;
  if (err?.name && RETRY_NAMES.has(err.name)) return true;
  if (err?.code && RETRY_CODES.has(err.code)) return true;
  if (err?.$retryable) return true;
  // Node reports a body cut short as "aborted" / "socket hang up" / "premature close", sometimes without a code.
  if (/socket hang up|aborted|premature close|ECONNRESET|EPIPE|other side closed/i.test(String(err?.message ?? ""))) return true;
  return err?.cause !== undefined && err.cause !== e ? isRetryable(err.cause) : false;
}

/** "Full jitter": a uniform wait in [0, min(cap, base·2^(attempt-1))) before attempt `attempt + 1`. */
export function backoffMs(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  return Math.floor(random() * Math.min(policy.capMs, policy.baseMs * 2 ** (attempt - 1)));
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
