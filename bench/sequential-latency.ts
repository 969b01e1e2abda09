/**
 * End-to-end latency of one job at a time: POST on web A, SSE stream on web B, one worker,
 * real RabbitMQ and Redis. Prints p50 / p90 / p99 / max over N sequential `echo` jobs.
 * Usage: npm run bench:latency [-- N]
 */

import { createVhost, deleteRedisPrefix, REDIS_BASE_URL, testRedisPrefix } from '../test/helpers/brokers.js';
import { follow, submit } from '../test/helpers/client.js';
import { relayEnv, startRelayProcess } from '../test/helpers/processes.js';

const n = Number(process.argv[2] ?? 1000);
const vhost = await createVhost('latency');
const prefix = testRedisPrefix('latency');
const env = { ...relayEnv({ amqpUrl: vhost.url, redisUrl: REDIS_BASE_URL, redisPrefix: prefix }), LOG_LEVEL: 'info' };
const procs = await Promise.all([
  startRelayProcess('web', 'web-a', env),
  startRelayProcess('web', 'web-b', env),
  startRelayProcess('worker', 'worker', env),
]);
const [a, b] = [procs[0].base, procs[1].base];

try {
  for (let i = 0; i < 50; i++) await follow(`${b}${(await submit(a, 'echo', { payload: i })).events_url}`, { stopAfter: 3 });
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    const accepted = await submit(a, 'echo', { payload: { i } });
    const { events } = await follow(`${b}${accepted.events_url}`, { stopAfter: 3 });
    if (events.at(-1)?.event !== 'result') throw new Error(`job ${i} ended without a result`);
    samples.push(performance.now() - started);
    if ((i + 1) % 100 === 0) process.stderr.write(`  ${i + 1}/${n}\n`);
  }
  samples.sort((x, y) => x - y);
  const q = (p: number) => samples[Math.min(samples.length - 1, Math.floor(p * samples.length))]!.toFixed(2);
  console.log(`sequential echo jobs: ${n}  p50 ${q(0.5)} ms  p90 ${q(0.9)} ms  p99 ${q(0.99)} ms  max ${samples.at(-1)!.toFixed(2)} ms`);
} finally {
  await Promise.all(procs.map((p) => p.stop()));
  await vhost.remove();
  await deleteRedisPrefix(prefix);
}
