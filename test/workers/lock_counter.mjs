// A contender for one FsStore lock (test/parallel.test.ts): adds 1 to a counter file `rounds`
// times, each inside the lock, with a pause between reading and writing so that a second holder
// would lose an update. A sentinel file created with O_EXCL inside the lock catches two holders
// at once. Usage: node lock_counter.mjs ROOT ROUNDS [STALE_MS] [hold]
// ("hold": take the lock once, print "held", and wait to be killed).
import { promises as fs, constants } from "node:fs";
import path from "node:path";

const [root, rounds, staleMs, mode] = process.argv.slice(2);
const { FsStore } = await import(new URL("../../dist/zarr/store.js", import.meta.url).href);
const store = new FsStore(root, staleMs ? Number(staleMs) : undefined);
const counter = path.join(root, "counter");
const sentinel = path.join(root, "inside");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

if (mode === "hold") {
  await store.withLock("temp/c/0/0/0", async () => {
    process.stdout.write("held\n");
    await new Promise(() => {});
  });
}
for (let i = 0; i < Number(rounds); i++) {
  await store.withLock("temp/c/0/0/0", async () => {
    const h = await fs.open(sentinel, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY).catch((e) => {
      if (e.code === "EEXIST") {
        process.stderr.write("two holders at once\n");
        process.exit(3);
      }
      throw e;
    });
    await h.close();
    const n = Number(await fs.readFile(counter, "utf8").catch(() => "0"));
    await sleep(Math.random() * 2);
    await fs.writeFile(counter, String(n + 1));
    await fs.unlink(sentinel);
  });
}
