/**
 * Key names. Every key of one request carries the same hash tag `{request_id}`, so on Redis
 * Cluster a request's record, log and channel live on one shard and one script can touch them all.
 */
export class RedisKeys {
  constructor(readonly prefix: string) {}

  job(jobId: string): string {
    return `${this.prefix}{${jobId}}:job`;
  }

  log(jobId: string): string {
    return `${this.prefix}{${jobId}}:log`;
  }

  channel(jobId: string): string {
    return `${this.prefix}{${jobId}}:events`;
  }

  /** The request id a channel name belongs to, or undefined for someone else's channel. */
  jobIdOfChannel(channel: string): string | undefined {
    const head = `${this.prefix}{`;
    if (!channel.startsWith(head) || !channel.endsWith('}:events')) return undefined;
    return channel.slice(head.length, -'}:events'.length);
  }

  /** Where workers hear that a job was stopped (cancelled or timed out). Carries the job id. */
  get controlChannel(): string {
    return `${this.prefix}control`;
  }

  idempotency(type: string, key: string): string {
    return `${this.prefix}idem:${type}:${key}`;
  }

  /** One sorted set of every job's deadline (score: ms since the epoch). */
  get deadlines(): string {
    return `${this.prefix}deadlines`;
  }

  /** On Redis Cluster, deadlines are spread over buckets, each its own slot. */
  deadlineBucket(bucket: number): string {
    return `${this.prefix}deadlines:{${bucket}}`;
  }

  rateLimit(key: string, window: number): string {
    return `${this.prefix}rate:${key}:${window}`;
  }

  /** The leases of the jobs one client streams (see the stream quota). */
  streamLeases(client: string): string {
    return `${this.prefix}stream-jobs:${client}`;
  }
}
