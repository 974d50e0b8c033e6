/**
 * The last few values made from keys, so that the files of a series, which describe themselves
 * alike, share one copy of what they describe (a file's metadata, its time units) instead of
 * holding one each. Least recently used out first.
 */
export class Recent<K, V> {
  private readonly entries = new Map<K, V>();
  /** The key asked for last: asked again (every file of a series), the order stands as it is. */
  private newest: { key: K; value: V } | undefined;

  constructor(private readonly keep: number) {}

  /** The value for `key`, made by `make` when it is not among the last few. */
  get(key: K, make: () => V): V {
    // Deleting and setting the key again would leave a hole in the Map's table each time, and a
    // new table every few: garbage for each of ten thousand files.
    if (this.newest && this.newest.key === key) return this.newest.value;
    let value = this.entries.get(key);
    if (value !== undefined) this.entries.delete(key);
    else value = make();
    this.entries.set(key, value);
    if (this.entries.size > this.keep) this.entries.delete(this.entries.keys().next().value!);
    this.newest = { key, value };
    return value;
  }
}
