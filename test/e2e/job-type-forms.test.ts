/**
 * A job type the page has no code for, declared in JOBS_DIR: the web process renders its form
 * from the input schema (labels, kinds of field, required fields, defaults), and it works in
 * headless Chromium with JavaScript (a card with the typed result, field errors in place) and
 * without (a status page, a 422 page naming the fields). Real web and worker processes and brokers.
 */
import path from 'node:path';
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { createVhost, deleteRedisPrefix, REDIS_BASE_URL, type TestVhost, testRedisPrefix } from '../helpers/brokers.js';
import { launchChromium } from '../helpers/browser.js';
import { type RelayProcess, relayEnv, startRelayProcess } from '../helpers/processes.js';

const JOBS_DIR = path.resolve(import.meta.dirname, '../fixtures/form-jobs');

describe('the page renders a form for a declared type (Chromium, real brokers)', function () {
  this.timeout(60_000);
  let vhost: TestVhost;
  let prefix: string;
  let web: RelayProcess;
  let worker: RelayProcess;
  let browser: Browser;

  before(async () => {
    vhost = await createVhost('forms');
    prefix = testRedisPrefix('forms');
    const env = relayEnv({ amqpUrl: vhost.url, redisUrl: REDIS_BASE_URL, redisPrefix: prefix, extra: { JOBS_DIR } });
    web = await startRelayProcess('web', 'web', env);
    worker = await startRelayProcess('worker', 'worker', env);
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await Promise.all([web, worker].filter(Boolean).map((p) => p.stop()));
    await vhost?.remove();
    if (prefix) await deleteRedisPrefix(prefix);
  });

  it('is in the HTML the server sends, with labels from titles, a field per kind and the required ones marked', async () => {
    const html = await (await fetch(`${web.base}/`)).text();
    const form = html.slice(html.indexOf('<form id="subscribe-form"'), html.indexOf('</form>') + 7);
    expect(form).to.include('action="/api/jobs/subscribe"');
    expect(form).to.include('<h2>Subscribe to the letter</h2>');
    expect(form).to.include('<p class="form-description">Pick a plan; the result echoes what the job received.</p>');
    expect(form).to.include('<label for="subscribe-name">Your name</label>');
    expect(form).to.match(/<input id="subscribe-name" name="name" required [^>]*>/);
    expect(form).to.match(/<input id="subscribe-email" name="email" required [^>]*type="email"/);
    expect(form).to.match(
      /<input id="subscribe-seats" name="seats" aria-describedby="subscribe-seats-error" inputmode="numeric" value="1">/,
    );
    expect(form).to.match(/<input id="subscribe-budget" name="budget" [^>]*inputmode="decimal">/);
    expect(form).to.include('<p class="field-hint" id="subscribe-budget-hint">In euros, cents allowed</p>');
    expect(form).to.include(
      '<select id="subscribe-plan" name="plan" required aria-describedby="subscribe-plan-error"><option value="basic" selected>basic</option><option value="pro">pro</option><option value="team">team</option></select>',
    );
    expect(form).to.include('<input type="hidden" name="newsletter" value="false">');
    expect(form).to.match(/<input type="checkbox" id="subscribe-newsletter" name="newsletter" [^>]*value="true">/);
    expect(form).to.include('<button type="submit">Subscribe</button>');
  });

  async function fill(page: Page) {
    await page.fill('#subscribe-name', 'Ada <b>Lovelace</b>');
    await page.fill('#subscribe-email', 'ada@example.com');
    await page.fill('#subscribe-seats', '3');
    await page.fill('#subscribe-budget', '12.5');
    await page.selectOption('#subscribe-plan', 'pro');
    await page.check('#subscribe-newsletter');
  }

  const received = {
    name: 'Ada <b>Lovelace</b>',
    email: 'ada@example.com',
    seats: 3,
    budget: 12.5,
    plan: 'pro',
    newsletter: true,
  };

  it('with JavaScript: the job runs and its card shows the typed result under the type’s title', async () => {
    const page = await browser.newPage();
    try {
      await page.goto(web.base);
      await fill(page);
      await page.click('#subscribe-form button[type="submit"]');
      const card = page.locator('#cards > li').first();
      await card
        .locator('.result')
        .waitFor()
        .catch(async (err: Error) => {
          throw new Error(`${err.message}\ncards: ${await page.locator('#cards').innerHTML()}\nworker:\n${worker.output().slice(-2000)}`);
        });
      expect(JSON.parse(await card.locator('.result').innerText())).to.deep.equal({ received });
      expect(await card.locator('.type').innerText()).to.equal('Subscribe to the letter');
    } finally {
      await page.close();
    }
  });

  it('with JavaScript: problems show next to their fields, and nothing is started', async () => {
    const page = await browser.newPage();
    try {
      await page.goto(web.base);
      await page.fill('#subscribe-email', 'not-an-email');
      await page.fill('#subscribe-seats', '2.5');
      await page.click('#subscribe-form button[type="submit"]');
      await page.locator('#subscribe-email-error').filter({ hasText: /./ }).waitFor();
      for (const field of ['name', 'email', 'seats']) {
        expect(await page.getAttribute(`#subscribe-${field}`, 'aria-invalid'), field).to.equal('true');
        expect(await page.locator(`#subscribe-${field}-error`).innerText(), field).to.not.equal('');
      }
      expect(await page.getAttribute('#subscribe-plan', 'aria-invalid')).to.equal('false');
      expect(await page.locator('#cards > li').count()).to.equal(0);
    } finally {
      await page.close();
    }
  });

  it('without JavaScript: the form post leads to the status page with the typed result, or to a page naming the bad fields', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    try {
      await page.goto(web.base);
      await fill(page);
      await page.click('#subscribe-form button[type="submit"]');
      await page.waitForURL(/\/jobs\/[0-9a-f-]{36}\?token=/);
      await page.locator('.result').waitFor({ timeout: 10_000 });
      expect(JSON.parse(await page.locator('.result').innerText())).to.deep.equal({ received });

      await page.goto(web.base);
      await page.fill('#subscribe-email', 'nope');
      await page.click('#subscribe-form button[type="submit"]');
      const errors = await page.locator('.field-errors').innerText();
      expect(errors).to.match(/name/);
      expect(errors).to.match(/email/);
    } finally {
      await context.close();
    }
  });
});
