import type { KeyValueStore, RateLimitDecision } from './key-value-store.js';

export interface RateLimiter {
  /** Counts one hit (or `hits` at once); allowed while the window's count stays within the limit. */
  hit(key: string, limit: number, windowSeconds: number, hits?: number): Promise<RateLimitDecision>;
  /** The decision the next request would get, without counting it. */
  peek(key: string, limit: number): Promise<RateLimitDecision>;
  /** Gives back one hit counted by `hit` (e.g. an attempt that turned out not to be a failure). */
  release(key: string): Promise<void>;
  reset(key: string): Promise<void>;
}

const KEY_PREFIX = 'rl:';

/** Fixed-window rate limiting over a KeyValueStore (memory or Redis). */
export function createRateLimiter(store: KeyValueStore): RateLimiter {
  const decide = (count: number, _limit: number, ttlMs: number, allowed: boolean): RateLimitDecision => ({
    allowed,
    count,
    retryAfterSeconds: ttlMs > 0 ? Math.ceil(ttlMs / 1000) : 0,
  });
  return {
    async hit(key, limit, windowSeconds, hits = 1) {
      const { count, ttlMs } = await store.increment(KEY_PREFIX + key, windowSeconds * 1000, hits);
      return decide(count, limit, ttlMs, count <= limit);
    },
    async peek(key, limit) {
      if (store.counter) {
        const { count, ttlMs } = await store.counter(KEY_PREFIX + key);
        return decide(count, limit, ttlMs, count < limit);
      }
      const value = await store.get(KEY_PREFIX + key);
      const count = value === null ? 0 : Number.parseInt(value, 10) || 0;
      return decide(count, limit, 0, count < limit);
    },
    async release(key) {
      await store.decrement(KEY_PREFIX + key);
    },
    async reset(key) {
      await store.del(KEY_PREFIX + key);
    },
  };
}
