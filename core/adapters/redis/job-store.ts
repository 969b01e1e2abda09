import { type JobRecord, recordChangesFor, recordFromFields } from '../../job-record.js';
import {
  type AdmitOutcome,
  type AppendOutcome,
  admitOutcomeOf,
  type HealthCheck,
  type JobAdmission,
  type JobStore,
  type WithdrawOutcome,
} from '../../ports/index.js';
import type { EventName, JobEvent } from '../../protocol/index.js';
import { isFinalEvent, QUEUED_EVENT } from '../../protocol/index.js';
import { type RedisClient, redisAnswers, redisReady } from './connection.js';
import type { RedisKeys } from './keys.js';
import { defineScript } from './lua-scripts.js';

type RedisWithScripts = RedisClient & {
  relayCreateJob(job: string, log: string, ...args: string[]): Promise<number>;
  relayReadLog(job: string, log: string, start: string): Promise<[string[], [string, string[]][]]>;
  relayAppendEvent(job: string, log: string, channel: string, ...args: string[]): Promise<AppendOutcome>;
  relayWithdrawJob(job: string, log: string): Promise<WithdrawOutcome>;
};

/** Job records as hashes and event logs as Redis Streams whose entry ids are the event ids. */
export class RedisJobStore implements JobStore, JobAdmission, HealthCheck {
  private readonly redis: RedisWithScripts;

  constructor(
    redis: RedisClient,
    private readonly keys: RedisKeys,
    private readonly ttlSeconds: number,
    /** On Redis Cluster, events go out by sharded pub/sub (SPUBLISH): only the job's shard carries them. */
    private readonly sharded = false,
  ) {
    defineScript(redis, 'relayAppendEvent', 'append-event', 3);
    defineScript(redis, 'relayCreateJob', 'create-job', 2);
    defineScript(redis, 'relayReadLog', 'read-log', 2);
    defineScript(redis, 'relayWithdrawJob', 'withdraw-job', 2);
    this.redis = redis as RedisWithScripts;
  }

  async create(jobId: string, type: string, now: Date): Promise<void> {
    await this.redis.relayCreateJob(
      this.keys.job(jobId),
      this.keys.log(jobId),
      type,
      now.toISOString(),
      String(this.ttlSeconds),
      QUEUED_EVENT.id,
      QUEUED_EVENT.event,
      QUEUED_EVENT.data,
    );
  }

  withdraw(jobId: string): Promise<WithdrawOutcome> {
    return this.redis.relayWithdrawJob(this.keys.job(jobId), this.keys.log(jobId));
  }

  append(jobId: string, event: JobEvent, now: Date, acceptGap = false): Promise<AppendOutcome> {
    return this.appendEvent(jobId, event, now, acceptGap, false);
  }

  async admit(jobId: string, started: JobEvent, now: Date): Promise<AdmitOutcome> {
    return admitOutcomeOf(await this.appendEvent(jobId, started, now, false, true));
  }

  private appendEvent(jobId: string, event: JobEvent, now: Date, acceptGap: boolean, take: boolean): Promise<AppendOutcome> {
    const changes = Object.entries(recordChangesFor(event)).flat();
    return this.redis.relayAppendEvent(
      this.keys.job(jobId),
      this.keys.log(jobId),
      this.keys.channel(jobId),
      event.id,
      event.event,
      event.data,
      isFinalEvent(event.event) ? '1' : '0',
      now.toISOString(),
      String(this.ttlSeconds),
      acceptGap ? '1' : '0',
      this.sharded ? 'SPUBLISH' : 'PUBLISH',
      take ? '1' : '0',
      ...changes,
    );
  }

  async get(jobId: string): Promise<JobRecord | undefined> {
    return recordFromFields(jobId, await this.redis.hgetall(this.keys.job(jobId)));
  }

  async read(jobId: string, afterId: string | undefined) {
    const [flat, entries] = await this.redis.relayReadLog(this.keys.job(jobId), this.keys.log(jobId), afterId ? `(${afterId}` : '-');
    const fields: Record<string, string> = {};
    for (let i = 0; i < flat.length; i += 2) fields[flat[i]!] = flat[i + 1]!;
    const record = recordFromFields(jobId, fields);
    const events: JobEvent[] = record ? entries.map(([id, kv]) => toEvent(id, kv)) : [];
    return { record, events };
  }

  async isHealthy(): Promise<boolean> {
    return redisReady(this.redis) && (await redisAnswers(this.redis));
  }
}

function toEvent(id: string, kv: string[]): JobEvent {
  let event = 'status';
  let data = 'null';
  for (let i = 0; i < kv.length; i += 2) {
    if (kv[i] === 'e') event = kv[i + 1]!;
    else if (kv[i] === 'd') data = kv[i + 1]!;
  }
  return { id, event: event as EventName, data };
}
