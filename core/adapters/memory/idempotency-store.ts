import type { IdempotencyClaim, IdempotencyStore } from '../../ports/index.js';

interface Claim {
  fingerprint: string;
  jobId: string;
  published: boolean;
  claimedAt: number;
  expiresAt: number;
}

export class MemoryIdempotencyStore implements IdempotencyStore {
  private readonly claims = new Map<string, Claim>();

  constructor(
    private readonly ttlSeconds: number,
    private readonly staleAfterMs: number,
  ) {}

  async claim(type: string, key: string, fingerprint: string, jobId: string): Promise<IdempotencyClaim> {
    const id = `${type}:${key}`;
    const now = Date.now();
    const existing = this.claims.get(id);
    const stale = existing && !existing.published && now - existing.claimedAt > this.staleAfterMs;
    if (existing && existing.expiresAt > now && !stale) {
      return { kind: 'existing', fingerprint: existing.fingerprint, jobId: existing.jobId, published: existing.published };
    }
    this.claims.set(id, { fingerprint, jobId, published: false, claimedAt: now, expiresAt: now + this.ttlSeconds * 1000 });
    return { kind: 'claimed' };
  }

  async markPublished(type: string, key: string, jobId: string): Promise<void> {
    const claim = this.claims.get(`${type}:${key}`);
    if (claim?.jobId === jobId) claim.published = true;
  }

  async release(type: string, key: string, jobId: string): Promise<void> {
    if (this.claims.get(`${type}:${key}`)?.jobId === jobId) this.claims.delete(`${type}:${key}`);
  }
}
