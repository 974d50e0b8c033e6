/**
 * A stress run, drawn from its seed: the archive's layout, the files, the writers and the faults.
 * Pure (no I/O): the same seed always gives the same scenario, so a failure's seed reproduces it,
 * and a scenario is plain JSON, so a shrunk one is saved as a regression case (test/stress/cases/).
 */

export type Variable = "temperature" | "salinity" | "level";

export interface Scenario {
  seed: number;
  /** Zarr format of the archive. */
  format: 2 | 3;
  vars: Variable[];
  lat: number;
  lon: number;
  /** Steps in each file, in time order (file k follows file k-1, hourly). */
  steps: number[];
  chunks: { time: number; lat: number; lon: number };
  /** Shard shape (Zarr v3 only), whole chunks along each dimension. */
  shards?: { time: number; lat: number; lon: number };
  /** The files (indices into `steps`) each writer process is given, in the order it gets them. */
  writers: number[][];
  /** Writers SIGKILLed `afterMs` after they start; each is then run again with the same files. */
  kills: { writer: number; afterMs: number }[];
  /**
   * A file the writers must refuse (cut inside its header, or on another grid), made from file
   * `like`: in writer `writer`'s list at position `at` (the writer writes its other files and
   * fails naming it), or, without `writer`, tried alone after the others (no byte may change).
   */
  bad?: { kind: "truncated" | "grid"; like: number; writer?: number; at?: number };
  /** On S3: the share of requests the proxy answers 503 SlowDown, and the share it cuts mid-answer. */
  s3Faults?: { slowDown: number; cut: number };
}

/** mulberry32: a small, well-mixed generator; `next()` in [0, 1). */
export function generator(seed: number) {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  /** An integer in [lo, hi]; `skew` > 1 favours the low end. */
  const int = (lo: number, hi: number, skew = 1) => lo + Math.floor(next() ** skew * (hi - lo + 1));
  const pick = <T>(items: readonly T[]) => items[Math.floor(next() * items.length)]!;
  const shuffle = <T>(items: readonly T[]) => {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  };
  return { next, int, pick, shuffle };
}

/** The scenario of `seed`; `s3` adds the proxy's fault rates. */
export function drawScenario(seed: number, s3 = false): Scenario {
  const g = generator(seed);
  const format = g.next() < 0.7 ? 3 : 2;
  const all: Variable[] = ["temperature", "salinity", "level"];
  const vars = all.filter(() => g.next() < 0.5);
  if (!vars.length) vars.push(g.pick(all));
  const lat = g.int(3, 16);
  const lon = g.int(4, 20);
  // Mostly a few files of a few steps; now and then forty, or thirty steps each.
  const steps = Array.from({ length: g.int(1, 40, 1.6) }, () => g.int(1, 30, 2));
  const chunks = { time: g.int(1, 48, 1.5), lat: g.int(1, lat), lon: g.int(1, lon) };
  const shards =
    format === 3 && g.next() < 0.5
      ? { time: chunks.time * g.int(1, 4), lat: chunks.lat * g.int(1, 3), lon: chunks.lon * g.int(1, 3) }
      : undefined;
  // Every writer gets at least one file; the files are dealt in a random order.
  const n = g.int(1, Math.min(16, steps.length), 1.3);
  const order = g.shuffle(steps.map((_, i) => i));
  const writers: number[][] = Array.from({ length: n }, (_, w) => [order[w]!]);
  for (const f of order.slice(n)) writers[g.int(0, n - 1)]!.push(f);
  const kills =
    g.next() < 0.35
      ? g
          .shuffle(writers.map((_, w) => w))
          .slice(0, g.int(1, Math.ceil(n / 2)))
          .map((writer) => ({ writer, afterMs: g.int(100, 1500, 1.5) }))
      : [];
  let bad: Scenario["bad"];
  if (g.next() < 0.25) {
    bad = { kind: g.pick(["truncated", "grid"] as const), like: g.int(0, steps.length - 1) };
    if (g.next() < 0.5) {
      const writer = g.int(0, n - 1);
      bad = { ...bad, writer, at: g.int(0, writers[writer]!.length) };
    }
  }
  const s3Faults = s3 ? { slowDown: Math.round(g.next() * 15) / 100, cut: Math.round(g.next() * 8) / 100 } : undefined;
  return { seed, format, vars, lat, lon, steps, chunks, shards, writers, kills, bad, s3Faults };
}

/** Smaller scenarios that may fail the same way: fewer faults, fewer writers, fewer files. */
export function shrinkCandidates(s: Scenario): Scenario[] {
  const out: Scenario[] = [];
  if (s.bad) out.push({ ...s, bad: undefined });
  if (s.kills.length) out.push({ ...s, kills: [] });
  if (s.kills.length > 1) out.push({ ...s, kills: s.kills.slice(0, 1) });
  if (s.s3Faults && (s.s3Faults.slowDown || s.s3Faults.cut)) out.push({ ...s, s3Faults: { slowDown: 0, cut: 0 } });
  if (s.vars.length > 1) for (const v of s.vars) out.push({ ...s, vars: [v] });
  if (s.writers.length > 1) {
    // Two writers' files given to one.
    const merged = [[...s.writers[0]!, ...s.writers[1]!], ...s.writers.slice(2)];
    out.push(remapKills(s, merged, (w) => (w <= 1 ? 0 : w - 1)));
  }
  if (s.steps.length > 1) {
    // Keep the first or the second half of the files (renumbered), writers without files dropped.
    const half = Math.ceil(s.steps.length / 2);
    for (const [lo, hi] of [
      [0, half],
      [half, s.steps.length],
    ] as const) {
      const writers = s.writers.map((fs) => fs.filter((f) => f >= lo && f < hi).map((f) => f - lo));
      const kept = writers.map((fs, w) => (fs.length ? w : -1)).filter((w) => w >= 0);
      let bad = s.bad && s.bad.like >= lo && s.bad.like < hi ? { ...s.bad, like: s.bad.like - lo } : undefined;
      if (bad?.writer !== undefined) {
        const w = kept.indexOf(bad.writer);
        bad = w < 0 ? { kind: bad.kind, like: bad.like } : { ...bad, writer: w, at: Math.min(bad.at ?? 0, writers[bad.writer]!.length) };
      }
      out.push({
        ...s,
        steps: s.steps.slice(lo, hi),
        writers: kept.map((w) => writers[w]!),
        kills: s.kills.filter((k) => kept.includes(k.writer)).map((k) => ({ ...k, writer: kept.indexOf(k.writer) })),
        bad,
      });
    }
  }
  return out;
}

function remapKills(s: Scenario, writers: number[][], to: (w: number) => number): Scenario {
  const kills = new Map<number, number>();
  for (const k of s.kills) kills.set(to(k.writer), Math.min(kills.get(to(k.writer)) ?? Infinity, k.afterMs));
  const bad = s.bad?.writer === undefined ? s.bad : { ...s.bad, writer: to(s.bad.writer), at: Math.min(s.bad.at ?? 0, writers[to(s.bad.writer)]!.length) };
  return { ...s, writers, kills: [...kills].map(([writer, afterMs]) => ({ writer, afterMs })), bad };
}

/** A line describing the scenario, for progress and results. */
export function describe(s: Scenario): string {
  const files = s.steps.length;
  const steps = s.steps.reduce((a, b) => a + b, 0);
  const grid = (c: { time: number; lat: number; lon: number }) => `${c.time}×${c.lat}×${c.lon}`;
  return [
    `v${s.format}`,
    `${s.vars.join("+")}`,
    `${files} file(s) ${steps} steps on ${s.lat}×${s.lon}`,
    `chunks ${grid(s.chunks)}`,
    s.shards ? `shards ${grid(s.shards)}` : "",
    `${s.writers.length} writer(s)`,
    s.kills.length ? `${s.kills.length} killed` : "",
    s.bad ? `bad file (${s.bad.kind}${s.bad.writer === undefined ? ", alone" : `, in writer ${s.bad.writer}'s list`})` : "",
    s.s3Faults ? `S3 faults 503 ${Math.round(s.s3Faults.slowDown * 100)}% cut ${Math.round(s.s3Faults.cut * 100)}%` : "",
  ]
    .filter(Boolean)
    .join(", ");
}
