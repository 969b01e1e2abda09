import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../core/config.js';

const SECRET = 'x'.repeat(32);
const brokers = { RABBITMQ_URL: 'amqp://localhost', REDIS_URL: 'redis://localhost', RELAY_SECRET: SECRET };

describe('configuration from the environment', () => {
  it('with no broker configured runs embedded, with defaults', () => {
    const config = loadConfig({});
    expect(config.brokers).to.equal(undefined);
    expect(config.port).to.equal(3000);
    expect(config.secret.length).to.be.at.least(32);
  });

  it('reads both brokers, and the Heroku add-on names as fallbacks', () => {
    expect(loadConfig(brokers).brokers).to.deep.equal({ rabbitmqUrl: 'amqp://localhost', redisUrl: 'redis://localhost' });
    const addOns = loadConfig({ CLOUDAMQP_URL: 'amqps://cloud', REDIS_TLS_URL: 'rediss://tls', RELAY_SECRET: SECRET });
    expect(addOns.brokers).to.deep.equal({ rabbitmqUrl: 'amqps://cloud', redisUrl: 'rediss://tls' });
    expect(loadConfig({ ...brokers, CLOUDAMQP_URL: 'amqp://other' }).brokers?.rabbitmqUrl).to.equal('amqp://localhost');
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
  });

  it('requires a secret of at least 32 characters with brokers, or whenever one is given', () => {
    fails({ RABBITMQ_URL: 'amqp://localhost', REDIS_URL: 'redis://localhost' }, 'RELAY_SECRET');
    fails({ ...brokers, RELAY_SECRET: 'short' }, 'RELAY_SECRET');
    fails({ RELAY_SECRET: 'short' }, 'RELAY_SECRET');
  });
});
