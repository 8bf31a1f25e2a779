import type { StartedModules } from '@nova/kernel/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CIPHERTEXT_BASE64_MAX } from '../src/domain/envelope-rules.js';
import { fakeKey, type StartedMessaging, startMessaging } from './support/start-messaging.js';

// The conversation and message routes over real HTTP on the production boot
// (edge, schemas, problem+json, OpenAPI); social's stand-in knows the accounts.
describe('messaging conversation and message routes over HTTP', () => {
  let nova: StartedMessaging;
  beforeAll(async () => {
    nova = await startMessaging('pglite', {
      workers: false,
      env: { NOVA_BODY_LIMIT_BYTES: String(192 * 1024) },
    });
  });
  afterAll(() => nova?.close());

  const api = (method: string, path: string, as?: string, body?: unknown) =>
    nova.call(method, `/api/v1${path}`, {
      ...(as ? { token: `token-${as}` } : {}),
      ...(body !== undefined ? { body } : {}),
    });
  const user = async (...devices: string[]) => {
    const id = nova.social.addUser();
    for (const deviceId of devices)
      expect(
        (
          await api('PUT', '/keys', id, {
            deviceId,
            identityKey: fakeKey(`id-${deviceId}`),
            signedPreKey: fakeKey(`spk-${deviceId}`),
            oneTimePreKeys: [],
          })
        ).status,
      ).toBe(204);
    return id;
  };
  const isProblem = (answer: Awaited<ReturnType<StartedModules['call']>>, status: number, code?: string) => {
    expect(answer.status).toBe(status);
    expect(answer.headers.get('content-type')).toContain('application/problem+json');
    if (code) expect(answer.body.code).toBe(code);
  };

  it('creates, repeats and lists conversations; sends, resends and reads messages', async () => {
    const alice = await user('phone');
    const bob = await user('phone');
    const created = await api('POST', '/conversations', alice, { memberIds: [bob] });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ kind: 'direct', createdBy: alice, lastSeq: 0, readUpTo: 0 });
    const id = created.body.id as string;
    const again = await api('POST', '/conversations', bob, { memberIds: [alice] });
    expect(again).toMatchObject({ status: 200, body: { id } });

    const body = {
      clientMessageId: 'm-1',
      envelopes: [{ deviceId: 'phone', userId: bob, ciphertext: fakeKey('hello') }],
    };
    const sent = await api('POST', `/conversations/${id}/messages`, alice, body);
    expect(sent.status).toBe(201);
    expect(sent.body).toEqual({
      id: expect.any(String),
      conversationId: id,
      seq: 1,
      senderId: alice,
      senderDeviceId: 'phone',
      clientMessageId: 'm-1',
      sentAt: expect.any(String),
    });
    expect(await api('POST', `/conversations/${id}/messages`, alice, body)).toMatchObject({
      status: 201,
      body: sent.body,
    });

    const history = await api('GET', `/conversations/${id}/messages?deviceId=phone`, bob);
    expect(history).toMatchObject({
      status: 200,
      body: {
        items: [
          {
            id: sent.body.id,
            seq: 1,
            senderId: alice,
            envelope: { deviceId: 'phone', ciphertext: fakeKey('hello') },
          },
        ],
        nextCursor: null,
      },
    });
    expect((await api('POST', `/conversations/${id}/read`, bob, { upTo: 1 })).status).toBe(204);
    const listed = await api('GET', '/conversations?limit=5', bob);
    expect(listed).toMatchObject({
      status: 200,
      body: { items: [{ id, lastSeq: 1, readUpTo: 1 }], nextCursor: null },
    });
    expect(await api('GET', `/conversations/${id}`, alice)).toMatchObject({
      status: 200,
      body: { id, readUpTo: 0 },
    });
  });

  it('changes group membership through the documented endpoints', async () => {
    const [owner, member, newcomer] = [await user(), await user(), await user()];
    const group = await api('POST', '/conversations', owner, { memberIds: [member], kind: 'group' });
    expect(group.status).toBe(201);
    const id = group.body.id as string;
    const added = await api('POST', `/conversations/${id}/members`, member, { userIds: [newcomer] });
    expect(added.status).toBe(200);
    expect(added.body.memberIds).toHaveLength(3);
    isProblem(
      await api('DELETE', `/conversations/${id}/members/${newcomer}`, member),
      403,
      'not_conversation_creator',
    );
    expect((await api('DELETE', `/conversations/${id}/members/${newcomer}`, newcomer)).status).toBe(204);
    isProblem(await api('GET', `/conversations/${id}`, newcomer), 404, 'conversation_not_found');
    expect((await api('DELETE', `/conversations/${id}/members/${member}`, owner)).status).toBe(204);
  });

  it('answers bad input, foreign conversations and unknown devices with problems and changes nothing', async () => {
    const alice = await user('phone');
    const bob = await user('phone');
    const stranger = await user('phone');
    const { body: conversation } = await api('POST', '/conversations', alice, { memberIds: [bob] });
    const id = conversation.id as string;
    const send = (as: string, payload: unknown) => api('POST', `/conversations/${id}/messages`, as, payload);
    const ok = (envelope: object) => ({
      clientMessageId: `x${Math.random()}`.replace('.', ''),
      envelopes: [envelope],
    });

    isProblem(await api('POST', '/conversations', undefined, { memberIds: [bob] }), 401);
    isProblem(await api('POST', '/conversations', alice, { memberIds: [] }), 400);
    isProblem(await api('POST', '/conversations', alice, { memberIds: [bob], extra: 1 }), 400);
    isProblem(
      await api('POST', '/conversations', alice, { memberIds: ['no-such-account'] }),
      404,
      'user_not_found',
    );
    isProblem(
      await send(alice, ok({ deviceId: 'watch', userId: bob, ciphertext: 'AAAA' })),
      400,
      'unknown_device',
    );
    isProblem(await send(alice, ok({ deviceId: 'phone', ciphertext: 'not base64!' })), 400);
    isProblem(await send(alice, { envelopes: [] }), 400);
    // One envelope over the per-envelope cap: a schema error naming it.
    const oversized = await send(
      alice,
      ok({ deviceId: 'phone', ciphertext: 'A'.repeat(CIPHERTEXT_BASE64_MAX + 4) }),
    );
    isProblem(oversized, 400, 'validation_failed');
    expect(JSON.stringify(oversized.body.errors)).toContain('ciphertext');
    // A body over NOVA_BODY_LIMIT_BYTES (192 KiB here): 413.
    const big = { deviceId: 'phone', ciphertext: 'A'.repeat(CIPHERTEXT_BASE64_MAX) };
    isProblem(await send(alice, { clientMessageId: 'big', envelopes: [big, big, big, big] }), 413);
    isProblem(
      await send(stranger, ok({ deviceId: 'phone', ciphertext: 'AAAA' })),
      404,
      'conversation_not_found',
    );
    isProblem(await api('GET', `/conversations/${id}/messages`, bob), 400);
    isProblem(
      await api('GET', `/conversations/${id}/messages?deviceId=tablet`, bob),
      404,
      'device_not_found',
    );
    isProblem(
      await api('GET', `/conversations/${id}/messages?deviceId=phone`, stranger),
      404,
      'conversation_not_found',
    );
    isProblem(
      await api('GET', `/conversations/${id}/messages?deviceId=phone&cursor=bogus`, bob),
      400,
      'invalid_cursor',
    );
    isProblem(await api('POST', `/conversations/${id}/read`, bob, { upTo: -1 }), 400);
    isProblem(await api('POST', `/conversations/${id}/read`, stranger, { upTo: 1 }), 404);
    isProblem(
      await api('POST', `/conversations/${id}/members`, alice, { userIds: [stranger] }),
      409,
      'not_a_group',
    );
    expect((await api('GET', `/conversations/${id}`, alice)).body.lastSeq).toBe(0);
  });

  it('documents every messaging route and its answers in /openapi.json', async () => {
    const { body: doc } = await nova.call('GET', '/openapi.json');
    const expected: Record<string, Record<string, string[]>> = {
      '/api/v1/conversations': {
        post: ['200', '201', '400', '401', '403', '404'],
        get: ['200', '400', '401'],
      },
      '/api/v1/conversations/{id}': { get: ['200', '400', '401', '404'] },
      '/api/v1/conversations/{id}/members': { post: ['200', '400', '401', '403', '404', '409'] },
      '/api/v1/conversations/{id}/members/{userId}': { delete: ['204', '400', '401', '403', '404', '409'] },
      '/api/v1/conversations/{id}/messages': {
        post: ['201', '400', '401', '403', '404', '409', '413'],
        get: ['200', '400', '401', '404'],
      },
      '/api/v1/conversations/{id}/read': { post: ['204', '400', '401', '404'] },
    };
    for (const [path, methods] of Object.entries(expected))
      for (const [method, statuses] of Object.entries(methods))
        expect(Object.keys(doc.paths[path][method].responses).sort(), `${method} ${path}`).toEqual(
          statuses.sort(),
        );
    const item =
      doc.paths['/api/v1/conversations/{id}/messages'].get.responses['200'].content['application/json']
        .schema;
    expect(JSON.stringify(item)).toContain('ciphertext');
  });
});
