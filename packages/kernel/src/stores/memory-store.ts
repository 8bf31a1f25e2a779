import type { KeyValueStore } from './key-value-store.js';
import { assertFiniteScore, MemorySortedSet } from './sorted-set.js';

interface Entry {
  value: string | MemorySortedSet;
  /** Epoch ms; null: no expiry. */
  expiresAt: number | null;
}

/** Using a key as the other kind than it holds (Redis answers WRONGTYPE). */
export class WrongTypeError extends Error {
  constructor(key: string) {
    super(`WRONGTYPE key "${key}" holds a value of another kind`);
    this.name = 'WrongTypeError';
  }
}

const SWEEP_INTERVAL_MS = 30_000;

/** In-process store for the all-in-one shape: a Map with expiry. */
export function createMemoryStore(): KeyValueStore {
  const entries = new Map<string, Entry>();

  const live = (key: string, now = Date.now()): Entry | undefined => {
    const entry = entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt !== null && entry.expiresAt <= now) {
      entries.delete(key);
      return undefined;
    }
    return entry;
  };

  // Lazy expiry alone would keep never-read keys (e.g. rate-limit windows) forever.
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const [key, entry] of entries) {
      if (entry.expiresAt !== null && entry.expiresAt <= now) entries.delete(key);
    }
  }, SWEEP_INTERVAL_MS);
  sweep.unref();

  const text = (key: string, entry: Entry | undefined): string | null => {
    if (entry === undefined) return null;
    if (typeof entry.value !== 'string') throw new WrongTypeError(key);
    return entry.value;
  };
  const sortedSet = (key: string, now = Date.now()): MemorySortedSet | undefined => {
    const entry = live(key, now);
    if (entry === undefined) return undefined;
    if (!(entry.value instanceof MemorySortedSet)) throw new WrongTypeError(key);
    return entry.value;
  };
  /** Like Redis, an emptied set is no key at all (and loses its expiry). */
  const dropIfEmpty = (key: string, set: MemorySortedSet) => {
    if (set.size === 0) entries.delete(key);
  };

  return {
    kind: 'memory',
    async get(key) {
      return text(key, live(key));
    },
    async mget(keys) {
      const now = Date.now();
      // MGET answers nil for a key of another kind rather than failing the batch.
      return keys.map((k) => {
        const value = live(k, now)?.value;
        return typeof value === 'string' ? value : null;
      });
    },
    async set(key, value, ttlMs) {
      entries.set(key, { value, expiresAt: ttlMs === undefined ? null : Date.now() + ttlMs });
    },
    async setIfAbsent(key, value, ttlMs) {
      if (live(key)) return false;
      entries.set(key, { value, expiresAt: Date.now() + ttlMs });
      return true;
    },
    async take(key) {
      const value = text(key, live(key));
      if (value !== null) entries.delete(key);
      return value;
    },
    async del(...keys) {
      for (const k of keys) entries.delete(k);
    },
    async expire(key, ttlMs) {
      const entry = live(key);
      if (!entry) return false;
      entry.expiresAt = Date.now() + ttlMs;
      return true;
    },
    async zadd(key, members, options = {}) {
      for (const { score } of members) assertFiniteScore(score);
      if (members.length === 0) return 0;
      const now = Date.now();
      let set = sortedSet(key, now);
      if (!set) {
        set = new MemorySortedSet();
        entries.set(key, { value: set, expiresAt: null });
      }
      let added = 0;
      for (const { member, score } of members) if (set.add(member, score)) added += 1;
      if (options.cap !== undefined) set.trim(options.cap);
      if (options.ttlMs !== undefined) entries.get(key)!.expiresAt = now + options.ttlMs;
      dropIfEmpty(key, set);
      return added;
    },
    async zrem(key, members) {
      const set = sortedSet(key);
      if (!set) return 0;
      let removed = 0;
      for (const member of members) if (set.remove(member)) removed += 1;
      dropIfEmpty(key, set);
      return removed;
    },
    async zremByScore(key, min, max) {
      const set = sortedSet(key);
      if (!set) return 0;
      const removed = set.removeByScore(min, max);
      dropIfEmpty(key, set);
      return removed;
    },
    async ztrim(key, keep) {
      const set = sortedSet(key);
      if (!set) return 0;
      const removed = set.trim(keep);
      dropIfEmpty(key, set);
      return removed;
    },
    async zincrby(key, member, delta) {
      assertFiniteScore(delta);
      let set = sortedSet(key);
      if (!set) {
        set = new MemorySortedSet();
        entries.set(key, { value: set, expiresAt: null });
      }
      const score = (set.score(member) ?? 0) + delta;
      set.add(member, score);
      return score;
    },
    async zcard(key) {
      return sortedSet(key)?.size ?? 0;
    },
    async zscores(key, members) {
      const set = sortedSet(key);
      return members.map((m) => set?.score(m) ?? null);
    },
    async zrange(key, query) {
      return sortedSet(key)?.range(query) ?? [];
    },
    async zrangeMany(keys, query) {
      const now = Date.now();
      return keys.map((k) => sortedSet(k, now)?.range(query) ?? []);
    },
    async increment(key, ttlMs, by = 1) {
      const now = Date.now();
      const entry = live(key, now);
      if (!entry) {
        entries.set(key, { value: String(by), expiresAt: now + ttlMs });
        return { count: by, ttlMs };
      }
      const count = Number.parseInt(text(key, entry) ?? '0', 10) + by;
      entry.value = String(count);
      if (entry.expiresAt === null) entry.expiresAt = now + ttlMs;
      return { count, ttlMs: entry.expiresAt - now };
    },
    async decrement(key) {
      const entry = live(key);
      if (!entry) return 0;
      const count = Math.max(0, (Number.parseInt(text(key, entry) ?? '0', 10) || 0) - 1);
      entry.value = String(count);
      return count;
    },
    async counter(key) {
      const now = Date.now();
      const entry = live(key, now);
      if (!entry) return { count: 0, ttlMs: 0 };
      const count = Number.parseInt(text(key, entry) ?? '0', 10);
      return {
        count: Number.isNaN(count) ? 0 : count,
        ttlMs: entry.expiresAt === null ? 0 : entry.expiresAt - now,
      };
    },
    async ping() {},
    async close() {
      clearInterval(sweep);
      entries.clear();
    },
  };
}
