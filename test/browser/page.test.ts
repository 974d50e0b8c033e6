/**
 * The browser page (web/, built into dist/web-page) driven in a real headless Chromium (Debian's
 * `chromium`, through playwright-core; no browser download): files dropped in, the plan shown and
 * edited, the conversion run in the worker while the page keeps answering, the quick-look drawn,
 * the archive downloaded as a .zarr.zip and checked with xarray against the source.
 *
 * Runs once (the page always uses the WebAssembly build), from scripts/test.sh.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import http from "node:http";
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";

import { chromium, type Browser, type Page } from "playwright-core";

import { serveWeb } from "../../ts/commands/serve-web.js";
import { assertMatchesSources, fixture, python, ROOT } from "../helpers.js";
import { S3_ENV, startMoto } from "../s3/servers.js";

const CHROMIUM = process.env.ZARRIO_CHROMIUM ?? "/usr/bin/chromium";
const OUT = path.join(ROOT, "test", ".out", "browser");
const SAMPLE = path.join(ROOT, "samples", "ocean_sample.nc");

let browser: Browser;
let url: string;
let stop: () => Promise<void>;

before(async () => {
  assert.ok(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM}: scripts/setup.sh installs Debian's chromium (or set ZARRIO_CHROMIUM)`);
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  const served = await serveWeb({ port: 0 });
  url = served.url;
  stop = served.close;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
});

after(async () => {
  await browser?.close();
  await stop?.();
});

/** A fresh page with the files given to its file input (what a drop or a pick does). */
async function open(files: string[]): Promise<Page> {
  const page = await browser.newPage({ acceptDownloads: true, viewport: { width: 1280, height: 900 } });
  const problems: string[] = [];
  page.on("pageerror", (e) => problems.push(e.message));
  (page as Page & { problems: string[] }).problems = problems;
  await page.goto(url);
  if (files.length) await page.setInputFiles("#files", files);
  return page;
}

async function planned(page: Page): Promise<string> {
  await page.waitForFunction(() => !document.querySelector<HTMLButtonElement>("#go")!.disabled || !document.querySelector("#error")!.hasAttribute("hidden"), null, { timeout: 60_000 });
  const error = await page.locator("#error").textContent();
  assert.equal(await page.locator("#error").isHidden(), true, `the page shows an error: ${error}`);
  return (await page.locator("#plan-summary").textContent()) ?? "";
}

async function convert(page: Page): Promise<string> {
  await page.click("#go");
  await page.waitForFunction(() => ["done", "failed"].includes(document.body.dataset.state ?? ""), null, { timeout: 300_000 });
  const status = (await page.locator("#status").textContent()) ?? "";
  assert.equal(await page.evaluate(() => document.body.dataset.state), "done", `conversion failed: ${await page.locator("#error").textContent()}`);
  return status;
}

/** Download the archive as .zarr.zip; returns where it was saved. */
async function downloadZip(page: Page, name: string): Promise<string> {
  const download = page.waitForEvent("download");
  await page.click("#save-zip");
  const file = path.join(OUT, name);
  await (await download).saveAs(file);
  assert.equal((await download).suggestedFilename(), name);
  return file;
}

/** Distinct colours on the quick-look canvas: a drawn field has many, a blank canvas one. */
function colours(page: Page): Promise<number> {
  return page.evaluate(() => {
    const c = document.querySelector<HTMLCanvasElement>("#look-canvas")!;
    const d = c.getContext("2d")!.getImageData(0, 0, c.width, c.height).data;
    const seen = new Set<number>();
    for (let i = 0; i < d.length; i += 4) seen.add((d[i]! << 16) | (d[i + 1]! << 8) | d[i + 2]!);
    return seen.size;
  });
}

describe("zarrio serve-web", () => {
  test("serves the built page with the right types, nothing outside it, and stops on Ctrl-C", async () => {
    const child = spawn(process.execPath, [path.join(ROOT, "dist", "cli.js"), "serve-web", "--port", "0"], { stdio: ["ignore", "pipe", "pipe"] });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = "";
        child.stdout.on("data", (d) => {
          out += d;
          if (out.includes("\n")) resolve(out);
        });
        child.on("exit", (code) => reject(new Error(`serve-web exited ${code} before listening`)));
      });
      const base = /zarrio page at (http:\/\/\S+)/.exec(line)?.[1];
      assert.ok(base, line);
      const index = await fetch(base);
      assert.equal(index.status, 200);
      assert.match(index.headers.get("content-type") ?? "", /^text\/html/);
      assert.match(await index.text(), /<script type="module" src=".\/page.js">/);
      for (const [file, type] of [["worker.js", /^text\/javascript/], ["zarrio_wasm_bg.wasm", /^application\/wasm$/], ["ocean_sample.nc", /netcdf/]] as const) {
        const r = await fetch(new URL(file, base));
        assert.equal(r.status, 200, file);
        assert.match(r.headers.get("content-type") ?? "", type, file);
        await r.arrayBuffer();
      }
      // An escape attempt: the request line as a client could send it, unnormalised.
      const escape = await new Promise<number>((resolve, reject) => {
        const u = new URL(base);
        http.get({ host: u.hostname, port: u.port, path: "/..%2f..%2fpackage.json" }, (res) => (res.resume(), resolve(res.statusCode ?? 0))).on("error", reject);
      });
      assert.ok(escape === 403 || escape === 404, `a path outside the page's folder is refused (${escape})`);
      assert.equal((await fetch(new URL("nothing-here.js", base))).status, 404);
    } finally {
      child.kill("SIGINT");
    }
    const code = await new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.on("exit", resolve)));
    assert.equal(code, 0);
  });
});

describe("browser page [chromium]", () => {
  test("the bundled sample: plan edited, converted, quick-look drawn, .zarr.zip read back by xarray", async () => {
    const page = await open([]);
    await page.click("#sample");
    const summary = await planned(page);
    assert.match(summary, /1 file\(s\), 5 arrays, Zarr v3, dims time 24, lat 90, lon 180/);
    assert.match(summary, /about .* stored \(estimated from a sample\)/);
    // Edit the plan: chunks of 6 steps, Zarr v2, zstd.
    await page.fill("input[name=chunking]", "time:6");
    await page.selectOption("select[name=zarrFormat]", "2");
    await page.fill("input[name=compression]", "zstd:3");
    await page.click("#replan");
    await planned(page);
    const sstRow = page.locator("#plan-table tbody tr", { hasText: "sst" });
    assert.match((await sstRow.textContent()) ?? "", /6 × 90 × 180.*zstd:3/);
    assert.match((await page.locator("#plan-summary").textContent()) ?? "", /Zarr v2/);

    const status = await convert(page);
    assert.match(status, /done: 1 file\(s\), 5 arrays, 24 time steps/);
    await page.waitForFunction(() => document.body.dataset.look === "sst" || document.body.dataset.look === "salinity", null, { timeout: 30_000 });
    assert.ok((await colours(page)) > 50, "the quick-look canvas holds a drawn field");
    assert.match((await page.locator("#look-caption").textContent()) ?? "", /180 × 90, \d+ values \(\d+ missing\), min -?\d/);
    // Another time step through the slider: a different slice is drawn.
    await page.locator("#look-dims input[name=time]").fill("23");
    await page.waitForFunction(() => /at \[23\]/.test(document.querySelector("#look-caption")!.textContent ?? ""), null, { timeout: 30_000 });
    await page.locator("#look").screenshot({ path: path.join(OUT, "quicklook-sample.png") });
    assert.ok(statSync(path.join(OUT, "quicklook-sample.png")).size > 5_000);

    const zip = await downloadZip(page, "ocean_sample.zarr.zip");
    assertMatchesSources(zip, [SAMPLE]);
    const chunks = python(["-c", "import sys, zarr; g = zarr.open_group(zarr.storage.ZipStore(sys.argv[1], mode='r'), mode='r'); a = g['sst']; print(g.metadata.zarr_format, a.chunks, a.metadata.compressor.codec_id)", zip]);
    assert.equal(chunks.status, 0, chunks.stderr);
    assert.equal(chunks.stdout.trim(), "2 (6, 90, 180) zstd");
    assert.deepEqual((page as Page & { problems: string[] }).problems, []);
    await page.close();
  });

  test("converted into a folder: chunks written there as they are encoded (the origin-private file system stands in for the picked folder)", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    // The folder picker needs a person; the origin-private file system gives the same kind of handle.
    await page.addInitScript(() => {
      (window as unknown as { showDirectoryPicker: () => Promise<unknown> }).showDirectoryPicker = async () =>
        (await navigator.storage.getDirectory()).getDirectoryHandle("picked", { create: true });
    });
    await page.goto(url);
    await page.click("#sample");
    await planned(page);
    assert.equal(await page.locator("#go-folder").isDisabled(), false);
    await page.click("#go-folder");
    await page.waitForFunction(() => ["done", "failed"].includes(document.body.dataset.state ?? ""), null, { timeout: 120_000 });
    assert.equal(await page.evaluate(() => document.body.dataset.state), "done", (await page.locator("#error").textContent()) ?? "");
    assert.match((await page.locator("#status").textContent()) ?? "", /written into picked\/ocean_sample\.zarr/);
    assert.equal(await page.locator("#save").isHidden(), true, "nothing held in memory to save");
    await page.waitForFunction(() => Boolean(document.body.dataset.look), null, { timeout: 30_000 });
    assert.ok((await colours(page)) > 50, "the quick-look is read from the folder");
    // The folder's files, copied out of the browser as they are, read by xarray.
    // (A string: the test runner's compiler would add helpers to a function that the page lacks.)
    const files = (await page.evaluate(`(async () => {
      const out = [];
      const walk = async (dir, path) => {
        for await (const entry of dir.values()) {
          const key = path ? path + "/" + entry.name : entry.name;
          if (entry.kind === "directory") await walk(entry, key);
          else {
            const bytes = new Uint8Array(await (await entry.getFile()).arrayBuffer());
            let bin = "";
            for (const b of bytes) bin += String.fromCharCode(b);
            out.push([key, btoa(bin)]);
          }
        }
      };
      const root = await (await navigator.storage.getDirectory()).getDirectoryHandle("picked");
      await walk(await root.getDirectoryHandle("ocean_sample.zarr"), "");
      return out;
    })()`)) as [string, string][];
    const local = path.join(OUT, "from-folder", "ocean_sample.zarr");
    for (const [key, b64] of files) {
      mkdirSync(path.dirname(path.join(local, key)), { recursive: true });
      writeFileSync(path.join(local, key), Buffer.from(b64, "base64"));
    }
    assert.ok(files.some(([k]) => k === "zarr.json") && files.length > 5, files.map(([k]) => k).join(" "));
    assertMatchesSources(local, [SAMPLE]);
    // A second conversion into the same folder is refused before anything is written.
    await page.click("#go-folder");
    await page.waitForSelector("#error:not([hidden])");
    assert.match((await page.locator("#error").textContent()) ?? "", /picked\/ocean_sample\.zarr exists already/);
    await page.close();
  });

  test("a multi-group NetCDF-4 file dropped on the page converts with its groups and reads back identical", async () => {
    const src = fixture("groups.nc");
    const page = await open([]);
    // A real drop: a DataTransfer holding the file, dispatched on the drop zone.
    const transfer = await page.evaluateHandle(
      ({ name, b64 }) => {
        const dt = new DataTransfer();
        dt.items.add(new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], name));
        return dt;
      },
      { name: "groups.nc", b64: readFileSync(src).toString("base64") },
    );
    await page.dispatchEvent("#drop", "dragover", { dataTransfer: transfer });
    await page.dispatchEvent("#drop", "drop", { dataTransfer: transfer });
    await page.waitForSelector("#file-list li");
    assert.match((await page.locator("#file-list").textContent()) ?? "", /groups\.nc/);
    const summary = await planned(page);
    assert.match(summary, /1 file\(s\), \d+ arrays/);
    await convert(page);
    const zip = await downloadZip(page, "groups.zarr.zip");
    assertMatchesSources(zip, [src]);
    await page.close();
  });

  test("a file that is not NetCDF: the page names it and the error, and offers no conversion", async () => {
    const page = await open([fixture("corrupt_not_netcdf.nc")]);
    await page.waitForSelector("#error:not([hidden])", { timeout: 60_000 });
    const error = (await page.locator("#error").textContent()) ?? "";
    assert.match(error, /^SourceReadError: corrupt_not_netcdf\.nc: not a readable NetCDF file/);
    assert.equal(await page.locator("#go").isDisabled(), true);
    await page.close();
  });

  test("a 250 MB file converts in the worker, read by range, while the page keeps answering", async (t) => {
    const big = path.join(OUT, "big.nc");
    // 60 steps of 0.25-degree float32 (about 250 MB of values), zlib level 1: smooth fields with noise.
    const made = python([
      "-c",
      [
        "import sys, numpy as np, netCDF4",
        "ds = netCDF4.Dataset(sys.argv[1], 'w')",
        "ds.createDimension('time', None); ds.createDimension('lat', 721); ds.createDimension('lon', 1440)",
        "t = ds.createVariable('time', 'f8', ('time',)); t.units = 'hours since 2020-01-01'; t.calendar = 'standard'",
        "ds.createVariable('lat', 'f4', ('lat',))[:] = np.linspace(-90, 90, 721)",
        "ds.createVariable('lon', 'f4', ('lon',))[:] = np.linspace(0, 359.75, 1440)",
        "v = ds.createVariable('t2m', 'f4', ('time', 'lat', 'lon'), zlib=True, complevel=1, chunksizes=(1, 721, 1440)); v.units = 'K'",
        "rng = np.random.default_rng(7)",
        "base = 273 + 30 * np.cos(np.radians(np.linspace(-90, 90, 721)))[:, None] + np.zeros((1, 1440), 'f4')",
        "for i in range(60):",
        "    t[i] = i",
        "    v[i] = (base + 5 * np.sin(i / 6 + np.linspace(0, 6.28, 1440))[None, :] + rng.normal(0, 0.5, (721, 1440))).astype('f4')",
        "ds.close()",
      ].join("\n"),
      big,
    ]);
    assert.equal(made.status, 0, made.stderr);
    const page = await open([big]);
    await planned(page);
    await page.click("#go");
    // While it converts: progress moves, and the page answers UI actions at once.
    await page.waitForFunction(() => document.body.dataset.state === "converting", null, { timeout: 30_000 });
    const samples: { progress: number; answeredMs: number; state: string }[] = [];
    for (let i = 0; i < 600; i++) {
      const t0 = performance.now();
      await page.fill("input[name=chunking]", `time:${i + 1}`);
      const seen = await page.evaluate(() => ({
        value: document.querySelector<HTMLInputElement>("input[name=chunking]")!.value,
        progress: document.querySelector<HTMLProgressElement>("#progress")!.value,
        state: document.body.dataset.state ?? "",
      }));
      const answeredMs = performance.now() - t0;
      assert.equal(seen.value, `time:${i + 1}`);
      samples.push({ progress: seen.progress, answeredMs, state: seen.state });
      if (seen.state !== "converting") break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const during = samples.filter((s) => s.state === "converting");
    assert.ok(during.length >= 3, `the conversion was observed while running (${JSON.stringify(samples)})`);
    const steps = new Set(during.map((s) => s.progress));
    assert.ok(steps.size >= 2, `progress moved during the conversion: ${JSON.stringify(samples)}`);
    const slowest = Math.max(...during.map((s) => s.answeredMs));
    assert.ok(slowest < 1000, `every UI action during the conversion was answered within 1 s (slowest ${slowest.toFixed(0)} ms)`);
    await page.waitForFunction(() => ["done", "failed"].includes(document.body.dataset.state ?? ""), null, { timeout: 300_000 });
    assert.equal(await page.evaluate(() => document.body.dataset.state), "done", (await page.locator("#error").textContent()) ?? "");
    const status = (await page.locator("#status").textContent()) ?? "";
    assert.match(status, /60 time steps/);
    t.diagnostic(`${status}; slowest UI answer during it ${slowest.toFixed(0)} ms over ${during.length} actions`);
    const zip = await downloadZip(page, "big.zarr.zip");
    assertMatchesSources(zip, [big]);
    await page.close();
  });

  test("the archive uploaded to S3 from the page: object by object under a CORS bucket URL, and as one zip to a presigned URL", async () => {
    const moto = await startMoto(path.join(OUT, "moto.log"));
    try {
      await moto.bucket("page");
      const { S3Client, PutBucketCorsCommand, ListObjectsV2Command, GetObjectCommand } = await import("@aws-sdk/client-s3");
      const client = new S3Client({
        endpoint: moto.endpoint,
        region: S3_ENV.AWS_REGION,
        forcePathStyle: true,
        credentials: { accessKeyId: S3_ENV.AWS_ACCESS_KEY_ID, secretAccessKey: S3_ENV.AWS_SECRET_ACCESS_KEY },
      });
      await client.send(
        new PutBucketCorsCommand({
          Bucket: "page",
          CORSConfiguration: { CORSRules: [{ AllowedOrigins: ["*"], AllowedMethods: ["PUT", "GET"], AllowedHeaders: ["*"] }] },
        }),
      );
      const page = await open([]);
      await page.click("#sample");
      await planned(page);
      await convert(page);

      await page.fill("#s3-url", `${moto.endpoint}/page/ocean.zarr`);
      await page.click("#save-s3");
      await page.waitForFunction(() => /uploaded|failed/.test(document.querySelector("#save-status")!.textContent ?? ""), null, { timeout: 60_000 });
      const status = (await page.locator("#save-status").textContent()) ?? "";
      assert.match(status, /^\d+ objects uploaded under /, `${status} ${await page.locator("#error").textContent()}`);
      const listed = await client.send(new ListObjectsV2Command({ Bucket: "page", Prefix: "ocean.zarr/" }));
      const keys = (listed.Contents ?? []).map((o) => o.Key!);
      assert.equal(keys.length, Number(status.split(" ")[0]));
      // Fetched back into a folder as they are, and read by xarray.
      const local = path.join(OUT, "from-s3", "ocean.zarr");
      for (const key of keys) {
        const body = await (await client.send(new GetObjectCommand({ Bucket: "page", Key: key }))).Body!.transformToByteArray();
        const file = path.join(local, key.slice("ocean.zarr/".length));
        mkdirSync(path.dirname(file), { recursive: true });
        writeFileSync(file, body);
      }
      assertMatchesSources(local, [SAMPLE]);

      const signed = python([
        "-c",
        "import sys, boto3; c = boto3.client('s3', endpoint_url=sys.argv[1], region_name='us-east-1', aws_access_key_id='zarrio-test', aws_secret_access_key='zarrio-test'); print(c.generate_presigned_url('put_object', Params={'Bucket': 'page', 'Key': 'ocean.zarr.zip'}, ExpiresIn=600))",
        moto.endpoint,
      ]);
      assert.equal(signed.status, 0, signed.stderr);
      await page.fill("#s3-presigned", signed.stdout.trim());
      await page.click("#save-presigned");
      await page.waitForFunction(() => /one \.zarr\.zip|failed/.test(document.querySelector("#save-status")!.textContent ?? ""), null, { timeout: 60_000 });
      assert.match((await page.locator("#save-status").textContent()) ?? "", /uploaded as one \.zarr\.zip/, (await page.locator("#error").textContent()) ?? "");
      const zip = path.join(OUT, "from-s3", "ocean.zarr.zip");
      writeFileSync(zip, await (await client.send(new GetObjectCommand({ Bucket: "page", Key: "ocean.zarr.zip" }))).Body!.transformToByteArray());
      assertMatchesSources(zip, [SAMPLE]);
      client.destroy();
      await page.close();
    } finally {
      await moto.stop();
    }
  });
});
