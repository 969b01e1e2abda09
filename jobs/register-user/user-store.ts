/**
 * register-user's own storage, set up the way any job type's module sets up its dependencies:
 * from the environment, on first use. With Redis configured, users are shared by every worker;
 * without (the embedded mode, in-process tests), they live in this process.
 */
import { Cluster, Redis } from 'ioredis';

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

export function userStore(env: NodeJS.ProcessEnv = process.env): UserStore {
  if (!store) {
    const url = env.REDIS_URL || env.REDIS_TLS_URL;
    store = url
      ? new RedisUserStore(url, env.REDIS_PREFIX || 'relay:', env.REDIS_TLS_REJECT_UNAUTHORIZED !== 'false', env.REDIS_CLUSTER === 'true')
      : new MemoryUserStore();
  }
  return store;
}

class MemoryUserStore implements UserStore {
  private readonly byEmail = new Map<string, RegisteredUser & { jobId: string }>();

  async register(jobId: string, name: string, email: string): Promise<RegisteredUser | 'taken'> {
    const key = email.toLowerCase();
    const existing = this.byEmail.get(key);
    if (existing && existing.jobId !== jobId) return 'taken';
    const user = existing ?? { user_id: crypto.randomUUID(), name, email, jobId };
    this.byEmail.set(key, user);
    return { user_id: user.user_id, name: user.name, email: user.email };
  }
}

/** Claims an email for a job: the stored user when this job owns the email, false when another does. */
const REGISTER_LUA = `
local existing = redis.call('GET', KEYS[1])
if existing then
  if cjson.decode(existing).request_id == ARGV[1] then return existing end
  return false
end
redis.call('SET', KEYS[1], ARGV[2])
return ARGV[2]
`;

type RedisWithScripts = (Redis | Cluster) & {
  relayRegisterUser(emailKey: string, jobId: string, userJson: string): Promise<string | null>;
};

/** Users keyed by lower-cased email; the job that created one keeps getting it back. */
class RedisUserStore implements UserStore {
  private readonly redis: RedisWithScripts;

  constructor(
    url: string,
    private readonly prefix: string,
    rejectUnauthorized: boolean,
    /** REDIS_URL lists seed nodes of a Redis Cluster; the one script touches one key, so one slot. */
    cluster: boolean,
  ) {
    const options = {
      connectionName: 'relay-example-users',
      commandTimeout: 1_000,
      maxRetriesPerRequest: 1,
      ...(url.startsWith('rediss:') ? { tls: { rejectUnauthorized } } : {}),
    };
    const redis = cluster ? new Cluster(seedNodes(url), { redisOptions: { ...options, ...credentials(url) } }) : new Redis(url, options);
    redis.on('error', () => undefined);
    redis.defineCommand('relayRegisterUser', { numberOfKeys: 1, lua: REGISTER_LUA });
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

function seedNodes(urls: string): { host: string; port: number }[] {
  return urls.split(',').map((u) => {
    const { hostname, port } = new URL(u.trim());
    return { host: hostname, port: Number(port || 6379) };
  });
}

function credentials(urls: string): { username?: string; password?: string } {
  const first = new URL(urls.split(',')[0]!.trim());
  return { username: decodeURIComponent(first.username) || undefined, password: decodeURIComponent(first.password) || undefined };
}
