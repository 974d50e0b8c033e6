// Physical reference: read every variable of the given files through zarrio's own reader, on one
// core (RAYON_NUM_THREADS=1 before the addon starts its pool), and print `@bench {json}` like refs.py.
process.env.RAYON_NUM_THREADS = "1";
const { loadBackend } = await import(new URL("../../dist/index.js", import.meta.url).href);
const backend = await loadBackend(process.env.ZARRIO_BACKEND ?? "native");
const t0 = performance.now();
const c0 = process.cpuUsage();
let bytes = 0;
for (const file of process.argv.slice(2)) {
  const ds = await backend.openDataset(file);
  for (const v of ds.meta.root.vars) {
    if (v.dtype === "str" || v.shape.length === 0) continue;
    const slab = await ds.read(v.path, v.shape.map(() => 0), v.shape);
    bytes += slab.toBytes()?.length ?? 0;
    slab.release();
  }
  ds.close();
}
const cpu = process.cpuUsage(c0);
console.log("@bench " + JSON.stringify({ wall_s: (performance.now() - t0) / 1000, cpu_s: (cpu.user + cpu.system) / 1e6, bytes }));
