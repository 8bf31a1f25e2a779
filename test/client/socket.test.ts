import type { StartedModules } from '@nova/kernel/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { NovaSocket, type SocketFrame, type WebSocketLike } from '../../packages/client/src/index.js';
import { type SignedUpUser, signUp, startNovaInProcess } from './support.js';

/** `ws` as the SDK's WebSocket (Node 20 has no global one). */
const nodeWebSocket = (url: string) => new WebSocket(url) as unknown as WebSocketLike;

function until<T>(subscribe: (resolve: (value: T) => void) => void, timeoutMs = 10_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timed out')), timeoutMs);
    subscribe((value) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
}

describe('the SDK socket against Nova (all-in-one, in process)', () => {
  let nova: StartedModules;
  let baseUrl: string;
  let ada: SignedUpUser;
  const sockets: NovaSocket[] = [];

  const open = (user: SignedUpUser, options: Partial<ConstructorParameters<typeof NovaSocket>[0]> = {}) => {
    const socket = new NovaSocket({
      baseUrl,
      accessToken: (refused) => user.client.accessToken(refused),
      webSocket: nodeWebSocket,
      initialBackoffMs: 50,
      maxBackoffMs: 400,
      ...options,
    });
    sockets.push(socket);
    return socket;
  };

  beforeAll(async () => {
    nova = await startNovaInProcess({
      env: { NOVA_WS_REVALIDATE_MS: '200', NOVA_WS_MAX_FRAME_BYTES: '2048' },
    });
    baseUrl = nova.baseUrl as string;
    ada = await signUp(baseUrl, 'sock');
  });
  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await nova?.close();
  });

  it('connects with the access token and deviceId and receives frames for its device only', async () => {
    const phone = open(ada, { deviceId: 'phone' });
    const laptop = open(ada, { deviceId: 'laptop' });
    await Promise.all([phone.connect(), laptop.connect()]);
    expect(phone.status).toBe('open');
    const onPhone: SocketFrame[] = [];
    const onLaptop: SocketFrame[] = [];
    phone.on('frame', (frame) => onPhone.push(frame));
    laptop.on('frame', (frame) => onLaptop.push(frame));
    const received = until<SocketFrame>((resolve) => laptop.on('frame', resolve));
    await nova.kernel.realtime.publish(
      { userId: ada.id, deviceId: 'laptop' },
      { channel: 'message', type: 'new', data: { n: 1 } },
    );
    expect(await received).toEqual({ channel: 'message', type: 'new', data: { n: 1 } });
    await nova.kernel.realtime.publish({ userId: ada.id }, { channel: 'presence', type: 'x', data: {} });
    await new Promise((r) => setTimeout(r, 200));
    expect(onPhone.map((f) => f.channel)).toEqual(['presence']);
    expect(onLaptop.map((f) => f.channel)).toEqual(['message', 'presence']);
  });

  it('heartbeats keep a quiet socket open; a silent path is detected and the socket reconnects', async () => {
    let silent = false;
    // A WebSocket whose path the test can make swallow everything the server sends (pongs included).
    const muted = (url: string): WebSocketLike => {
      const ws = new WebSocket(url);
      const wrapper: WebSocketLike = {
        get readyState() {
          return ws.readyState;
        },
        send: (data) => ws.send(data),
        close: (code, reason) => ws.close(code, reason),
        onopen: null,
        onmessage: null,
        onclose: null,
        onerror: null,
      };
      ws.onopen = (event) => wrapper.onopen?.(event);
      ws.onmessage = (event) => {
        if (!silent) wrapper.onmessage?.({ data: event.data });
      };
      ws.onclose = (event) => wrapper.onclose?.({ code: event.code, reason: event.reason });
      ws.onerror = (event) => wrapper.onerror?.(event);
      return wrapper;
    };
    // A dead-peer limit well above a stalled event loop's pause on a loaded machine (the server
    // runs in this process): 350 ms closed a healthy socket under a CI load of 20.
    const socket = open(ada, { webSocket: muted, heartbeatMs: 100, deadAfterMs: 1500 });
    const disconnects: number[] = [];
    socket.on('disconnected', ({ code }) => disconnects.push(code));
    await socket.connect();
    await new Promise((r) => setTimeout(r, 1600)); // ~16 heartbeats, all answered
    expect(disconnects).toEqual([]);
    expect(socket.status).toBe('open');

    silent = true;
    const resumed = until<{ resumed: boolean }>((resolve) =>
      socket.on('ready', (ready) => {
        if (ready.resumed) resolve(ready);
      }),
    );
    await until<void>((resolve) => socket.on('disconnected', () => resolve()));
    expect(disconnects).toEqual([4000]);
    silent = false;
    expect((await resumed).resumed).toBe(true);
    expect(socket.status).toBe('open');
  });

  it('reconnects with backoff after the server closes it, and reports resumed', async () => {
    const socket = open(ada, { deviceId: 'tablet' });
    await socket.connect();
    const resumed = until<{ resumed: boolean }>((resolve) => socket.on('ready', resolve));
    const closed = until<{ code: number; retryInMs: number | null }>((resolve) =>
      socket.on('disconnected', resolve),
    );
    // Over NOVA_WS_MAX_FRAME_BYTES: the server closes with 1009.
    socket.send({ channel: 'typing', type: 'start', data: { conversationId: 'x'.repeat(4096) } });
    const close = await closed;
    expect(close.code).toBe(1009);
    expect(close.retryInMs).toBeGreaterThan(0);
    expect((await resumed).resumed).toBe(true);
    const received = until<SocketFrame>((resolve) => socket.on('frame', resolve));
    await nova.kernel.realtime.publish(
      { userId: ada.id, deviceId: 'tablet' },
      { channel: 'message', type: 'new' },
    );
    expect((await received).channel).toBe('message');
  });

  it('after logout (4401) the refresh is refused: the socket reports unauthenticated and stops', async () => {
    const bo = await signUp(baseUrl, 'sock');
    const socket = open(bo);
    await socket.connect();
    const gone = until<void>((resolve) => socket.on('unauthenticated', () => resolve()));
    const closed = until<{ code: number }>((resolve) => socket.on('disconnected', resolve));
    await bo.client.logout();
    expect((await closed).code).toBe(4401);
    await gone;
    expect(socket.status).toBe('closed');
  });
});
