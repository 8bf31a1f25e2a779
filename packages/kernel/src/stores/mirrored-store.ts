import type { Redis } from 'ioredis';
import type { Logger } from '../logging/logger.js';
import type { KeyValueStore } from './key-value-store.js';

/**
 * A Redis store whose reads of keys under some prefixes are answered from an
 * in-process copy, kept current by Redis itself (server-assisted client-side
 * caching, `CLIENT TRACKING … BCAST PREFIX`): Redis pushes the name of every
 * key under those prefixes that anyone changes, expires or flushes, and the
 * copy drops it before the next read can use it (ADR 042).
 *
 * It fails closed: until tracking is established — and from the moment either
 * of its two connections drops until it is established again — every read
 * goes to Redis, and the copy starts empty each time. A read that misses
 * fills the copy only if no invalidation of that key arrived while it was in
 * flight, so an answer older than a change is never kept. This process's own
 * writes through this store drop the key at once (before the write is sent),
 * so the writer never reads its old value; other processes' writes reach the
 * copy within Redis's push over the network (sub-millisecond on one host).
 */
export interface MirrorOptions {
  /** The store the copy stands in front of (the role's Redis store). */
  store: KeyValueStore;
  /** The role's key prefix in Redis (e.g. `nova:cache:`): the store's keys are under it. */
  rolePrefix: string;
  /** Plain-key prefixes to mirror (e.g. `revoked:`); none may be a prefix of another. */
  prefixes: readonly string[];
  /** Opens a new connection to the role's Redis (RESP version as asked). */
  connect: (protocol: 2 | 3) => Redis;
  logger: Logger;
  /** Entries kept at most; the oldest filled goes first. */
  maxEntries?: number;
  /** An entry is re-read after this long even without an invalidation (the last bound). */
  maxAgeMs?: number;
}

export interface MirroredStore extends KeyValueStore {
  /** True while invalidations are being received (reads may be served in process). */
  readonly tracking: boolean;
}

/** The channel Redis publishes invalidations on for a redirected, RESP2 subscriber. */
const INVALIDATE_CHANNEL = '__redis__:invalidate';
const DEFAULT_MAX_ENTRIES = 200_000;
const DEFAULT_MAX_AGE_MS = 60_000;

/** A read in flight for a key: its answer is kept only if this marker is still the key's entry. */
class Filling {}
interface Filled {
  value: string | null;
  at: number;
}
type Entry = Filled | Filling;

export function createMirroredStore(options: MirrorOptions): MirroredStore & { stop(): Promise<void> } {
  const { store, rolePrefix, prefixes, logger } = options;
  const maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
  const maxAgeMs = options.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
  const entries = new Map<string, Entry>();
  const mirrored = (key: string) => prefixes.some((p) => key.startsWith(p));
  // RESP2 on the subscriber: Redis sends invalidations to a RESP3 client as a push type ioredis drops.
  const subscriber = options.connect(2);
  const tracker = options.connect(3);
  let tracking = false;
  /** Bumped whenever tracking is lost: an establishment begun before it must not declare itself done. */
  let generation = 0;
  let stopped = false;

  const lose = (why: string) => {
    generation += 1;
    entries.clear();
    if (tracking) logger.warn({ why, prefixes }, 'store mirror lost tracking: reads go to Redis');
    tracking = false;
  };

  /** The subscriber's id while it is subscribed on its current connection (null once that closes). */
  let subscribedAs: number | null = null;
  const attempt = async () => {
    const started = generation;
    if (stopped || subscriber.status !== 'ready' || tracker.status !== 'ready') return;
    try {
      if (subscribedAs === null) {
        // The id first: a RESP2 connection runs no other command once subscribed.
        const id = Number(await subscriber.client('ID'));
        await subscriber.subscribe(INVALIDATE_CHANNEL);
        subscribedAs = id;
      }
      await tracker.call('CLIENT', 'TRACKING', 'OFF');
      await tracker.call(
        'CLIENT',
        'TRACKING',
        'ON',
        'REDIRECT',
        String(subscribedAs),
        'BCAST',
        ...prefixes.flatMap((p) => ['PREFIX', rolePrefix + p]),
      );
      if (started !== generation || stopped) return;
      entries.clear();
      tracking = true;
      logger.info({ prefixes }, 'store mirror tracking');
    } catch (error) {
      if (started === generation) lose('tracking could not be set up');
      logger.warn({ err: error, prefixes }, 'store mirror could not set up tracking; retrying on reconnect');
    }
  };
  // One set-up at a time (both connections report ready at start): a second request runs after it.
  let establishing = false;
  let again = false;
  const establish = async () => {
    if (establishing) {
      again = true;
      return;
    }
    establishing = true;
    try {
      do {
        again = false;
        await attempt();
      } while (again && !stopped);
    } finally {
      establishing = false;
    }
  };

  subscriber.on('close', () => {
    subscribedAs = null;
  });
  for (const connection of [subscriber, tracker]) {
    connection.on('ready', () => void establish());
    connection.on('close', () => lose('connection closed'));
    connection.on('error', () => undefined); // logged by the role's own connection
  }
  subscriber.on('messageBuffer', (channel: Buffer, message: unknown) => {
    if (channel.toString() !== INVALIDATE_CHANNEL) return;
    // null: the database was flushed (FLUSHALL / FLUSHDB): nothing kept is known to be current.
    if (message === null || !Array.isArray(message)) {
      entries.clear();
      return;
    }
    for (const raw of message as Buffer[]) {
      const key = raw.toString();
      if (key.startsWith(rolePrefix)) entries.delete(key.slice(rolePrefix.length));
    }
  });

  const keep = (key: string, marker: Filling, value: string | null, at: number) => {
    if (entries.get(key) !== marker) return; // invalidated (or tracking lost) meanwhile
    entries.delete(key);
    entries.set(key, { value, at });
    if (entries.size > maxEntries) {
      const oldest = entries.keys().next();
      if (!oldest.done) entries.delete(oldest.value);
    }
  };

  async function mget(keys: string[]): Promise<(string | null)[]> {
    if (!tracking) return store.mget(keys);
    const now = Date.now();
    const answer: (string | null)[] = new Array(keys.length);
    const missing: number[] = [];
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i] as string;
      const entry = entries.get(key);
      if (entry !== undefined && !(entry instanceof Filling) && now - entry.at < maxAgeMs) {
        answer[i] = entry.value;
      } else missing.push(i);
    }
    if (missing.length === 0) return answer;
    const marker = new Filling();
    const fillable: boolean[] = missing.map((i) => {
      const key = keys[i] as string;
      // Another read already in flight for this key fills it; this one only reads through.
      if (!mirrored(key) || entries.get(key) instanceof Filling) return false;
      entries.set(key, marker);
      return true;
    });
    const at = Date.now();
    let values: (string | null)[];
    try {
      values = await store.mget(missing.map((i) => keys[i] as string));
    } catch (error) {
      missing.forEach((i, n) => {
        if (fillable[n] && entries.get(keys[i] as string) === marker) entries.delete(keys[i] as string);
      });
      throw error;
    }
    missing.forEach((i, n) => {
      const value = values[n] ?? null;
      answer[i] = value;
      if (fillable[n]) keep(keys[i] as string, marker, value, at);
    });
    return answer;
  }

  /** Before this process writes a key: the copy forgets it (and any read in flight for it). */
  const forget = (key: string) => {
    if (entries.size > 0) entries.delete(key);
  };
  const writing =
    <A extends unknown[], R>(method: (key: string, ...rest: A) => Promise<R>) =>
    (key: string, ...rest: A): Promise<R> => {
      forget(key);
      return method(key, ...rest);
    };

  return {
    ...store,
    get tracking() {
      return tracking;
    },
    async get(key) {
      return (await mget([key]))[0] ?? null;
    },
    mget,
    set: writing(store.set),
    setIfAbsent: writing(store.setIfAbsent),
    take: writing(store.take),
    async del(...keys) {
      for (const key of keys) forget(key);
      await store.del(...keys);
    },
    expire: writing(store.expire),
    increment: writing(store.increment),
    decrement: writing(store.decrement),
    zadd: writing(store.zadd),
    zrem: writing(store.zrem),
    zremByScore: writing(store.zremByScore),
    ztrim: writing(store.ztrim),
    zincrby: writing(store.zincrby),
    async stop() {
      stopped = true;
      lose('stopped');
      await Promise.all([subscriber, tracker].map((c) => c.quit().catch(() => c.disconnect())));
    },
  };
}
