/**
 * The page in headless Chromium when the server no longer knows one of its jobs (Redis lost its
 * keys; the same happens after an embedded-mode restart, an expiry or a secret rotation): the
 * shared stream must not stall, the gone job's card says so, and new jobs show their progress.
 * One web process and one worker, real processes on real RabbitMQ and Redis.
 */
import { expect } from 'chai';
import { Redis } from 'ioredis';
import type { Browser, Page } from 'playwright-core';
import { createVhost, deleteRedisPrefix, REDIS_BASE_URL, type TestVhost, testRedisPrefix } from '../helpers/brokers.js';
import { launchChromium } from '../helpers/browser.js';
import { type RelayProcess, relayEnv, startRelayProcess } from '../helpers/processes.js';

describe('the page when the server forgets one of its jobs (Chromium, real brokers)', function () {
  this.timeout(90_000);
  let vhost: TestVhost;
  let prefix: string;
  let redis: Redis;
  let web: RelayProcess;
  let worker: RelayProcess;
  let browser: Browser;
  let page: Page;

  before(async () => {
    vhost = await createVhost('e2e-unknown');
    prefix = testRedisPrefix('e2e-unknown');
    redis = new Redis(REDIS_BASE_URL);
    const env = relayEnv({ amqpUrl: vhost.url, redisUrl: REDIS_BASE_URL, redisPrefix: prefix, extra: { SSE_RETRY_MS: '300' } });
    [web, worker] = await Promise.all([startRelayProcess('web', 'web', env), startRelayProcess('worker', 'worker', env)]);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1100, height: 800 } });
    await page.goto(web.base);
  });

  after(async () => {
    await browser?.close();
    redis?.disconnect();
    await Promise.all([web, worker].filter(Boolean).map((p) => p.stop()));
    await vhost?.remove();
    if (prefix) await deleteRedisPrefix(prefix);
  });

  const cardOf = (jobId: string) => page.locator(`#cards > li[data-job-id="${jobId}"]`);
  const jobIds = () => page.evaluate(() => [...document.querySelectorAll<HTMLLIElement>('#cards > li')].map((li) => li.dataset.jobId!));

  async function startSleep(ms: number, steps: number): Promise<string> {
    const before = new Set(await jobIds());
    await page.fill('#sleep-ms', String(ms));
    await page.fill('#sleep-steps', String(steps));
    await page.click('#sleep-form button[type="submit"]');
    await page.waitForFunction((n) => document.querySelectorAll('#cards > li').length > n, before.size);
    return (await jobIds()).find((id) => !before.has(id))!;
  }

  it('marks the gone job, carries on with the others, and keeps it marked after a reload', async () => {
    const forgotten = await startSleep(20_000, 40);
    await cardOf(forgotten).locator('progress:not([hidden])').waitFor();
    // Redis loses the job: its record and log are gone while the page still follows it.
    await redis.del(`${prefix}{${forgotten}}:job`, `${prefix}{${forgotten}}:log`);

    // A new job makes the page open a new stream listing both.
    const fresh = await startSleep(1_000, 4);
    await cardOf(fresh).locator('.result').waitFor({ timeout: 20_000 });
    expect(JSON.parse(await cardOf(fresh).locator('.result').innerText())).to.deep.equal({ slept_ms: 1_000 });
    await cardOf(forgotten).and(page.locator('[data-status="gone"]')).waitFor({ timeout: 5_000 });
    expect(await cardOf(forgotten).locator('.status').innerText()).to.match(/no longer known/i);
    expect((await jobIds()).sort(), 'one card per job').to.deep.equal([forgotten, fresh].sort());

    // The gone job is not asked for again, neither now nor after a reload.
    const streamsAsked: string[] = [];
    page.on('request', (req) => {
      if (req.url().includes('/api/events')) streamsAsked.push(decodeURIComponent(req.url()));
    });
    await page.reload();
    await cardOf(forgotten).and(page.locator('[data-status="gone"]')).waitFor();
    const another = await startSleep(500, 2);
    await cardOf(another).locator('.result').waitFor({ timeout: 20_000 });
    expect(streamsAsked.length, 'a stream was opened for the new job').to.be.greaterThan(0);
    expect(
      streamsAsked.filter((url) => url.includes(forgotten)),
      'streams that ask for the gone job',
    ).to.deep.equal([]);
    expect((await jobIds()).length).to.equal(3);
  });
});
