import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import type { RegisteredUser, UserStore } from './user-store.js';

type RedisWithScripts = Redis & {
  relayRegisterUser(emailKey: string, jobId: string, userJson: string): Promise<string | null>;
};

/** Users keyed by lower-cased email; the job that created one keeps getting it back. */
export class RedisUserStore implements UserStore {
  private readonly redis: RedisWithScripts;

  constructor(
    redis: Redis,
    private readonly prefix: string,
  ) {
    redis.defineCommand('relayRegisterUser', {
      numberOfKeys: 1,
      lua: readFileSync(new URL('./register-user.lua', import.meta.url), 'utf8'),
    });
    this.redis = redis as RedisWithScripts;
  }

  async register(jobId: string, name: string, email: string): Promise<RegisteredUser | 'taken'> {
    const candidate = { user_id: crypto.randomUUID(), name, email, request_id: jobId };
    const key = `${this.prefix}user:${email.toLowerCase()}`;
    const stored = await this.redis.relayRegisterUser(key, jobId, JSON.stringify(candidate));
    if (stored === null) return 'taken';
    const user = JSON.parse(stored) as RegisteredUser & { request_id?: string };
    return { user_id: user.user_id, name: user.name, email: user.email };
  }
}
