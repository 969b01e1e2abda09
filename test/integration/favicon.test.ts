/** The page's icon is served, linked from the page and allowed by its CSP (browsers ask for it on every load). */
import { expect } from 'chai';
import { loadConfig } from '../../core/config.js';
import { createLogger } from '../../core/logger.js';
import { assembleEmbedded } from '../../embedded/assemble.js';
import type { Assembled } from '../../server/assemble.js';
import { STATIC_DIRS } from '../../server/static-dirs.js';
import { TEST_SECRET } from '../helpers/processes.js';

describe('the favicon', () => {
  let running: Assembled;
  let base: string;

  before(async () => {
    const config = loadConfig({ PORT: '0', RELAY_SECRET: TEST_SECRET });
    running = await assembleEmbedded(config, createLogger('relay-test', 'silent'), STATIC_DIRS);
    base = `http://127.0.0.1:${running.web.port}`;
  });

  after(async () => running?.stop());

  it('is served as SVG', async () => {
    const res = await fetch(`${base}/favicon.svg`);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.match(/^image\/svg\+xml/);
    expect(await res.text()).to.match(/^<svg /);
  });

  it('is linked from the page, whose CSP allows images from its own origin', async () => {
    const res = await fetch(base);
    expect(await res.text()).to.include('<link rel="icon" href="/favicon.svg" type="image/svg+xml">');
    const imgSrc = res.headers
      .get('content-security-policy')
      ?.split(';')
      .map((d) => d.trim().split(/\s+/))
      .find(([name]) => name === 'img-src');
    expect(imgSrc).to.include("'self'");
  });
});
