/**
 * Real S3 servers for the S3 tests, on loopback: moto's server mode (from the test venv; it
 * honours If-Match / If-None-Match on PUT, atomically as launched by moto_atomic.py), and a small
 * HTTP proxy in front of it that injects faults: 503 SlowDown answers, connections cut mid-body
 * (after the server did the work, so a retried conditional write meets its own earlier success),
 * and conditional headers dropped (a store that ignores them). Nothing here mocks the S3 API: every request that gets through is
 * answered by moto.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

import { PYTHON } from "../helpers.js";

// The SDK warns that its releases after January 2027 need Node 22; the pinned one works on 20.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

/** Credentials moto accepts (requests must be signed; any key works). */
export const S3_ENV = { AWS_ACCESS_KEY_ID: "zarrio-test", AWS_SECRET_ACCESS_KEY: "zarrio-test", AWS_REGION: "us-east-1" };

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
    srv.on("error", reject);
  });
}

export interface Moto {
  endpoint: string;
  stop(): Promise<void>;
  /** Make a bucket (DNS-like names only). */
  bucket(name: string): Promise<void>;
}

/** Start moto on a free port; its log goes to `logFile`. */
export async function startMoto(logFile: string): Promise<Moto> {
  const port = await freePort();
  // moto_server's own app, with conditional writes made atomic (see moto_atomic.py).
  const launcher = fileURLToPath(new URL("./moto_atomic.py", import.meta.url));
  // moto logs every request on stderr: into a file, since a pipe would fill up (and stall moto)
  // while a test waits in spawnSync.
  mkdirSync(path.dirname(logFile), { recursive: true });
  const log = openSync(logFile, "w");
  const child: ChildProcess = spawn(PYTHON, [launcher, "-H", "127.0.0.1", "-p", String(port)], { stdio: ["ignore", log, log] });
  closeSync(log);
  const stderr = () => readFileSync(logFile, "utf8").slice(-2000);
  const exited = new Promise<void>((r) => child.on("exit", () => r()));
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    const up = await new Promise<boolean>((r) => http.get(`${endpoint}/`, (res) => (res.resume(), r(true))).on("error", () => r(false)));
    if (up) break;
    assert.ok(child.exitCode === null, `moto_server exited: ${stderr()}`);
    assert.ok(Date.now() < deadline, `moto_server did not answer on ${endpoint} within 30 s: ${stderr()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const { S3Client, CreateBucketCommand } = await import("@aws-sdk/client-s3");
  const client = new S3Client({ endpoint, region: "us-east-1", forcePathStyle: true, credentials: { accessKeyId: S3_ENV.AWS_ACCESS_KEY_ID, secretAccessKey: S3_ENV.AWS_SECRET_ACCESS_KEY } });
  return {
    endpoint,
    bucket: async (name) => void (await client.send(new CreateBucketCommand({ Bucket: name }))),
    stop: async () => {
      client.destroy();
      child.kill("SIGTERM");
      await exited;
    },
  };
}

export interface Faults {
  /** Share of requests answered 503 SlowDown without reaching the server. */
  slowDown?: number;
  /** Share of requests forwarded, then cut: half of the response body sent, then the connection destroyed. */
  cut?: number;
  /** Requests (method + path) that always get 503: a store that never recovers for these keys. */
  alwaysFail?: RegExp;
  /** Drop If-Match / If-None-Match before forwarding (a store that ignores conditional writes). */
  ignoreConditions?: boolean;
  /** Seed of the deterministic choice of which requests fail. */
  seed?: number;
}

export interface FaultProxy {
  endpoint: string;
  counts: { requests: number; slowDowns: number; cuts: number; failed: number };
  stop(): Promise<void>;
}

export async function startFaultProxy(upstream: string, faults: Faults): Promise<FaultProxy> {
  const target = new URL(upstream);
  const counts = { requests: 0, slowDowns: 0, cuts: 0, failed: 0 };
  let s = faults.seed ?? 1;
  const random = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const agent = new http.Agent({ keepAlive: true });
  const slowDown = (res: http.ServerResponse) => {
    res.writeHead(503, { "content-type": "application/xml" });
    res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>`);
  };
  const server = http.createServer((req, res) => {
    counts.requests++;
    const chunks: Buffer[] = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      if (faults.alwaysFail?.test(`${req.method} ${req.url}`)) {
        counts.failed++;
        return slowDown(res);
      }
      const roll = random();
      if (roll < (faults.slowDown ?? 0)) {
        counts.slowDowns++;
        return slowDown(res);
      }
      const cut = roll < (faults.slowDown ?? 0) + (faults.cut ?? 0);
      const headers = { ...req.headers, host: target.host };
      if (faults.ignoreConditions) {
        delete headers["if-match"];
        delete headers["if-none-match"];
      }
      const up = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers, agent }, (upRes) => {
        const body: Buffer[] = [];
        upRes.on("data", (c) => body.push(c));
        upRes.on("end", () => {
          const all = Buffer.concat(body);
          if (cut) {
            counts.cuts++;
            // The server has done the work; the client sees the connection drop mid-answer (or
            // before any answer, when there is no body to cut).
            if (!all.length) return void res.socket?.destroy();
            res.writeHead(upRes.statusCode!, upRes.headers);
            res.write(all.subarray(0, all.length >> 1), () => res.socket?.destroy());
            return;
          }
          res.writeHead(upRes.statusCode!, upRes.headers);
          res.end(all);
        });
      });
      up.on("error", (e) => {
        res.writeHead(502);
        res.end(String(e));
      });
      up.end(Buffer.concat(chunks));
    });
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
  return {
    endpoint: `http://127.0.0.1:${port}`,
    counts,
    stop: () =>
      new Promise<void>((r) => {
        agent.destroy();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
