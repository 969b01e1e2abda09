/**
 * The page in real headless Chromium, against two web instances behind a round-robin proxy and
 * a worker, on real RabbitMQ and Redis.
 */

import path from 'node:path';
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { createVhost, deleteRedisPrefix, REDIS_BASE_URL, type TestVhost, testRedisPrefix } from '../helpers/brokers.js';
import { launchChromium } from '../helpers/browser.js';
import { type ReceivedEvent, streamProblems } from '../helpers/client.js';
import { type RelayProcess, relayEnv, startRelayProcess } from '../helpers/processes.js';
import { RoundRobinProxy } from '../helpers/round-robin-proxy.js';

// The README's picture of the page is taken again only when asked (UPDATE_SCREENSHOT=1), so a
// test run leaves the tree as it found it.
const SCREENSHOT = process.env.UPDATE_SCREENSHOT === '1' ? path.resolve(import.meta.dirname, '../../docs/screenshot.png') : undefined;
const RECEIVED_KEY = 'test.received-events';

/**
 * Records every event the page's stream requests deliver to the page's client, before the client
 * and the page see it (both drop repeats, so what the page shows cannot reveal one). The response
 * body is passed through on demand, so exactly the bytes the client reads are recorded: a stream
 * the client aborts (to add a job) is not counted for what it never read. Kept in sessionStorage,
 * so a reload keeps it. A string, not a function: the test runner's transpiler would add helpers
 * the page does not have.
 */
const RECORD_RECEIVED_EVENTS = `(() => {
  const nativeFetch = window.fetch.bind(window);
  const record = (event) => {
    const list = JSON.parse(sessionStorage.getItem(${JSON.stringify(RECEIVED_KEY)}) ?? '[]');
    list.push(event);
    sessionStorage.setItem(${JSON.stringify(RECEIVED_KEY)}, JSON.stringify(list));
  };
  window.fetch = async (input, init) => {
    const res = await nativeFetch(input, init);
    const url = new URL(input instanceof Request ? input.url : String(input), location.href);
    if (url.pathname !== '/api/events' || res.status !== 200 || !res.body) return res;
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    const body = new ReadableStream({
      async pull(controller) {
        let chunk;
        try {
          chunk = await reader.read();
        } catch (err) {
          return controller.error(err);
        }
        if (chunk.done) return controller.close();
        buffer += decoder.decode(chunk.value, { stream: true }); // Relay writes LF line endings
        for (let end = buffer.indexOf('\\n\\n'); end >= 0; end = buffer.indexOf('\\n\\n')) {
          const lines = buffer.slice(0, end).split('\\n');
          buffer = buffer.slice(end + 2);
          const name = lines.find((l) => l.startsWith('event:'))?.slice(6).trim();
          if (!['status', 'progress', 'result', 'failed'].includes(name)) continue;
          const { request_id, event_id, data } = JSON.parse(lines.filter((l) => l.startsWith('data:')).map((l) => l.slice(5).replace(/^ /, '')).join('\\n'));
          record({ job: request_id, id: event_id, event: name, data });
        }
        controller.enqueue(chunk.value);
      },
      cancel: (reason) => reader.cancel(reason),
    }, { highWaterMark: 0 });
    return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
  };
})();`;

/** What the page's stream requests delivered, by job, in the order it arrived. */
async function receivedByJob(p: Page): Promise<Map<string, ReceivedEvent[]>> {
  const list = (await p.evaluate((key) => JSON.parse(sessionStorage.getItem(key) ?? '[]'), RECEIVED_KEY)) as (ReceivedEvent & {
    job: string;
  })[];
  const byJob = new Map<string, ReceivedEvent[]>();
  for (const { job, ...event } of list) byJob.set(job, [...(byJob.get(job) ?? []), event]);
  return byJob;
}

/**
 * Every job on the page received each of its events once, in order, without a gap, and exactly
 * one final event: the outcome its card shows. One card per job.
 */
async function expectEachJobReceivedOnce(p: Page, jobs: number) {
  const cards = await p.evaluate(() =>
    [...document.querySelectorAll<HTMLLIElement>('#cards > li')].map((li) => ({
      job: li.dataset.jobId!,
      result: li.querySelector('.result')?.textContent,
      failure: li.querySelector('.failure')?.textContent,
    })),
  );
  expect(
    cards.map((c) => c.job),
    'one card per job',
  ).to.have.length(jobs);
  expect(new Set(cards.map((c) => c.job)).size, 'one card per job').to.equal(jobs);
  const received = await receivedByJob(p);
  expect([...received.keys()].sort()).to.deep.equal(cards.map((c) => c.job).sort());
  for (const card of cards) {
    const code = /\(([a-z_]+)\)/.exec(card.failure ?? '')?.[1];
    const expected = card.result !== undefined ? { result: JSON.parse(card.result!) } : { failed: code ?? '(no failure shown)' };
    expect(streamProblems(received.get(card.job)!, expected), `job ${card.job}`).to.deep.equal([]);
  }
}

describe('the browser page (Chromium, two web instances, real brokers)', function () {
  this.timeout(90_000);
  let vhost: TestVhost;
  let prefix: string;
  let proxy: RoundRobinProxy;
  let base: string;
  let browser: Browser;
  let page: Page;
  const webs: RelayProcess[] = [];
  let worker: RelayProcess;
  const env = () => relayEnv({ amqpUrl: vhost.url, redisUrl: REDIS_BASE_URL, redisPrefix: prefix, extra: { SSE_RETRY_MS: '300' } });

  before(async () => {
    vhost = await createVhost('e2e');
    prefix = testRedisPrefix('e2e');
    webs.push(...(await Promise.all([0, 1].map((i) => startRelayProcess('web', `web-${i}`, env())))));
    worker = await startRelayProcess('worker', 'worker', env());
    proxy = new RoundRobinProxy(() => webs.map((w) => w.port));
    base = `http://127.0.0.1:${await proxy.listen()}`;
    browser = await launchChromium();
  });

  beforeEach(async () => {
    page = await browser.newPage({ viewport: { width: 1100, height: 800 } });
    await page.addInitScript(RECORD_RECEIVED_EVENTS);
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

  it('registers a user: the card ends with the result, received and shown once', async () => {
    const email = `lin-${crypto.randomUUID()}@example.com`;
    await register(page, 'Ada <b>Lovelace</b>', email);
    await card(page).locator('.result').waitFor();
    const result = JSON.parse(await card(page).locator('.result').innerText());
    expect(result).to.include({ name: 'Ada <b>Lovelace</b>', email });
    expect(await card(page).locator('b').count(), 'server text is rendered as text').to.equal(0);
    expect(await card(page).locator('.status').innerText()).to.equal('Done');
    expect(await page.locator('.result').count()).to.equal(1);
    await expectEachJobReceivedOnce(page, 1);
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
    await expectEachJobReceivedOnce(page, 2);
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
    await page.waitForFunction(() => document.querySelectorAll('#cards > li[data-status="succeeded"]').length === 2);
    await expectEachJobReceivedOnce(page, 2);
    if (SCREENSHOT) await page.screenshot({ path: SCREENSHOT, fullPage: true });
  });

  it('a stream cut by the server mid-job (both instances restarted in turn) resumes and ends with the result, received and shown once', async () => {
    let streamRequests = 0;
    page.on('request', (req) => {
      if (new URL(req.url()).pathname === '/api/events') streamRequests++;
    });
    await startSleep(page, 8_000, 16);
    await card(page).locator('progress:not([hidden])').waitFor();
    const progress = () =>
      card(page)
        .locator('progress')
        .evaluate((p: HTMLProgressElement) => p.value);
    for (let i = 0; i < webs.length; i++) {
      const before = await progress();
      await webs[i]!.stop('SIGTERM');
      webs[i] = await startRelayProcess('web', `web-${i}`, env());
      // The page follows the job again (its progress moves on) before the next instance stops.
      await page.waitForFunction((value) => document.querySelector<HTMLProgressElement>('#cards > li progress')!.value > value, before, {
        timeout: 15_000,
      });
    }
    await card(page).locator('.result').waitFor({ timeout: 20_000 });
    expect(JSON.parse(await card(page).locator('.result').innerText())).to.deep.equal({ slept_ms: 8_000 });
    expect(await card(page).locator('.result').count()).to.equal(1);
    expect(streamRequests, 'the stream was cut and reopened').to.be.at.least(2);
    await expectEachJobReceivedOnce(page, 1);
  });

  it('ten 10-second jobs started together all run at once: each shows progress before any finishes; all finish', async () => {
    for (let i = 0; i < 10; i++) await startSleep(page, 10_000, 20);
    const { showing, finished } = (await (
      await page.waitForFunction(
        () => {
          const cards = [...document.querySelectorAll('#cards > li')];
          const showing = cards.filter((li) => (li.querySelector('progress') as HTMLProgressElement).value > 0).length;
          const finished = cards.filter((li) => li.getAttribute('data-status') === 'succeeded').length;
          return (cards.length === 10 && showing === 10) || finished > 0 ? { showing, finished } : false;
        },
        undefined,
        { timeout: 30_000 },
      )
    ).jsonValue()) as { showing: number; finished: number };
    expect({ showing, finished }, 'every job shows progress while none has finished yet').to.deep.equal({ showing: 10, finished: 0 });
    await page.waitForFunction(() => document.querySelectorAll('#cards > li[data-status="succeeded"]').length === 10, undefined, {
      timeout: 30_000,
    });
    expect(await page.locator('.result').count()).to.equal(10);
    await expectEachJobReceivedOnce(page, 10);
  });

  it('a reload mid-job brings the cards back and ends with each result received and shown once', async () => {
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
    await expectEachJobReceivedOnce(page, 2);
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
