import type { RateLimiter, StreamQuota } from '../../ports/index.js';

/** The embedded mode's limits, with the same rules as the Redis scripts. */
export class MemoryLimits implements RateLimiter, StreamQuota {
  private readonly windows = new Map<string, number>();
  /** client → `<job>@<holder>` → when the lease ends (ms). */
  private readonly leases = new Map<string, Map<string, number>>();

  async hit(key: string, limit: number, windowSeconds: number) {
    const now = Math.floor(Date.now() / 1000);
    const window = Math.floor(now / windowSeconds);
    const id = `${key}:${window}`;
    const count = (this.windows.get(id) ?? 0) + 1;
    this.windows.set(id, count);
    for (const old of this.windows.keys()) if (!old.endsWith(`:${window}`)) this.windows.delete(old);
    return { allowed: count <= limit, retryAfterSeconds: Math.max(1, (window + 1) * windowSeconds - now) };
  }

  async acquire(client: string, holder: string, jobIds: readonly string[], max: number, leaseMs: number): Promise<boolean> {
    const leases = this.liveLeases(client);
    const jobs = new Set([...leases.keys()].map((member) => member.slice(0, member.lastIndexOf('@'))));
    for (const job of jobIds) jobs.add(job);
    if (jobs.size > max) return false;
    const ends = Date.now() + leaseMs;
    for (const job of jobIds) leases.set(`${job}@${holder}`, ends);
    this.leases.set(client, leases);
    return true;
  }

  async renew(client: string, holder: string, jobIds: readonly string[], leaseMs: number): Promise<void> {
    if (jobIds.length === 0) return;
    const leases = this.liveLeases(client);
    const ends = Date.now() + leaseMs;
    for (const job of jobIds) leases.set(`${job}@${holder}`, ends);
    this.leases.set(client, leases);
  }

  async release(client: string, holder: string, jobIds: readonly string[]): Promise<void> {
    const leases = this.liveLeases(client);
    for (const job of jobIds) leases.delete(`${job}@${holder}`);
    if (leases.size === 0) this.leases.delete(client);
  }

  /** The client's leases that have not run out (the others are dropped). */
  private liveLeases(client: string): Map<string, number> {
    const leases = this.leases.get(client) ?? new Map<string, number>();
    const now = Date.now();
    for (const [member, ends] of leases) if (ends <= now) leases.delete(member);
    return leases;
  }
}
