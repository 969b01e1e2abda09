import type { IdempotencyClaim, IdempotencyStore } from '../../ports.js';

interface Claim {
  fingerprint: string;
  requestId: string;
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

  async claim(type: string, key: string, fingerprint: string, requestId: string): Promise<IdempotencyClaim> {
    const id = `${type}:${key}`;
    const now = Date.now();
    const existing = this.claims.get(id);
    const stale = existing && !existing.published && now - existing.claimedAt > this.staleAfterMs;
    if (existing && existing.expiresAt > now && !stale) {
      return { kind: 'existing', fingerprint: existing.fingerprint, requestId: existing.requestId, published: existing.published };
    }
    this.claims.set(id, { fingerprint, requestId, published: false, claimedAt: now, expiresAt: now + this.ttlSeconds * 1000 });
    return { kind: 'claimed' };
  }

  async markPublished(type: string, key: string, requestId: string): Promise<void> {
    const claim = this.claims.get(`${type}:${key}`);
    if (claim?.requestId === requestId) claim.published = true;
  }

  async release(type: string, key: string, requestId: string): Promise<void> {
    if (this.claims.get(`${type}:${key}`)?.requestId === requestId) this.claims.delete(`${type}:${key}`);
  }
}
