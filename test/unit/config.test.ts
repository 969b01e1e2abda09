import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { ConfigError, ENV_NAMES, loadConfig } from '../../core/config.js';
import { DEFAULTS } from '../../core/defaults.js';

const SECRET = 'x'.repeat(32);
const brokers = { RABBITMQ_URL: 'amqp://localhost', REDIS_URL: 'redis://localhost', RELAY_SECRET: SECRET };

describe('configuration from the environment', () => {
  it('with no broker configured runs embedded, with defaults', () => {
    const config = loadConfig({});
    expect(config.brokers).to.equal(undefined);
    expect(config.port).to.equal(3000);
    expect(config.replyQueueType).to.equal('classic');
    expect(loadConfig({ REPLY_QUEUE_TYPE: 'quorum' }).replyQueueType).to.equal('quorum');
    expect(config.secret.length).to.be.at.least(32);
  });

  it('reads both brokers, and the Heroku add-on names as fallbacks', () => {
    expect(loadConfig(brokers).brokers).to.deep.equal({ rabbitmqUrl: 'amqp://localhost', redisUrl: 'redis://localhost' });
    const addOns = loadConfig({ CLOUDAMQP_URL: 'amqps://cloud', REDIS_TLS_URL: 'rediss://tls', RELAY_SECRET: SECRET });
    expect(addOns.brokers).to.deep.equal({ rabbitmqUrl: 'amqps://cloud', redisUrl: 'rediss://tls' });
    expect(loadConfig({ ...brokers, CLOUDAMQP_URL: 'amqp://other' }).brokers?.rabbitmqUrl).to.equal('amqp://localhost');
  });

  it('keeps a Redis db index in the URL', () => {
    expect(loadConfig({ ...brokers, REDIS_URL: 'rediss://:pw@host:6380/3' }).brokers?.redisUrl).to.equal('rediss://:pw@host:6380/3');
  });

  const fails = (env: Record<string, string>, variable: string) => {
    expect(() => loadConfig(env)).to.throw(ConfigError, variable);
  };

  it('names the missing broker when only one is set', () => {
    fails({ RABBITMQ_URL: 'amqp://localhost', RELAY_SECRET: SECRET }, 'REDIS_URL');
    fails({ REDIS_URL: 'redis://localhost', RELAY_SECRET: SECRET }, 'RABBITMQ_URL');
  });

  it('names the malformed variable', () => {
    fails({ ...brokers, PORT: 'eighty' }, 'PORT');
    fails({ ...brokers, RABBITMQ_URL: 'http://localhost' }, 'RABBITMQ_URL');
    fails({ ...brokers, REDIS_URL: 'not a url' }, 'REDIS_URL');
    fails({ ...brokers, WORKER_CONCURRENCY: '0' }, 'WORKER_CONCURRENCY');
    fails({ ...brokers, HEARTBEAT_MS: '-5' }, 'HEARTBEAT_MS');
    fails({ ...brokers, LOG_LEVEL: 'loud' }, 'LOG_LEVEL');
    fails({ ...brokers, REPLY_QUEUE_TYPE: 'stream' }, 'REPLY_QUEUE_TYPE');
    fails({ ...brokers, REDIS_TLS_REJECT_UNAUTHORIZED: 'no' }, 'REDIS_TLS_REJECT_UNAUTHORIZED');
    fails({ ...brokers, TRUST_PROXY: 'every$one' }, 'TRUST_PROXY');
    fails({ ...brokers, CORS_ORIGINS: 'https://a.example/path' }, 'CORS_ORIGINS');
    fails({ ...brokers, JOBS_DIR: '/nonexistent/jobs' }, 'JOBS_DIR');
  });

  it('starts its message with the variable, then says what is wrong with the value', () => {
    expect(() => loadConfig({ ...brokers, PORT: 'eighty' })).to.throw(ConfigError, /^PORT must be an integer ≥ 0, got "eighty"$/);
    expect(() => loadConfig({ ...brokers, REDIS_TLS_REJECT_UNAUTHORIZED: 'no' })).to.throw(
      ConfigError,
      /^REDIS_TLS_REJECT_UNAUTHORIZED must be true or false, got "no"$/,
    );
  });

  it('requires a secret of at least 32 characters with brokers, or whenever one is given', () => {
    fails({ RABBITMQ_URL: 'amqp://localhost', REDIS_URL: 'redis://localhost' }, 'RELAY_SECRET');
    fails({ ...brokers, RELAY_SECRET: 'short' }, 'RELAY_SECRET');
    fails({ RELAY_SECRET: 'short' }, 'RELAY_SECRET');
    fails({ ...brokers, RELAY_SECRET_PREVIOUS: 'short' }, 'RELAY_SECRET_PREVIOUS');
  });

  it('takes the nodes of a RabbitMQ cluster as a comma-separated list of URLs that differ only in host and port', () => {
    const list = 'amqp://u:p@10.0.0.1:5672/prod, amqp://u:p@10.0.0.2:5672/prod,amqp://u:p@10.0.0.3/prod';
    expect(loadConfig({ ...brokers, RABBITMQ_URL: list }).brokers?.rabbitmqUrl).to.equal(
      'amqp://u:p@10.0.0.1:5672/prod,amqp://u:p@10.0.0.2:5672/prod,amqp://u:p@10.0.0.3/prod',
    );
    expect(loadConfig({ CLOUDAMQP_URL: list, REDIS_URL: 'redis://r', RELAY_SECRET: SECRET }).brokers?.rabbitmqUrl).to.include('10.0.0.3');
    expect(() => loadConfig({ ...brokers, RABBITMQ_URL: 'amqp://u:p@a/prod,amqp://u:p@b/staging' })).to.throw(
      ConfigError,
      /^RABBITMQ_URL lists URLs that differ in more than host and port/,
    );
    expect(() => loadConfig({ ...brokers, RABBITMQ_URL: 'amqp://u:p@a,amqps://u:p@b' })).to.throw(ConfigError, /^RABBITMQ_URL lists URLs/);
    expect(() => loadConfig({ ...brokers, RABBITMQ_URL: 'amqp://u:secret@a,b:5672' })).to.throw(
      ConfigError,
      /^RABBITMQ_URL must use amqp: or amqps: \("b:5672"\)/,
    );
    expect(() => loadConfig({ ...brokers, RABBITMQ_URL: 'amqp://u:secret@a,amqp://u:secret@b:99999' })).to.throw(
      ConfigError,
      /^(?!.*secret)RABBITMQ_URL/,
    );
  });

  it('takes Redis Cluster seed nodes with REDIS_CLUSTER=true, and refuses a list without it or a database index with it', () => {
    const seeds = 'redis://:pw@10.0.0.1:6379,redis://:pw@10.0.0.2:6379';
    const cluster = loadConfig({ ...brokers, REDIS_URL: seeds, REDIS_CLUSTER: 'true' });
    expect(cluster.redisCluster).to.equal(true);
    expect(cluster.brokers?.redisUrl).to.equal(seeds);
    expect(loadConfig(brokers).redisCluster).to.equal(false);
    expect(() => loadConfig({ ...brokers, REDIS_URL: seeds })).to.throw(
      ConfigError,
      /^REDIS_URL lists 2 Redis nodes: set REDIS_CLUSTER=true for Redis Cluster, or give one URL$/,
    );
    expect(() => loadConfig({ ...brokers, REDIS_URL: 'redis://10.0.0.1:6379/3', REDIS_CLUSTER: 'true' })).to.throw(
      ConfigError,
      /^REDIS_URL selects database 3, but Redis Cluster has only database 0: remove "\/3" from the URL/,
    );
    expect(() => loadConfig({ ...brokers, REDIS_TLS_URL: 'rediss://h/1', REDIS_URL: '', REDIS_CLUSTER: 'true' })).to.throw(
      ConfigError,
      /^REDIS_TLS_URL selects database 1/,
    );
    expect(loadConfig({ ...brokers, REDIS_URL: 'redis://10.0.0.1:6379/0', REDIS_CLUSTER: 'true' }).redisCluster).to.equal(true);
    expect(() => loadConfig({ ...brokers, REDIS_CLUSTER: 'yes' })).to.throw(ConfigError, /^REDIS_CLUSTER must be true or false/);
  });

  it('declares queues for a single node unless RABBITMQ_CLUSTER=true, which makes front_queue a quorum queue', () => {
    expect(loadConfig(brokers).rabbitmqCluster).to.equal(false);
    const cluster = loadConfig({ ...brokers, RABBITMQ_CLUSTER: 'true' });
    expect(cluster.rabbitmqCluster).to.equal(true);
    expect(cluster.replyQueueType).to.equal('quorum');
    expect(() => loadConfig({ ...brokers, RABBITMQ_CLUSTER: 'true', REPLY_QUEUE_TYPE: 'classic' })).to.throw(
      ConfigError,
      /^REPLY_QUEUE_TYPE must be quorum with RABBITMQ_CLUSTER=true/,
    );
  });

  it('verifies the Redis TLS certificate unless told not to', () => {
    expect(loadConfig(brokers).redisTlsRejectUnauthorized).to.equal(true);
    expect(loadConfig({ ...brokers, REDIS_TLS_REJECT_UNAUTHORIZED: 'false' }).redisTlsRejectUnauthorized).to.equal(false);
    expect(loadConfig({ ...brokers, REDIS_TLS_REJECT_UNAUTHORIZED: 'true' }).redisTlsRejectUnauthorized).to.equal(true);
  });

  it("gives the worker its drain plus time to close, and the web process SHUTDOWN_GRACE_MS, as the worker's shutdown limit", () => {
    const byDefault = loadConfig(brokers);
    expect(byDefault.workerShutdownGraceMs).to.equal(DEFAULTS.workerDrainMs + DEFAULTS.workerCloseMs);
    // Heroku sends SIGKILL 30 s after SIGTERM: the default worker must be gone before that.
    expect(byDefault.workerShutdownGraceMs).to.be.below(30_000);
    expect(byDefault.shutdownGraceMs).to.equal(DEFAULTS.shutdownGraceMs);
    const tuned = loadConfig({ ...brokers, WORKER_DRAIN_MS: '1000', SHUTDOWN_GRACE_MS: '3000' });
    expect(tuned.workerShutdownGraceMs).to.equal(1000 + DEFAULTS.workerCloseMs);
    expect(tuned.shutdownGraceMs).to.equal(3000);
  });

  describe('every variable', () => {
    const samples: Record<string, string> = {
      RABBITMQ_URL: 'amqp://elsewhere',
      CLOUDAMQP_URL: 'amqp://elsewhere',
      REDIS_URL: 'redis://elsewhere/2',
      REDIS_TLS_URL: 'rediss://elsewhere',
      RELAY_SECRET: 'y'.repeat(40),
      RELAY_SECRET_PREVIOUS: 'z'.repeat(40),
      REDIS_PREFIX: 'other:',
      REDIS_TLS_REJECT_UNAUTHORIZED: 'false',
      RABBITMQ_CLUSTER: 'true',
      REDIS_CLUSTER: 'true',
      CORS_ORIGINS: 'https://app.example.com',
      TRUST_PROXY: '2',
      LOG_LEVEL: 'debug',
      REPLY_QUEUE_TYPE: 'quorum',
      JOBS_DIR: import.meta.dirname,
    };
    // The add-on names are fallbacks: they show only when the primary name is unset.
    const primaryOf: Record<string, string> = { CLOUDAMQP_URL: 'RABBITMQ_URL', REDIS_TLS_URL: 'REDIS_URL' };

    it('is declared once', () => {
      expect(new Set(ENV_NAMES).size).to.equal(ENV_NAMES.length);
    });

    for (const name of ENV_NAMES) {
      it(`${name} changes the configuration`, () => {
        const before = loadConfig(brokers);
        const env: Record<string, string> = { ...brokers, [name]: samples[name] ?? '987654' };
        if (primaryOf[name]) delete env[primaryOf[name]];
        expect(JSON.stringify(loadConfig(env))).to.not.equal(JSON.stringify(before));
      });
    }

    it('is documented in docs/configuration.md, and the docs list no other', () => {
      const doc = readFileSync(path.resolve(import.meta.dirname, '../../docs/configuration.md'), 'utf8');
      for (const name of ENV_NAMES) expect(doc, name).to.include(`\`${name}\``);
      const rows = [...doc.matchAll(/^\| `([A-Z0-9_]+)`/gm)].map((m) => m[1]);
      expect(rows.length).to.be.above(10);
      for (const name of rows) expect(ENV_NAMES, name).to.include(name);
    });
  });
});
