import type { IdempotencyClaim, IdempotencyStore } from '../../ports/index.js';
import { ExpiringMap } from './expiring-map.js';

interface Claim {
  fingerprint: string;
  jobId: string;
  published: boolean;
  claimedAt: number;
}

/** `Idempotency-Key` claims of the embedded mode, each dropped `ttlSeconds` after it was made (as in Redis). */
export class MemoryIdempotencyStore implements IdempotencyStore {
  private readonly claims: ExpiringMap<string, Claim>;

  constructor(
    ttlSeconds: number,
    private readonly staleAfterMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.claims = new ExpiringMap(ttlSeconds * 1000, now);
  }

  /** Claims held (for tests and measurements). */
  get size(): number {
    return this.claims.size;
  }

  async claim(type: string, key: string, fingerprint: string, jobId: string): Promise<IdempotencyClaim> {
    const id = `${type}:${key}`;
    const existing = this.claims.get(id);
    if (existing) {
      const { fingerprint: held, jobId: heldId, published } = existing;
      return {
        kind: 'existing',
        fingerprint: held,
        jobId: heldId,
        published,
        stale: !published && this.now() - existing.claimedAt > this.staleAfterMs,
      };
    }
    this.set(id, fingerprint, jobId);
    return { kind: 'claimed' };
  }

  async takeOver(type: string, key: string, fromJobId: string, fingerprint: string, jobId: string): Promise<boolean> {
    const id = `${type}:${key}`;
    const current = this.claims.get(id);
    if (current && (current.jobId !== fromJobId || current.published)) return false;
    this.set(id, fingerprint, jobId);
    return true;
  }

  async markPublished(type: string, key: string, jobId: string): Promise<void> {
    // In place: the claim keeps its expiry, as Redis's SET … KEEPTTL does.
    const claim = this.claims.get(`${type}:${key}`);
    if (claim?.jobId === jobId) claim.published = true;
  }

  async release(type: string, key: string, jobId: string): Promise<void> {
    if (this.claims.get(`${type}:${key}`)?.jobId === jobId) this.claims.delete(`${type}:${key}`);
  }

  private set(id: string, fingerprint: string, jobId: string): void {
    this.claims.set(id, { fingerprint, jobId, published: false, claimedAt: this.now() });
  }
}
