import { loadConfigOrExit } from '../core/config.js';
import { loadJobTypesOrExit } from '../core/jobs/load.js';
import { createLogger } from '../core/logger.js';
import { exitOnSignals, logStrayRejections } from '../core/shutdown.js';
import { assembleDistributedWeb } from './assemble.js';
import { STATIC_DIRS } from './static-dirs.js';

/** The `web` process: HTTP, streams and the reply listener, on RabbitMQ and Redis. */
async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger('relay-web', config.logLevel);
  logStrayRejections(logger);
  if (!config.brokers) {
    process.stderr.write('relay web: RABBITMQ_URL and REDIS_URL are required (`npm start` runs the embedded mode without them)\n');
    process.exit(78);
  }
  const jobTypes = await loadJobTypesOrExit(config.jobsDir, 'relay web');
  const running = await assembleDistributedWeb(config, logger, STATIC_DIRS, jobTypes);
  logger.info({ port: running.web.port }, `relay web listening on http://localhost:${running.web.port}`);
  exitOnSignals(() => running.stop(), config.shutdownGraceMs, logger);
}

main().catch((err) => {
  process.stderr.write(`relay web failed to start: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
