/**
 * Adding a whole list to another. `to.push(...from)` passes every item as an argument, and V8
 * refuses a call with more than about 120,000 of them ("Maximum call stack size exceeded"): one
 * file of a year of minute data has 525,600 time steps, a glob can match more files than that,
 * and a zipped archive can hold more chunks.
 */
export function pushAll<T>(to: T[], from: readonly T[]): T[] {
  for (const x of from) to.push(x);
  return to;
}
