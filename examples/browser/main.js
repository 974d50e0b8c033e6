/** The page: pick a NetCDF file (or take the bundled sample), convert it in memory, show the arrays. */
import { convertInMemory } from "./convert.js";

const status = document.querySelector("#status");
const table = document.querySelector("#arrays tbody");

async function run(name, bytes) {
  status.textContent = `converting ${name} (${(bytes.length / 1024).toFixed(0)} KiB)…`;
  table.replaceChildren();
  try {
    const { summary, store, arrays } = await convertInMemory(name, bytes);
    const stored = [...store.map.values()].reduce((n, v) => n + v.length, 0);
    status.textContent =
      `${name}: ${summary.variables} arrays, ${summary.timeSteps} time steps, ${store.map.size} keys, ` +
      `${(stored / 1024).toFixed(0)} KiB in memory, ${summary.seconds.toFixed(2)} s (${summary.backend})`;
    for (const a of arrays) {
      const row = table.insertRow();
      for (const cell of [a.path, a.dtype, a.shape.join(" × "), a.chunks.join(" × "), `${(a.bytes / 1024).toFixed(1)} KiB`]) {
        row.insertCell().textContent = cell;
      }
    }
  } catch (e) {
    status.textContent = `failed: ${e.message}`;
  }
}

document.querySelector("#file").addEventListener("change", async (event) => {
  const file = event.target.files[0];
  if (file) await run(file.name, new Uint8Array(await file.arrayBuffer()));
});
document.querySelector("#sample").addEventListener("click", async () => {
  const response = await fetch("../../samples/ocean_sample.nc");
  await run("ocean_sample.nc", new Uint8Array(await response.arrayBuffer()));
});
