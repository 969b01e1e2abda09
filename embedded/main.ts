import { loadConfigOrExit } from '../core/config.js';
import { loadJobTypesOrExit } from '../core/jobs/load.js';
import { createLogger } from '../core/logger.js';
import { exitOnSignals, logStrayRejections } from '../core/shutdown.js';
import { assembleDistributedWeb } from '../server/assemble.js';
import { STATIC_DIRS } from '../server/static-dirs.js';
import { assembleEmbedded } from './assemble.js';

/**
 * `npm start`: with no broker configured, web and worker in this one process on in-memory
 * adapters (the embedded mode); with brokers, the same web process as `server/main.ts`.
 */
async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger('relay-web', config.logLevel);
  logStrayRejections(logger);
  const jobTypes = await loadJobTypesOrExit(config.jobsDir, 'relay');
  if (config.brokers) {
    const running = await assembleDistributedWeb(config, logger, STATIC_DIRS, jobTypes);
    logger.info({ port: running.web.port }, `relay web listening on http://localhost:${running.web.port}`);
    exitOnSignals(() => running.stop(), config.shutdownGraceMs, logger);
    return;
  }
  const running = await assembleEmbedded(config, logger, STATIC_DIRS, jobTypes);
  logger.warn(
    'embedded mode: web and worker run in this one process on in-memory queues and storage; single-instance only, nothing is kept across restarts. Set RABBITMQ_URL and REDIS_URL to run distributed.',
  );
  logger.info({ port: running.web.port }, `relay is running: open http://localhost:${running.web.port}/`);
  process.stderr.write(
    `\n  Relay (embedded mode: single instance, in-memory, nothing kept across restarts)\n  Open http://localhost:${running.web.port}/\n\n`,
  );
  // The embedded worker drains as a worker process does, so the process gets the longer limit.
  exitOnSignals(() => running.stop(), Math.max(config.shutdownGraceMs, config.workerShutdownGraceMs), logger);
}

main().catch((err) => {
  process.stderr.write(`relay failed to start: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
