import { readFileSync } from 'node:fs';
import type { RedisClient } from './connection.js';

/**
 * Relay's Lua scripts live as `.lua` files in ./lua (the build copies them next to the compiled
 * code). Each is registered on a connection as a command: ioredis loads it once, then runs it by
 * EVALSHA.
 */
export function defineScript(redis: RedisClient, command: string, file: string, numberOfKeys: number): void {
  redis.defineCommand(command, { numberOfKeys, lua: readFileSync(new URL(`./lua/${file}.lua`, import.meta.url), 'utf8') });
}
