import { randomUUID } from 'node:crypto';
import type { Logger } from '../../core/logger.js';
import type { StreamQuota } from '../../core/ports/index.js';

const WARN_EVERY_MS = 5_000;

export interface StreamSlotOptions {
  /** The most jobs one client may stream at once across instances, and its most connections on this one. */
  maxPerClient: number;
  /** How long this process's leases outlive it; they are renewed three times per lease while it lives. */
  leaseMs: number;
  logger: Logger;
}

/** What an open stream holds until it closes. */
export interface StreamSlot {
  /** Gives the slot back; later calls do nothing. */
  release(): void;
}

/**
 * This web process's side of the per-client stream limit. A stream counts the jobs it carries,
 * not itself: the jobs each client streams are leased in the shared quota under this process's
 * holder id, once per job however many of its streams carry it, and the leases are renewed
 * while the process lives, so the slots of a process that died free themselves within one lease.
 * Connections per client are counted here too (exactly: they live and die with this process).
 */
export class StreamSlots {
  private readonly holder = randomUUID();
  /** client → job → the streams of this process that carry it. */
  private readonly jobs = new Map<string, Map<string, number>>();
  /** client → its streams on this process. */
  private readonly connections = new Map<string, number>();
  private renewTimer: NodeJS.Timeout | undefined;
  private readonly warnings = new Map<string, { at: number; since: number }>();

  constructor(
    private readonly quota: StreamQuota,
    private readonly options: StreamSlotOptions,
  ) {}

  /** A slot for a stream of `jobIds`, or undefined when the client is at its limit. */
  async acquire(client: string, jobIds: readonly string[]): Promise<StreamSlot | undefined> {
    const { maxPerClient, leaseMs } = this.options;
    if ((this.connections.get(client) ?? 0) >= maxPerClient) return undefined;
    // Counted here before the quota answers, so a stream of the same job closing meanwhile
    // cannot end the lease this one is about to rely on.
    this.hold(client, jobIds);
    let granted = true;
    try {
      granted = await this.quota.acquire(client, this.holder, jobIds, maxPerClient, leaseMs);
    } catch (err) {
      // The limit is not worth refusing streams for while Redis is away; the renewals record
      // these jobs once it is back.
      this.warn('acquire', err, 'stream quota unavailable; stream allowed');
    }
    if (!granted) {
      this.unhold(client, jobIds);
      return undefined;
    }
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.unhold(client, jobIds);
      },
    };
  }

  private hold(client: string, jobIds: readonly string[]): void {
    this.connections.set(client, (this.connections.get(client) ?? 0) + 1);
    const held = this.jobs.get(client) ?? new Map<string, number>();
    for (const job of jobIds) held.set(job, (held.get(job) ?? 0) + 1);
    this.jobs.set(client, held);
    if (!this.renewTimer) {
      this.renewTimer = setInterval(() => this.renewAll(), Math.max(1, Math.floor(this.options.leaseMs / 3)));
      this.renewTimer.unref();
    }
  }

  private unhold(client: string, jobIds: readonly string[]): void {
    const open = (this.connections.get(client) ?? 1) - 1;
    if (open > 0) this.connections.set(client, open);
    else this.connections.delete(client);
    const held = this.jobs.get(client);
    const ended: string[] = [];
    for (const job of jobIds) {
      const streams = (held?.get(job) ?? 1) - 1;
      if (streams > 0) held!.set(job, streams);
      else {
        held?.delete(job);
        ended.push(job);
      }
    }
    if (held?.size === 0) this.jobs.delete(client);
    if (this.jobs.size === 0) {
      clearInterval(this.renewTimer);
      this.renewTimer = undefined;
    }
    if (ended.length > 0) {
      this.quota
        .release(client, this.holder, ended)
        .catch((err) => this.warn('release', err, 'stream quota release failed; the lease runs out by itself'));
    }
  }

  private renewAll(): void {
    const renewals = [...this.jobs].map(([client, held]) => this.quota.renew(client, this.holder, [...held.keys()], this.options.leaseMs));
    void Promise.allSettled(renewals).then((outcomes) => {
      const failed = outcomes.filter((o) => o.status === 'rejected');
      for (const failure of failed) this.warn('renew', failure.reason, 'stream lease renewal failed; retried at the next renewal');
    });
  }

  /** While Redis keeps failing, one line per kind every few seconds (with the count), not one per stream. */
  private warn(kind: string, err: unknown, message: string): void {
    const state = this.warnings.get(kind) ?? { at: 0, since: 0 };
    state.since++;
    const now = Date.now();
    if (now - state.at >= WARN_EVERY_MS) {
      this.options.logger.warn({ err, failures: state.since }, message);
      state.at = now;
      state.since = 0;
    }
    this.warnings.set(kind, state);
  }
}
