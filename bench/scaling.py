#!/usr/bin/env python3
"""Two cores against one, measured in alternating rounds (issue #15's "≥ 1.85× one core on two").

  python bench/scaling.py [--corpus bench/.corpus/large] [--rounds 7]

Each round runs, in an order that rotates from round to round:
  two     `zarrio convert` on both cores;
  one     the same convert pinned to core 0 (taskset);
  pair    two pinned converts at once, one on each core: what this machine gives two processes that
          share nothing but its caches, memory and disk, the ceiling of any program's two-core speed-up.
The figures are ratios within a round, so that the machine's drift over minutes (2× within a day
here) moves both sides of a ratio alike; the table gives their median, min and max:
  speed-up  = one / two                       (the issue's figure)
  ceiling   = 2 × one / pair                  (two processes' combined speed-up on this machine)
  of ceiling = speed-up / ceiling
The corpus is read once before the rounds (warm page cache). Writes results/<date>-scaling[-<tag>].md and .json.
"""
import argparse
import datetime as dt
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from run import NODE, OUR_CLI, machine_info, run_once  # noqa: E402

RESULTS = HERE / "results"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", default=str(HERE / ".corpus" / "large"))
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--chunking", default="time:24,lat:181,lon:360")
    ap.add_argument("--compression", default="blosc:zstd:3")
    ap.add_argument("--tag", help="suffix of the result files' names (results/<date>-scaling-<tag>.md)")
    a = ap.parse_args()
    files = sorted(str(f) for f in Path(a.corpus).glob("*.nc"))
    if not files:
        sys.exit(f"{a.corpus} has no .nc files: make it with bench/corpus.py --preset large")
    if not OUR_CLI.exists():
        sys.exit(f"{OUR_CLI} is not built: bash scripts/build.sh")
    if (os.cpu_count() or 1) < 2:
        sys.exit("this machine has one core: nothing to compare")
    mb = sum(Path(f).stat().st_size for f in files) / 1e6
    for f in files:  # warm page cache for every run
        with open(f, "rb") as fh:
            while fh.read(1 << 24):
                pass
    work = Path(tempfile.mkdtemp(prefix="zarrio-scaling-"))
    logs = work / "logs"
    logs.mkdir()

    def convert(out: Path, cpu: str | None = None) -> list[str]:
        pin = ["taskset", "-c", cpu] if cpu is not None else []
        return [*pin, NODE, str(OUR_CLI), "convert", *files, str(out), "--chunking", a.chunking,
                "--compression", a.compression, "-q"]

    # Both at once; the pair fails when either does.
    pair = (f"{shlex.join(convert(work / 'pair0.zarr', '0'))} & first=$!; "
            f"{shlex.join(convert(work / 'pair1.zarr', '1'))}; second=$?; wait $first && exit $second")
    cases = {
        "two": convert(work / "two.zarr"),
        "one": convert(work / "one.zarr", "0"),
        "pair": ["sh", "-c", pair],
    }
    info = machine_info()
    info["load_before"] = list(os.getloadavg())
    started = dt.datetime.now()
    rounds = []
    names = list(cases)
    for i in range(a.rounds):
        order = names[i % 3:] + names[:i % 3]
        walls = {}
        for name in order:
            subprocess.run(["rm", "-rf", *map(str, work.glob("*.zarr"))], check=True)
            subprocess.run(["sync"])
            r = run_once(cases[name], {}, 900, logs / f"{name}.{i}.log")
            if r["rc"] != 0:
                sys.exit(f"{name} failed (exit {r['rc']}): see {logs / f'{name}.{i}.log'}")
            walls[name] = r["wall_s"]
            walls[name + "_cpu"] = r["cpu_s"]
        walls["speedup"] = walls["one"] / walls["two"]
        walls["ceiling"] = 2 * walls["one"] / walls["pair"]
        walls["of_ceiling"] = walls["speedup"] / walls["ceiling"]
        rounds.append(walls)
        print(f"round {i + 1}/{a.rounds} ({', '.join(order)}): two {walls['two']:.2f} s, one {walls['one']:.2f} s, "
              f"pair {walls['pair']:.2f} s → speed-up {walls['speedup']:.3f}×, ceiling {walls['ceiling']:.3f}×",
              file=sys.stderr)
    subprocess.run(["rm", "-rf", str(work)])
    info["load_after"] = list(os.getloadavg())

    def spread(key: str, nd: int = 3) -> str:
        xs = [r[key] for r in rounds]
        return f"{statistics.median(xs):.{nd}f} ({min(xs):.{nd}f}–{max(xs):.{nd}f})"

    md = [f"# zarrio: two cores against one — {started:%Y-%m-%d %H:%M}", "",
          f"Corpus: `{Path(a.corpus).name}`, {len(files)} files, {mb:.0f} MB on disk; convert with chunks "
          f"`{a.chunking}`, `{a.compression}`. {a.rounds} rounds, each running the three cases in an order that "
          f"rotates; ratios are taken within a round. Median (min–max).", "",
          f"Machine: {info['nproc']} cores, {info['cpu']}; load average "
          f"{'/'.join(f'{x:.2f}' for x in info['load_before'])} before, "
          f"{'/'.join(f'{x:.2f}' for x in info['load_after'])} after.", "",
          "| figure | value |", "|---|---|",
          f"| convert on two cores, wall s | {spread('two', 2)} |",
          f"| convert on one core, wall s | {spread('one', 2)} |",
          f"| two one-core converts at once, wall s | {spread('pair', 2)} |",
          f"| CPU s, two cores / one core | {spread('two_cpu', 2)} / {spread('one_cpu', 2)} |",
          f"| **speed-up on two cores** (one / two) | **{spread('speedup')}×** |",
          f"| ceiling: two processes' combined speed-up (2 × one / pair) | {spread('ceiling')}× |",
          f"| speed-up as a share of the ceiling | {spread('of_ceiling')} |", ""]
    text = "\n".join(md) + "\n"
    print(text)
    RESULTS.mkdir(exist_ok=True)
    stem = RESULTS / (f"{started:%Y-%m-%d}-scaling" + (f"-{a.tag}" if a.tag else ""))
    stem.with_suffix(".md").write_text(text)
    stem.with_suffix(".json").write_text(json.dumps(dict(corpus=a.corpus, files=len(files), rounds=rounds,
                                                         machine=info, chunking=a.chunking,
                                                         compression=a.compression), indent=1, default=str))
    print(f"wrote {stem}.md and .json", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
