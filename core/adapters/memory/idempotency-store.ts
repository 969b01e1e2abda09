import type { IdempotencyClaim, IdempotencyStore } from '../../ports.js';

export class MemoryIdempotencyStore implements IdempotencyStore {
  private readonly claims = new Map<string, { fingerprint: string; requestId: string; published: boolean; expiresAt: number }>();

  constructor(private readonly ttlSeconds: number) {}

  async claim(type: string, key: string, fingerprint: string, requestId: string): Promise<IdempotencyClaim> {
    const id = `${type}:${key}`;
    const existing = this.claims.get(id);
    if (existing && existing.expiresAt > Date.now()) return { kind: 'existing', ...existing };
    this.claims.set(id, { fingerprint, requestId, published: false, expiresAt: Date.now() + this.ttlSeconds * 1000 });
    return { kind: 'claimed' };
  }

  async markPublished(type: string, key: string): Promise<void> {
    const claim = this.claims.get(`${type}:${key}`);
    if (claim) claim.published = true;
  }

  async release(type: string, key: string): Promise<void> {
    this.claims.delete(`${type}:${key}`);
  }
}
