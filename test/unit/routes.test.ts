import { expect } from 'chai';
import { retryRoutingKey, routeOf } from '../../core/adapters/rabbitmq/routes.js';

describe('job type routes', () => {
  it("fill in today's names for whatever is left out", () => {
    const route = routeOf({ name: 'sleep' });
    expect(route).to.deep.equal({
      jobType: 'sleep',
      exchange: 'relay.jobs',
      exchangeType: 'topic',
      routingKey: 'sleep',
      queue: 'relay.jobs.sleep',
      ownQueue: true,
    });
    expect(retryRoutingKey(route)).to.equal('sleep');
    expect(routeOf({ name: 'sleep', route: { routingKey: 'nap' } })).to.include({
      exchange: 'relay.jobs',
      routingKey: 'nap',
      ownQueue: true,
    });
  });

  it('take a named queue as belonging to another program', () => {
    const route = routeOf({ name: 'planning-save', route: { exchange: 'Planning', routingKey: 'save', queue: 'save_queue' } });
    expect(route).to.deep.equal({
      jobType: 'planning-save',
      exchange: 'Planning',
      exchangeType: 'topic',
      routingKey: 'save',
      queue: 'save_queue',
      ownQueue: false,
    });
    // Delay queues dead-letter into relay.jobs: a retry comes back under the type's name.
    expect(retryRoutingKey(route)).to.equal('planning-save');
  });

  it("send to a queue directly through the default exchange ''", () => {
    expect(routeOf({ name: 'x', route: { exchange: '', routingKey: 'tasks' } })).to.include({
      queue: 'tasks',
      routingKey: 'tasks',
      ownQueue: false,
    });
    expect(routeOf({ name: 'x', route: { exchange: '', queue: 'tasks' } })).to.include({
      queue: 'tasks',
      routingKey: 'tasks',
      ownQueue: false,
    });
    expect(routeOf({ name: 'x', route: { exchange: '' } })).to.include({
      queue: 'relay.jobs.x',
      routingKey: 'relay.jobs.x',
      ownQueue: true,
    });
  });
});
