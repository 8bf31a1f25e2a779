import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  createPostgresTestDatabase,
  deleteRedisPrefix,
  type PostgresTestDatabase,
  privateRedisPrefix,
  TEST_REDIS_URL,
} from '@nova/kernel/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningNova, sharedSecretsOf, startNova } from './harness.js';
import { sdkMessagingWalk } from './suites/sdk-messaging.js';

/**
 * The SDK end to end against `npm start`: the messaging walk (two users
 * with two devices each, offline catch-up, pre-key exhaustion, group
 * changes, a block), then the process is stopped and its stores and logs
 * are searched for the plaintext — none may hold it, while a control value
 * sent in the clear is found by the same search.
 */
// RTMP_PORT 0: live's ingest on a free port, so processes (and other suites) never collide on 1935.
const FAST_HASHING = { ARGON2_MEMORY_KIB: '8192', ARGON2_TIME_COST: '1', RTMP_PORT: '0' };
/** node itself, not npm: the exit code is the process's own. */
const NOVA_START = ['node', '--import', 'tsx', 'apps/nova/src/main.ts', 'start'];

/**
 * The secret as it would appear if it leaked: as is, or inside base64 (the
 * envelopes' encoding) at each of the three byte alignments.
 */
function leakForms(secret: string): string[] {
  return [
    secret,
    ...[0, 1, 2].map((offset) =>
      Buffer.from(`${'x'.repeat(offset)}${secret}`)
        .toString('base64')
        .slice(4, -4),
    ),
  ];
}

function containsAny(haystack: string | Buffer, needles: string[]): boolean {
  return needles.some((needle) => haystack.includes(needle));
}

/** Every file under `dir` as raw bytes (PGlite's pages keep short text uncompressed). */
function filesContaining(dir: string, needles: string[]): string[] {
  const hits: string[] = [];
  const walk = (at: string) => {
    for (const name of readdirSync(at)) {
      const file = path.join(at, name);
      if (statSync(file).isDirectory()) walk(file);
      else if (containsAny(readFileSync(file), needles)) hits.push(path.relative(dir, file));
    }
  };
  walk(dir);
  return hits;
}

describe('the plaintext search itself', () => {
  it('finds a secret stored as is or inside base64 at any alignment, and nothing else', () => {
    const secret = 'SECRET-0b4f5c1e-5d7e-4a55-9a51-1c2f3e4d5a6b';
    const forms = leakForms(secret);
    for (const prefix of ['', 'a', 'ab', 'abc', '{"text":"']) {
      expect(containsAny(Buffer.from(`${prefix}${secret} and more`).toString('base64'), forms)).toBe(true);
      expect(containsAny(`${prefix}${secret}`, forms)).toBe(true);
    }
    const other = `${secret.slice(0, 20)}X${secret.slice(21)}`;
    expect(containsAny(Buffer.from(other).toString('base64'), forms)).toBe(false);
    expect(containsAny(other, forms)).toBe(false);
  });
});

describe('E2E messaging with the SDK — npm start, embedded PGlite', () => {
  let nova: RunningNova;
  beforeAll(async () => {
    nova = await startNova({ command: NOVA_START, env: FAST_HASHING });
  });
  afterAll(async () => {
    await nova?.stop();
    nova?.cleanup();
  });

  it('exchanges messages across devices; afterwards neither the data directory nor the logs hold the plaintext', {
    timeout: 240_000,
  }, async () => {
    const { secret, control } = await sdkMessagingWalk(nova.url);
    expect(await nova.stop()).toBe(0);
    expect(filesContaining(nova.dataDir, [control]).length).toBeGreaterThan(0);
    expect(filesContaining(nova.dataDir, leakForms(secret))).toEqual([]);
    expect(nova.output()).toContain(control);
    expect(containsAny(nova.output(), leakForms(secret))).toBe(false);
  });
});

describe('E2E messaging with the SDK — two npm start processes on one PostgreSQL + Redis', () => {
  let nova: RunningNova;
  let other: RunningNova;
  let database: PostgresTestDatabase;
  const redisPrefix = privateRedisPrefix('sdk');

  beforeAll(async () => {
    database = await createPostgresTestDatabase();
    const env = {
      ...FAST_HASHING,
      DATABASE_URL: database.url,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: redisPrefix,
    };
    nova = await startNova({ command: NOVA_START, env });
    other = await startNova({ command: NOVA_START, env: { ...env, ...sharedSecretsOf(nova) } });
  });
  afterAll(async () => {
    await Promise.all([nova?.stop(), other?.stop()]);
    nova?.cleanup();
    other?.cleanup();
    await database?.drop();
    await deleteRedisPrefix(redisPrefix);
  });

  it('exchanges messages across devices; afterwards a pg_dump, the Redis keys and the logs hold no plaintext', {
    timeout: 240_000,
  }, async () => {
    // Bo's two devices on the second process, everyone else on the first: every message crosses over Redis.
    const { secret, control } = await sdkMessagingWalk({ ada: nova.url, bo: other.url });
    expect(await nova.stop()).toBe(0);
    expect(await other.stop()).toBe(0);

    const { stdout: dump } = await promisify(execFile)('pg_dump', ['--no-owner', database.url], {
      maxBuffer: 256 * 1024 * 1024,
    });
    expect(dump).toContain(control);
    expect(containsAny(dump, leakForms(secret))).toBe(false);

    const redis = new Redis(TEST_REDIS_URL);
    try {
      const keys = await redis.keys(`${redisPrefix}*`);
      let values = '';
      for (const key of keys) {
        const type = await redis.type(key);
        if (type === 'string') values += await redis.get(key);
        else if (type === 'hash') values += JSON.stringify(await redis.hgetall(key));
        else if (type === 'list') values += JSON.stringify(await redis.lrange(key, 0, -1));
        else if (type === 'set') values += JSON.stringify(await redis.smembers(key));
        else if (type === 'zset') values += JSON.stringify(await redis.zrange(key, '0', '-1'));
        else if (type === 'stream') values += JSON.stringify(await redis.xrange(key, '-', '+'));
      }
      expect(containsAny(values, leakForms(secret))).toBe(false);
    } finally {
      redis.disconnect();
    }
    expect(nova.output()).toContain(control);
    for (const process of [nova, other]) expect(containsAny(process.output(), leakForms(secret))).toBe(false);
  });
});
