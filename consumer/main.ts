import { loadConfigOrExit } from '../core/config.js';
import { loadJobTypesOrExit } from '../core/jobs/load.js';
import { createLogger } from '../core/logger.js';
import { exitOnSignals, logStrayRejections } from '../core/shutdown.js';
import { assembleWorker } from './assemble.js';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger('relay-worker', config.logLevel);
  logStrayRejections(logger);
  if (!config.brokers) {
    process.stderr.write('relay worker: RABBITMQ_URL and REDIS_URL are required (the embedded mode runs its worker inside `npm start`)\n');
    process.exit(78);
  }
  const jobTypes = await loadJobTypesOrExit(config.jobsDir, 'relay worker');
  const worker = await assembleWorker(config, logger, jobTypes);
  exitOnSignals(() => worker.stop(), config.workerShutdownGraceMs, logger);
}

main().catch((err) => {
  process.stderr.write(`relay worker failed to start: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
