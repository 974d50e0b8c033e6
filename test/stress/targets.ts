/** Where stress runs write: a filesystem, or S3 (moto on loopback) through the fault proxy. */
import { mkdirSync } from "node:fs";
import path from "node:path";

import { S3_ENV, startFaultProxy, startMoto, type FaultProxy, type Moto } from "../s3/servers.js";
import type { Target } from "./runner.js";

/** Archives in folders under `dir`. */
export async function fsTarget(dir: string): Promise<Target & { stop(): Promise<void> }> {
  mkdirSync(dir, { recursive: true });
  return { dir, archive: (seed) => path.join(dir, `run-${seed}`, "archive.zarr"), args: [], env: {}, stop: async () => {} };
}

/** Archives in a bucket of a moto server started here, every run through its own fault proxy. */
export async function s3Target(dir: string): Promise<Target & { stop(): Promise<void> }> {
  mkdirSync(dir, { recursive: true });
  const moto: Moto = await startMoto(path.join(dir, "moto.log"));
  await moto.bucket("stress");
  let proxy: FaultProxy | undefined;
  const target = {
    dir,
    archive: (seed: number) => `s3://stress/run-${seed}.zarr`,
    args: [] as string[],
    env: { ...S3_ENV, AWS_ENDPOINT_URL: moto.endpoint },
    // A proxy per run, with that run's fault rates; every command of the run goes through it.
    prepare: async (rates: { slowDown: number; cut: number }, seed: number) => {
      await proxy?.stop();
      proxy = await startFaultProxy(moto.endpoint, { ...rates, seed });
      target.args = ["--s3-endpoint", proxy.endpoint, "--s3-max-attempts", "12"];
    },
    counts: () => ({ ...(proxy?.counts ?? { requests: 0, slowDowns: 0, cuts: 0 }) }),
    stop: async () => {
      await proxy?.stop();
      await moto.stop();
    },
  };
  return target;
}
