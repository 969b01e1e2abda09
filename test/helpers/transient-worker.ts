/**
 * A worker process for failure tests, started with `node --import tsx`: the real worker on the
 * brokers of its environment, with the job types of Relay plus `transient` (TRANSIENT_MODE=fail
 * or succeed). With DIE_BEFORE_RETRY_COPY=1 the process kills itself (SIGKILL) the moment it is
 * about to send a job's retry copy to the delay queues: after the job's `retrying` reply was
 * confirmed, before the copy is — a worker dying at the worst moment of a retry.
 */
import { Connection } from 'rabbitmq-client';
import { assembleWorker } from '../../consumer/assemble.js';
import { RETRY_EXCHANGE } from '../../core/adapters/rabbitmq/retry-queues.js';
import { loadConfig } from '../../core/config.js';
import type { JobType } from '../../core/jobs/index.js';
import { createLogger } from '../../core/logger.js';
import { JOB_TYPES } from './job-types.js';
import { transientJob } from './transient-job.js';

if (process.env.DIE_BEFORE_RETRY_COPY === '1') {
  const createPublisher = Connection.prototype.createPublisher;
  Connection.prototype.createPublisher = function (this: Connection, ...args: Parameters<Connection['createPublisher']>) {
    const publisher = createPublisher.apply(this, args);
    const send = publisher.send.bind(publisher);
    publisher.send = ((envelope: { exchange?: string }, body: unknown) => {
      if (typeof envelope === 'object' && envelope.exchange === RETRY_EXCHANGE) {
        process.stdout.write('dying before the retry copy is sent\n');
        process.kill(process.pid, 'SIGKILL');
      }
      return send(envelope as never, body);
    }) as typeof publisher.send;
    return publisher;
  };
}

const mode = process.env.TRANSIENT_MODE === 'fail' ? 'fail' : 'succeed';
const types = new Map<string, JobType>([...JOB_TYPES, ['transient', transientJob(mode)]]);
const config = loadConfig(process.env);
const logger = createLogger('transient-worker', process.env.LOG_LEVEL ?? 'info');
const worker = await assembleWorker(config, logger, types);
process.on('SIGTERM', () => {
  void worker.stop().then(() => process.exit(0));
});
