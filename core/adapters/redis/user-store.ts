import type { Redis } from 'ioredis';
import type { RegisteredUser, UserStore } from '../../ports.js';
import type { RedisKeys } from './keys.js';
import registerUserLua from './register-user.lua.js';

type RedisWithScripts = Redis & {
  relayRegisterUser(emailKey: string, jobId: string, userJson: string): Promise<string | null>;
};

/** Users keyed by lower-cased email; the request that created one keeps getting it back. */
export class RedisUserStore implements UserStore {
  private readonly redis: RedisWithScripts;

  constructor(
    redis: Redis,
    private readonly keys: RedisKeys,
  ) {
    redis.defineCommand('relayRegisterUser', { numberOfKeys: 1, lua: registerUserLua });
    this.redis = redis as RedisWithScripts;
  }

  async register(jobId: string, name: string, email: string): Promise<RegisteredUser | 'taken'> {
    const candidate = { user_id: crypto.randomUUID(), name, email, request_id: jobId };
    const stored = await this.redis.relayRegisterUser(this.keys.userByEmail(email), jobId, JSON.stringify(candidate));
    if (stored === null) return 'taken';
    const user = JSON.parse(stored) as RegisteredUser & { request_id?: string };
    return { user_id: user.user_id, name: user.name, email: user.email };
  }
}
