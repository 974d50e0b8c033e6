/**
 * Archives and inputs in an S3-compatible object store, against a real server on loopback (moto's
 * server mode, started here): convert, create-template + write-region (chunk-aligned, and six
 * writers sharing misaligned chunks through conditional writes), append, validate, s3:// NetCDF
 * inputs, and faults injected by a proxy (503 SlowDown, connections cut mid-body, a key that
 * never succeeds, a store that ignores conditional writes). Every archive is read back with
 * xarray through zarr + s3fs (compare.py) against the NetCDF sources.
 */
import test, { after, before, describe } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";

import { assertMatchesSources, BACKEND, cli, outDir } from "./helpers.js";
import { makeSeries, startCli } from "./series.js";
import { S3_ENV, startFaultProxy, startMoto, type Moto } from "./s3/servers.js";

const BUCKET = `zarrio-test-${BACKEND}`;
const url = (key: string) => `s3://${BUCKET}/${key}`;

/** The summary line every command logs at info level: requests, retries by reason, conflicts. */
function s3Summary(stderr: string): { requests: number; retries: number; conflicts: number } {
  const m = /s3 \(.*?\): (\d+) requests \(.*?\), (\d+) retries.*?, (\d+) conditional-write conflicts/.exec(stderr);
  assert.ok(m, `no s3 summary in:\n${stderr}`);
  return { requests: Number(m![1]), retries: Number(m![2]), conflicts: Number(m![3]) };
}

/** The CLI without blocking this process (whose fault proxy must keep answering meanwhile). */
const runAsync = (args: string[], env: Record<string, string> = {}) => startCli(args, env).done;

describe(`S3 object store [${BACKEND}]`, () => {
  let moto: Moto;
  let days: string[] = [];
  let listKeys: (prefix: string) => Promise<Map<string, string>>;
  let upload: (key: string, file: string) => Promise<void>;

  before(async () => {
    moto = await startMoto(path.join(outDir("s3-moto"), "moto.log"));
    await moto.bucket(BUCKET);
    // compare.py (s3fs) and every CLI run reach moto through the standard AWS variables.
    Object.assign(process.env, S3_ENV, { AWS_ENDPOINT_URL: moto.endpoint });
    days = makeSeries(outDir("s3-src"), 12);
    const { S3Client, ListObjectsV2Command, PutObjectCommand } = await import("@aws-sdk/client-s3");
    const client = new S3Client({ endpoint: moto.endpoint, forcePathStyle: true });
    listKeys = async (prefix) => {
      const out = new Map<string, string>();
      let token: string | undefined;
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix, ContinuationToken: token }));
        for (const o of page.Contents ?? []) out.set(o.Key!.slice(prefix.length), o.ETag!);
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return out;
    };
    upload = async (key, file) => void (await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: readFileSync(file) })));
  });
  after(async () => {
    await moto?.stop();
  });

  const template = (archive: string, chunkT: number, extra: string[] = []) => {
    const r = cli(["create-template", days[0]!, archive, "--global-start", "2020-01-01", "--global-end", "2020-01-12T23:00", "--chunking", `time:${chunkT}`, ...extra]);
    assert.equal(r.status, 0, r.stderr);
  };

  test("convert to s3:// reads back identical in xarray; validate passes; an existing archive is refused, then replaced with --overwrite", async () => {
    const archive = url("convert.zarr");
    const r = cli(["convert", ...days.slice(0, 3), archive, "--chunking", "time:24", "-v"]);
    assert.equal(r.status, 0, r.stderr);
    const sum = s3Summary(r.stderr);
    assert.ok(sum.requests > 0 && sum.retries === 0, r.stderr);
    assertMatchesSources(archive, days.slice(0, 3));
    const v = cli(["validate", archive, ...days.slice(0, 3)]);
    assert.equal(v.status, 0, v.stdout + v.stderr);

    const again = cli(["convert", days[3]!, archive]);
    assert.equal(again.status, 2, again.stderr);
    assert.match(again.stderr, /already exists; pass --overwrite/);
    const before = await listKeys("convert.zarr/");
    const o = cli(["convert", days[3]!, archive, "--overwrite", "--chunking", "time:12"]);
    assert.equal(o.status, 0, o.stderr);
    assertMatchesSources(archive, [days[3]!]);
    const now = await listKeys("convert.zarr/");
    // The old archive's chunks (3 files' worth along time) are gone, not left beside the new ones.
    assert.ok(!now.has("temperature/c/2/0/0") && before.has("temperature/c/2/0/0"), [...now.keys()].join(" "));
  });

  test("create-template + write-region --jobs 2 into s3://, chunk-aligned: plain PUTs, no merges", async () => {
    const archive = url("aligned.zarr");
    template(archive, 24);
    const r = cli(["write-region", "--jobs", "2", ...days, archive, "-v"]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /12 of 12 file\(s\) written by 2 writer\(s\)/);
    // The writer processes' requests are summed in the command's summary: at least one PUT per
    // file and time-varying array (temperature, salinity), and no merge.
    const sum = s3Summary(r.stderr);
    assert.ok(sum.requests >= 24 && sum.conflicts === 0, r.stderr);
    assert.doesNotMatch(r.stderr, /merged=[1-9]/);
    assertMatchesSources(archive, days);
    const v = cli(["validate", archive, ...days.slice(0, 2)]);
    assert.equal(v.status, 0, v.stdout + v.stderr);
  });

  test("six writers at once, misaligned chunks (time:36 over 24-step files): shared chunks merged by conditional writes, nothing lost", async () => {
    const archive = url("misaligned.zarr");
    template(archive, 36, ["--zarr-format", "2"]);
    const runs = await Promise.all(
      Array.from({ length: 6 }, (_, i) => startCli(["write-region", ...days, archive, "--shard", `${i}/6`, "-v"]).done),
    );
    let merged = 0;
    let total = 0;
    for (const r of runs) {
      assert.equal(r.status, 0, r.stderr);
      // Shares are cut between groups of files that fill the same 36-step chunks where one is near.
      const m = /(\d+) of (\d+) file\(s\) written/.exec(r.stdout);
      assert.ok(m && m[1] === m[2] && Number(m[1]) >= 1, r.stdout);
      total += Number(m![1]);
      merged += r.stderr.match(/merged=(\d+)/g)?.map((m) => Number(m.slice(7))).reduce((a, b) => a + b, 0) ?? 0;
    }
    assert.equal(total, days.length, "the shares cover every file once");
    assert.ok(merged > 0, "the misaligned regions went through conditional merges");
    assertMatchesSources(archive, days);
  });

  test("through a proxy answering 503 SlowDown to 20% of requests and cutting 10% mid-body: convert and six misaligned writers complete, nothing lost, retries counted", async () => {
    const proxy = await startFaultProxy(moto.endpoint, { slowDown: 0.2, cut: 0.1, seed: 7 });
    try {
      const via = ["--s3-endpoint", proxy.endpoint, "--s3-max-attempts", "12", "-v"];
      const c = await runAsync(["convert", ...days.slice(0, 4), url("faults-convert.zarr"), "--chunking", "time:36", ...via]);
      assert.equal(c.status, 0, c.stderr);
      assert.ok(s3Summary(c.stderr).retries > 0, c.stderr);
      assertMatchesSources(url("faults-convert.zarr"), days.slice(0, 4));

      const archive = url("faults-regions.zarr");
      template(archive, 36);
      const runs = await Promise.all(Array.from({ length: 6 }, (_, i) => startCli(["write-region", ...days, archive, "--shard", `${i}/6`, ...via]).done));
      let retries = 0;
      for (const r of runs) {
        assert.equal(r.status, 0, r.stderr);
        retries += s3Summary(r.stderr).retries;
      }
      assert.ok(proxy.counts.slowDowns > 0 && proxy.counts.cuts > 0, JSON.stringify(proxy.counts));
      assert.ok(retries > 0);
      console.log(`faults: ${proxy.counts.requests} requests through the proxy, ${proxy.counts.slowDowns} answered 503, ${proxy.counts.cuts} cut; writers retried ${retries} times`);
      assertMatchesSources(archive, days);
    } finally {
      await proxy.stop();
    }
  });

  test("sharded (chunks of 12, shards of 36 over 24-step files): six writers through the fault proxy share shards by conditional writes, nothing lost", async () => {
    const proxy = await startFaultProxy(moto.endpoint, { slowDown: 0.15, cut: 0.05, seed: 11 });
    try {
      const via = ["--s3-endpoint", proxy.endpoint, "--s3-max-attempts", "12", "-v"];
      const archive = url("sharded-regions.zarr");
      template(archive, 12, ["--shards", "time:36"]);
      // Files dealt round-robin: neighbours (which share a shard) go to different writers.
      const runs = await Promise.all(Array.from({ length: 6 }, (_, i) => startCli(["write-region", ...days.filter((_, k) => k % 6 === i), archive, ...via]).done));
      let merged = 0;
      for (const r of runs) {
        assert.equal(r.status, 0, r.stderr);
        merged += r.stderr.match(/merged=(\d+)/g)?.map((m) => Number(m.slice(7))).reduce((a, b) => a + b, 0) ?? 0;
      }
      assert.ok(merged > 0, "shared shards were merged");
      assertMatchesSources(archive, days);
      const v = cli(["validate", archive, "--json"]);
      assert.equal(v.status, 0, v.stdout + v.stderr);
      assert.equal(JSON.parse(v.stdout).arrays.find((a: { path: string }) => a.path === "temperature").shards.stored, 8);
    } finally {
      await proxy.stop();
    }
  });

  test("a key that never succeeds: StoreError (exit 8) naming it; a new archive leaves nothing behind, an existing one keeps what it had", async () => {
    const proxy = await startFaultProxy(moto.endpoint, { alwaysFail: /^PUT .*\/temperature\/c\/1\/0\/0(\?|$)/ });
    try {
      const via = ["--s3-endpoint", proxy.endpoint, "--s3-max-attempts", "3"];
      const c = await runAsync(["convert", ...days.slice(0, 2), url("never.zarr"), "--chunking", "time:24", ...via]);
      assert.equal(c.status, 8, c.stderr);
      assert.match(c.stderr, new RegExp(`StoreError: s3://${BUCKET}/never\\.zarr/temperature/c/1/0/0: PUT failed after 3 attempts: 503 SlowDown`));
      assert.deepEqual([...(await listKeys("never.zarr/")).keys()], [], "nothing of the failed archive is left");

      const archive = url("keeps.zarr");
      template(archive, 24);
      const first = cli(["write-region", days[0]!, archive]);
      assert.equal(first.status, 0, first.stderr);
      const w = await runAsync(["write-region", days[1]!, archive, ...via]);
      assert.equal(w.status, 8, w.stderr);
      assert.match(w.stderr, /keeps\.zarr\/temperature\/c\/1\/0\/0: PUT failed after 3 attempts/);
      assertMatchesSources(archive, [days[0]!], ["--isel", "time=0:24"]);
    } finally {
      await proxy.stop();
    }
  });

  test("a store that ignores conditional writes: a misaligned region is refused before anything is written (RegionError, exit 5); aligned regions are written", async () => {
    const proxy = await startFaultProxy(moto.endpoint, { ignoreConditions: true });
    try {
      const via = ["--s3-endpoint", proxy.endpoint];
      const shared = url("unsafe-shared.zarr");
      template(shared, 36);
      const before = await listKeys("unsafe-shared.zarr/");
      const r = await runAsync(["write-region", days[0]!, shared, ...via]);
      assert.equal(r.status, 5, r.stderr);
      assert.match(r.stderr, /RegionError: .*day.*shares chunks \(36×20×30\) with other files, and s3:\/\/.* does not honour conditional writes/);
      assert.deepEqual(await listKeys("unsafe-shared.zarr/"), before, "the archive is untouched");

      const aligned = url("unsafe-aligned.zarr");
      template(aligned, 24);
      const ok = await runAsync(["write-region", ...days.slice(0, 3), aligned, ...via]);
      assert.equal(ok.status, 0, ok.stderr);
      assertMatchesSources(aligned, days.slice(0, 3), ["--isel", "time=0:72"]);
    } finally {
      await proxy.stop();
    }
  });

  test("s3:// NetCDF inputs: a glob of objects written into an s3:// archive, one converted to a folder, one analyzed; temporary files removed", async () => {
    for (const f of days.slice(0, 3)) await upload(`inputs/${path.basename(f)}`, f);
    const tmp = outDir("s3-tmp");
    const archive = url("from-s3.zarr");
    template(archive, 24);
    const r = cli(["write-region", url("inputs/day*.nc"), archive, "-v"], { ZARRIO_TMPDIR: tmp });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /3 of 3 file\(s\) written/);
    assertMatchesSources(archive, days.slice(0, 3), ["--isel", "time=0:72"]);

    const local = path.join(outDir("s3-input-convert"), "one.zarr");
    const c = cli(["convert", url(`inputs/${path.basename(days[1]!)}`), local], { ZARRIO_TMPDIR: tmp });
    assert.equal(c.status, 0, c.stderr);
    assertMatchesSources(local, [days[1]!]);
    const a = cli(["analyze", url(`inputs/${path.basename(days[1]!)}`), "--json"], { ZARRIO_TMPDIR: tmp });
    assert.equal(a.status, 0, a.stderr);
    assert.equal(JSON.parse(a.stdout).fileBytes, statSync(days[1]!).size);
    assert.deepEqual(readdirSync(tmp), [], "no temporary input left");

    const missing = cli(["convert", url("inputs/nope.nc"), path.join(tmp, "x.zarr")], { ZARRIO_TMPDIR: tmp });
    assert.equal(missing.status, 3, missing.stderr);
    assert.match(missing.stderr, /SourceReadError: s3:\/\/.*inputs\/nope\.nc: no such object/);
  });

  test("append along time to an s3:// archive", async () => {
    const archive = url("append.zarr");
    const c = cli(["convert", days[0]!, archive, "--chunking", "time:36"]);
    assert.equal(c.status, 0, c.stderr);
    for (const f of days.slice(1, 3)) {
      const a = cli(["append", f, archive]);
      assert.equal(a.status, 0, a.stderr);
    }
    assertMatchesSources(archive, days.slice(0, 3));
  });

  test("bad addresses and settings are configuration errors", () => {
    const r = cli(["convert", days[0]!, "s3://", "--s3-endpoint", moto.endpoint]);
    assert.equal(r.status, 2, r.stderr);
    const t = cli(["convert", days[0]!, url("x.zarr"), "--s3-max-attempts", "0"]);
    assert.equal(t.status, 2, t.stderr);
    assert.match(t.stderr, /s3\.maxAttempts/);
    const nb = cli(["convert", days[0]!, "s3://no-such-bucket-zarrio/x.zarr"]);
    assert.equal(nb.status, 8, nb.stderr);
    assert.match(nb.stderr, /no-such-bucket-zarrio.*does the bucket exist/);
  });
});
