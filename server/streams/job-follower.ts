import type { JobRecord } from '../../core/job-record.js';
import type { JobStore } from '../../core/ports/index.js';
import { compareEventIds, isFinalEvent, type JobEvent } from '../../core/protocol/index.js';
import type { Hub } from './hub.js';

/**
 * Follows one job's events for one stream, without loss or repeats: it listens for live events
 * first (holding them), reads the log after the client's position, and once `start` is called
 * emits the replay, then the held events skipping ids already emitted, then live events as they
 * come. Ends itself after the final event.
 */
export class JobFollower {
  private held: JobEvent[] | undefined = [];
  private detach: (() => void) | undefined;
  private replay: JobEvent[] = [];
  private emit: (event: JobEvent, fromLog: boolean) => void = () => {};
  private done = false;
  private nothingToSend = false;
  record: JobRecord | undefined;

  private constructor(
    readonly jobId: string,
    private position: string | undefined,
  ) {}

  /**
   * Subscribes and reads the log at once. A log read before the subscription took effect may miss
   * an event logged in between, unless the job was already final (its final event is its last) or
   * unknown; otherwise the log is read again once subscribed. So a job that ended before its
   * stream opened costs one round trip, and one still running two. The record is undefined for
   * an unknown or expired job.
   */
  static async open(hub: Hub, store: JobStore, jobId: string, after: string | undefined): Promise<JobFollower> {
    const follower = new JobFollower(jobId, after);
    const attached = hub.attach(jobId, (event) => follower.onLive(event));
    const early = store.read(jobId, after);
    const [subscription, read] = await Promise.allSettled([attached, early]);
    if (subscription.status === 'fulfilled') follower.detach = subscription.value;
    try {
      if (subscription.status === 'rejected') throw subscription.reason;
      if (read.status === 'rejected') throw read.reason;
      const settled = read.value.record === undefined || read.value.record.final;
      const { record, events } = settled ? read.value : await store.read(jobId, after);
      follower.record = record;
      follower.replay = events;
      follower.nothingToSend = record?.final === true && events.length === 0;
    } catch (err) {
      follower.close();
      throw err;
    }
    return follower;
  }

  /** Nothing left to send: the client already has the final event. */
  get finishedBeforeStart(): boolean {
    return this.nothingToSend;
  }

  /**
   * The client claims a position the job's log has not reached, although the job is not final:
   * no event it could be sent would come after that position, so the stream would stay silent.
   */
  get aheadOfLog(): boolean {
    const record = this.record;
    return record !== undefined && !record.final && this.position !== undefined && compareEventIds(this.position, record.lastEventId) > 0;
  }

  /** The final event was sent, or there was nothing left to send. */
  get finished(): boolean {
    return this.done || this.finishedBeforeStart;
  }

  /** The id of the last event the client has (or had when it connected). */
  get lastEventId(): string | undefined {
    return this.position;
  }

  start(emit: (event: JobEvent, fromLog: boolean) => void): void {
    this.emit = emit;
    if (this.nothingToSend) {
      this.close();
      return;
    }
    const replay = this.replay;
    const held = this.held ?? [];
    this.held = undefined;
    this.replay = [];
    for (const event of replay) this.deliver(event, true);
    for (const event of held) this.deliver(event, false);
  }

  close(): void {
    this.detach?.();
    this.detach = undefined;
  }

  private onLive(event: JobEvent): void {
    if (this.held) this.held.push(event);
    else this.deliver(event, false);
  }

  private deliver(event: JobEvent, fromLog: boolean): void {
    if (this.finished) return;
    if (this.position !== undefined && compareEventIds(event.id, this.position) <= 0) return;
    this.position = event.id;
    if (isFinalEvent(event.event)) {
      this.done = true;
      this.close();
    }
    this.emit(event, fromLog);
  }
}
