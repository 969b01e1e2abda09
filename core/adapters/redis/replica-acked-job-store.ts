import calculateSlot from 'cluster-key-slot';
import { Cluster, type Redis } from 'ioredis';
import type { JobRecord } from '../../job-record.js';
import type { Logger } from '../../logger.js';
import type { AdmitOutcome, AppendOutcome, HealthCheck, JobAdmission, JobStore, WithdrawOutcome } from '../../ports/index.js';
import type { JobEvent } from '../../protocol/index.js';
import type { RedisClient } from './connection.js';
import type { RedisKeys } from './keys.js';

export interface ReplicaAckOptions {
  /** Longest wait for the replica's acknowledgement. */
  timeoutMs: number;
  /** How long a master whose replica did not answer is written to without waiting. */
  pauseMs: number;
  /** A master wrote without its replica's acknowledgement: `reason` is why. */
  onUnacked(node: string, reason: 'timeout' | 'paused'): void;
}

/**
 * On Redis Cluster a master answers a write before its replica has it, and a master that dies in
 * between takes the write with it: its promoted replica never saw a job that was answered `202`,
 * or an event whose reply was already acked from `front_queue`. So after each write that a client
 * relies on (a new job, an appended event) this waits, with WAIT on the connection that made the
 * write, until the master's replica has it. A master with no replica to answer (its replica died,
 * or it was just promoted and its old master has not come back) makes every WAIT last its whole
 * timeout and stalls that connection; after one such timeout the master is written to without
 * waiting for `pauseMs`, and every write meanwhile is reported.
 */
export class ReplicaAckedJobStore implements JobStore, JobAdmission, HealthCheck {
  private readonly pausedUntil = new Map<string, number>();
  private readonly waits = new Map<string, { inFlight?: Promise<number>; queued?: Promise<number> }>();

  constructor(
    private readonly inner: JobStore & JobAdmission & HealthCheck,
    private readonly cluster: Cluster,
    private readonly keys: RedisKeys,
    private readonly options: ReplicaAckOptions,
  ) {}

  async create(jobId: string, type: string, now: Date): Promise<void> {
    await this.inner.create(jobId, type, now);
    await this.replicated(jobId);
  }

  async append(jobId: string, event: JobEvent, now: Date, acceptGap?: boolean): Promise<AppendOutcome> {
    const outcome = await this.inner.append(jobId, event, now, acceptGap);
    // A repeat may be the retry of an append whose wait failed: its reply is acked after this too.
    if (outcome !== 'gap' && outcome !== 'unknown-job') await this.replicated(jobId);
    return outcome;
  }

  async admit(jobId: string, started: JobEvent, now: Date): Promise<AdmitOutcome> {
    const outcome = await this.inner.admit(jobId, started, now);
    // A client may resume from the logged event: the promoted replica must not be behind it.
    if (outcome === 'recorded') await this.replicated(jobId);
    return outcome;
  }

  withdraw(jobId: string): Promise<WithdrawOutcome> {
    return this.inner.withdraw(jobId);
  }

  get(jobId: string): Promise<JobRecord | undefined> {
    return this.inner.get(jobId);
  }

  read(jobId: string, afterId: string | undefined) {
    return this.inner.read(jobId, afterId);
  }

  isHealthy(): Promise<boolean> {
    return this.inner.isHealthy();
  }

  private async replicated(jobId: string): Promise<void> {
    const node = this.cluster.slots[calculateSlot(this.keys.job(jobId))]?.[0];
    const connection = node ? this.cluster.nodes('master').find((n) => `${n.options.host}:${n.options.port}` === node) : undefined;
    if (!node || !connection) return;
    if (this.paused(node)) return this.options.onUnacked(node, 'paused');
    const acked = await this.acknowledgement(node, connection);
    if (acked >= 1) return;
    if (this.paused(node)) return this.options.onUnacked(node, 'paused');
    this.pausedUntil.set(node, Date.now() + this.options.pauseMs);
    this.options.onUnacked(node, 'timeout');
  }

  private paused(node: string): boolean {
    return (this.pausedUntil.get(node) ?? 0) > Date.now();
  }

  /**
   * WAIT blocks its connection, which every command to that master shares, so one is sent at a
   * time per master. A write made while one is under way may not be covered by it: the writers
   * arriving meanwhile share the next one, sent when it returns (none if it timed out).
   */
  private acknowledgement(node: string, connection: Redis): Promise<number> {
    const state = this.waits.get(node) ?? {};
    this.waits.set(node, state);
    if (!state.inFlight) {
      // The connection the cluster client wrote with: WAIT covers every write it made before.
      state.inFlight = connection
        .call('WAIT', '1', String(this.options.timeoutMs))
        .then(Number)
        .finally(() => (state.inFlight = undefined));
      return state.inFlight;
    }
    state.queued ??= state.inFlight
      .catch(() => 0)
      .then(() => {
        state.queued = undefined;
        return this.paused(node) ? 0 : this.acknowledgement(node, connection);
      });
    return state.queued;
  }
}

const REPLICA_ACK_TIMEOUT_MS = 100;
const REPLICA_ACK_PAUSE_MS = 5_000;

/** The job store as web and worker use it: replica-acknowledged writes on Redis Cluster, plain ones on one Redis. */
export function withReplicaAcks(
  store: JobStore & JobAdmission & HealthCheck,
  redis: RedisClient,
  keys: RedisKeys,
  logger: Logger,
): JobStore & JobAdmission & HealthCheck {
  if (!(redis instanceof Cluster)) return store;
  const unacked = new Map<string, number>();
  return new ReplicaAckedJobStore(store, redis, keys, {
    timeoutMs: REPLICA_ACK_TIMEOUT_MS,
    pauseMs: REPLICA_ACK_PAUSE_MS,
    onUnacked: (node, reason) => {
      unacked.set(node, (unacked.get(node) ?? 0) + 1);
      if (reason !== 'timeout') return;
      logger.warn(
        { node, writes: unacked.get(node), pause_ms: REPLICA_ACK_PAUSE_MS },
        'Redis replica did not acknowledge a write in time; writing to this master without waiting for a while (its failover now could lose those writes)',
      );
      unacked.set(node, 0);
    },
  });
}
