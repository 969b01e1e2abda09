import type { Logger } from './logger.js';

/**
 * Runs `stop` once on SIGTERM or SIGINT (Heroku sends SIGTERM and kills 30 s later), then exits.
 * If stopping takes longer than `graceMs`, the process exits anyway.
 */
export function exitOnSignals(stop: () => Promise<void>, graceMs: number, logger: Logger): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      logger.warn('shutdown took too long; exiting');
      process.exit(1);
    }, graceMs);
    force.unref();
    stop().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (err) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

/** A stray rejection is logged, not allowed to take down a process that serves many clients. */
export function logStrayRejections(logger: Logger): void {
  process.on('unhandledRejection', (err) => logger.error({ err }, 'unhandled promise rejection'));
}
