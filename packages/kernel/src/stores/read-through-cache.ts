import { Counter, type Registry } from 'prom-client';
import type { Logger } from '../logging/logger.js';
import type { KeyValueStore } from './key-value-store.js';

/**
 * A read-through cache of JSON values over a key-value store (the "cache"
 * role: Redis, or in-process in the all-in-one shape). The owning service
 * fills it on reads and invalidates it when the data changes: after the
 * commit of its commands, and from its own events (ADR 028).
 *
 * Invalidation does not delete: it leaves a short-lived hold in the key, and
 * readers neither use nor refill a held key. So a reader that loaded the old
 * row just before the change committed cannot put it back afterwards (fills
 * only set absent keys), and an invalidation issued inside a transaction that
 * has not committed yet keeps readers on the database until it has. The
 * cache is never the truth: when the store fails, reads go to the loader.
 */
export interface ReadThroughCache<T> {
  /** Values for `keys`: cached ones, the rest from `load` (then cached). Keys `load` omits stay absent. */
  getMany(
    keys: readonly string[],
    load: (missing: string[]) => Promise<Map<string, T>>,
  ): Promise<Map<string, T>>;
  /** Invalidates `keys` (a hold for `holdMs`, then absent). Rejects when the store fails. */
  forget(keys: readonly string[]): Promise<void>;
}

export interface ReadThroughCacheOptions {
  store: KeyValueStore;
  /** Names the cache in keys (`<name>:<key>`) and in metrics. */
  name: string;
  /** How long a filled value lives at most (a bound for anything an invalidation missed). */
  ttlMs: number;
  /** How long an invalidated key stays held (default 2 s): longer than a read or a transaction takes. */
  holdMs?: number;
  logger: Logger;
  metrics?: Registry;
}

/** What a test or the process tunes in a service's caches; the service chooses store, names and TTL. */
export type ReadThroughCacheTuning = Pick<ReadThroughCacheOptions, 'holdMs' | 'metrics'>;

/**
 * A service's caches on one store with one TTL: a maker of each by name
 * (`const make = readThroughCaches({...}); make<Profile>('social.profile')`).
 */
export function readThroughCaches(
  shared: Omit<ReadThroughCacheOptions, 'name'>,
): <T>(name: string) => ReadThroughCache<T> {
  return <T>(name: string) => createReadThroughCache<T>({ ...shared, name });
}

const HELD = '\u0000held';
const DEFAULT_HOLD_MS = 2_000;

function lookups(registry: Registry | undefined): Counter<'cache' | 'result'> | undefined {
  if (!registry) return undefined;
  return (
    (registry.getSingleMetric('nova_cache_lookups_total') as Counter<'cache' | 'result'> | undefined) ??
    new Counter({
      name: 'nova_cache_lookups_total',
      help: 'Read-through cache lookups by cache and result (hit, miss, held: invalidated moments ago, error: store failed)',
      labelNames: ['cache', 'result'],
      registers: [registry],
    })
  );
}

export function createReadThroughCache<T>(options: ReadThroughCacheOptions): ReadThroughCache<T> {
  const { store, name, ttlMs, logger } = options;
  const holdMs = options.holdMs ?? DEFAULT_HOLD_MS;
  const counter = lookups(options.metrics);
  const count = (result: 'hit' | 'miss' | 'held' | 'error', n: number) => {
    if (n > 0) counter?.inc({ cache: name, result }, n);
  };
  const keyOf = (key: string) => `${name}:${key}`;
  let warned = false;
  const storeFailed = (error: unknown, action: string) => {
    // Once per outage, not per request; the store's own health check reports it.
    if (!warned) logger.warn({ err: error, cache: name }, `cache ${action} failed; reading the database`);
    warned = true;
  };

  return {
    async getMany(keys, load) {
      const unique = [...new Set(keys)];
      const found = new Map<string, T>();
      if (unique.length === 0) return found;
      let cached: (string | null)[];
      try {
        cached = await store.mget(unique.map(keyOf));
        warned = false;
      } catch (error) {
        storeFailed(error, 'read');
        count('error', unique.length);
        return load(unique);
      }
      const missing: string[] = [];
      const fillable = new Set<string>();
      unique.forEach((key, i) => {
        const value = cached[i];
        if (value === null || value === undefined) {
          missing.push(key);
          fillable.add(key);
        } else if (value === HELD) {
          missing.push(key);
        } else {
          found.set(key, JSON.parse(value) as T);
        }
      });
      count('hit', found.size);
      count('miss', fillable.size);
      count('held', missing.length - fillable.size);
      if (missing.length === 0) return found;
      const loaded = await load(missing);
      for (const [key, value] of loaded) {
        found.set(key, value);
        // Only absent keys: a hold set since our read wins. Not awaited: the answer does not wait for the cache.
        if (fillable.has(key))
          store
            .setIfAbsent(keyOf(key), JSON.stringify(value), ttlMs)
            .catch((error) => storeFailed(error, 'fill'));
      }
      return found;
    },

    async forget(keys) {
      const unique = [...new Set(keys)];
      await Promise.all(unique.map((key) => store.set(keyOf(key), HELD, holdMs)));
    },
  };
}

/**
 * Runs an invalidation after a command committed, so the writer reads its
 * own write. A failure is only logged: the change is durable, and its event
 * invalidates again (a consumer retries) once the store answers.
 */
export async function invalidateAfterCommit(logger: Logger, invalidate: () => Promise<void>): Promise<void> {
  await invalidate().catch((error: unknown) =>
    logger.warn({ err: error }, 'cache invalidation after commit failed; the event will retry it'),
  );
}
