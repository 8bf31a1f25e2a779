import { randomUUID } from 'node:crypto';
import { DATABASE_KINDS, type StartedModules } from '@nova/kernel/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeKey, startMessaging } from './support/start-messaging.js';

// Many senders fetching one device's bundle at once: each one-time pre-key
// is handed out at most once, and the pool runs dry to nulls, never to an error.
describe.each(DATABASE_KINDS)('concurrent key claims on %s', (database) => {
  let nova: StartedModules;
  beforeAll(async () => {
    nova = await startMessaging(database, { workers: false });
  });
  afterAll(() => nova?.close());

  it('20 parallel claims against 10 one-time pre-keys: 10 distinct keys and 10 nulls', async () => {
    const bob = randomUUID();
    const keys = Array.from({ length: 10 }, (_, i) => fakeKey(`race-${i}`));
    const put = await nova.call('PUT', '/api/v1/keys', {
      token: `token-${bob}`,
      body: { deviceId: 'd', identityKey: fakeKey('id'), signedPreKey: fakeKey('spk'), oneTimePreKeys: keys },
    });
    expect(put.status).toBe(204);
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        nova.call('GET', `/api/v1/users/${bob}/keys`, { token: `token-sender-${i}` }),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    const claimed = answers.map(
      (a) => (a.body as { devices: { oneTimePreKey: string | null }[] }).devices[0]?.oneTimePreKey,
    );
    const handedOut = claimed.filter((k): k is string => typeof k === 'string');
    expect(handedOut).toHaveLength(10);
    expect(new Set(handedOut).size).toBe(10);
    expect([...handedOut].sort()).toEqual([...keys].sort());
    expect(claimed.filter((k) => k === null)).toHaveLength(10);
  });
});
