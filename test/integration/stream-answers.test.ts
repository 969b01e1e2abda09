/**
 * What a stream request is answered when the client's view and the server's differ: jobs the
 * server does not know (any more), and resume positions the job's log has not reached. On the
 * in-memory adapters and on the real brokers.
 */
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { tokenFor } from '../../core/token.js';
import { REDIS_BASE_URL } from '../helpers/brokers.js';
import { type Accepted, finalStatus, submit } from '../helpers/client.js';
import { TEST_SECRET } from '../helpers/processes.js';
import { SYSTEM_KINDS, startSystem, type TestSystem } from '../helpers/system.js';

const tokenOf = (url: string) => new URL(url, 'http://x').searchParams.get('token')!;
const item = (job: Accepted) => `${job.request_id}.${tokenOf(job.events_url)}`;

async function errorOf(res: Response) {
  const body = await res.json();
  return { status: res.status, code: body.error?.code, details: body.error?.details };
}

for (const kind of SYSTEM_KINDS) {
  describe(`stream answers when client and server disagree (${kind})`, function () {
    this.timeout(30_000);
    let system: TestSystem;
    let base: string;

    before(async () => {
      system = await startSystem(kind, 'stream-answers');
      base = system.baseUrl;
    });
    after(async () => system?.stop());

    it('a multi-job 404 lists, in its details, every listed job the server does not know', async () => {
      const known = await submit(base, 'sleep', { ms: 2_000, steps: 1 });
      const otherKnown = await submit(base, 'echo', { payload: 1 });
      const ghost = crypto.randomUUID();
      const ghostItem = `${ghost}.${tokenFor(TEST_SECRET, ghost)}`;
      const wrongToken = `${otherKnown.request_id}.${tokenOf(known.events_url)}`;

      const one = await errorOf(await fetch(`${base}/api/events?jobs=${item(known)},${ghostItem}`));
      expect(one).to.deep.equal({ status: 404, code: 'not_found', details: { unknown_jobs: [ghost] } });

      // A token that does not match is the same as an unknown job (a rotated secret, a forged id).
      const two = await errorOf(
        await fetch(`${base}/api/events?jobs=${wrongToken},${item(known)},${ghostItem}`, { headers: { 'last-event-id': '0-0,0-1,0-0' } }),
      );
      expect(two).to.deep.equal({ status: 404, code: 'not_found', details: { unknown_jobs: [otherKnown.request_id, ghost] } });

      const onlyGhost = await errorOf(await fetch(`${base}/api/events?jobs=${ghostItem}`));
      expect(onlyGhost.details).to.deep.equal({ unknown_jobs: [ghost] });

      const ok = await fetch(`${base}/api/events?jobs=${item(known)},${item(otherKnown)}`);
      expect(ok.status, 'the known jobs alone stream').to.equal(200);
      await ok.body?.cancel();
    });

    it('a position past the log of a job that is not final is 400 invalid_last_event_id, on one job and on several', async () => {
      const running = await submit(base, 'sleep', { ms: 3_000, steps: 1 });
      const done = await submit(base, 'echo', { payload: 'done' });
      await finalStatus(base, done);
      for (const past of ['9-1', '1-999', '2-1']) {
        const single = await fetch(`${base}${running.events_url}`, { headers: { 'last-event-id': past } });
        expect(await errorOf(single), `Last-Event-ID ${past}`).to.include({ status: 400, code: 'invalid_last_event_id' });
        const multi = await fetch(`${base}/api/events?jobs=${item(done)},${item(running)}&last_event_id=1-2,${past}`);
        expect(await errorOf(multi), `cursor 1-2,${past}`).to.include({ status: 400, code: 'invalid_last_event_id' });
      }
      // At the log's end is a valid place to wait for what comes next.
      const atEnd = await fetch(`${base}${running.events_url}`, { headers: { 'last-event-id': '0-1' } });
      expect(atEnd.status).to.equal(200);
      await atEnd.body?.cancel();
    });
  });
}

describe('stream answers for a job whose keys Redis lost (rabbitmq+redis)', function () {
  this.timeout(30_000);
  let system: TestSystem;
  let redis: Redis;

  before(async () => {
    system = await startSystem('rabbitmq+redis', 'stream-answers-lost');
    redis = new Redis(REDIS_BASE_URL);
  });
  after(async () => {
    redis?.disconnect();
    await system?.stop();
  });

  it('is listed among the unknown jobs of a multi-job 404', async () => {
    const base = system.baseUrl;
    const [lost, kept] = [await submit(base, 'echo', { payload: 'lost' }), await submit(base, 'echo', { payload: 'kept' })];
    await redis.del(`${system.redisPrefix}{${lost.request_id}}:job`, `${system.redisPrefix}{${lost.request_id}}:log`);
    const res = await fetch(`${base}/api/events?jobs=${item(kept)},${item(lost)}`);
    expect(await errorOf(res)).to.deep.equal({ status: 404, code: 'not_found', details: { unknown_jobs: [lost.request_id] } });
  });
});
