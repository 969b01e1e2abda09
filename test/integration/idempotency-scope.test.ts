/**
 * What an Idempotency-Key is scoped to, as documented: the job type and the key itself, not the
 * client's address (a retry may come from another network), so the key is a secret like the job's
 * token; Redis keeps only a digest of it.
 */
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { REDIS_BASE_URL } from '../helpers/brokers.js';
import { SYSTEM_KINDS, startSystem, type TestSystem } from '../helpers/system.js';

for (const kind of SYSTEM_KINDS) {
  describe(`Idempotency-Key scope (${kind})`, function () {
    this.timeout(30_000);
    let system: TestSystem;

    before(async () => {
      system = await startSystem(kind, 'idem-scope', { TRUST_PROXY: 'true' });
    });
    after(async () => system?.stop());

    const post = async (key: string, from: string, body: unknown = { payload: 'order 42' }) => {
      const res = await fetch(`${system.baseUrl}/api/jobs/echo`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': key, 'x-forwarded-for': from },
        body: JSON.stringify(body),
      });
      expect(res.status).to.equal(202);
      return (await res.json()) as { request_id: string; status_url: string };
    };

    it('a retry from another address with the same key and body is the same job; a key prefixed with a client secret of its own is not', async () => {
      const operation = `order-42-${crypto.randomUUID()}`;
      const first = await post(operation, '192.0.2.10');
      const retried = await post(operation, '198.51.100.7');
      expect(retried, 'the key alone decides: keep it secret').to.deep.equal(first);
      const mine = await post(`${crypto.randomUUID()}:${operation}`, '192.0.2.10');
      const theirs = await post(`${crypto.randomUUID()}:${operation}`, '198.51.100.7');
      expect(new Set([first.request_id, mine.request_id, theirs.request_id]).size).to.equal(3);
    });

    if (kind === 'rabbitmq+redis') {
      it('Redis holds a digest of the key, never the key', async () => {
        const key = `secret-${crypto.randomUUID()}`;
        await post(key, '192.0.2.11');
        const redis = new Redis(REDIS_BASE_URL);
        try {
          const names: string[] = [];
          let cursor = '0';
          do {
            const [next, batch] = await redis.scan(cursor, 'MATCH', `${system.redisPrefix}*`, 'COUNT', 1000);
            cursor = next;
            names.push(...batch);
          } while (cursor !== '0');
          const idempotencyKeys = names.filter((n) => n.startsWith(`${system.redisPrefix}idem:`));
          expect(idempotencyKeys, 'the claim is stored').to.have.length.greaterThan(0);
          expect(
            names.filter((n) => n.includes(key)),
            'no key name carries it',
          ).to.deep.equal([]);
          for (const name of idempotencyKeys) expect(await redis.get(name), 'no value carries it').not.to.include(key);
        } finally {
          redis.disconnect();
        }
      });
    }
  });
}
