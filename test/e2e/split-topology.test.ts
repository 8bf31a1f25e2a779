import { randomBytes } from 'node:crypto';
import { ancestorsOf, OTLP_KIND, type OtlpReceiver, startOtlpReceiver } from '@nova/kernel/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type RunningCluster, startCluster } from './cluster.js';
import { apiCaller, signUp } from './harness.js';
import { defineAuthWalk } from './suites/auth-walk.js';
import { defineContentWalk } from './suites/content-walk.js';
import { defineFeedWalk } from './suites/feed-walk.js';
import { defineNotificationsWalk } from './suites/notifications-walk.js';
import { sdkMessagingWalk } from './suites/sdk-messaging.js';
import type { E2eShape } from './suites/shape.js';
import { defineSocialGraph } from './suites/social-graph.js';

/**
 * The split topology (scripts/cluster.sh): every service its own process and
 * PostgreSQL database, Redis, Kafka, ClickHouse and S3, all traffic through
 * the gateway. One cluster for the whole file (starting nine processes is the
 * expensive part); the walks run one after the other against it.
 *
 * The cluster runs its own Kafka broker: Nova's consumer groups have fixed
 * names, so on the shared test broker its processes would take events meant
 * for kafka-shape.test.ts's servers (which run at the same time) and the
 * other way round.
 */
const NAME = `e2e_${process.pid}_${Date.now().toString(36)}`;
let cluster: RunningCluster | undefined;
let receiver: OtlpReceiver | undefined;

const running = (): RunningCluster => {
  if (!cluster) throw new Error('the cluster did not start');
  return cluster;
};

const SPLIT: E2eShape = {
  name: 'split topology through the gateway',
  readyChecks: ['kafka', 'redis-cache', 'sync-auth'],
  env: () => ({}),
  shared: running,
};

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  const engines: Record<string, string> = {};
  const clickhouse = inject('clickhouseUrl') || process.env.NOVA_TEST_CLICKHOUSE_URL;
  const s3 = inject('s3Endpoint') || process.env.NOVA_TEST_S3_ENDPOINT;
  if (clickhouse) engines.NOVA_CLUSTER_CLICKHOUSE = clickhouse;
  if (s3) engines.NOVA_CLUSTER_S3 = s3;
  cluster = await startCluster(NAME, {
    ...engines,
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    // What the walks below ask of their deployment, all at once (they share this one).
    ARGON2_MEMORY_KIB: '8192',
    ARGON2_TIME_COST: '1',
    REFRESH_REUSE_GRACE_SECONDS: '0',
    REGISTER_MAX_PER_IP: '1000000',
    NOVA_GATEWAY_RATE_LIMIT_PER_IP: '1000000',
    NOVA_GATEWAY_RATE_LIMIT_PER_USER: '1000000',
    FEED_CELEBRITY_FOLLOWERS: '3',
    FEED_PAGE_CACHE_SECONDS: '2',
    FEED_FANOUT_POLL_MS: '50',
    WEB_PUSH_INSECURE_ENDPOINTS: 'true',
    LOG_LEVEL: 'info',
  });
}, 900_000);

afterAll(async () => {
  await cluster?.down();
  await receiver?.close();
}, 300_000);

defineAuthWalk(SPLIT);
defineSocialGraph(SPLIT);
defineContentWalk(SPLIT);
defineFeedWalk(SPLIT);
defineNotificationsWalk(SPLIT);

describe('messaging with the SDK through the gateway (split topology)', () => {
  it('sends, delivers over the socket, catches up offline devices, follows membership and blocks', async () => {
    await sdkMessagingWalk(running().publicUrl);
  }, 240_000);
});

describe('a service process killed during a run (split topology)', () => {
  const call = (method: string, path: string, token?: string, body?: unknown) =>
    apiCaller((p) => `${running().publicUrl}${p}`)(method, path, token, body);

  it('answers 503 for its paths only while the rest serves, and recovers when it returns', async () => {
    const cl = running();
    const ada = await signUp((p) => `${cl.publicUrl}${p}`, `kill${Date.now().toString(36)}`);
    expect((await call('GET', '/feed', ada.token)).status).toBe(200);

    await cl.processes.feed.crash(); // SIGKILL: no shutdown, the socket just goes away
    for (const path of ['/feed', '/discover/trending']) {
      const down = await call('GET', path, ada.token);
      expect(down.status).toBe(503);
      expect(down.headers.get('content-type')).toContain('application/problem+json');
      expect(down.body.code).toBe('upstream_unavailable');
      expect(Number(down.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
    // Every other service keeps serving through the same gateway.
    expect((await call('GET', '/users/me', ada.token)).status).toBe(200);
    expect((await call('POST', '/posts', ada.token, { text: 'while the feed is down' })).status).toBe(201);
    expect((await call('GET', '/notifications', ada.token)).status).toBe(200);
    expect((await call('GET', '/conversations', ada.token)).status).toBe(200);

    await cl.processes.feed.restart();
    await expect
      .poll(async () => (await call('GET', '/feed', ada.token)).status, { timeout: 30_000, interval: 250 })
      .toBe(200);
  }, 240_000);
});

describe('one request traced through the split topology', () => {
  it('gateway → auth → user.registered → social’s consumer: one complete trace at the OTLP receiver', async () => {
    const cl = running();
    const otlp = receiver as OtlpReceiver;
    const traceId = randomBytes(16).toString('hex');
    const clientSpan = randomBytes(8).toString('hex');
    const username = `trace${Date.now().toString(36)}`;
    const response = await fetch(`${cl.publicUrl}/api/v1/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-${clientSpan}-01` },
      body: JSON.stringify({
        email: `${username}@example.test`,
        username,
        password: 'correct horse battery',
      }),
    });
    expect(response.status).toBe(201);
    const spans = () => otlp.spans.filter((s) => s.traceId === traceId);
    const socialConsumer = () =>
      spans().find(
        (s) =>
          s.kind === OTLP_KIND.consumer &&
          String(s.attributes['messaging.consumer.group.name']).startsWith('social.'),
      );
    await expect.poll(() => socialConsumer() !== undefined, { timeout: 30_000, interval: 200 }).toBe(true);
    const trace = spans();
    const servers = trace.filter((s) => s.kind === OTLP_KIND.server);
    // The gateway's span is the root of what the servers did: the client's span is its parent.
    const edge = servers.find((s) => s.parentSpanId === clientSpan);
    expect(edge, JSON.stringify(servers.map((s) => [s.name, s.attributes['nova.target']]))).toBeDefined();
    const auth = servers.find((s) => s !== edge && s.name === 'POST /api/v1/auth/register');
    expect(auth).toBeDefined();
    if (!edge || !auth) return;
    expect(ancestorsOf(auth, trace)).toContainEqual(edge);
    const outbox = trace.find((s) => s.kind === OTLP_KIND.producer);
    expect(outbox?.name).toBe('outbox write auth');
    expect(ancestorsOf(outbox as NonNullable<typeof outbox>, trace)).toContainEqual(auth);
    // Across the Kafka hop, into another process: the consumer's span hangs under the producer's.
    const consumer = socialConsumer();
    expect(consumer?.parentSpanId).toBe(outbox?.spanId);
    // Three processes contributed, each exporting under its own name (cluster.sh: nova-<target>).
    const services = new Set(trace.map((s) => s.service));
    for (const target of ['gateway', 'auth', 'social']) expect(services).toContain(`nova-${target}`);
  }, 120_000);
});
