import type { Redis } from 'ioredis';
import { rethrowClassified } from '../errors/infrastructure.js';
import type { KeyValueStore, RangeQuery, ScoredMember } from './key-value-store.js';
import { assertFiniteScore } from './sorted-set.js';

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

/** A score as Redis returns it: a RESP2 bulk string or a RESP3 double (inf spelled out). */
function toScore(reply: unknown): number {
  if (typeof reply === 'number') return reply;
  const text = String(reply);
  if (text === 'inf' || text === '+inf') return Number.POSITIVE_INFINITY;
  if (text === '-inf') return Number.NEGATIVE_INFINITY;
  return Number.parseFloat(text);
}

/** WITHSCORES replies: flat [member, score, …] on RESP2, [[member, score], …] on RESP3. */
function toMembers(reply: unknown): ScoredMember[] {
  const items = reply as unknown[];
  if (items.length > 0 && Array.isArray(items[0]))
    return (items as [unknown, unknown][]).map(([member, score]) => ({
      member: String(member),
      score: toScore(score),
    }));
  const members: ScoredMember[] = [];
  for (let i = 0; i + 1 < items.length; i += 2)
    members.push({ member: String(items[i]), score: toScore(items[i + 1]) });
  return members;
}

/** A score bound as Redis spells it (JavaScript would write "Infinity"). */
function scoreArg(value: number): string {
  if (value === Number.POSITIVE_INFINITY) return '+inf';
  if (value === Number.NEGATIVE_INFINITY) return '-inf';
  return String(value);
}

const bound = (value: number | undefined, exclusive: boolean | undefined, open: string) =>
  value === undefined ? open : `${exclusive ? '(' : ''}${scoreArg(value)}`;

/** ZRANGE arguments for a query (key excluded), or null when the answer is empty without asking. */
function rangeArgs(query: RangeQuery): (string | number)[] | null {
  const offset = Math.max(0, query.offset ?? 0);
  const limit = query.limit;
  if (limit !== undefined && limit <= 0) return null;
  const desc = (query.order ?? 'desc') === 'desc';
  if (query.min !== undefined || query.max !== undefined) {
    const lo = bound(query.min, query.minExclusive, '-inf');
    const hi = bound(query.max, query.maxExclusive, '+inf');
    return [
      ...(desc ? [hi, lo, 'BYSCORE', 'REV'] : [lo, hi, 'BYSCORE']),
      'LIMIT',
      offset,
      limit ?? -1,
      'WITHSCORES',
    ];
  }
  const stop = limit === undefined ? -1 : offset + limit - 1;
  return [offset, stop, ...(desc ? ['REV'] : []), 'WITHSCORES'];
}

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
    async expire(key, ttlMs) {
      return (await redis.pexpire(k(key), Math.max(1, Math.ceil(ttlMs)))) === 1;
    },
    async zadd(key, members, options = {}) {
      if (members.length === 0) return 0;
      const args: (string | number)[] = [];
      for (const { member, score } of members) {
        assertFiniteScore(score);
        args.push(score, member);
      }
      // One MULTI: a reader never sees the set over its cap or without its expiry.
      const tx = redis.multi().zadd(k(key), ...args);
      if (options.cap !== undefined) tx.zremrangebyrank(k(key), 0, -(Math.max(0, options.cap) + 1));
      if (options.ttlMs !== undefined) tx.pexpire(k(key), Math.max(1, Math.ceil(options.ttlMs)));
      const [added] = replies(await tx.exec()) as [number];
      return added;
    },
    async zrem(key, members) {
      if (members.length === 0) return 0;
      return redis.zrem(k(key), ...members);
    },
    zremByScore: (key, min, max) => redis.zremrangebyscore(k(key), scoreArg(min), scoreArg(max)),
    ztrim: (key, keep) => redis.zremrangebyrank(k(key), 0, -(Math.max(0, keep) + 1)),
    async zincrby(key, member, delta) {
      assertFiniteScore(delta);
      return toScore(await redis.zincrby(k(key), delta, member));
    },
    zcard: (key) => redis.zcard(k(key)),
    async zscores(key, members) {
      if (members.length === 0) return [];
      const reply = (await redis.call('ZMSCORE', [k(key), ...members])) as unknown[];
      return reply.map((score) => (score === null ? null : toScore(score)));
    },
    async zrange(key, query = {}) {
      const args = rangeArgs(query);
      if (!args) return [];
      return toMembers(await redis.call('ZRANGE', [k(key), ...args]));
    },
    async zrangeMany(keys, query = {}) {
      const args = rangeArgs(query);
      if (!args || keys.length === 0) return keys.map(() => []);
      const pipeline = redis.pipeline();
      for (const key of keys) pipeline.call('ZRANGE', [k(key), ...args]);
      const results = (await pipeline.exec()) as ExecResult;
      return replies(results).map(toMembers);
    },
    async increment(key, ttlMs, by = 1) {
      const ms = Math.max(1, Math.ceil(ttlMs));
      // MULTI makes the three atomic; PEXPIRE NX (Redis 7) starts the window
      // only on the first hit, so later hits never extend it.
      const [count, , pttl] = replies(
        await redis.multi().incrby(k(key), by).pexpire(k(key), ms, 'NX').pttl(k(key)).exec(),
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
