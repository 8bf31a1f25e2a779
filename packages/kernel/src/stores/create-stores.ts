import { Redis } from 'ioredis';
import type { Config, RedisRole } from '../config/config.js';
import type { HealthCheck } from '../health/health-registry.js';
import type { Logger } from '../logging/logger.js';
import type { KeyValueStore } from './key-value-store.js';
import { createMemoryStore } from './memory-store.js';
import { createMirroredStore } from './mirrored-store.js';
import { createMemoryPubSub, createRedisPubSub, type PubSub } from './pubsub.js';
import { createRedisStore } from './redis-store.js';

export const REDIS_ROLES: readonly RedisRole[] = ['security', 'cache', 'realtime'];

export interface Stores {
  stores: Record<RedisRole, KeyValueStore>;
  /** Publish/subscribe on the realtime role: Redis (a dedicated subscriber connection) or in-process. */
  pubsub: PubSub;
  /** One required check per Redis-backed role, named `redis-<role>`. */
  healthChecks: HealthCheck[];
  /** Redis connections by URL, for roles that need more than key-value (e.g. pub/sub). */
  connections: ReadonlyMap<string, Redis>;
  close(): Promise<void>;
}

const QUIT_TIMEOUT_MS = 2000;

/** The URL with its password hidden, for logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable url)';
  }
}

/** Reconnect attempts back off to this at most, so a returning Redis is found within it. */
const MAX_RECONNECT_DELAY_MS = 2000;

function connect(
  url: string,
  config: Config['redis'],
  logger: Logger,
  extra: { protocol?: 2 | 3; autoResubscribe?: boolean; connectionName?: string } = {},
): Redis {
  const log = logger.child({ redis: redactUrl(url) });
  const redis = new Redis(url, {
    ...extra,
    // Commands wait while disconnected (a restart is over in a moment), but
    // never longer than the command timeout, and give up after two
    // reconnect attempts: a request gets a 503, it does not hang.
    maxRetriesPerRequest: 2,
    commandTimeout: config.commandTimeoutMs,
    connectTimeout: config.connectTimeoutMs,
    retryStrategy: (attempt) => Math.min(attempt * 200, MAX_RECONNECT_DELAY_MS),
  });
  let failing = false;
  redis.on('error', (error: Error & { code?: string }) => {
    // ioredis repeats the error on every reconnect attempt; log the transition only.
    if (failing) return;
    failing = true;
    log.error({ err: error, code: error.code }, 'redis connection failed; retrying');
  });
  redis.on('ready', () => {
    if (failing) log.info('redis connection restored');
    failing = false;
  });
  return redis;
}

/** QUIT, then wait until the socket is really gone; an unreachable server is dropped. */
async function closeConnection(redis: Redis): Promise<void> {
  if (redis.status === 'end') return;
  const ended = new Promise<void>((resolve) => redis.once('end', () => resolve()));
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), QUIT_TIMEOUT_MS);
  });
  try {
    const outcome = await Promise.race([redis.quit().then(() => ended), timeout]);
    if (outcome === 'timeout') redis.disconnect();
  } catch {
    // Not connected (or the connection broke mid-quit): just drop the socket.
    redis.disconnect();
  } finally {
    clearTimeout(timer);
  }
}

/**
 * One store per role: a memory store for roles without a URL, otherwise a
 * Redis store under `${keyPrefix}${role}:`, sharing one connection per URL.
 */
export function createStores(config: Config, logger: Logger): Stores {
  const connections = new Map<string, Redis>();
  const memoryStores: KeyValueStore[] = [];
  const mirrors = new Map<string, ReturnType<typeof createMirroredStore>>();
  const healthChecks: HealthCheck[] = [];
  const stores = {} as Record<RedisRole, KeyValueStore>;
  for (const role of REDIS_ROLES) {
    const url = config.redis.urls[role];
    if (!url) {
      const store = createMemoryStore();
      memoryStores.push(store);
      stores[role] = store;
      continue;
    }
    let redis = connections.get(url);
    if (!redis) {
      redis = connect(url, config.redis, logger);
      connections.set(url, redis);
    }
    const rolePrefix = `${config.redis.keyPrefix}${role}:`;
    const store = createRedisStore(redis, rolePrefix);
    const mirrorLogger = logger.child({ component: 'store-mirror', role });
    store.mirrored = (prefixes) => {
      const name = `${role}\n${[...prefixes].sort().join('\n')}`;
      let mirror = mirrors.get(name);
      if (!mirror) {
        mirror = createMirroredStore({
          store,
          rolePrefix,
          prefixes,
          // Connections of its own: tracking and the subscription are per connection.
          connect: (protocol) =>
            connect(url, config.redis, mirrorLogger, {
              protocol,
              autoResubscribe: false,
              connectionName: `mirror:${rolePrefix}`,
            }),
          logger: mirrorLogger,
        });
        mirrors.set(name, mirror);
      }
      return mirror;
    };
    stores[role] = store;
    healthChecks.push({ name: `redis-${role}`, required: true, check: () => store.ping() });
  }
  const realtimeUrl = config.redis.urls.realtime;
  const pubsubLogger = logger.child({ component: 'pubsub' });
  const realtime = realtimeUrl ? connections.get(realtimeUrl) : undefined;
  const pubsub = realtime
    ? createRedisPubSub(realtime, `${config.redis.keyPrefix}realtime:`, { logger: pubsubLogger })
    : createMemoryPubSub({ logger: pubsubLogger });
  // A socket process whose subscriber is down would silently miss messages.
  if (realtime)
    healthChecks.push({ name: 'redis-realtime-pubsub', required: true, check: () => pubsub.ping() });
  return {
    stores,
    pubsub,
    healthChecks,
    connections,
    async close() {
      await pubsub.close();
      await Promise.all([...mirrors.values()].map((m) => m.stop()));
      await Promise.all(memoryStores.map((s) => s.close()));
      await Promise.all([...connections.values()].map(closeConnection));
    },
  };
}
