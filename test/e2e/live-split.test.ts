import { randomBytes } from 'node:crypto';
import { DeleteBucketCommand, DeleteObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import {
  createPostgresTestDatabase,
  deleteRedisPrefix,
  freePort,
  privateRedisPrefix,
  TEST_REDIS_URL,
} from '@nova/kernel/testing';
import { createS3Client, ensureBucket, type S3Settings } from '@nova/s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connect, type SocketClient } from '../../packages/kernel/test/realtime/socket-client.js';
import { type RunningNova, sharedSecretsOf, startNova } from './harness.js';
import { httpClient } from './live/client.js';
import { liveWalk } from './live/live-walk.js';

const s3Endpoint = inject('s3Endpoint') || process.env.NOVA_TEST_S3_ENDPOINT || '';

/**
 * Live scaled out: two `nova start` processes on one PostgreSQL database,
 * one Redis (viewer sets, pub/sub, rate limits) and one S3 bucket (HLS).
 * The publisher and one viewer are on the first process; the other viewer
 * and the HLS reads on the second. Then the second process is killed: its
 * viewer lapses from the count after the TTL, with no goodbye.
 */
describe.skipIf(s3Endpoint === '')('live streams across two processes (PostgreSQL, Redis, S3)', () => {
  let database: Awaited<ReturnType<typeof createPostgresTestDatabase>>;
  const redisPrefix = privateRedisPrefix('live-e2e');
  const settings: S3Settings = {
    bucket: `nova-live-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`,
    region: 'us-east-1',
    endpoint: s3Endpoint,
    credentials: { accessKeyId: 'nova', secretAccessKey: 'nova-test-secret' },
  };
  const ports = { main: 0, other: 0 };
  let main: RunningNova;
  let other: RunningNova;

  const dump = () => console.error(main?.output().slice(-4000), other?.output().slice(-4000));

  beforeAll(async () => {
    database = await createPostgresTestDatabase();
    await ensureBucket(settings);
    ports.main = await freePort();
    ports.other = await freePort();
    const shared = {
      DATABASE_URL: database.url,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: redisPrefix,
      S3_BUCKET: settings.bucket,
      S3_ENDPOINT: s3Endpoint,
      S3_ACCESS_KEY_ID: 'nova',
      S3_SECRET_ACCESS_KEY: 'nova-test-secret',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      ARGON2_MEMORY_KIB: '8192',
      ARGON2_TIME_COST: '1',
      LIVE_END_GRACE_SECONDS: '1',
      NOVA_WS_HEARTBEAT_MS: '1000',
    };
    main = await startNova({ env: { ...shared, RTMP_PORT: String(ports.main) } });
    other = await startNova({
      env: { ...shared, ...sharedSecretsOf(main), RTMP_PORT: String(ports.other) },
    });
  }, 240_000);

  afterAll(async () => {
    await other?.stop();
    await main?.stop();
    other?.cleanup();
    main?.cleanup();
    await database?.drop();
    await deleteRedisPrefix(redisPrefix);
    const s3 = createS3Client(settings);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: settings.bucket }));
    for (const object of listed.Contents ?? [])
      await s3.send(new DeleteObjectCommand({ Bucket: settings.bucket, Key: object.Key }));
    await s3.send(new DeleteBucketCommand({ Bucket: settings.bucket }));
  });

  it('ingests on one process, plays and chats on both, and ends', async () => {
    try {
      await liveWalk(
        { url: main.url, rtmpPort: ports.main },
        { url: other.url, rtmpPort: ports.other },
        { followOrder: true },
      );
    } catch (error) {
      dump();
      throw error;
    }
  }, 300_000);

  it('forgets the viewers of a process that died once their TTL lapses', async () => {
    const api = httpClient(main.url);
    const owner = await api.account('owner');
    const viewer = await api.account('viewer');
    const stream = await api.call('POST', '/api/v1/streams', { token: owner.token, body: {} });
    expect(stream.status).toBe(201);
    const streamId = stream.body.id as string;
    const joinFrame = { channel: 'stream', type: 'join', data: { streamId } };
    const counted = (n: number) => (f: { channel: string; data?: unknown }) =>
      f.channel === 'stream.viewers' && (f.data as { count?: number }).count === n;
    const sockets: SocketClient[] = [];
    try {
      const here = await connect(main.url, { token: viewer.token });
      const there = await connect(other.url, { token: owner.token });
      sockets.push(here, there);
      here.send(joinFrame);
      await here.next(counted(1));
      there.send(joinFrame);
      await here.next(counted(2));
      await other.crash();
      // TTL = 2 heartbeats + 5 s = 7 s; then the next heartbeat recount on `main` publishes it.
      const started = Date.now();
      await here.next(counted(1), 20_000);
      expect(Date.now() - started).toBeGreaterThan(3000); // lapsed by TTL, not by a goodbye
      expect(
        (await api.call('GET', `/api/v1/streams/${streamId}`, { token: viewer.token })).body.viewerCount,
      ).toBe(1);
    } catch (error) {
      dump();
      throw error;
    } finally {
      for (const socket of sockets) socket.ws.terminate();
    }
  }, 120_000);
});
