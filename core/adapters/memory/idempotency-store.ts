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
    if (existing && existing.expiresAt > now) {
      const { fingerprint: held, jobId: heldId, published } = existing;
      return {
        kind: 'existing',
        fingerprint: held,
        jobId: heldId,
        published,
        stale: !published && now - existing.claimedAt > this.staleAfterMs,
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
    const claim = this.claims.get(`${type}:${key}`);
    if (claim?.jobId === jobId) claim.published = true;
  }

  async release(type: string, key: string, jobId: string): Promise<void> {
    if (this.claims.get(`${type}:${key}`)?.jobId === jobId) this.claims.delete(`${type}:${key}`);
  }

  private set(id: string, fingerprint: string, jobId: string): void {
    const now = Date.now();
    this.claims.set(id, { fingerprint, jobId, published: false, claimedAt: now, expiresAt: now + this.ttlSeconds * 1000 });
  }
}
