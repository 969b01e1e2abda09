import type { Deadlines } from '../../ports/index.js';
import type { RedisClient } from './connection.js';
import type { RedisKeys } from './keys.js';
import { defineScript } from './lua-scripts.js';

type RedisWithScripts = RedisClient & {
  relayClaimDue(key: string, now: number, limit: number, leaseEnd: number): Promise<string[]>;
};

/**
 * Deadlines in sorted sets; a claim leases what it returns (moves its score past the lease), so
 * one instance at a time has it. On one Redis they are one set. On Redis Cluster one set would be
 * one slot, so one master would take every submission's write and one busy or failed shard would
 * stop all of them: they are spread over `buckets` sets whose hash tags fall on different slots,
 * each job in the bucket its id hashes to, and a sweep claims from every bucket.
 */
export class RedisDeadlines implements Deadlines {
  private readonly redis: RedisWithScripts;
  private readonly bucketKeys: string[];

  constructor(redis: RedisClient, keys: RedisKeys, buckets = 1) {
    defineScript(redis, 'relayClaimDue', 'claim-deadlines', 1);
    this.redis = redis as RedisWithScripts;
    this.bucketKeys = buckets <= 1 ? [keys.deadlines] : Array.from({ length: buckets }, (_, i) => keys.deadlineBucket(i));
  }

  async schedule(jobId: string, at: number): Promise<void> {
    await this.redis.zadd(this.keyOf(jobId), at, jobId);
  }

  async cancel(jobId: string): Promise<void> {
    await this.redis.zrem(this.keyOf(jobId), jobId);
  }

  async claimDue(now: number, limit: number, leaseMs: number): Promise<string[]> {
    if (this.bucketKeys.length === 1) return this.redis.relayClaimDue(this.bucketKeys[0]!, now, limit, now + leaseMs);
    // A shard that fails keeps its own deadlines for a later sweep; the others are still claimed.
    const claims = await Promise.allSettled(this.bucketKeys.map((key) => this.redis.relayClaimDue(key, now, limit, now + leaseMs)));
    const due = claims.flatMap((claim) => (claim.status === 'fulfilled' ? claim.value : []));
    const failed = claims.find((claim): claim is PromiseRejectedResult => claim.status === 'rejected');
    if (failed && due.length === 0) throw failed.reason;
    return due;
  }

  private keyOf(jobId: string): string {
    if (this.bucketKeys.length === 1) return this.bucketKeys[0]!;
    return this.bucketKeys[bucketOf(jobId, this.bucketKeys.length)]!;
  }
}

/** FNV-1a of the id, so a job's bucket is the same on every instance. */
function bucketOf(jobId: string, buckets: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < jobId.length; i++) {
    hash ^= jobId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % buckets;
}
