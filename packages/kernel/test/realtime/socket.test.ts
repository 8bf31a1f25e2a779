import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Type } from '@sinclair/typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnyApi, BootContracts } from '../../src/boot/index.js';
import {
  bindInProcess,
  ChannelRefusal,
  CloseCode,
  defineSyncApi,
  registerTypingChannel,
  type ServiceModule,
  UnauthenticatedError,
} from '../../src/index.js';
import { type StartedModules, startModules } from '../../src/testing/index.js';
import { connect, eventually, upgradeStatus } from './socket-client.js';

/**
 * The realtime socket driven like a client: a real listening server booted by
 * the harness, the `ws` client, a probe module registering channels the way
 * a service does at init.
 */

// Tokens are `user-<id>` (any suffix after a second dash names another session); revoked ones are refused.
const revoked = new Set<string>();
const idsApi = defineSyncApi('ids', 1, {
  verify: {
    request: Type.Object({ token: Type.String() }),
    response: Type.Object({ userId: Type.String(), sessionId: Type.String() }),
    idempotent: true,
  },
});
const ids = bindInProcess(idsApi, {
  verify: async ({ token }) => {
    if (!token.startsWith('user-')) throw new UnauthenticatedError('invalid_token');
    if (revoked.has(token)) throw new UnauthenticatedError('token_revoked');
    const [userId = '', session = 'main'] = token.slice(5).split('-');
    return { userId, sessionId: session };
  },
}) as unknown as AnyApi;
const contracts: BootContracts = {
  validate: () => undefined,
  edge: {
    service: 'ids',
    verifier: (api) => async (token) => {
      const verify = api.verify as NonNullable<AnyApi[string]>;
      const { userId, sessionId } = (await verify({ token })) as { userId: string; sessionId: string };
      return { userId, sessionId, tokenId: token, expiresAt: Date.now() / 1000 + 600 };
    },
  },
};

// Conversation c1 has members a and b; typing authorization is the owner's pluggable check.
const conversations: Record<string, string[]> = { c1: ['a', 'b'] };

const probeModule: ServiceModule = {
  name: 'probe',
  dependsOn: [],
  migrationsDir: mkdtempSync(path.join(os.tmpdir(), 'nova-realtime-probe-')),
  async init(kernel) {
    kernel.realtime.register({
      name: 'echo',
      accepts: { say: Type.Object({ text: Type.String({ maxLength: 100 }) }), boom: Type.Object({}) },
      handle(socket, type, data) {
        if (type === 'boom') throw new Error('handler bug');
        const { text } = data as { text: string };
        if (text === 'secret') throw new ChannelRefusal('forbidden', 'not for you');
        socket.send({ channel: 'echo', type: 'said', data: { text, userId: socket.userId } });
      },
    });
    kernel.realtime.register({
      name: 'stream',
      accepts: {
        join: Type.Object({ streamId: Type.String() }),
        leave: Type.Object({ streamId: Type.String() }),
      },
      async handle(socket, type, data) {
        const { streamId } = data as { streamId: string };
        if (type === 'join') await socket.join(`stream:${streamId}`);
        else await socket.leave(`stream:${streamId}`);
        socket.send({ channel: 'stream', type: `${type}ed`, data: { streamId } });
      },
    });
    registerTypingChannel(kernel.realtime, async (userId, conversationId) => {
      const members = conversations[conversationId];
      return members?.includes(userId) ? members : null;
    });
    return { api: {} };
  },
};

const SETTINGS = {
  NOVA_WS_HEARTBEAT_MS: '5000',
  NOVA_WS_REVALIDATE_MS: '200',
  NOVA_WS_FRAMES_PER_SECOND: '5',
  NOVA_WS_FRAME_BURST: '5',
  NOVA_WS_SEND_BUFFER_BYTES: String(64 * 1024),
  NOVA_WS_MAX_FRAME_BYTES: '4096',
  LOG_LEVEL: 'error',
  NOVA_SHUTDOWN_TIMEOUT_MS: '3000',
};

const start = (env: Record<string, string> = {}, redis = false) =>
  startModules({
    modules: [probeModule],
    contracts,
    provided: { ids },
    env: { ...SETTINGS, ...env },
    redis,
    workers: false,
  });

describe('the realtime socket (one process, in-process bus)', () => {
  let nova: StartedModules;
  let baseUrl: string;
  beforeAll(async () => {
    nova = await start();
    baseUrl = nova.baseUrl as string;
  });
  afterAll(() => nova?.close());

  it('answers the upgrade 401 without a token or with a bad one, and accepts header or query tokens', async () => {
    expect(await upgradeStatus(baseUrl)).toBe(401);
    expect(await upgradeStatus(baseUrl, { token: 'bogus' })).toBe(401);
    expect(await upgradeStatus(baseUrl, { token: 'bogus', queryToken: true })).toBe(401);
    expect(await upgradeStatus(baseUrl, { token: 'user-a' })).toBe(101);
    expect(await upgradeStatus(baseUrl, { token: 'user-a', queryToken: true })).toBe(101);
  });

  it('delivers a published frame to every socket of the user, or to one device', async () => {
    const one = await connect(baseUrl, { token: 'user-p', deviceId: 'd1' });
    const two = await connect(baseUrl, { token: 'user-p', queryToken: true, deviceId: 'd2' });
    const other = await connect(baseUrl, { token: 'user-q' });
    try {
      await nova.kernel.realtime.publish(
        { userId: 'p' },
        { channel: 'notification', type: 'new', data: { n: 1 } },
      );
      for (const client of [one, two])
        expect(await client.next((f) => f.channel === 'notification')).toEqual({
          channel: 'notification',
          type: 'new',
          data: { n: 1 },
        });
      await nova.kernel.realtime.publish(
        { userId: 'p', deviceId: 'd2' },
        { channel: 'message', type: 'new', data: { m: 2 } },
      );
      await nova.kernel.realtime.publish(
        { userId: 'p' },
        { channel: 'notification', type: 'new', data: { n: 3 } },
      );
      expect((await two.next((f) => f.channel === 'message')).data).toEqual({ m: 2 });
      // d1 sees the later frame to every device, never the one for d2.
      expect((await one.next((f) => f.channel === 'notification')).data).toEqual({ n: 3 });
      expect(one.frames.filter((f) => f.channel === 'message')).toEqual([]);
      expect(other.frames).toEqual([]);
    } finally {
      for (const c of [one, two, other]) c.ws.close();
    }
  });

  it('answers malformed frames with an error frame and keeps the socket open', async () => {
    const client = await connect(baseUrl, { token: 'user-m' });
    try {
      client.ws.send('not json');
      expect((await client.next((f) => f.channel === 'error')).type).toBe('invalid_frame');
      client.send([1, 2]);
      expect((await client.next((f) => f.channel === 'error')).type).toBe('invalid_frame');
      client.send({ channel: 'nope', type: 'x', data: {} });
      expect((await client.next((f) => f.channel === 'error')).type).toBe('unknown_channel');
      client.send({ channel: 'echo', type: 'shout', data: {} });
      expect((await client.next((f) => f.channel === 'error')).type).toBe('unknown_type');
      await new Promise((r) => setTimeout(r, 1000)); // refill the budget of 5
      client.send({ channel: 'echo', type: 'say', data: { text: 42 } });
      const invalid = await client.next((f) => f.channel === 'error');
      expect(invalid).toMatchObject({
        type: 'invalid_data',
        data: { code: 'invalid_data', channel: 'echo' },
      });
      client.send({ channel: 'echo', type: 'say', data: { text: 'secret' } });
      expect((await client.next((f) => f.channel === 'error')).type).toBe('forbidden');
      client.send({ channel: 'echo', type: 'boom', data: {} });
      expect((await client.next((f) => f.channel === 'error')).type).toBe('internal');
      await new Promise((r) => setTimeout(r, 1000));
      client.send({ channel: 'echo', type: 'say', data: { text: 'still here' } });
      expect((await client.next((f) => f.channel === 'echo')).data).toEqual({
        text: 'still here',
        userId: 'm',
      });
      expect(client.ws.readyState).toBe(client.ws.OPEN);
      // A frame over NOVA_WS_MAX_FRAME_BYTES closes with 1009 (the process stays up).
      client.send({ channel: 'echo', type: 'say', data: { text: 'x'.repeat(5000) } });
      expect((await client.closed).code).toBe(CloseCode.tooBig);
      expect(await upgradeStatus(baseUrl, { token: 'user-m' })).toBe(101);
    } finally {
      client.ws.close();
    }
  });

  it("answers a client's socket.ping with socket.pong (its data echoed), the client-visible heartbeat", async () => {
    const client = await connect(baseUrl, { token: 'user-p' });
    try {
      client.send({ channel: 'socket', type: 'ping', data: { at: 42 } });
      expect(await client.next((f) => f.channel === 'socket' && f.type === 'pong')).toEqual({
        channel: 'socket',
        type: 'pong',
        data: { at: 42 },
      });
      client.send({ channel: 'socket', type: 'shout', data: {} });
      expect((await client.next((f) => f.channel === 'error')).type).toBe('unknown_channel');
    } finally {
      client.ws.close();
    }
  });

  it('limits client frames: over the budget an error frame, a flood closes with 1008', async () => {
    const client = await connect(baseUrl, { token: 'user-f' });
    for (let i = 0; i < 6; i++)
      client.send({ channel: 'typing', type: 'start', data: { conversationId: 'zz' } });
    expect((await client.next((f) => f.type === 'rate_limited')).data).toMatchObject({
      code: 'rate_limited',
    });
    // Only the five admitted frames were handled (each refused: f is not a member).
    expect(client.frames.filter((f) => f.type === 'forbidden')).toHaveLength(5);
    for (let i = 0; i < 50; i++)
      client.send({ channel: 'typing', type: 'start', data: { conversationId: 'zz' } });
    expect((await client.closed).code).toBe(CloseCode.policyViolation);
    expect(client.frames.filter((f) => f.type === 'rate_limited')).toHaveLength(0);
  });

  it('relays typing to the other members of a conversation only', async () => {
    const a = await connect(baseUrl, { token: 'user-a' });
    const b = await connect(baseUrl, { token: 'user-b' });
    const c = await connect(baseUrl, { token: 'user-c' });
    try {
      a.send({ channel: 'typing', type: 'start', data: { conversationId: 'c1' } });
      expect(await b.next((f) => f.channel === 'typing')).toEqual({
        channel: 'typing',
        type: 'start',
        data: { conversationId: 'c1', userId: 'a' },
      });
      c.send({ channel: 'typing', type: 'start', data: { conversationId: 'c1' } });
      expect((await c.next((f) => f.channel === 'error')).type).toBe('forbidden');
      a.send({ channel: 'typing', type: 'stop', data: { conversationId: 'c1' } });
      expect((await b.next((f) => f.channel === 'typing')).type).toBe('stop');
      expect(a.frames.filter((f) => f.channel === 'typing')).toEqual([]);
      expect(c.frames.filter((f) => f.channel === 'typing')).toEqual([]);
    } finally {
      for (const s of [a, b, c]) s.ws.close();
    }
  });

  it('reaches sockets in a room until they leave', async () => {
    const viewer = await connect(baseUrl, { token: 'user-v' });
    try {
      viewer.send({ channel: 'stream', type: 'join', data: { streamId: 's1' } });
      await viewer.next((f) => f.type === 'joined');
      await nova.kernel.realtime.publish(
        { room: 'stream:s1' },
        { channel: 'stream.viewers', type: 'count', data: { n: 1 } },
      );
      expect((await viewer.next((f) => f.channel === 'stream.viewers')).data).toEqual({ n: 1 });
      viewer.send({ channel: 'stream', type: 'leave', data: { streamId: 's1' } });
      await viewer.next((f) => f.type === 'leaveed' || f.type === 'left');
      await nova.kernel.realtime.publish(
        { room: 'stream:s1' },
        { channel: 'stream.viewers', type: 'count', data: { n: 2 } },
      );
      await nova.kernel.realtime.publish({ userId: 'v' }, { channel: 'marker', type: 'end' });
      await viewer.next((f) => f.channel === 'marker');
      expect(viewer.frames.filter((f) => f.channel === 'stream.viewers')).toEqual([]);
    } finally {
      viewer.ws.close();
    }
  });

  it('closes a slow consumer with 4008 instead of buffering without bound', async () => {
    const client = await connect(baseUrl, { token: 'user-s' });
    client.ws.pause();
    const chunk = 'y'.repeat(32 * 1024);
    // Far more than the socket buffers of the loopback hold, while the client reads nothing.
    for (let i = 0; i < 600; i++) {
      await nova.kernel.realtime.publish(
        { userId: 's' },
        { channel: 'notification', type: 'big', data: { i, chunk } },
      );
      if (i % 50 === 0) await new Promise((r) => setTimeout(r, 10));
    }
    client.ws.resume();
    expect((await client.closed).code).toBe(CloseCode.slowConsumer);
    expect(client.frames.length).toBeLessThan(600);
    const metrics = await nova.call('GET', '/metrics');
    expect(metrics.body).toMatch(/nova_ws_closed_total\{code="4008"\} 1/);
    expect(metrics.body).toMatch(/nova_ws_connections \d+/);
  });

  it('tracks presence on connect and disconnect', async () => {
    const client = await connect(baseUrl, { token: 'user-o' });
    expect(await nova.kernel.realtime.presence.online(['o', 'nobody'])).toEqual(new Set(['o']));
    client.ws.close();
    await client.closed;
    await eventually(async () => (await nova.kernel.realtime.presence.online(['o'])).size === 0);
  });

  it('closes the sockets of a revoked token with 4401, not those of other sessions', async () => {
    const revokedClient = await connect(baseUrl, { token: 'user-r-s1' });
    const sameToken = await connect(baseUrl, { token: 'user-r-s1', queryToken: true, deviceId: 'tab2' });
    const otherSession = await connect(baseUrl, { token: 'user-r-s2' });
    try {
      revoked.add('user-r-s1');
      expect((await revokedClient.closed).code).toBe(CloseCode.unauthenticated);
      expect((await sameToken.closed).code).toBe(CloseCode.unauthenticated);
      expect(otherSession.ws.readyState).toBe(otherSession.ws.OPEN);
      expect(await upgradeStatus(baseUrl, { token: 'user-r-s1' })).toBe(401);
    } finally {
      otherSession.ws.close();
    }
  });
});

describe('the realtime socket heartbeat', () => {
  let nova: StartedModules;
  beforeAll(async () => {
    nova = await start({ NOVA_WS_HEARTBEAT_MS: '200' });
  });
  afterAll(() => nova?.close());

  it('keeps answering peers open across heartbeats and closes a peer that stops answering pings', async () => {
    const live = await connect(nova.baseUrl as string, { token: 'user-h' });
    const dead = await connect(nova.baseUrl as string, { token: 'user-h', autoPong: false });
    try {
      const { code } = await dead.closed;
      expect(code).toBe(1006); // terminated: a dead peer gets no close handshake
      expect(live.ws.readyState).toBe(live.ws.OPEN);
      // The live socket answered pings all along: presence still counts it.
      expect((await nova.kernel.realtime.presence.online(['h'])).has('h')).toBe(true);
    } finally {
      live.ws.close();
    }
  });
});

describe('the realtime socket at shutdown', () => {
  it('closes open sockets with 1001', async () => {
    const nova = await start();
    const client = await connect(nova.baseUrl as string, { token: 'user-z' });
    await nova.close();
    expect((await client.closed).code).toBe(CloseCode.goingAway);
  });
});

describe('the realtime socket across two processes (Redis pub/sub)', () => {
  let first: StartedModules;
  let second: StartedModules;
  beforeAll(async () => {
    first = await start({}, true);
    const url = first.config.redis.urls.realtime as string;
    second = await start({ REDIS_URL: url, REDIS_KEY_PREFIX: first.redisPrefix as string });
  });
  afterAll(async () => {
    await second?.close();
    await first?.close();
  });

  it('delivers to a user, a room and typing relays held by the other process', async () => {
    const onSecond = await connect(second.baseUrl as string, { token: 'user-b' });
    const onFirst = await connect(first.baseUrl as string, { token: 'user-a' });
    try {
      await first.kernel.realtime.publish(
        { userId: 'b' },
        { channel: 'message', type: 'new', data: { x: 1 } },
      );
      expect((await onSecond.next((f) => f.channel === 'message')).data).toEqual({ x: 1 });
      onSecond.send({ channel: 'stream', type: 'join', data: { streamId: 'live' } });
      await onSecond.next((f) => f.type === 'joined');
      await first.kernel.realtime.publish(
        { room: 'stream:live' },
        { channel: 'stream.chat', type: 'said', data: { t: 'hi' } },
      );
      expect((await onSecond.next((f) => f.channel === 'stream.chat')).data).toEqual({ t: 'hi' });
      // Typing sent through the first process reaches b on the second.
      onFirst.send({ channel: 'typing', type: 'start', data: { conversationId: 'c1' } });
      expect((await onSecond.next((f) => f.channel === 'typing')).data).toEqual({
        conversationId: 'c1',
        userId: 'a',
      });
      // Presence is shared through the realtime store.
      expect(await first.kernel.realtime.presence.online(['a', 'b'])).toEqual(new Set(['a', 'b']));
    } finally {
      onSecond.ws.close();
      onFirst.ws.close();
    }
  });
});
