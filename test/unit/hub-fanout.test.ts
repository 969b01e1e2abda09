/**
 * The in-process fan-out of live events: one feed subscription per job, shared by its streams.
 * (Pending and failed subscriptions are covered in hub.test.ts.)
 */
import { expect } from 'chai';
import { type JobEvent, jobEvent } from '../../core/protocol/index.js';
import { Hub } from '../../server/streams/hub.js';
import { CountingFeed, silentLogger } from './lifecycle-fakes.js';

const progress = (seq: number): JobEvent => jobEvent(`1-${seq}`, 'progress', { percent: seq });

function setup() {
  const feed = new CountingFeed();
  const hub = new Hub(feed, silentLogger);
  const heard = new Map<string, JobEvent[]>();
  const listener = (name: string) => (event: JobEvent) => {
    heard.set(name, [...(heard.get(name) ?? []), event]);
  };
  return { feed, hub, heard, listener };
}

describe('hub', () => {
  it('subscribes the feed once per job however many streams attach, even at the same moment', async () => {
    const { feed, hub, listener } = setup();
    const detaches = await Promise.all(['a', 'b', 'c'].map((name) => hub.attach('job-1', listener(name))));
    await hub.attach('job-1', listener('d'));
    await hub.attach('job-2', listener('e'));
    expect(feed.subscribes).to.deep.equal(['job-1', 'job-2']);
    expect(detaches).to.have.length(3);
  });

  it('unsubscribes only when the last stream of a job detaches, and subscribes again for the next one', async () => {
    const { feed, hub, listener } = setup();
    const first = await hub.attach('job-1', listener('a'));
    const second = await hub.attach('job-1', listener('b'));
    first();
    expect(feed.unsubscribes).to.deep.equal([]);
    second();
    expect(feed.unsubscribes).to.deep.equal(['job-1']);

    await hub.attach('job-1', listener('c'));
    expect(feed.subscribes).to.deep.equal(['job-1', 'job-1']);
  });

  it("delivers each event to that job's streams only, and to none after they detach", async () => {
    const { feed, hub, heard, listener } = setup();
    const a = await hub.attach('job-1', listener('a'));
    await hub.attach('job-1', listener('b'));
    await hub.attach('job-2', listener('c'));

    feed.deliver('job-1', progress(1));
    feed.deliver('job-2', progress(2));
    a();
    feed.deliver('job-1', progress(3));
    feed.deliver('job-3', progress(4));

    expect(heard.get('a')).to.deep.equal([progress(1)]);
    expect(heard.get('b')).to.deep.equal([progress(1), progress(3)]);
    expect(heard.get('c')).to.deep.equal([progress(2)]);
  });
});
