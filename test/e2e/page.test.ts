/**
 * The page in real headless Chromium, against two web instances behind a round-robin proxy and
 * a worker, on real RabbitMQ and Redis.
 */

import path from 'node:path';
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { createVhost, deleteRedisPrefix, REDIS_BASE_URL, type TestVhost, testRedisPrefix } from '../helpers/brokers.js';
import { launchChromium } from '../helpers/browser.js';
import { freePort, type RelayProcess, relayEnv, startRelayProcess } from '../helpers/processes.js';
import { RoundRobinProxy } from '../helpers/round-robin-proxy.js';

const SCREENSHOT = path.resolve(import.meta.dirname, '../../docs/screenshot.png');

describe('the browser page (Chromium, two web instances, real brokers)', function () {
  this.timeout(90_000);
  let vhost: TestVhost;
  let prefix: string;
  let proxy: RoundRobinProxy;
  let base: string;
  let browser: Browser;
  let page: Page;
  const ports: number[] = [];
  const webs: RelayProcess[] = [];
  let worker: RelayProcess;
  const env = (port?: number) =>
    relayEnv({ port, amqpUrl: vhost.url, redisUrl: REDIS_BASE_URL, redisPrefix: prefix, extra: { SSE_RETRY_MS: '300' } });

  before(async () => {
    vhost = await createVhost('e2e');
    prefix = testRedisPrefix('e2e');
    ports.push(await freePort(), await freePort());
    webs.push(...(await Promise.all(ports.map((port, i) => startRelayProcess('web', `web-${i}`, env(port))))));
    worker = await startRelayProcess('worker', 'worker', env());
    proxy = new RoundRobinProxy(ports);
    base = `http://127.0.0.1:${await proxy.listen()}`;
    browser = await launchChromium();
  });

  beforeEach(async () => {
    page = await browser.newPage({ viewport: { width: 1100, height: 800 } });
    await page.goto(base);
  });

  afterEach(async () => page?.close());

  after(async () => {
    await browser?.close();
    await proxy?.close();
    await Promise.all([...webs, worker].filter(Boolean).map((p) => p.stop()));
    await vhost?.remove();
    if (prefix) await deleteRedisPrefix(prefix);
  });

  const card = (p: Page, index = 0) => p.locator('#cards > li').nth(index);

  async function register(p: Page, name: string, email: string) {
    await p.fill('#register-name', name);
    await p.fill('#register-email', email);
    await p.click('#register-form button[type="submit"]');
  }

  async function startSleep(p: Page, ms: number, steps: number) {
    await p.fill('#sleep-ms', String(ms));
    await p.fill('#sleep-steps', String(steps));
    await p.click('#sleep-form button[type="submit"]');
  }

  it('registers a user: the card ends with the result, shown once', async () => {
    const email = `lin-${crypto.randomUUID()}@example.com`;
    await register(page, 'Ada <b>Lovelace</b>', email);
    await card(page).locator('.result').waitFor();
    const result = JSON.parse(await card(page).locator('.result').innerText());
    expect(result).to.include({ name: 'Ada <b>Lovelace</b>', email });
    expect(await card(page).locator('b').count(), 'server text is rendered as text').to.equal(0);
    expect(await card(page).locator('.status').innerText()).to.equal('Done');
    expect(await page.locator('.result').count()).to.equal(1);
  });

  it('shows a validation error next to its field', async () => {
    await register(page, 'Nobody', 'not-an-email');
    await page.locator('#register-email-error').filter({ hasText: /./ }).waitFor();
    expect(await page.getAttribute('#register-email', 'aria-invalid')).to.equal('true');
    expect(await page.locator('#register-name-error').innerText()).to.equal('');
    expect(await page.locator('#cards > li').count()).to.equal(0);
  });

  it('shows a duplicate email as a failure with its code', async () => {
    const email = `dup-${crypto.randomUUID()}@example.com`;
    await register(page, 'First', email);
    await card(page).locator('.result').waitFor();
    await register(page, 'Second', email.toUpperCase());
    await page.locator('#cards > li[data-status="failed"] .failure').waitFor();
    expect(await page.locator('#cards > li[data-status="failed"] .failure').innerText()).to.include('(email_taken)');
  });

  it('moves the progress bar to 100 %', async () => {
    await startSleep(page, 1_000, 4);
    await card(page).locator('.result').waitFor();
    expect(
      await card(page)
        .locator('progress')
        .evaluate((p: HTMLProgressElement) => p.value),
    ).to.equal(100);
    expect(await card(page).locator('.progress-text').innerText()).to.match(/^100 %/);
    await register(page, 'Grace Hopper', `grace-${crypto.randomUUID().slice(0, 8)}@example.com`);
    await card(page).locator('.result').waitFor();
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
  });

  it('a stream cut by the server mid-job (both instances restarted in turn) still ends with the result, shown once', async () => {
    await startSleep(page, 6_000, 12);
    await card(page).locator('progress:not([hidden])').waitFor();
    for (let i = 0; i < webs.length; i++) {
      await webs[i]!.stop('SIGTERM');
      webs[i] = await startRelayProcess('web', `web-${i}`, env(ports[i]));
      await page.waitForTimeout(500);
    }
    await card(page).locator('.result').waitFor({ timeout: 20_000 });
    expect(JSON.parse(await card(page).locator('.result').innerText())).to.deep.equal({ slept_ms: 6_000 });
    expect(await card(page).locator('.result').count()).to.equal(1);
  });

  it('ten 10-second jobs started together all show progress within 3 s and all finish', async () => {
    const submittedAt: number[] = [];
    for (let i = 0; i < 10; i++) {
      submittedAt.push(Date.now());
      await startSleep(page, 10_000, 20);
    }
    // Note when each card (in submission order) first shows progress.
    const firstProgressAt: (number | undefined)[] = Array(10).fill(undefined);
    const deadline = submittedAt[9]! + 4_000;
    while (firstProgressAt.some((t) => t === undefined) && Date.now() < deadline) {
      const showing = await page.evaluate(() =>
        [...document.querySelectorAll('#cards > li')].reverse().map((li) => {
          const bar = li.querySelector('progress') as HTMLProgressElement;
          return !bar.hidden && bar.value > 0;
        }),
      );
      const now = Date.now();
      showing.forEach((yes, i) => {
        if (yes && firstProgressAt[i] === undefined) firstProgressAt[i] = now;
      });
      await page.waitForTimeout(50);
    }
    const delays = firstProgressAt.map((t, i) => (t === undefined ? Infinity : t - submittedAt[i]!));
    expect(Math.max(...delays), `time to first progress per job: ${delays.join(', ')} ms`).to.be.below(3_000);
    await page.waitForFunction(() => document.querySelectorAll('#cards > li[data-status="succeeded"]').length === 10, undefined, {
      timeout: 30_000,
    });
    expect(await page.locator('.result').count()).to.equal(10);
  });

  it('a reload mid-job brings the cards back and ends with each result shown once', async () => {
    await startSleep(page, 3_000, 6);
    await startSleep(page, 2_000, 4);
    await page.waitForFunction(() => document.querySelectorAll('#cards > li progress:not([hidden])').length === 2);
    await page.reload();
    expect(await page.locator('#cards > li').count()).to.equal(2);
    await page.waitForFunction(() => document.querySelectorAll('#cards > li[data-status="succeeded"]').length === 2, undefined, {
      timeout: 15_000,
    });
    expect(await page.locator('.result').count()).to.equal(2);
    const results = await page.locator('.result').allInnerTexts();
    expect(results.map((r) => JSON.parse(r)).sort((x, y) => x.slept_ms - y.slept_ms)).to.deep.equal([
      { slept_ms: 2_000 },
      { slept_ms: 3_000 },
    ]);
  });

  it('works without JavaScript: a form post redirects to a status page that refreshes until done', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const noJs = await context.newPage();
    try {
      await noJs.goto(base);
      await noJs.fill('#sleep-ms', '500');
      await noJs.fill('#sleep-steps', '2');
      await noJs.click('#sleep-form button[type="submit"]');
      await noJs.waitForURL(/\/jobs\/[0-9a-f-]{36}\?token=/);
      await noJs.locator('.result').waitFor({ timeout: 10_000 });
      expect(await noJs.locator('.status').innerText()).to.equal('succeeded');
      await noJs.goto(base);
      await noJs.fill('#register-email', 'nope');
      await noJs.click('#register-form button[type="submit"]');
      expect(await noJs.locator('.field-errors').innerText()).to.match(/name[\s\S]*email|email[\s\S]*name/);
    } finally {
      await context.close();
    }
  });
});
