/**
 * Run async jobs with at most `limit` in flight; results in input order. After the first failure
 * no new job starts, and the call rejects only once every running job has settled, so a caller
 * cleaning up after an error never races a job still writing.
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (!failure && next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(items[i]!, i);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure) throw failure.error;
  return out;
}

/** Lets at most `n` callers run at once; the others wait their turn, first come first served. */
export class Gate {
  private free: number;
  private readonly waiting: (() => void)[] = [];

  constructor(n: number) {
    this.free = Math.max(1, n);
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    }
  }
}

/**
 * Lets callers run while the sum of their weights stays within `capacity`; a caller heavier than
 * the whole capacity runs alone. First come, first served.
 */
export class Budget {
  private used = 0;
  private running = 0;
  private readonly waiting: { weight: number; go: () => void }[] = [];

  constructor(readonly capacity: number) {}

  async run<T>(weight: number, fn: () => Promise<T>): Promise<T> {
    if (!this.waiting.length && this.fits(weight)) this.take(weight);
    // Admitted by a caller that finished: it has taken the weight for this one already.
    else await new Promise<void>((go) => this.waiting.push({ weight, go }));
    try {
      return await fn();
    } finally {
      this.used -= weight;
      this.running--;
      while (this.waiting.length && this.fits(this.waiting[0]!.weight)) {
        const next = this.waiting.shift()!;
        this.take(next.weight);
        next.go();
      }
    }
  }

  private take(weight: number): void {
    this.used += weight;
    this.running++;
  }

  private fits(weight: number): boolean {
    return this.running === 0 || this.used + weight <= this.capacity;
  }
}
