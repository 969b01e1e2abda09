import { expect } from 'chai';
import { createLogger } from '../../core/logger.js';
import type { EventFeed } from '../../core/ports/index.js';
import type { JobEvent } from '../../core/protocol/index.js';
import { Hub } from '../../server/streams/hub.js';

/** A feed whose subscriptions the test settles by hand. */
class ManualFeed implements EventFeed {
  readonly subscribeCalls: string[] = [];
  readonly unsubscribeCalls: string[] = [];
  readonly pending: { resolve: () => void; reject: (err: Error) => void }[] = [];
  private listener: (jobId: string, event: JobEvent) => void = () => {};

  subscribe(jobId: string): Promise<void> {
    this.subscribeCalls.push(jobId);
    return new Promise((resolve, reject) => this.pending.push({ resolve, reject }));
  }
  async unsubscribe(jobId: string): Promise<void> {
    this.unsubscribeCalls.push(jobId);
  }
  onEvent(listener: (jobId: string, event: JobEvent) => void): void {
    this.listener = listener;
  }
  publish(jobId: string, event: JobEvent): void {
    this.listener(jobId, event);
  }
}

const JOB = '7d3f2c1e-0000-4000-8000-000000000001';
const EVENT: JobEvent = { id: '1-1', event: 'status', data: '{"status":"processing","attempt":1}' };
const logger = createLogger('hub-test', 'silent');

describe('hub (fan-out inside one web process)', () => {
  it('a failed subscribe fails every stream waiting on it, and the next attach subscribes again and gets live events', async () => {
    const feed = new ManualFeed();
    const hub = new Hub(feed, logger);
    const first = hub.attach(JOB, () => {});
    const second = hub.attach(JOB, () => {});
    expect(feed.subscribeCalls, 'one subscription for both streams').to.have.length(1);
    feed.pending[0]!.reject(new Error('subscribe failed'));
    const outcomes = await Promise.allSettled([first, second]);
    expect(outcomes.map((o) => o.status)).to.deep.equal(['rejected', 'rejected']);

    const received: JobEvent[] = [];
    const third = hub.attach(JOB, (event) => received.push(event));
    expect(feed.subscribeCalls, 'the next stream subscribes again').to.have.length(2);
    feed.pending[1]!.resolve();
    const detach = await third;
    feed.publish(JOB, EVENT);
    expect(received).to.deep.equal([EVENT]);
    detach();
    expect(feed.unsubscribeCalls).to.deep.equal([JOB]);
  });

  it('streams that attach while the subscription is pending wait for it and share it', async () => {
    const feed = new ManualFeed();
    const hub = new Hub(feed, logger);
    const got: string[] = [];
    const first = hub.attach(JOB, () => got.push('first'));
    const second = hub.attach(JOB, () => got.push('second'));
    let settled = false;
    void Promise.all([first, second]).then(() => (settled = true));
    await Promise.resolve();
    expect(settled, 'nothing resolves before the feed subscribed').to.equal(false);
    feed.pending[0]!.resolve();
    const [detachFirst, detachSecond] = await Promise.all([first, second]);
    feed.publish(JOB, EVENT);
    expect(got).to.deep.equal(['first', 'second']);
    detachFirst();
    expect(feed.unsubscribeCalls, 'still held by the second stream').to.deep.equal([]);
    detachSecond();
    expect(feed.unsubscribeCalls).to.deep.equal([JOB]);
  });
});
