import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type ChannelDefinition,
  createLogger,
  createMemoryPubSub,
  createMemoryStore,
  createRealtime,
  type PubSub,
  type RealtimeHub,
} from '@nova/kernel';
import type { ChannelOwner } from '@nova/kernel/boot';
import { Type } from '@sinclair/typebox';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import {
  connect,
  eventually,
  type ReceivedFrame,
  type SocketClient,
} from '../../kernel/test/realtime/socket-client.js';
import { channelRouting, loadChannelTable, serverFrameChannel } from '../src/channel-table.js';
import type { GatewaySettings } from '../src/config.js';
import { createSocketRelay, type SocketRelay } from '../src/socket-relay.js';
import { createUpstream, type Upstream, upstreamMetrics } from '../src/upstream.js';

/**
 * The gateway's socket routing (ADR 035) against two real realtime hubs in
 * two "processes" (their own HTTP servers and sockets) on one pub/sub, as
 * messaging and live are on one Redis: live's channels go to live's process
 * over a second socket, user-wide pushes arrive once, live down answers
 * `unavailable` for its channels only.
 */
const logger = createLogger('silent');
const REALTIME = {
  heartbeatMs: 60_000,
  sendBufferBytes: 1 << 20,
  framesPerSecond: 1000,
  frameBurst: 1000,
  maxFrameBytes: 64 * 1024,
  revalidateMs: 60_000,
};
const CHANNELS: ChannelOwner[] = [
  { channel: 'typing', service: 'messaging' },
  { channel: 'stream', service: 'live' },
  { channel: 'stream.chat', service: 'live' },
  { channel: 'stream.viewers', service: 'live' },
];

/** One service process: a realtime hub behind its own socket port; the Bearer token is the user id. */
interface FakeProcess {
  hub: RealtimeHub;
  url: string;
  /** Authorization and deviceId of every socket it accepted. */
  accepted: { authorization: string | undefined; deviceId: string | null }[];
  stop(): Promise<void>;
  start(): Promise<void>;
}

async function serviceProcess(
  pubsub: PubSub,
  channels: ChannelDefinition[],
  port = 0,
  settings = REALTIME,
): Promise<FakeProcess> {
  const hub = createRealtime({ settings, pubsub, store: createMemoryStore(), logger });
  for (const channel of channels) hub.register(channel);
  const accepted: FakeProcess['accepted'] = [];
  const wss = new WebSocketServer({ noServer: true });
  let server: Server;
  const listen = async (on: number) => {
    server = createServer();
    server.on('upgrade', (request: IncomingMessage, socket, head) => {
      const userId = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1] ?? '';
      const deviceId = new URL(request.url ?? '/', 'http://x').searchParams.get('deviceId');
      accepted.push({ authorization: request.headers.authorization, deviceId });
      wss.handleUpgrade(request, socket, head, (ws) => {
        const principal = { userId, sessionId: `s-${userId}`, tokenId: 't', expiresAt: 2e9 };
        hub.attach(ws, principal, userId, async () => principal, deviceId ?? undefined);
      });
    });
    await new Promise<void>((resolve) => server.listen(on, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  };
  const bound = await listen(port);
  return {
    hub,
    url: `http://127.0.0.1:${bound}`,
    accepted,
    async stop() {
      for (const ws of wss.clients) ws.terminate();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
    async start() {
      await listen(bound);
    },
  };
}

const SETTINGS: GatewaySettings = {
  socketService: 'messaging',
  defaultTimeoutMs: 2000,
  timeouts: {},
  retries: 0,
  breaker: { failureThreshold: 1000, openMs: 100 },
  rateLimit: { perIp: 0, perUser: 0, windowSeconds: 60 },
};

const room = (streamId: string) => `stream:${streamId}`;

describe('the gateway routes socket channels to the process that owns them', () => {
  const pubsub = createMemoryPubSub();
  let messaging: FakeProcess;
  let live: FakeProcess;
  let relay: SocketRelay;
  let gateway: Server;
  let gatewayUrl: string;
  let upstreams: Record<string, Upstream>;
  const clients: SocketClient[] = [];

  const client = async (user: string, deviceId?: string) => {
    const c = await connect(gatewayUrl, { token: user, ...(deviceId ? { deviceId } : {}) });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    messaging = await serviceProcess(pubsub, [
      {
        name: 'typing',
        accepts: { start: Type.Object({ to: Type.String() }) },
        async handle(socket, _type, data) {
          const frame = { channel: 'typing', type: 'started', data: { from: socket.userId } };
          await messaging.hub.publish({ userId: (data as { to: string }).to }, frame);
        },
      },
    ]);
    const liveChannels: ChannelDefinition[] = [
      {
        name: 'stream',
        accepts: { join: Type.Object({ streamId: Type.String() }) },
        async handle(socket, _type, data) {
          const { streamId } = data as { streamId: string };
          if (streamId === 'ended') throw new Error('refused for the test');
          await socket.join(room(streamId));
          await live.hub.publish(
            { room: room(streamId) },
            { channel: 'stream.viewers', type: 'count', data: { streamId, joined: socket.userId } },
          );
        },
      },
      {
        name: 'stream.chat',
        accepts: { send: Type.Object({ streamId: Type.String(), text: Type.String() }) },
        async handle(socket, _type, data) {
          const { streamId, text } = data as { streamId: string; text: string };
          await live.hub.publish(
            { room: room(streamId) },
            { channel: 'stream.chat', type: 'message', data: { streamId, text, senderId: socket.userId } },
          );
        },
      },
      { name: 'stream.viewers', accepts: {} },
    ];
    live = await serviceProcess(pubsub, liveChannels);
    const metrics = upstreamMetrics(new Registry());
    upstreams = {
      messaging: createUpstream('messaging', messaging.url, SETTINGS, metrics, () => undefined),
      live: createUpstream('live', live.url, SETTINGS, metrics, () => undefined),
    };
    relay = createSocketRelay({
      maxFrameBytes: REALTIME.maxFrameBytes,
      sendBufferBytes: REALTIME.sendBufferBytes,
      logger,
      routing: channelRouting(CHANNELS, upstreams, 'messaging'),
    });
    gateway = createServer();
    gateway.on('upgrade', (request: IncomingMessage, socket, head) => {
      const upstream = upstreams.messaging as Upstream;
      const target = new URL(request.url ?? '/', upstream.url);
      target.protocol = 'ws:';
      const headers: Record<string, string> = {};
      if (request.headers.authorization) headers.authorization = request.headers.authorization;
      relay.relay({ request, socket, head, upstream, target, headers });
    });
    await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve));
    gatewayUrl = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`;
  });

  afterEach(() => {
    for (const c of clients.splice(0)) c.ws.terminate();
  });

  afterAll(async () => {
    relay.closeAll();
    gateway.closeAllConnections();
    await new Promise((resolve) => gateway.close(resolve));
    await messaging.stop();
    await live.stop();
    await messaging.hub.close();
    await live.hub.close();
  });

  it('joins and chats on the owner’s process with the same identity; user pushes arrive once', async () => {
    const ada = await client('ada', 'phone-1');
    const bob = await client('bob');
    const before = live.accepted.length;
    ada.send({ channel: 'stream', type: 'join', data: { streamId: 's1' } });
    await ada.next((f) => f.channel === 'stream.viewers' && (f.data as { joined: string }).joined === 'ada');
    // The owner's socket was opened for this client, with its identity and device.
    expect(live.accepted.slice(before)).toEqual([{ authorization: 'Bearer ada', deviceId: 'phone-1' }]);
    expect(live.hub.connections).toBe(1);

    bob.send({ channel: 'stream', type: 'join', data: { streamId: 's1' } });
    await ada.next((f) => f.channel === 'stream.viewers' && (f.data as { joined: string }).joined === 'bob');
    bob.send({ channel: 'stream.chat', type: 'send', data: { streamId: 's1', text: 'hi ada' } });
    const chat = await ada.next((f) => f.channel === 'stream.chat');
    expect(chat.data).toMatchObject({ text: 'hi ada', senderId: 'bob' });

    // messaging's channels still go to messaging; a user-wide push reaches both of ada's
    // upstream sockets, but the client sees it once.
    bob.send({ channel: 'typing', type: 'start', data: { to: 'ada' } });
    await ada.next((f) => f.channel === 'typing');
    await messaging.hub.publish({ userId: 'ada' }, { channel: 'message', type: 'new', data: { n: 1 } });
    await ada.next((f) => f.channel === 'message');
    // Ping through messaging: every frame published before has been delivered by then.
    ada.send({ channel: 'socket', type: 'ping', data: 'sync' });
    await ada.next((f) => f.channel === 'socket' && f.type === 'pong');
    await new Promise((r) => setTimeout(r, 100));
    const seen = ada.frames.filter((f) => f.channel !== 'stream.viewers');
    expect(seen.filter((f) => f.channel === 'message' || f.channel === 'typing')).toEqual([]);
    // One `ready` only (messaging's); live's socket frames stay in the gateway.
    expect(seen.filter((f) => f.channel === 'socket')).toEqual([]);

    // A handler error on live's side comes back as live's error frame.
    ada.send({ channel: 'stream', type: 'join', data: { streamId: 'ended' } });
    const refused = await ada.next((f) => f.channel === 'error');
    expect(refused).toMatchObject({ type: 'internal', data: { channel: 'stream', type: 'join' } });
    // An unknown channel is the socket service's to refuse.
    ada.send({ channel: 'nope', type: 'x' });
    expect((await ada.next((f) => f.channel === 'error')).type).toBe('unknown_channel');

    // The client goes: its socket at live goes with it.
    ada.ws.close();
    bob.ws.close();
    await eventually(() => live.hub.connections === 0 && messaging.hub.connections === 0);
  });

  it('two clients joining and chatting at once: each sees every message once', async () => {
    const users = ['u1', 'u2', 'u3', 'u4'];
    const sockets = await Promise.all(users.map((u) => client(u)));
    await Promise.all(
      sockets.map(async (s, i) => {
        // Twice at once: both frames arrive while the socket to live is still opening.
        s.send({ channel: 'stream', type: 'join', data: { streamId: 'race' } });
        s.send({ channel: 'stream', type: 'join', data: { streamId: 'race' } });
        await s.next(
          (f) => f.channel === 'stream.viewers' && (f.data as { joined: string }).joined === users[i],
        );
      }),
    );
    const PER_CLIENT = 20;
    for (let n = 0; n < PER_CLIENT; n += 1)
      for (const [i, s] of sockets.entries())
        s.send({
          channel: 'stream.chat',
          type: 'send',
          data: { streamId: 'race', text: `${users[i]}:${n}` },
        });
    const expected = users.flatMap((u) => Array.from({ length: PER_CLIENT }, (_, n) => `${u}:${n}`)).sort();
    const texts = (s: SocketClient) =>
      s.frames
        .filter((f: ReceivedFrame) => f.channel === 'stream.chat')
        .map((f) => (f.data as { text: string }).text);
    await eventually(() => sockets.every((s) => texts(s).length >= expected.length), 10_000);
    await new Promise((r) => setTimeout(r, 100));
    for (const s of sockets) expect(texts(s).sort()).toEqual(expected);
    // One socket at live per client, however many frames raced to open it.
    expect(live.hub.connections).toBe(users.length);
  });

  it('closes a client that stops reading with 4008 instead of buffering the upstream for it', async () => {
    // An upstream that never closes its own slow socket, so only the gateway's limit can act.
    const roomy = await serviceProcess(pubsub, [], 0, { ...REALTIME, sendBufferBytes: 1 << 30 });
    const upstream = createUpstream(
      'messaging',
      roomy.url,
      SETTINGS,
      upstreamMetrics(new Registry()),
      () => undefined,
    );
    const strict = createSocketRelay({
      maxFrameBytes: REALTIME.maxFrameBytes,
      sendBufferBytes: 256 * 1024,
      logger,
    });
    const edge = createServer();
    edge.on('upgrade', (request: IncomingMessage, socket, head) => {
      const target = new URL(request.url ?? '/', upstream.url);
      target.protocol = 'ws:';
      const headers = { authorization: request.headers.authorization ?? '' };
      strict.relay({ request, socket, head, upstream, target, headers });
    });
    await new Promise<void>((resolve) => edge.listen(0, '127.0.0.1', resolve));
    try {
      const reader = await connect(`http://127.0.0.1:${(edge.address() as AddressInfo).port}`, {
        token: 'sloth',
      });
      clients.push(reader);
      const closed = new Promise<number>((resolve) => reader.ws.once('close', (code) => resolve(code)));
      // The client stops reading: what the gateway sends piles up in its buffer.
      (reader.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
      const text = 'x'.repeat(20_000);
      for (let i = 0; i < 2000 && roomy.accepted.length > 0; i++) {
        await roomy.hub.publish({ userId: 'sloth' }, { channel: 'typing', type: 'big', data: { i, text } });
        if (i % 10 === 9) await new Promise((resolve) => setTimeout(resolve, 1));
      }
      (reader.ws as unknown as { _socket: { resume(): void } })._socket.resume();
      expect(await closed).toBe(4008);
    } finally {
      strict.closeAll();
      edge.closeAllConnections();
      await new Promise((resolve) => edge.close(resolve));
      await roomy.stop();
      await roomy.hub.close();
    }
  });

  it('live down: its channels answer unavailable, messaging’s keep working, and it recovers', async () => {
    const ada = await client('ada');
    const bob = await client('bob');
    ada.send({ channel: 'stream', type: 'join', data: { streamId: 's2' } });
    await ada.next((f) => f.channel === 'stream.viewers');

    await live.stop(); // the process goes away with the socket open
    const lost = await ada.next((f) => f.channel === 'error');
    expect(lost).toMatchObject({ type: 'unavailable', data: { code: 'unavailable', channel: 'stream' } });
    ada.send({ channel: 'stream.chat', type: 'send', data: { streamId: 's2', text: 'anyone?' } });
    expect(await ada.next((f) => f.channel === 'error')).toMatchObject({
      type: 'unavailable',
      data: { channel: 'stream.chat', type: 'send' },
    });
    // The socket stays open and messaging's channels still work.
    bob.send({ channel: 'typing', type: 'start', data: { to: 'ada' } });
    await ada.next((f) => f.channel === 'typing');
    expect(ada.ws.readyState).toBe(ada.ws.OPEN);

    await live.start();
    ada.send({ channel: 'stream', type: 'join', data: { streamId: 's2' } });
    await ada.next((f) => f.channel === 'stream.viewers' && (f.data as { joined: string }).joined === 'ada');
    ada.send({ channel: 'stream.chat', type: 'send', data: { streamId: 's2', text: 'back' } });
    expect((await ada.next((f) => f.channel === 'stream.chat')).data).toMatchObject({ text: 'back' });
  });
});

describe('the channel table', () => {
  it('is the generated one: live’s channels go to live, messaging’s stay with the socket service', () => {
    const table = loadChannelTable();
    expect(table).toContainEqual({ channel: 'stream', service: 'live' });
    expect(table).toContainEqual({ channel: 'stream.viewers', service: 'live' });
    const metrics = upstreamMetrics(new Registry());
    const at = (service: string, url: string) =>
      createUpstream(service, url, SETTINGS, metrics, () => undefined);
    const split = channelRouting(
      table,
      { messaging: at('messaging', 'http://m:1'), live: at('live', 'http://l:2') },
      'messaging',
    );
    expect(split.ownerOf('stream.chat')?.service).toBe('live');
    expect(split.ownerOf('typing')).toBeUndefined();
    expect(split.ownerOf('socket')).toBeUndefined();
    // Live in the socket service's process (one URL): nothing to route.
    const together = channelRouting(
      table,
      { messaging: at('messaging', 'http://m:1'), live: at('live', 'http://m:1') },
      'messaging',
    );
    expect(together.split).toBe(false);
  });

  it('reads a server frame’s channel without parsing it, and parses anything else', () => {
    expect(
      serverFrameChannel(Buffer.from(JSON.stringify({ channel: 'stream.chat', type: 'm', data: {} }))),
    ).toBe('stream.chat');
    expect(serverFrameChannel(Buffer.from('{"type":"m","channel":"typing"}'))).toBe('typing');
    expect(serverFrameChannel(Buffer.from('{"channel":"a\\"b","type":"m"}'))).toBe('a"b');
    expect(serverFrameChannel(Buffer.from('not json'))).toBeUndefined();
  });
});
