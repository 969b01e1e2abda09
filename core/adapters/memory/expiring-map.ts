/**
 * A Map whose entries expire `ttlMs` after they were last set, as Redis keys with EXPIRE do.
 * Entries are kept in the order they expire (setting an entry moves it to the end), so the
 * sweep that drops expired entries reads only those, and it runs as entries are set, at most
 * once a second: memory holds at most about one TTL's worth of entries.
 */
export class ExpiringMap<K, V> {
  private readonly entries = new Map<K, { value: V; expiresAt: number }>();
  private nextSweepAt = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get(key: K): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  /** Sets the value and starts its TTL again. */
  set(key: K, value: V): void {
    const now = this.now();
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAt: now + this.ttlMs });
    if (now >= this.nextSweepAt) {
      this.nextSweepAt = now + Math.min(1_000, this.ttlMs);
      this.sweep(now);
    }
  }

  delete(key: K): void {
    this.entries.delete(key);
  }

  /** Entries held, expired ones not yet swept included. */
  get size(): number {
    return this.entries.size;
  }

  private sweep(now: number): void {
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt > now) break;
      this.entries.delete(key);
    }
  }
}
