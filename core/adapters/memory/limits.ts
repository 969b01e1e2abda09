import type { RateLimiter, StreamQuota } from '../../ports/index.js';

export class MemoryLimits implements RateLimiter, StreamQuota {
  private readonly windows = new Map<string, number>();
  private readonly slots = new Map<string, number>();

  async hit(key: string, limit: number, windowSeconds: number) {
    const now = Math.floor(Date.now() / 1000);
    const window = Math.floor(now / windowSeconds);
    const id = `${key}:${window}`;
    const count = (this.windows.get(id) ?? 0) + 1;
    this.windows.set(id, count);
    for (const old of this.windows.keys()) if (!old.endsWith(`:${window}`)) this.windows.delete(old);
    return { allowed: count <= limit, retryAfterSeconds: Math.max(1, (window + 1) * windowSeconds - now) };
  }

  async acquire(key: string, max: number): Promise<boolean> {
    const used = this.slots.get(key) ?? 0;
    if (used >= max) return false;
    this.slots.set(key, used + 1);
    return true;
  }

  async release(key: string): Promise<void> {
    const used = (this.slots.get(key) ?? 1) - 1;
    if (used <= 0) this.slots.delete(key);
    else this.slots.set(key, used);
  }
}
