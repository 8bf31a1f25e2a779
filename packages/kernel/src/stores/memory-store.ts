import type { KeyValueStore } from './key-value-store.js';

interface Entry {
  value: string;
  /** Epoch ms; null: no expiry. */
  expiresAt: number | null;
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

  return {
    kind: 'memory',
    async get(key) {
      return live(key)?.value ?? null;
    },
    async mget(keys) {
      const now = Date.now();
      return keys.map((k) => live(k, now)?.value ?? null);
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
      const entry = live(key);
      if (!entry) return null;
      entries.delete(key);
      return entry.value;
    },
    async del(...keys) {
      for (const k of keys) entries.delete(k);
    },
    async increment(key, ttlMs) {
      const now = Date.now();
      const entry = live(key, now);
      if (!entry) {
        entries.set(key, { value: '1', expiresAt: now + ttlMs });
        return { count: 1, ttlMs };
      }
      const count = Number.parseInt(entry.value, 10) + 1;
      entry.value = String(count);
      if (entry.expiresAt === null) entry.expiresAt = now + ttlMs;
      return { count, ttlMs: entry.expiresAt - now };
    },
    async decrement(key) {
      const entry = live(key);
      if (!entry) return 0;
      const count = Math.max(0, (Number.parseInt(entry.value, 10) || 0) - 1);
      entry.value = String(count);
      return count;
    },
    async counter(key) {
      const now = Date.now();
      const entry = live(key, now);
      if (!entry) return { count: 0, ttlMs: 0 };
      const count = Number.parseInt(entry.value, 10);
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
