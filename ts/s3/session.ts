/**
 * One S3 client and everything around its requests: credentials and endpoint (the AWS SDK's
 * standard chain, or an S3-compatible endpoint), a bound on requests in flight, a timeout per
 * attempt, retries with backoff and jitter (policy in retry.ts), and counts of what was sent.
 *
 * The SDK is imported on first use, so commands that never touch S3 don't pay for loading it.
 */
import type * as S3 from "@aws-sdk/client-s3";

import { StoreError } from "../errors.js";
import { silentLogger, type Logger } from "../log.js";
import { backoffMs, isRetryable, reasonOf, sleep, statusOf, type RetryPolicy } from "./retry.js";

export interface S3Settings {
  /** An S3-compatible endpoint (MinIO, Ceph, R2, GCS interop); else AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL, else AWS. */
  endpoint?: string;
  /** Else the SDK's chain (AWS_REGION, the profile), else us-east-1. */
  region?: string;
  /** Path-style addresses (endpoint/bucket/key) instead of virtual-hosted (bucket.endpoint/key). */
  pathStyle: boolean;
  /** Requests in flight at once, per process. */
  concurrency: number;
  /** Time allowed for one attempt, body included, in seconds. */
  requestTimeoutS: number;
  /** Attempts per request, the first included. */
  maxAttempts: number;
}

export type S3Module = typeof S3;

/** What was sent, for the summary a command logs at the end. */
export interface S3Counts {
  requests: Record<string, number>;
  retries: number;
  /** Retries by reason (`503 SlowDown`, `ECONNRESET`, ...). */
  retryReasons: Record<string, number>;
  /** Conditional writes refused because another writer got there first (then merged again). */
  conflicts: number;
  bytesUp: number;
  bytesDown: number;
}

/** One request: builds the SDK command for an attempt and turns its output into the result. */
export interface S3Call<R> {
  op: "GET" | "PUT" | "HEAD" | "LIST" | "DELETE" | "CREATE";
  /** The s3:// address, for logs and errors. */
  what: string;
  command(sdk: S3Module): object;
  /** Runs inside the attempt (so a body cut mid-way is retried with it). */
  consume?(output: any): Promise<R> | R;
  /** SDK errors that are answers, not failures (NoSuchKey → undefined); return NOT_HANDLED otherwise. */
  answer?(e: unknown): R | typeof NOT_HANDLED;
}

export const NOT_HANDLED = Symbol("not handled");

export class S3Session {
  readonly counts: S3Counts = emptyCounts();
  private sdk?: Promise<{ mod: S3Module; client: S3.S3Client }>;
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  readonly policy: RetryPolicy;

  constructor(
    readonly settings: S3Settings,
    public log: Logger = silentLogger,
  ) {
    this.policy = { maxAttempts: settings.maxAttempts, baseMs: 100, capMs: 10_000 };
  }

  /** The endpoint in use, for messages ("AWS" when none is set). */
  get endpoint(): string {
    return this.settings.endpoint ?? process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL ?? "AWS";
  }

  private load(): Promise<{ mod: S3Module; client: S3.S3Client }> {
    return (this.sdk ??= (async () => {
      // The SDK warns on stderr that its releases after January 2027 need Node 22; this pinned one works on 20.
      process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
      const mod = await import("@aws-sdk/client-s3");
      const { Agent: HttpAgent } = await import("node:http");
      const { Agent: HttpsAgent } = await import("node:https");
      const s = this.settings;
      const agent = { keepAlive: true, maxSockets: s.concurrency };
      const endpoint = this.endpoint === "AWS" ? undefined : this.endpoint;
      const client = new mod.S3Client({
        endpoint,
        region: s.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? "us-east-1",
        // Virtual-hosted addresses (bucket.host) can't work on an IP address or localhost.
        forcePathStyle: s.pathStyle || (endpoint !== undefined && /^[a-z]+:\/\/(localhost|\d+\.\d+\.\d+\.\d+|\[[0-9a-f:]+\])(:\d+)?(\/|$)/i.test(endpoint)),
        // Retries are ours (one policy, logged, counted), so the SDK makes one attempt per call.
        maxAttempts: 1,
        requestHandler: {
          connectionTimeout: 10_000,
          requestTimeout: s.requestTimeoutS * 1000,
          httpAgent: new HttpAgent(agent),
          httpsAgent: new HttpsAgent(agent),
        },
      });
      return { mod, client };
    })());
  }

  /** Send one request with retries; throws a StoreError naming the address when it cannot succeed. */
  async send<R>(call: S3Call<R>): Promise<R> {
    const { mod, client } = await this.load();
    await this.acquire();
    try {
      for (let attempt = 1; ; attempt++) {
        this.counts.requests[call.op] = (this.counts.requests[call.op] ?? 0) + 1;
        const abort = new AbortController();
        const timer = setTimeout(() => abort.abort(), this.settings.requestTimeoutS * 1000);
        try {
          const output: unknown = await client.send(call.command(mod) as never, { abortSignal: abort.signal });
          return call.consume ? await call.consume(output) : (output as R);
        } catch (raw) {
          const e = abort.signal.aborted ? Object.assign(new Error(`no answer within ${this.settings.requestTimeoutS} s`), { name: "TimeoutError" }) : raw;
          if (call.answer) {
            const answered = call.answer(e);
            if (answered !== NOT_HANDLED) return answered;
          }
          if (!isRetryable(e) || attempt >= this.policy.maxAttempts) throw this.failure(call, e, attempt);
          const reason = reasonOf(e);
          const wait = backoffMs(attempt, this.policy);
          this.counts.retries++;
          this.counts.retryReasons[reason] = (this.counts.retryReasons[reason] ?? 0) + 1;
          this.log.debug(`s3 retry: ${call.op} ${call.what} failed (${reason}); attempt ${attempt + 1} of ${this.policy.maxAttempts} in ${wait} ms`);
          await sleep(wait);
        } finally {
          clearTimeout(timer);
        }
      }
    } finally {
      this.release();
    }
  }

  private failure(call: S3Call<unknown>, e: unknown, attempts: number): unknown {
    if (e instanceof StoreError) return e;
    const status = statusOf(e);
    const tried = attempts > 1 ? ` after ${attempts} attempts` : "";
    let hint = "";
    if (status === 403 || (e as Error)?.name === "CredentialsProviderError") hint = " (check the credentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or a web identity)";
    else if (status === 404 || (e as Error)?.name === "NoSuchBucket") hint = " (does the bucket exist?)";
    else if (isRetryable(e)) hint = ` (endpoint ${this.endpoint}; raise s3.maxAttempts or s3.requestTimeoutS if the store is slow)`;
    const why = `${reasonOf(e)}${(e as Error)?.message && !reasonOf(e).includes((e as Error).message) ? `: ${(e as Error).message}` : ""}`;
    return new StoreError(`${call.op} failed${tried}: ${why}${hint}`, { file: call.what, cause: e });
  }

  private async acquire(): Promise<void> {
    if (this.active < this.settings.concurrency) {
      this.active++;
      return;
    }
    await new Promise<void>((r) => this.waiting.push(r));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }

}

/** Every key in `bucket` that starts with `prefix` (ListObjectsV2, page after page), stopping once `limit` are found. */
export async function listKeys(session: S3Session, bucket: string, prefix: string, what: string, limit = Infinity): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page: { keys: string[]; next?: string } = await session.send({
      op: "LIST",
      what,
      command: (sdk) => new sdk.ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token, MaxKeys: Math.min(1000, limit) }),
      consume: (o) => ({ keys: (o.Contents ?? []).map((c: { Key: string }) => c.Key), next: o.IsTruncated ? o.NextContinuationToken : undefined }),
    });
    keys.push(...page.keys);
    token = page.next;
  } while (token && keys.length < limit);
  return keys;
}

const emptyCounts = (): S3Counts => ({ requests: {}, retries: 0, retryReasons: {}, conflicts: 0, bytesUp: 0, bytesDown: 0 });

function addCounts(into: S3Counts, c: S3Counts): void {
  for (const [k, n] of Object.entries(c.requests)) into.requests[k] = (into.requests[k] ?? 0) + n;
  for (const [k, n] of Object.entries(c.retryReasons)) into.retryReasons[k] = (into.retryReasons[k] ?? 0) + n;
  into.retries += c.retries;
  into.conflicts += c.conflicts;
  into.bytesUp += c.bytesUp;
  into.bytesDown += c.bytesDown;
}

/** One line for the end of a command: requests by kind, retries by reason, bytes each way. */
function describeCounts(endpoint: string, c: S3Counts): string | undefined {
  const total = Object.values(c.requests).reduce((a, b) => a + b, 0);
  if (!total) return undefined;
  const kinds = Object.entries(c.requests).map(([k, n]) => `${n} ${k}`).join(", ");
  const reasons = Object.entries(c.retryReasons).map(([k, n]) => `${n}× ${k}`).join(", ");
  const mb = (n: number) => (n / 1e6).toFixed(1);
  return `s3 (${endpoint}): ${total} requests (${kinds}), ${c.retries} retries${reasons ? ` (${reasons})` : ""}, ${c.conflicts} conditional-write conflicts, ${mb(c.bytesUp)} MB up, ${mb(c.bytesDown)} MB down`;
}

const sessions = new Map<string, S3Session>();
/** Counts that writer processes (write-region --jobs) reported, by endpoint. */
const reported = new Map<string, S3Counts>();

/** The process's session for these settings (one client and one request bound per endpoint and settings). */
export function s3Session(settings: S3Settings, log?: Logger): S3Session {
  const id = JSON.stringify(settings);
  let s = sessions.get(id);
  if (!s) sessions.set(id, (s = new S3Session(settings, log)));
  else if (log) s.log = log;
  return s;
}

/** This process's counts since the last call, by endpoint, and zeroed (a writer process reports them per file). */
export function drainS3Counts(): { endpoint: string; counts: S3Counts }[] {
  const out: { endpoint: string; counts: S3Counts }[] = [];
  for (const s of sessions.values()) {
    if (!Object.keys(s.counts.requests).length) continue;
    const counts = emptyCounts();
    addCounts(counts, s.counts);
    Object.assign(s.counts, emptyCounts());
    out.push({ endpoint: s.endpoint, counts });
  }
  return out;
}

/** Add what a writer process reported to this process's summary. */
export function absorbS3Counts(list: { endpoint: string; counts: S3Counts }[]): void {
  for (const { endpoint, counts } of list) {
    let into = reported.get(endpoint);
    if (!into) reported.set(endpoint, (into = emptyCounts()));
    addCounts(into, counts);
  }
}

/** One summary line per endpoint, this process's requests and its writer processes' together (logged when a command ends). */
export function s3Summaries(): string[] {
  const all = new Map<string, S3Counts>();
  const add = (endpoint: string, c: S3Counts) => {
    let into = all.get(endpoint);
    if (!into) all.set(endpoint, (into = emptyCounts()));
    addCounts(into, c);
  };
  for (const s of sessions.values()) add(s.endpoint, s.counts);
  for (const [endpoint, c] of reported) add(endpoint, c);
  return [...all].map(([endpoint, c]) => describeCounts(endpoint, c)).filter((x): x is string => x !== undefined);
}
