import { randomUUID } from 'node:crypto';
import { deleteRedisPrefix, freePort, type PrivateRedis, startPrivateRedis } from '@nova/kernel/testing';
import pg from 'pg';
import { inject } from 'vitest';
import { defineFeedWalk } from './suites/feed-walk.js';
import type { E2eShape } from './suites/shape.js';

// The feed walk on PostgreSQL + Redis + Kafka (`npm start` with the server
// engines): events travel outbox → relay → Kafka; the cache role is a Redis
// this suite owns, so it can stop it mid-test.
const ADMIN_URL = process.env.NOVA_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.NOVA_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const DB = `nova_test_e2e_feed_${process.pid}_${Date.now()}`;
const PREFIX = `nova-e2e-feed-${randomUUID()}:`;
let cache: PrivateRedis | undefined;
// Live's RTMP ingest on a port of its own: another suite's server may hold the default 1935.
let rtmpPort = 0;

const admin = async (statement: string) => {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
};

const SERVER_SHAPE: E2eShape = {
  name: 'PostgreSQL, Redis and Kafka',
  readyChecks: ['kafka', 'redis-security', 'redis-cache'],
  env: () => ({
    DATABASE_URL: ADMIN_URL.replace(/\/[^/]*$/, `/${DB}`),
    REDIS_URL,
    REDIS_KEY_PREFIX: PREFIX,
    KAFKA_BROKERS: inject('kafkaBrokers') || process.env.NOVA_TEST_KAFKA_BROKERS || '',
    RTMP_PORT: String(rtmpPort),
  }),
  async prepare() {
    await admin(`CREATE DATABASE ${DB}`);
    cache = await startPrivateRedis();
    rtmpPort = await freePort();
  },
  async release() {
    await cache?.stop();
    await admin(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
    await deleteRedisPrefix(PREFIX, REDIS_URL);
  },
};

defineFeedWalk(SERVER_SHAPE, {
  cache: () => {
    if (!cache) throw new Error('the private Redis is not started');
    return cache;
  },
});
