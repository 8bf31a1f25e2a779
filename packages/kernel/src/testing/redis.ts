import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';

/** The shared Redis test suites use; override with NOVA_TEST_REDIS_URL. */
export const TEST_REDIS_URL = process.env.NOVA_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A key prefix no other suite uses (REDIS_KEY_PREFIX), for one test's keys on the shared Redis. */
export function privateRedisPrefix(label = 'test'): string {
  return `nova-${label}-${randomUUID().slice(0, 8)}:`;
}

/** Removes every key under a test's private prefix. */
export async function deleteRedisPrefix(prefix: string, url = TEST_REDIS_URL): Promise<void> {
  const redis = new Redis(url);
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
