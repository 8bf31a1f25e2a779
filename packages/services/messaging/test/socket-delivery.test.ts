import { CloseCode } from '@nova/kernel';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type SocketClient } from '../../../kernel/test/realtime/socket-client.js';
import { fakeKey, type StartedMessaging, startMessaging } from './support/start-messaging.js';

const SOCKET_SETTINGS = {
  NOVA_WS_FRAMES_PER_SECOND: '5',
  NOVA_WS_FRAME_BURST: '5',
  NOVA_WS_HEARTBEAT_MS: '5000',
  LOG_LEVEL: 'silent',
};

/** Users with devices and sockets; `nova` registers the devices (processes share social's stand-in). */
function scenario(nova: () => StartedMessaging) {
  const api = (nova: StartedMessaging, method: string, path: string, as: string, body?: unknown) =>
    nova.call(method, `/api/v1${path}`, { token: `token-${as}`, ...(body !== undefined ? { body } : {}) });
  return {
    api,
    async user(...devices: string[]) {
      const id = nova().social.addUser();
      for (const deviceId of devices)
        await api(nova(), 'PUT', '/keys', id, {
          deviceId,
          identityKey: fakeKey(`id-${deviceId}`),
          signedPreKey: fakeKey(`spk-${deviceId}`),
          oneTimePreKeys: [],
        });
      return id;
    },
    socket: (nova: StartedMessaging, userId: string, deviceId?: string) =>
      connect(nova.baseUrl as string, { token: `token-${userId}`, ...(deviceId ? { deviceId } : {}) }),
  };
}

const frameOf = (channel: string, type?: string) => (f: { channel: string; type: string }) =>
  f.channel === channel && (type === undefined || f.type === type);

describe('messaging on the socket (one process)', () => {
  let nova: StartedMessaging;
  const open: SocketClient[] = [];
  beforeAll(async () => {
    nova = await startMessaging('pglite', { workers: false, env: SOCKET_SETTINGS });
  });
  afterAll(async () => {
    for (const s of open) s.ws.terminate();
    await nova?.close();
  });
  const s = scenario(() => nova);
  const socket = async (userId: string, deviceId?: string) => {
    const client = await s.socket(nova, userId, deviceId);
    open.push(client);
    return client;
  };

  it('pushes each device its own envelope, returns delivered and read receipts, relays typing to members', async () => {
    const alice = await s.user('phone');
    const bob = await s.user('phone', 'tablet');
    const { body: conversation } = await s.api(nova, 'POST', '/conversations', alice, { memberIds: [bob] });
    const id = conversation.id as string;
    const aliceSocket = await socket(alice, 'phone');
    const bobPhone = await socket(bob, 'phone');
    const bobTablet = await socket(bob, 'tablet');
    const bobNoDevice = await socket(bob);

    const sent = await s.api(nova, 'POST', `/conversations/${id}/messages`, alice, {
      clientMessageId: 'live-1',
      envelopes: [
        { deviceId: 'phone', userId: bob, ciphertext: fakeKey('for-phone') },
        { deviceId: 'tablet', ciphertext: fakeKey('for-tablet') },
      ],
    });
    expect(sent.status).toBe(201);
    expect((await bobPhone.next(frameOf('message'))).data).toEqual({
      conversationId: id,
      messageId: sent.body.id,
      seq: 1,
      senderId: alice,
      senderDeviceId: 'phone',
      ciphertext: fakeKey('for-phone'),
      sentAt: sent.body.sentAt,
    });
    expect((await bobTablet.next(frameOf('message'))).data).toMatchObject({
      ciphertext: fakeKey('for-tablet'),
    });

    bobPhone.send({ channel: 'receipt', type: 'delivered', data: { conversationId: id, upTo: 1 } });
    expect((await aliceSocket.next(frameOf('receipt', 'delivered'))).data).toEqual({
      conversationId: id,
      userId: bob,
      deviceId: 'phone',
      messageIds: [sent.body.id],
      upTo: 1,
    });
    expect((await s.api(nova, 'POST', `/conversations/${id}/read`, bob, { upTo: 1 })).status).toBe(204);
    expect((await aliceSocket.next(frameOf('receipt', 'read'))).data).toEqual({
      conversationId: id,
      userId: bob,
      upTo: 1,
    });

    aliceSocket.send({ channel: 'typing', type: 'start', data: { conversationId: id } });
    expect((await bobNoDevice.next(frameOf('typing'))).data).toEqual({ conversationId: id, userId: alice });
    // A socket without a device gets no envelopes (they are per device).
    expect(bobNoDevice.frames.filter(frameOf('message'))).toEqual([]);
  });

  it('answers malformed and forbidden frames with error frames and keeps the socket and the process up', async () => {
    const alice = await s.user('phone');
    const bob = await s.user('phone');
    const stranger = await s.user('phone');
    const { body: conversation } = await s.api(nova, 'POST', '/conversations', alice, { memberIds: [bob] });
    const id = conversation.id as string;
    const strangerSocket = await socket(stranger, 'phone');
    const noDevice = await socket(stranger);
    const bobSocket = await socket(bob, 'phone');

    strangerSocket.ws.send('not json');
    expect((await strangerSocket.next(frameOf('error'))).type).toBe('invalid_frame');
    strangerSocket.send({ channel: 'receipt', type: 'delivered', data: { conversationId: id, upTo: 'all' } });
    expect((await strangerSocket.next(frameOf('error'))).type).toBe('invalid_data');
    strangerSocket.send({ channel: 'receipt', type: 'seen', data: {} });
    expect((await strangerSocket.next(frameOf('error'))).type).toBe('unknown_type');
    strangerSocket.send({ channel: 'typing', type: 'start', data: { conversationId: id } });
    expect((await strangerSocket.next(frameOf('error'))).type).toBe('forbidden');
    strangerSocket.send({ channel: 'receipt', type: 'delivered', data: { conversationId: id, upTo: 1 } });
    expect((await strangerSocket.next(frameOf('error'))).type).toBe('forbidden');
    noDevice.send({ channel: 'receipt', type: 'delivered', data: { conversationId: id, upTo: 1 } });
    expect((await noDevice.next(frameOf('error'))).type).toBe('invalid_data');
    // Nobody else heard the stranger's typing.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(bobSocket.frames.filter(frameOf('typing'))).toEqual([]);

    // A typing flood: over the budget one rate_limited frame, far over it only that socket closes (1008).
    const aliceSocket = await socket(alice, 'phone');
    await new Promise((resolve) => setTimeout(resolve, 1100)); // a full bucket
    for (let i = 0; i < 7; i++)
      aliceSocket.send({ channel: 'typing', type: 'start', data: { conversationId: id } });
    expect((await aliceSocket.next(frameOf('error', 'rate_limited'))).data).toMatchObject({
      code: 'rate_limited',
    });
    expect(aliceSocket.ws.readyState).toBe(aliceSocket.ws.OPEN);
    for (let i = 0; i < 60; i++)
      aliceSocket.send({ channel: 'typing', type: 'start', data: { conversationId: id } });
    expect((await aliceSocket.closed).code).toBe(CloseCode.policyViolation);

    // The process and the other sockets are fine: bob still gets messages live.
    expect((await nova.call('GET', '/health/live')).status).toBe(200);
    const sent = await s.api(nova, 'POST', `/conversations/${id}/messages`, alice, {
      clientMessageId: 'after-flood',
      envelopes: [{ deviceId: 'phone', userId: bob, ciphertext: fakeKey('still-here') }],
    });
    expect(sent.status).toBe(201);
    expect((await bobSocket.next(frameOf('message'))).data).toMatchObject({
      ciphertext: fakeKey('still-here'),
    });
  });

  it('lets a reconnecting device resume from its last sequence without loss', async () => {
    const alice = await s.user('phone');
    const bob = await s.user('phone');
    const { body: conversation } = await s.api(nova, 'POST', '/conversations', alice, { memberIds: [bob] });
    const id = conversation.id as string;
    const send = (n: number) =>
      s.api(nova, 'POST', `/conversations/${id}/messages`, alice, {
        clientMessageId: `r${n}`,
        envelopes: [{ deviceId: 'phone', userId: bob, ciphertext: fakeKey(`m${n}`) }],
      });
    const bobSocket = await socket(bob, 'phone');
    await send(1);
    const last = (await bobSocket.next(frameOf('message'))).data as { seq: number };
    bobSocket.ws.close();
    await bobSocket.closed;
    for (const n of [2, 3, 4]) await send(n);
    const resumed = await s.api(
      nova,
      'GET',
      `/conversations/${id}/messages?deviceId=phone&after=${last.seq}`,
      bob,
    );
    expect(
      resumed.body.items.map((m: { seq: number; envelope: { ciphertext: string } }) => [
        m.seq,
        m.envelope.ciphertext,
      ]),
    ).toEqual([
      [2, fakeKey('m2')],
      [3, fakeKey('m3')],
      [4, fakeKey('m4')],
    ]);
  });
});

describe('messaging on the socket across two processes (PostgreSQL + Redis)', () => {
  let first: StartedMessaging;
  let second: StartedMessaging;
  beforeAll(async () => {
    first = await startMessaging('postgres', { workers: false, redis: true, env: SOCKET_SETTINGS });
    second = await startMessaging('pglite', {
      workers: false,
      social: first.social,
      env: {
        ...SOCKET_SETTINGS,
        DATABASE_URL: first.config.database.defaultUrl as string,
        REDIS_URL: first.config.redis.urls.realtime as string,
        REDIS_KEY_PREFIX: first.redisPrefix as string,
      },
    });
  });
  afterAll(async () => {
    await second?.close();
    await first?.close();
  });
  const s = scenario(() => first);

  it('delivers messages, receipts and typing sent through one process to sockets held by the other', async () => {
    const alice = await s.user('phone');
    const bob = await s.user('phone');
    const { body: conversation } = await s.api(first, 'POST', '/conversations', alice, { memberIds: [bob] });
    const id = conversation.id as string;
    const aliceOnFirst = await s.socket(first, alice, 'phone');
    const bobOnSecond = await s.socket(second, bob, 'phone');
    try {
      const sent = await s.api(first, 'POST', `/conversations/${id}/messages`, alice, {
        clientMessageId: 'x-1',
        envelopes: [{ deviceId: 'phone', userId: bob, ciphertext: fakeKey('across') }],
      });
      expect(sent.status).toBe(201);
      expect((await bobOnSecond.next(frameOf('message'))).data).toMatchObject({
        messageId: sent.body.id,
        ciphertext: fakeKey('across'),
      });
      // The ack on the second process reaches the sender on the first; a send through the second reaches the first.
      bobOnSecond.send({ channel: 'receipt', type: 'delivered', data: { conversationId: id, upTo: 1 } });
      expect((await aliceOnFirst.next(frameOf('receipt', 'delivered'))).data).toMatchObject({
        userId: bob,
        upTo: 1,
      });
      const reply = await s.api(second, 'POST', `/conversations/${id}/messages`, bob, {
        clientMessageId: 'x-2',
        envelopes: [{ deviceId: 'phone', userId: alice, ciphertext: fakeKey('back') }],
      });
      expect(reply.body.seq).toBe(2);
      expect((await aliceOnFirst.next(frameOf('message'))).data).toMatchObject({
        ciphertext: fakeKey('back'),
        seq: 2,
      });
      bobOnSecond.send({ channel: 'typing', type: 'start', data: { conversationId: id } });
      expect((await aliceOnFirst.next(frameOf('typing'))).data).toEqual({ conversationId: id, userId: bob });
    } finally {
      aliceOnFirst.ws.close();
      bobOnSecond.ws.close();
    }
  });
});
