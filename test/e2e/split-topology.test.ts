import { randomBytes, randomUUID } from 'node:crypto';
import { ancestorsOf, OTLP_KIND, type OtlpReceiver, startOtlpReceiver } from '@nova/kernel/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connect,
  type ReceivedFrame,
  type SocketClient,
} from '../../packages/kernel/test/realtime/socket-client.js';
import { type ClusterService, type RunningCluster, startCluster } from './cluster.js';
import { apiCaller, signUp } from './harness.js';
import { httpClient } from './live/client.js';
import { liveWalk } from './live/live-walk.js';
import { defineAuthWalk } from './suites/auth-walk.js';
import { defineContentWalk } from './suites/content-walk.js';
import { defineFeedWalk } from './suites/feed-walk.js';
import { defineMediaWalk } from './suites/media-walk.js';
import { defineNotificationsWalk } from './suites/notifications-walk.js';
import { sdkMessagingWalk } from './suites/sdk-messaging.js';
import type { E2eShape } from './suites/shape.js';
import { defineSocialGraph } from './suites/social-graph.js';

/**
 * The split topology (scripts/cluster.sh): every service its own process and
 * PostgreSQL database, Redis, Kafka, ClickHouse and S3, all client traffic
 * through the gateway. One cluster for the whole file (starting nine
 * processes is the expensive part); the walks run one after the other on it.
 *
 * The live walk included: its stream joins and chat are channels of live's process, which the
 * gateway reaches over a socket of their own beside the socket service's (ADR 035).
 *
 * Nothing collides with files running beside it: the cluster has its own
 * name (databases, Redis prefix, bucket), a free block of ports and a Kafka
 * broker of its own — Nova's consumer groups have fixed names, so on the
 * shared test broker its processes would take the events of
 * kafka-shape.test.ts's servers and the other way round.
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
  readyChecks: ['kafka', 'redis-cache'],
  env: () => ({}),
  shared: running,
  databaseUrl: (service) => running().databaseUrl(service as ClusterService),
};

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  try {
    // ClickHouse and S3Proxy: cluster.sh runs `scripts/clickhouse.sh start` and `s3proxy.sh start`
    // itself (idempotent: the servers the global setup started, or new ones when
    // NOVA_TEST_CLICKHOUSE / NOVA_TEST_S3 are off or another run's teardown stopped them).
    cluster = await startCluster(NAME, {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      // What the walks below ask of their own deployments, all at once: they share this one.
      ARGON2_MEMORY_KIB: '8192',
      ARGON2_TIME_COST: '1',
      REFRESH_REUSE_GRACE_SECONDS: '0',
      REGISTER_MAX_PER_IP: '1000000',
      NOVA_GATEWAY_RATE_LIMIT_PER_IP: '1000000',
      NOVA_GATEWAY_RATE_LIMIT_PER_USER: '1000000',
      FEED_CELEBRITY_FOLLOWERS: '3',
      FEED_PAGE_CACHE_SECONDS: '2',
      FEED_FANOUT_POLL_MS: '50',
      REDIS_COMMAND_TIMEOUT_MS: '500',
      WEB_PUSH_INSECURE_ENDPOINTS: 'true',
      LIVE_END_GRACE_SECONDS: '1',
      NOVA_WS_HEARTBEAT_MS: '1000',
      LOG_LEVEL: 'info',
    });
  } catch (error) {
    await receiver.close();
    throw error;
  }
}, 600_000);

afterAll(async () => {
  try {
    await cluster?.down();
  } finally {
    await receiver?.close();
  }
}, 300_000);

defineAuthWalk(SPLIT);
defineSocialGraph(SPLIT);
defineContentWalk(SPLIT);
defineMediaWalk(SPLIT, {
  kind: 's3',
  endpoint: () => running().settings.S3 ?? '',
  bucket: () => running().settings.S3_BUCKET ?? '',
});
defineFeedWalk(SPLIT);
defineNotificationsWalk(SPLIT);

describe('messaging with the SDK through the gateway (split topology)', () => {
  it('sends, delivers over the socket, catches up offline devices, follows membership and blocks', async () => {
    await sdkMessagingWalk(running().publicUrl);
  }, 240_000);
});

describe('live streams through the gateway (split topology)', () => {
  const isChat = (text: string) => (f: ReceivedFrame) =>
    f.channel === 'stream.chat' && f.type === 'message' && (f.data as { text?: string }).text === text;
  const counted = (streamId: string, n: number) => (f: ReceivedFrame) =>
    f.channel === 'stream.viewers' &&
    (f.data as { streamId?: string; count?: number }).streamId === streamId &&
    (f.data as { count?: number }).count === n;

  it('ingests, plays, chats and ends: stream channels over the one public socket', async () => {
    const cl = running();
    const live = { url: cl.publicUrl, rtmpPort: Number(cl.settings.RTMP_PORT) };
    try {
      await liveWalk(live, live, { followOrder: true });
    } catch (error) {
      console.error(cl.processes.gateway.output().slice(-3000), cl.processes.live.output().slice(-3000));
      throw error;
    }
  }, 300_000);

  it('two viewers join and chat at once: each sees every message of the other once, counts agree', async () => {
    const api = httpClient(running().publicUrl);
    const [owner, ada, bob] = await Promise.all(['owner', 'ada', 'bob'].map((p) => api.account(p)));
    const created = await api.call('POST', '/api/v1/streams', { token: owner?.token, body: {} });
    expect(created.status).toBe(201);
    const streamId = created.body.id as string;
    const sockets: SocketClient[] = [];
    try {
      const viewers = await Promise.all(
        [ada, bob].map((u) => connect(running().publicUrl, { token: u?.token, deviceId: 'web' })),
      );
      sockets.push(...viewers);
      for (const v of viewers) v.send({ channel: 'stream', type: 'join', data: { streamId } });
      await Promise.all(viewers.map((v) => v.next(counted(streamId, 2), 10_000)));
      const N = 10;
      for (let i = 0; i < N; i += 1)
        for (const [who, v] of viewers.entries())
          v.send({ channel: 'stream.chat', type: 'send', data: { streamId, text: `v${who}:${i}` } });
      const all = viewers.flatMap((_, who) => Array.from({ length: N }, (_, i) => `v${who}:${i}`)).sort();
      const chats = (v: SocketClient) =>
        v.frames.filter((f) => f.channel === 'stream.chat' && f.type === 'message').length;
      await expect
        .poll(() => viewers.map(chats), { timeout: 15_000, interval: 100 })
        .toEqual([all.length, all.length]);
      await new Promise((r) => setTimeout(r, 300)); // a duplicate would arrive by now
      for (const v of viewers) {
        const got = v.frames
          .filter((f) => f.channel === 'stream.chat' && f.type === 'message')
          .map((f) => (f.data as { text: string }).text)
          .sort();
        expect(got).toEqual(all);
        expect(v.frames.filter((f) => f.channel === 'error')).toEqual([]);
      }
      expect(
        (await api.call('GET', `/api/v1/streams/${streamId}`, { token: ada?.token })).body.viewerCount,
      ).toBe(2);
    } finally {
      for (const s of sockets) s.ws.terminate();
    }
  }, 120_000);

  it('live killed: its channels answer unavailable on the open socket, messaging’s keep working, then it recovers', async () => {
    const cl = running();
    const api = httpClient(cl.publicUrl);
    const [owner, ada] = await Promise.all(['owner', 'ada'].map((p) => api.account(p)));
    const created = await api.call('POST', '/api/v1/streams', { token: owner?.token, body: {} });
    const streamId = created.body.id as string;
    const join = { channel: 'stream', type: 'join', data: { streamId } };
    const socket = await connect(cl.publicUrl, { token: ada?.token });
    try {
      socket.send(join);
      await socket.next(counted(streamId, 1), 10_000);

      await cl.processes.live.crash();
      const lost = await socket.next((f) => f.channel === 'error', 10_000);
      expect(lost).toMatchObject({ type: 'unavailable', data: { code: 'unavailable', channel: 'stream' } });
      socket.send({ channel: 'stream.chat', type: 'send', data: { streamId, text: 'anyone?' } });
      expect(await socket.next((f) => f.channel === 'error', 10_000)).toMatchObject({
        type: 'unavailable',
        data: { channel: 'stream.chat', type: 'send' },
      });
      // The same socket still carries messaging's channels and its pushes.
      socket.send({ channel: 'socket', type: 'ping', data: 'still here' });
      await socket.next((f) => f.channel === 'socket' && f.type === 'pong');
      socket.send({ channel: 'typing', type: 'start', data: { conversationId: randomUUID() } });
      expect((await socket.next((f) => f.channel === 'error')).data).toMatchObject({ channel: 'typing' });
      expect(socket.ws.readyState).toBe(socket.ws.OPEN);

      await cl.processes.live.restart();
      // Back: joining again through the same socket works (the next frame opens a new socket to live).
      await expect
        .poll(
          async () => {
            socket.send(join);
            const answer = await socket.next(
              (f) => counted(streamId, 1)(f) || (f.channel === 'error' && f.type === 'unavailable'),
              10_000,
            );
            return answer.channel;
          },
          { timeout: 60_000, interval: 500 },
        )
        .toBe('stream.viewers');
      socket.send({ channel: 'stream.chat', type: 'send', data: { streamId, text: 'back again' } });
      await socket.next(isChat('back again'), 10_000);
    } finally {
      socket.ws.terminate();
    }
  }, 180_000);
});

describe('a service process killed during a run (split topology)', () => {
  const call = (method: string, path: string, token?: string, body?: unknown) =>
    // biome-ignore lint/suspicious/noExplicitAny: answers are read field by field
    apiCaller<any>((p) => `${running().publicUrl}${p}`)(method, path, token, body);

  it('answers 503 for its paths only while the rest serves, and recovers when it is started again', async () => {
    const cl = running();
    const ada = await signUp((p) => `${cl.publicUrl}${p}`, `kill${Date.now().toString(36)}`);
    expect((await call('GET', '/feed', ada.token)).status).toBe(200);

    await cl.processes.feed.crash(); // SIGKILL: no shutdown runs, the socket just goes away
    const during = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        i % 2 === 0
          ? call('GET', i % 4 === 0 ? '/feed' : '/discover/trending', ada.token)
          : call('GET', '/users/me', ada.token),
      ),
    );
    for (const [i, answer] of during.entries()) {
      if (i % 2 === 1) {
        expect(answer.status).toBe(200);
        continue;
      }
      expect(answer.status).toBe(503);
      expect(answer.headers.get('content-type')).toContain('application/problem+json');
      expect(answer.body.code).toBe('upstream_unavailable');
      expect(Number(answer.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
    // Every other service keeps serving through the same gateway, writes included.
    expect((await call('POST', '/posts', ada.token, { text: 'while the feed is down' })).status).toBe(201);
    expect((await call('GET', '/notifications', ada.token)).status).toBe(200);
    expect((await call('GET', '/conversations', ada.token)).status).toBe(200);
    // The gateway itself stays ready: one upstream down degrades it, no more.
    const ready = await fetch(`${cl.publicUrl}/health/ready`);
    expect(ready.status).toBe(200);
    const { checks } = (await ready.json()) as { checks: Record<string, { status: string }> };
    expect(checks['upstream-feed']?.status).toBe('degraded');
    expect(checks['upstream-content']?.status).toBe('ok');

    await cl.processes.feed.restart(); // `cluster.sh start feed` after clearing the stale pid file
    await expect
      .poll(async () => (await call('GET', '/feed', ada.token)).status, { timeout: 30_000, interval: 250 })
      .toBe(200);
    // The post made while it was down reached the feed through Kafka once it was back.
    await expect
      .poll(async () => (await call('GET', '/feed', ada.token)).body.items?.length, {
        timeout: 30_000,
        interval: 250,
      })
      .toBe(1);
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
    const servers = () => spans().filter((s) => s.kind === OTLP_KIND.server);
    const parts = () => {
      const trace = spans();
      const edge = servers().find((s) => s.parentSpanId === clientSpan);
      const auth = servers().find((s) => s !== edge && s.name === 'POST /api/v1/auth/register');
      const outbox = trace.find((s) => s.kind === OTLP_KIND.producer);
      const consumer = trace.find(
        (s) =>
          s.kind === OTLP_KIND.consumer &&
          String(s.attributes['messaging.consumer.group.name']).startsWith('social.'),
      );
      return { trace, edge, auth, outbox, consumer };
    };
    // Each process exports in batches of its own: wait until every part has arrived (the
    // failure names what is missing, and what did arrive).
    const missing = () => {
      const found = parts();
      const absent = Object.entries(found).flatMap(([part, span]) => (span ? [] : [part]));
      return absent.length === 0
        ? []
        : [...absent, found.trace.map((s) => `${s.service}:${s.kind}:${s.name}`).join(', ')];
    };
    await expect.poll(missing, { timeout: 30_000, interval: 200 }).toEqual([]);
    const { trace, edge, auth, outbox, consumer } = parts();
    if (!edge || !auth || !outbox || !consumer) throw new Error('unreachable: polled above');
    // The gateway's span is the root of what the servers did: the client's span is its parent.
    expect(ancestorsOf(auth, trace)).toContainEqual(edge);
    expect(outbox.name).toBe('outbox write auth');
    expect(ancestorsOf(outbox, trace)).toContainEqual(auth);
    // Across the Kafka hop, into another process: the consumer's span hangs under the producer's.
    expect(consumer.parentSpanId).toBe(outbox.spanId);
    // Three processes contributed, each exporting under its own name (cluster.sh: nova-<target>).
    const services = new Set(trace.map((s) => s.service));
    for (const target of ['gateway', 'auth', 'social']) expect(services).toContain(`nova-${target}`);
  }, 120_000);
});
