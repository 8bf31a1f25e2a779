import type { Redis } from 'ioredis';
import { rethrowClassified } from '../errors/infrastructure.js';
import type { KeyValueStore } from './key-value-store.js';

/** The result of one MULTI ... EXEC: [error, reply] per command. */
type ExecResult = [Error | null, unknown][] | null;

function replies(result: ExecResult): unknown[] {
  if (!result) throw new Error('redis transaction was aborted');
  return result.map(([error, reply]) => {
    if (error) throw error;
    return reply;
  });
}

// One script so a concurrent window expiry cannot turn the decrement into a new, window-less key.
const DECREMENT_SCRIPT = `
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count == nil or count <= 0 then return 0 end
return redis.call('DECR', KEYS[1])`;

/**
 * A KeyValueStore over one ioredis connection, every key under `prefix`.
 * The connection belongs to the caller (it may serve several roles), so
 * `close` leaves it open. Every failure to reach Redis surfaces as an
 * UnavailableError (503), never as a raw client error a caller could
 * mistake for an answer.
 */
export function createRedisStore(redis: Redis, prefix: string): KeyValueStore {
  return classified(rawRedisStore(redis, prefix));
}

const outage = rethrowClassified('redis');

/** The same store with every async method's rejection classified at this boundary. */
function classified(store: KeyValueStore): KeyValueStore {
  const wrapped = { ...store };
  for (const [name, value] of Object.entries(store)) {
    if (typeof value !== 'function' || name === 'close') continue;
    const method = value as (...args: unknown[]) => Promise<unknown>;
    (wrapped as Record<string, unknown>)[name] = (...args: unknown[]) => method(...args).catch(outage);
  }
  return wrapped;
}

function rawRedisStore(redis: Redis, prefix: string): KeyValueStore {
  const k = (key: string) => prefix + key;
  return {
    kind: 'redis',
    get: async (key) => redis.get(k(key)),
    async mget(keys) {
      if (keys.length === 0) return [];
      return redis.mget(keys.map(k));
    },
    async set(key, value, ttlMs) {
      if (ttlMs === undefined) await redis.set(k(key), value);
      else await redis.set(k(key), value, 'PX', Math.max(1, Math.ceil(ttlMs)));
    },
    async setIfAbsent(key, value, ttlMs) {
      const reply = await redis.set(k(key), value, 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX');
      return reply === 'OK';
    },
    take: async (key) => redis.getdel(k(key)),
    async del(...keys) {
      if (keys.length > 0) await redis.del(...keys.map(k));
    },
    async increment(key, ttlMs) {
      const ms = Math.max(1, Math.ceil(ttlMs));
      // MULTI makes the three atomic; PEXPIRE NX (Redis 7) starts the window
      // only on the first hit, so later hits never extend it.
      const [count, , pttl] = replies(
        await redis.multi().incr(k(key)).pexpire(k(key), ms, 'NX').pttl(k(key)).exec(),
      ) as [number, number, number];
      return { count, ttlMs: pttl > 0 ? pttl : ms };
    },
    async decrement(key) {
      return Number(await redis.eval(DECREMENT_SCRIPT, 1, k(key)));
    },
    async counter(key) {
      const [value, pttl] = replies(await redis.multi().get(k(key)).pttl(k(key)).exec()) as [
        string | null,
        number,
      ];
      const count = value === null ? 0 : Number.parseInt(value, 10);
      return { count: Number.isNaN(count) ? 0 : count, ttlMs: Math.max(pttl, 0) };
    },
    async ping() {
      await redis.ping();
    },
    async close() {},
  };
}
