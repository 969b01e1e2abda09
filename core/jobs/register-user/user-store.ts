import { connectRedis } from '../../adapters/redis/connection.js';
import { MemoryUserStore } from './memory-user-store.js';
import { RedisUserStore } from './redis-user-store.js';

export interface RegisteredUser {
  user_id: string;
  name: string;
  email: string;
}

/** Users created by `register-user`, unique by email. */
export interface UserStore {
  /** Creates the user, or returns the one this same job created; `taken` when another job owns the email. */
  register(jobId: string, name: string, email: string): Promise<RegisteredUser | 'taken'>;
}

let store: UserStore | undefined;

/**
 * The example's own dependency, set up the way a job type's module sets up its own: from the
 * environment, on first use. With Redis configured, users are shared by every worker; without
 * (the embedded mode, in-process tests), they live in this process.
 */
export function userStore(env: NodeJS.ProcessEnv = process.env): UserStore {
  if (!store) {
    const url = env.REDIS_URL || env.REDIS_TLS_URL;
    store = url
      ? new RedisUserStore(connectRedis({ url, commandTimeoutMs: 1_000, name: 'relay-example-users' }), env.REDIS_PREFIX || 'relay:')
      : new MemoryUserStore();
  }
  return store;
}
