import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfigOrExit } from '../core/config.js';
import { createLogger } from '../core/logger.js';
import { exitOnSignals, logStrayRejections } from '../core/shutdown.js';
import { assembleDistributedWeb, assembleEmbedded } from './assemble.js';

const here = path.dirname(fileURLToPath(import.meta.url));
// Built code runs from dist/server; the page's sources sit in public/ and its bundle in dist/public.
const root = path.resolve(here, here.includes(`${path.sep}dist${path.sep}`) ? '../..' : '..');
export const STATIC_DIRS = [path.join(root, 'public'), path.join(root, 'dist', 'public')];

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger('relay-web', config.logLevel);
  logStrayRejections(logger);
  if (config.brokers) {
    const running = await assembleDistributedWeb(config, logger, STATIC_DIRS);
    logger.info({ port: running.web.port }, `relay web listening on http://localhost:${running.web.port}`);
    exitOnSignals(() => running.stop(), config.shutdownGraceMs, logger);
  } else {
    const running = await assembleEmbedded(config, logger, STATIC_DIRS);
    logger.warn(
      'embedded mode: web and worker run in this one process on in-memory queues and storage; single-instance only, nothing is kept across restarts. Set RABBITMQ_URL and REDIS_URL to run distributed.',
    );
    logger.info({ port: running.web.port }, `relay is running: open http://localhost:${running.web.port}/`);
    process.stderr.write(
      `\n  Relay (embedded mode: single instance, in-memory, nothing kept across restarts)\n  Open http://localhost:${running.web.port}/\n\n`,
    );
    exitOnSignals(() => running.stop(), config.shutdownGraceMs, logger);
  }
}

main().catch((err) => {
  process.stderr.write(`relay web failed to start: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
