import { randomBytes, randomUUID } from 'node:crypto';
import { DeleteBucketCommand, DeleteObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import {
  deleteRedisPrefix,
  freePort,
  type PrivateRedis,
  TEST_REDIS_URL as REDIS_URL,
  startPrivateRedis,
} from '@nova/kernel/testing';
import { createS3Client, ensureBucket, type S3Settings } from '@nova/s3';
import pg from 'pg';
import { inject } from 'vitest';
import { defineAuthWalk } from './suites/auth-walk.js';
import { defineContentWalk } from './suites/content-walk.js';
import { defineFeedWalk } from './suites/feed-walk.js';
import { defineMediaWalk } from './suites/media-walk.js';
import { defineNotificationsWalk } from './suites/notifications-walk.js';
import type { E2eShape } from './suites/shape.js';
import { defineSocialGraph } from './suites/social-graph.js';

/**
 * The same end-to-end suites with KAFKA_BROKERS set: events travel outbox →
 * relay → Kafka → consumer groups. The suites run one after the other in this
 * file, so the servers never share the (fixed-name) consumer groups at once:
 * every walk that runs `npm start` on Kafka belongs in this file, not in one
 * of its own (two files run in parallel, and two servers in one consumer group
 * would take each other's events into the wrong database).
 */
const kafkaBrokers = () => {
  const brokers = inject('kafkaBrokers') || process.env.NOVA_TEST_KAFKA_BROKERS || '';
  if (!brokers) throw new Error('no Kafka broker: the global setup did not start one (NOVA_TEST_KAFKA=off?)');
  return brokers;
};

const KAFKA_SHAPE: E2eShape = {
  name: 'Kafka event log',
  readyChecks: ['kafka'],
  env: () => ({ KAFKA_BROKERS: kafkaBrokers() }),
};

// The split shape: auth and social as two processes on PostgreSQL, Redis and
// Kafka; social reaches auth only through NOVA_AUTH_URL (gRPC).
const ADMIN_URL = process.env.NOVA_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const SPLIT_DB = `nova_e2e_split_${process.pid}_${Date.now()}`;
const SPLIT_PREFIX = `nova-e2e-split-${process.pid}-${Date.now()}:`;
const admin = async <T>(fn: (client: pg.Client) => Promise<T>): Promise<T> => {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
};

const SPLIT_SHAPE: E2eShape = {
  name: 'auth and social as two processes, gRPC between them',
  readyChecks: ['kafka', 'sync-auth'],
  split: true,
  env: () => ({
    KAFKA_BROKERS: kafkaBrokers(),
    DATABASE_URL: ADMIN_URL.replace(/\/[^/]*$/, `/${SPLIT_DB}`),
    REDIS_URL,
    REDIS_KEY_PREFIX: SPLIT_PREFIX,
    NOVA_INTERNAL_TOKEN: 'e2e-internal-token-0123456789abcdef',
  }),
  async prepare() {
    await admin(async (c) => {
      await c.query(`DROP DATABASE IF EXISTS ${SPLIT_DB} WITH (FORCE)`);
      await c.query(`CREATE DATABASE ${SPLIT_DB}`);
    });
  },
  async release() {
    await admin((c) => c.query(`DROP DATABASE IF EXISTS ${SPLIT_DB} WITH (FORCE)`));
    await deleteRedisPrefix(SPLIT_PREFIX);
  },
};

// The content walk on the all-in-one process with every external engine: its
// own PostgreSQL database (the walk creates it), Redis under a private prefix, Kafka.
const CONTENT_PREFIX = `nova-e2e-content-${process.pid}-${Date.now()}:`;
const FULL_SHAPE: E2eShape = {
  name: 'PostgreSQL, Redis and Kafka',
  readyChecks: ['kafka', 'redis-cache'],
  env: () => ({ KAFKA_BROKERS: kafkaBrokers(), REDIS_URL, REDIS_KEY_PREFIX: CONTENT_PREFIX }),
  release: () => deleteRedisPrefix(CONTENT_PREFIX),
};

defineAuthWalk(KAFKA_SHAPE);
defineSocialGraph(KAFKA_SHAPE);
defineAuthWalk(SPLIT_SHAPE);
defineSocialGraph(SPLIT_SHAPE);
defineContentWalk(FULL_SHAPE);

// The notification walk on the all-in-one process with PostgreSQL (a database
// of its own), Redis (socket frames cross the realtime pub/sub) and Kafka.
const NOTIFICATIONS_PREFIX = `nova-e2e-notifications-${process.pid}-${Date.now()}:`;
defineNotificationsWalk({
  name: 'PostgreSQL, Redis and Kafka',
  postgres: true,
  readyChecks: ['kafka', 'redis-cache'],
  env: () => ({ KAFKA_BROKERS: kafkaBrokers(), REDIS_URL, REDIS_KEY_PREFIX: NOTIFICATIONS_PREFIX }),
  release: () => deleteRedisPrefix(NOTIFICATIONS_PREFIX),
});

// The feed walk on PostgreSQL + Redis + Kafka: the cache role is a Redis this
// suite owns, so it can stop it mid-test.
const FEED_DB = `nova_test_e2e_feed_${process.pid}_${Date.now()}`;
const FEED_PREFIX = `nova-e2e-feed-${randomUUID()}:`;
let feedCache: PrivateRedis | undefined;
// Live's RTMP ingest on a port of its own: another suite's server may hold the default 1935.
let feedRtmpPort = 0;
defineFeedWalk(
  {
    name: 'PostgreSQL, Redis and Kafka',
    readyChecks: ['kafka', 'redis-security', 'redis-cache'],
    env: () => ({
      DATABASE_URL: ADMIN_URL.replace(/\/[^/]*$/, `/${FEED_DB}`),
      REDIS_URL,
      REDIS_KEY_PREFIX: FEED_PREFIX,
      KAFKA_BROKERS: kafkaBrokers(),
      RTMP_PORT: String(feedRtmpPort),
    }),
    async prepare() {
      await admin((c) => c.query(`CREATE DATABASE ${FEED_DB}`));
      feedCache = await startPrivateRedis();
      feedRtmpPort = await freePort();
    },
    async release() {
      await feedCache?.stop();
      await admin((c) => c.query(`DROP DATABASE IF EXISTS ${FEED_DB} WITH (FORCE)`));
      await deleteRedisPrefix(FEED_PREFIX);
    },
  },
  {
    cache: () => {
      if (!feedCache) throw new Error('the private Redis is not started');
      return feedCache;
    },
  },
);

// The media walk with every external engine: PostgreSQL (a database of its
// own), Redis, Kafka and media in an S3-compatible bucket (S3Proxy, started by
// the test setup; NOVA_TEST_S3=off skips it).
const s3Endpoint = inject('s3Endpoint') || process.env.NOVA_TEST_S3_ENDPOINT || '';
if (s3Endpoint) {
  const MEDIA_DB = `nova_test_e2e_media_${process.pid}_${Date.now()}`;
  const MEDIA_PREFIX = `nova-e2e-media-${randomUUID()}:`;
  const bucket: S3Settings = {
    bucket: `nova-e2e-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`,
    region: 'us-east-1',
    endpoint: s3Endpoint,
    credentials: { accessKeyId: 'nova', secretAccessKey: 'nova-test-secret' },
  };
  defineMediaWalk(
    {
      name: 'PostgreSQL, Redis, Kafka and S3',
      readyChecks: ['kafka', 'redis-cache'],
      env: () => ({
        DATABASE_URL: ADMIN_URL.replace(/\/[^/]*$/, `/${MEDIA_DB}`),
        REDIS_URL,
        REDIS_KEY_PREFIX: MEDIA_PREFIX,
        KAFKA_BROKERS: kafkaBrokers(),
        S3_BUCKET: bucket.bucket,
        S3_ENDPOINT: s3Endpoint,
        S3_ACCESS_KEY_ID: 'nova',
        S3_SECRET_ACCESS_KEY: 'nova-test-secret',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      }),
      async prepare() {
        await admin((c) => c.query(`CREATE DATABASE ${MEDIA_DB}`));
        await ensureBucket(bucket);
      },
      async release() {
        await admin((c) => c.query(`DROP DATABASE IF EXISTS ${MEDIA_DB} WITH (FORCE)`));
        await deleteRedisPrefix(MEDIA_PREFIX);
        const client = createS3Client(bucket);
        const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket.bucket }));
        for (const o of listed.Contents ?? [])
          await client.send(new DeleteObjectCommand({ Bucket: bucket.bucket, Key: o.Key }));
        await client.send(new DeleteBucketCommand({ Bucket: bucket.bucket }));
        client.destroy();
      },
    },
    { kind: 's3', endpoint: () => s3Endpoint, bucket: () => bucket.bucket },
  );
}
