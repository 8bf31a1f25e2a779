import { randomUUID } from 'node:crypto';
import type { StartedModules } from '@nova/kernel/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEY_BASE64_MAX } from '../src/domain/key-rules.js';
import { fakeKey, startMessaging } from './support/start-messaging.js';

// The routes over real HTTP on the production boot (edge, schemas,
// problem+json); auth's stand-in maps "token-<userId>" to a principal.
describe('messaging key routes over HTTP', () => {
  let nova: StartedModules;
  beforeAll(async () => {
    nova = await startMessaging('pglite', { workers: false });
  });
  afterAll(() => nova?.close());

  const api = (method: string, path: string, as?: string, body?: unknown) =>
    nova.call(method, `/api/v1${path}`, {
      ...(as ? { token: `token-${as}` } : {}),
      ...(body !== undefined ? { body } : {}),
    });
  const upload = (deviceId: string, oneTimePreKeys: string[], tag = deviceId) => ({
    deviceId,
    identityKey: fakeKey(`id-${tag}`),
    signedPreKey: fakeKey(`spk-${tag}`),
    oneTimePreKeys,
  });

  it('publishes a device, shows its pool to the owner and hands bundles to others', async () => {
    const bob = randomUUID();
    const alice = randomUUID();
    const put = await api('PUT', '/keys', bob, upload('phone-1', [fakeKey('k1'), fakeKey('k2')]));
    expect(put.status).toBe(204);
    expect((await api('GET', '/keys', bob)).body).toEqual({
      devices: [{ deviceId: 'phone-1', oneTimePreKeysLeft: 2 }],
    });
    const bundles = await api('GET', `/users/${bob}/keys`, alice);
    expect(bundles).toMatchObject({
      status: 200,
      body: {
        devices: [
          {
            deviceId: 'phone-1',
            identityKey: fakeKey('id-phone-1'),
            signedPreKey: fakeKey('spk-phone-1'),
            oneTimePreKey: fakeKey('k1'),
          },
        ],
      },
    });
    expect((await api('GET', `/users/${bob}/keys`, alice)).body).toMatchObject({
      devices: [{ oneTimePreKey: fakeKey('k2') }],
    });
    expect((await api('GET', `/users/${bob}/keys`, alice)).body).toMatchObject({
      devices: [{ oneTimePreKey: null }],
    });
    expect((await api('GET', '/keys', bob)).body).toEqual({
      devices: [{ deviceId: 'phone-1', oneTimePreKeysLeft: 0 }],
    });
    expect((await api('GET', `/users/${randomUUID()}/keys`, alice)).body).toEqual({ devices: [] });
    expect((await api('GET', '/keys', alice)).body).toEqual({ devices: [] });
  });

  it('requires a caller', async () => {
    const bob = randomUUID();
    expect((await api('PUT', '/keys', undefined, upload('d', []))).status).toBe(401);
    expect((await api('GET', '/keys')).status).toBe(401);
    expect((await api('GET', `/users/${bob}/keys`)).status).toBe(401);
  });

  it('answers bad input with a 400 problem and changes nothing', async () => {
    const bob = randomUUID();
    expect((await api('PUT', '/keys', bob, upload('d', [fakeKey('first')]))).status).toBe(204);
    const bad: [string, unknown][] = [
      ['empty device id', upload('', [])],
      ['device id with a space', upload('my phone', [])],
      ['device id too long', upload('x'.repeat(65), [])],
      ['identity key not base64', { ...upload('d', []), identityKey: 'not base64!' }],
      ['signed pre-key badly padded', { ...upload('d', []), signedPreKey: 'abc' }],
      ['key over 1 KiB', { ...upload('d', []), identityKey: 'A'.repeat(KEY_BASE64_MAX + 4) }],
      ['one-time pre-key not base64', upload('d', [fakeKey('ok'), '%%%%'])],
      [
        '101 one-time pre-keys',
        upload(
          'd',
          Array.from({ length: 101 }, (_, i) => fakeKey(`n${i}`)),
        ),
      ],
      ['the same one-time pre-key twice', upload('d', [fakeKey('dup'), fakeKey('dup')])],
      ['missing one-time pre-keys', { deviceId: 'd', identityKey: fakeKey('i'), signedPreKey: fakeKey('s') }],
      ['unknown member', { ...upload('d', []), extra: 1 }],
    ];
    for (const [why, body] of bad) {
      const answer = await api('PUT', '/keys', bob, body);
      expect({ why, status: answer.status }).toEqual({ why, status: 400 });
      expect(answer.headers.get('content-type')).toContain('application/problem+json');
    }
    expect((await api('GET', '/users/bad%20id/keys', bob)).status).toBe(400);
    expect((await api('GET', '/keys', bob)).body).toEqual({
      devices: [{ deviceId: 'd', oneTimePreKeysLeft: 1 }],
    });
    expect((await api('GET', `/users/${bob}/keys`, bob)).body).toEqual({
      devices: [
        {
          deviceId: 'd',
          identityKey: fakeKey('id-d'),
          signedPreKey: fakeKey('spk-d'),
          oneTimePreKey: fakeKey('first'),
        },
      ],
    });
  });

  it('caps the unclaimed pool of a device with 400 too_many_one_time_pre_keys', async () => {
    const bob = randomUUID();
    for (let batch = 0; batch < 5; batch++) {
      const keys = Array.from({ length: 100 }, (_, i) => fakeKey(`b${batch}-${i}`));
      expect((await api('PUT', '/keys', bob, upload('d', keys))).status).toBe(204);
    }
    const over = await api('PUT', '/keys', bob, {
      ...upload('d', [fakeKey('one-too-many')]),
      signedPreKey: fakeKey('spk-refused'),
    });
    expect(over).toMatchObject({ status: 400, body: { code: 'too_many_one_time_pre_keys' } });
    expect((await api('GET', '/keys', bob)).body).toEqual({
      devices: [{ deviceId: 'd', oneTimePreKeysLeft: 500 }],
    });
    // A device with a full pool may still rotate its signed pre-key.
    expect(
      (await api('PUT', '/keys', bob, { ...upload('d', []), signedPreKey: fakeKey('spk-2') })).status,
    ).toBe(204);
    expect((await api('GET', `/users/${bob}/keys`, randomUUID())).body).toMatchObject({
      devices: [{ signedPreKey: fakeKey('spk-2'), oneTimePreKey: fakeKey('b0-0') }],
    });
    // A reinstalled device (new identity key) starts a fresh pool: the cap counts only its keys.
    expect((await api('PUT', '/keys', bob, upload('d', [fakeKey('fresh')], 'reinstalled'))).status).toBe(204);
    expect((await api('GET', '/keys', bob)).body).toEqual({
      devices: [{ deviceId: 'd', oneTimePreKeysLeft: 1 }],
    });
  });

  it('documents the owner view in the OpenAPI schema', async () => {
    const spec = await nova.call('GET', '/openapi.json');
    const text = JSON.stringify(spec.body);
    expect(text).toContain('oneTimePreKeysLeft');
  });
});
