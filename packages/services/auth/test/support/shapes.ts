import { randomUUID } from 'node:crypto';
import { openTestDatabases } from '@nova/kernel/testing';
import { Redis } from 'ioredis';
import type { AuthServerOptions } from './nova-server.js';

const REDIS_URL = process.env.NOVA_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface Shape {
  name: string;
  setup(): Promise<{ options: AuthServerOptions; cleanup(): Promise<void> }>;
}

/** Removes every key under a test's private prefix. */
export async function deleteRedisPrefix(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** The two deployment shapes the routes must behave the same on. */
export const SHAPES: Shape[] = [
  {
    name: 'embedded: PGlite + in-process security store',
    async setup() {
      return { options: {}, cleanup: async () => undefined };
    },
  },
  {
    name: 'PostgreSQL + Redis security store',
    async setup() {
      // Only the database's creation and removal: the server opens its own pool on it.
      const databases = await openTestDatabases('postgres');
      const prefix = `nova-test-auth-${randomUUID().slice(0, 8)}:`;
      return {
        options: {
          databaseUrl: databases.config.database.defaultUrl,
          redisUrl: REDIS_URL,
          redisKeyPrefix: prefix,
        },
        async cleanup() {
          await databases.close();
          await deleteRedisPrefix(prefix);
        },
      };
    },
  },
];
