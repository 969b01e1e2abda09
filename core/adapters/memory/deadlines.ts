import type { Deadlines } from '../../ports/index.js';

/** Deadlines of the embedded mode, leased on claim as in Redis (a claim that is never settled is due again). */
export class MemoryDeadlines implements Deadlines {
  private readonly due = new Map<string, number>();

  async schedule(jobId: string, at: number): Promise<void> {
    this.due.set(jobId, at);
  }

  async cancel(jobId: string): Promise<void> {
    this.due.delete(jobId);
  }

  async claimDue(now: number, limit: number, leaseMs: number): Promise<string[]> {
    const claimed: string[] = [];
    for (const [id, at] of this.due) {
      if (claimed.length >= limit) break;
      if (at <= now) claimed.push(id);
    }
    for (const id of claimed) this.due.set(id, now + leaseMs);
    return claimed;
  }
}
