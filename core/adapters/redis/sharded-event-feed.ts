import calculateSlot from 'cluster-key-slot';
import { type Cluster, Redis } from 'ioredis';
import type { Logger } from '../../logger.js';
import type { EventFeed } from '../../ports/index.js';
import { decodeNotification, type JobEvent } from '../../protocol/index.js';
import type { RedisKeys } from './keys.js';

/** One subscriber connection to one master, holding the channels of the slots it serves. */
interface Shard {
  node: string;
  redis: Redis;
  channels: Set<string>;
  /** The connection dropped since it was last ready: what was published meanwhile is gone. */
  lost: boolean;
}

/**
 * Live events on Redis Cluster through sharded pub/sub: the append script SPUBLISHes on the
 * job's channel, which carries the job's hash tag, so only the master of the job's slot (and its
 * replica) carry the message, instead of every node of the cluster as with PUBLISH. Each master
 * this process follows jobs on gets its own subscriber connection.
 *
 * Events can be missed in two ways, and both are reported as a gap (the listener replays from the
 * log): a shard's connection dropped and came back, or a channel had to move to another master
 * (a failover promoted a replica, or the slot was migrated).
 */
export class RedisShardedEventFeed implements EventFeed {
  private listener: (jobId: string, event: JobEvent) => void = () => {};
  private gapListener: () => void = () => {};
  private readonly shards = new Map<string, Shard>();
  /** Each subscribed channel and the node it is subscribed on. */
  private readonly channels = new Map<string, string>();
  private closed = false;

  constructor(
    private readonly cluster: Cluster,
    private readonly keys: RedisKeys,
    private readonly connectionName: string,
    private readonly logger?: Logger,
    private readonly subscribeTimeoutMs = 2 * (cluster.options.redisOptions?.commandTimeout ?? 1_000),
  ) {
    // The client reloads the slot map every second and after MOVED: follow the masters it finds.
    cluster.on('refresh', () => this.followSlotMap());
  }

  onGap(listener: () => void): void {
    this.gapListener = listener;
  }

  onEvent(listener: (jobId: string, event: JobEvent) => void): void {
    this.listener = listener;
  }

  /**
   * Fails rather than waits when the channel's master does not confirm in time: until a failover
   * promotes its replica, the slot map still names a master that is gone, and a stream opening
   * meanwhile is better answered 503 (its client retries) than left hanging.
   */
  async subscribe(jobId: string): Promise<void> {
    const channel = this.keys.channel(jobId);
    const shard = this.shardOf(channel);
    if (!shard) throw new Error('Redis Cluster slot map not loaded yet');
    this.channels.set(channel, shard.node);
    shard.channels.add(channel);
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        shard.redis.ssubscribe(channel),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`Redis master ${shard.node} did not confirm the subscription`)),
            this.subscribeTimeoutMs,
          );
        }),
      ]);
    } catch (err) {
      if (this.channels.get(channel) === shard.node) this.channels.delete(channel);
      if (shard.channels.delete(channel)) shard.redis.sunsubscribe(channel).catch(() => undefined);
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  async unsubscribe(jobId: string): Promise<void> {
    const channel = this.keys.channel(jobId);
    const node = this.channels.get(channel);
    this.channels.delete(channel);
    const shard = node ? this.shards.get(node) : undefined;
    if (!shard) return;
    shard.channels.delete(channel);
    await shard.redis.sunsubscribe(channel);
  }

  /** Ends every shard connection. */
  async close(): Promise<void> {
    this.closed = true;
    const shards = [...this.shards.values()];
    this.shards.clear();
    await Promise.allSettled(shards.map((shard) => shard.redis.quit()));
  }

  /** The master serving a channel's slot now, per the client's slot map. */
  private masterOf(channel: string): string | undefined {
    return this.cluster.slots[calculateSlot(channel)]?.[0];
  }

  private shardOf(channel: string): Shard | undefined {
    const node = this.masterOf(channel);
    if (!node) return undefined;
    let shard = this.shards.get(node);
    if (!shard) {
      shard = this.connect(node);
      this.shards.set(node, shard);
    }
    return shard;
  }

  private connect(node: string): Shard {
    const [host, port] = [node.slice(0, node.lastIndexOf(':')), Number(node.slice(node.lastIndexOf(':') + 1))];
    const { redisOptions = {} } = this.cluster.options;
    const redis = new Redis({
      ...redisOptions,
      host,
      port,
      connectionName: this.connectionName,
      // Subscriptions wait as long as they must; ioredis subscribes again after a reconnect.
      commandTimeout: undefined,
      maxRetriesPerRequest: null,
      retryStrategy: (times) => Math.min(50 * times, 1_000),
    });
    const shard: Shard = { node, redis, channels: new Set(), lost: false };
    redis.on('error', (err) => this.logger?.debug({ err, node }, 'Redis shard subscriber error'));
    redis.on('smessage', (channel: string, message: string) => {
      const jobId = this.keys.jobIdOfChannel(channel);
      const event = jobId ? decodeNotification(message) : undefined;
      if (jobId && event) this.listener(jobId, event);
    });
    redis.on('close', () => {
      shard.lost = true;
    });
    redis.on('ready', () => {
      if (!shard.lost) return;
      shard.lost = false;
      this.logger?.warn({ node, channels: shard.channels.size }, 'Redis shard subscriber reconnected; live events may have been missed');
      this.gapListener();
    });
    return shard;
  }

  /**
   * Moves each channel whose slot now has another master to that master's connection, and ends
   * the connections left with no channel (a master that failed or lost its slots).
   */
  private followSlotMap(): void {
    if (this.closed) return;
    const moved: string[] = [];
    for (const [channel, node] of this.channels) {
      const master = this.masterOf(channel);
      if (!master || master === node) continue;
      const old = this.shards.get(node);
      if (old?.channels.delete(channel)) old.redis.sunsubscribe(channel).catch(() => undefined);
      const shard = this.shardOf(channel)!;
      this.channels.set(channel, master);
      shard.channels.add(channel);
      moved.push(channel);
    }
    const masters = new Set(this.cluster.slots.map((nodes) => nodes[0]));
    for (const [node, shard] of this.shards) {
      if (masters.has(node) || shard.channels.size > 0) continue;
      shard.redis.disconnect();
      this.shards.delete(node);
    }
    if (moved.length === 0) return;
    this.logger?.warn({ channels: moved.length }, 'Redis Cluster slots moved to another master; following them there');
    // The gap is reported before the new subscriptions are made: an event that arrives on the new
    // master right after its subscription must not reach a stream that missed the ones before it.
    this.gapListener();
    for (const channel of moved) {
      const shard = this.shards.get(this.channels.get(channel)!);
      shard?.redis.ssubscribe(channel).catch((err) => this.logger?.warn({ err, channel }, 'subscribing on the new master failed'));
    }
  }
}
