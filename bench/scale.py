#!/usr/bin/env python3
"""Per-file cost and peak memory from 1,000 to 10,000 files (issue #15's flatness check).

  python bench/scale.py [--corpus bench/.corpus/hourly-10k] [--counts 1000,2500,5000,10000] [--reps 3]

Runs `zarrio convert` and `create-template` + `write-region --jobs 2` over the first N files of a
one-step-per-file corpus (make it with `bench/corpus.py --preset hourly-10k`), given as a list
(`--files-from`: ten thousand paths on the command line are held by the OS and by Node several
times over, about 5 MB more at 10,000 files that is not zarrio's), each under
/usr/bin/time -v, and reports per run: wall, CPU, peak memory (largest single process and the whole
process tree, sampled at 10 Hz), CPU per file, and the marginal cost of a file and of its memory
between the smallest and largest N. Medians of --reps runs. Writes results/<date>-scale.md and .json.
"""
import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from run import NODE, OUR_CLI, machine_info, parse_time_v, proc_tree_rss  # noqa: E402

RESULTS = HERE / "results"


def timed(argv: list[str]) -> dict:
    """Run argv under /usr/bin/time -v; wall, CPU and peak memory (single process and tree)."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tv:
        start = time.perf_counter()
        p = subprocess.Popen(["/usr/bin/time", "-v", "-o", tv.name, *argv],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        tree = [0]
        stop = threading.Event()

        def sample():
            while not stop.is_set():
                tree[0] = max(tree[0], proc_tree_rss(p.pid))
                stop.wait(0.1)

        t = threading.Thread(target=sample, daemon=True)
        t.start()
        out, _ = p.communicate()
        stop.set()
        t.join()
        wall = time.perf_counter() - start
        tv.seek(0)
        r = parse_time_v(tv.read())
    if p.returncode:
        sys.exit(f"failed ({p.returncode}): {' '.join(argv[:4])} …\n{out[-2000:]}")
    return dict(wall_s=wall, cpu_s=r["user_s"] + r["sys_s"],
                peak_mb=max(r.get("maxrss_single", 0), tree[0]) / 2**20, log=out.strip().splitlines()[-1:])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", default=str(HERE / ".corpus" / "hourly-10k"))
    ap.add_argument("--counts", default="1000,2500,5000,10000")
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()
    corpus = Path(a.corpus)
    man = json.loads((corpus / "manifest.json").read_text())
    files = sorted(str(f) for f in corpus.glob("*.nc"))
    counts = [int(c) for c in a.counts.split(",")]
    if len(files) < max(counts):
        sys.exit(f"{corpus} has {len(files)} files, fewer than {max(counts)}: make it with bench/corpus.py --preset hourly-10k")
    p = man.get("params", man)
    ny, nx = p["grid"] if "grid" in p else (p["ny"], p["nx"])
    chunking = f"time:24,lat:{ny},lon:{nx}"
    comp = "blosc:zstd:3"
    out_root = Path(tempfile.mkdtemp(prefix="zarrio-scale-"))
    info = machine_info()
    info["load_before"] = list(os.getloadavg())
    started = dt.datetime.now()
    rows = []
    for n in counts:
        sub = files[:n]
        listing = out_root / f"files-{n}.txt"
        listing.write_text("\n".join(sub) + "\n")
        last = Path(sub[-1]).stem.split("_")[-1]  # corpus_YYYYMMDDTHH
        end = f"{last[:4]}-{last[4:6]}-{last[6:8]}T{last[9:11]}:00"
        cases = {
            "convert": lambda out: [[NODE, str(OUR_CLI), "convert", "--files-from", str(listing), str(out),
                                     "--chunking", chunking, "--compression", comp]],
            "template + write-region --jobs 2": lambda out: [
                [NODE, str(OUR_CLI), "create-template", sub[0], str(out), "--global-start", "2024-01-01",
                 "--global-end", end, "--freq", "1h", "--chunking", chunking, "--compression", comp],
                [NODE, str(OUR_CLI), "write-region", "--jobs", "2", "--files-from", str(listing), str(out)]],
        }
        for case, make in cases.items():
            runs = []
            for _ in range(a.reps):
                out = out_root / "out.zarr"
                subprocess.run(["rm", "-rf", str(out)], check=True)
                subprocess.run(["sync"])
                parts = [timed(argv) for argv in make(out)]
                runs.append(dict(wall_s=sum(x["wall_s"] for x in parts), cpu_s=sum(x["cpu_s"] for x in parts),
                                 peak_mb=max(x["peak_mb"] for x in parts), log=parts[-1]["log"]))
            med = {k: statistics.median(r[k] for r in runs) for k in ("wall_s", "cpu_s", "peak_mb")}
            rows.append(dict(case=case, files=n, **med, runs=runs))
            print(f"{case:34} {n:6} files: {med['wall_s']:6.2f} s wall, {med['cpu_s']:6.2f} CPU-s, "
                  f"{med['cpu_s'] / n * 1000:5.2f} CPU-ms/file, peak {med['peak_mb']:5.0f} MB", file=sys.stderr)
    subprocess.run(["rm", "-rf", str(out_root)])

    md = [f"# zarrio: per-file cost from {counts[0]:,} to {counts[-1]:,} files — {started:%Y-%m-%d %H:%M}", "",
          f"Corpus: `{corpus.name}`, one hourly step per file, {ny}×{nx} float32 (NetCDF-4, zlib). Archive chunks "
          f"(24, {ny}, {nx}), Blosc zstd-3. Median of {a.reps} run(s); peak = largest of the single-process and "
          f"whole-tree figures.", "",
          f"Machine: {info['nproc']} cores, {info['cpu']}; load average "
          f"{'/'.join(f'{x:.2f}' for x in info['load_before'])} before.", "",
          "| case | files | wall s | CPU s | CPU ms per file | files/s | peak MB |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        md.append(f"| {r['case']} | {r['files']:,} | {r['wall_s']:.2f} | {r['cpu_s']:.2f} | "
                  f"{r['cpu_s'] / r['files'] * 1000:.2f} | {r['files'] / r['wall_s']:.0f} | {r['peak_mb']:.0f} |")
    md.append("")
    for case in dict.fromkeys(r["case"] for r in rows):
        lo = next(r for r in rows if r["case"] == case and r["files"] == counts[0])
        hi = next(r for r in rows if r["case"] == case and r["files"] == counts[-1])
        dn = hi["files"] - lo["files"]
        md.append(f"- {case}: each file past the first {counts[0]:,} costs "
                  f"{(hi['cpu_s'] - lo['cpu_s']) / dn * 1000:.2f} CPU-ms and "
                  f"{(hi['peak_mb'] - lo['peak_mb']) / dn * 1024:.1f} KB of peak memory "
                  f"({lo['peak_mb']:.0f} → {hi['peak_mb']:.0f} MB).")
    text = "\n".join(md) + "\n"
    print(text)
    RESULTS.mkdir(exist_ok=True)
    stem = RESULTS / f"{started:%Y-%m-%d}-scale"
    stem.with_suffix(".md").write_text(text)
    stem.with_suffix(".json").write_text(json.dumps(dict(corpus=str(corpus), counts=counts, reps=a.reps,
                                                         machine=info, rows=rows), indent=1, default=str))
    print(f"wrote {stem}.md and .json", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
