import { randomBytes, randomUUID } from 'node:crypto';
import {
  createPostgresTestDatabase,
  deleteRedisPrefix,
  privateRedisPrefix,
  TEST_REDIS_URL,
} from '@nova/kernel/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type SocketClient } from '../../packages/kernel/test/realtime/socket-client.js';
import { type RunningNova, type SignedUp, sharedSecretsOf, signUp, startNova } from './harness.js';

/**
 * Messaging scaled out: two `npm start` processes (every service in each) on
 * one PostgreSQL database and one Redis — the embedded event log needs no
 * Kafka, so no consumer group is shared with other suites on the dev broker.
 * Real accounts, real blocks, sockets on both processes, frames crossing
 * between them through the realtime role. The SDK's suite does the real end-to-end
 * encryption; here the "ciphertext" is a known marker plus random bytes, which
 * lets the run prove where the server keeps what a client sends: the marker
 * must appear nowhere (no decoding, no logging of plaintext), and the
 * ciphertext only in messaging's envelopes — not in the outbox, another
 * service's tables, or either process's logs.
 */
describe('messaging across two npm start processes (PostgreSQL, Redis)', () => {
  let database: Awaited<ReturnType<typeof createPostgresTestDatabase>>;
  const redisPrefix = privateRedisPrefix('msg-e2e');
  let main: RunningNova;
  let other: RunningNova;
  const sockets: SocketClient[] = [];
  const marker = `PLAINTEXT-MARKER-${randomUUID()}`;
  const sentCiphertexts: string[] = [];

  beforeAll(async () => {
    database = await createPostgresTestDatabase();
    const shared = {
      DATABASE_URL: database.url,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: redisPrefix,
      ARGON2_MEMORY_KIB: '8192',
      ARGON2_TIME_COST: '1',
      // Live's RTMP ingest on a free port: another server may hold the default 1935.
      RTMP_PORT: '0',
    };
    // One after the other: the first migrates the database and makes the development
    // signing keys, which the second takes from the environment (tokens work on both).
    main = await startNova({ env: shared });
    other = await startNova({ env: { ...shared, ...sharedSecretsOf(main) } });
  }, 180_000);
  afterAll(async () => {
    for (const s of sockets) s.ws.terminate();
    await other?.stop();
    await main?.stop();
    other?.cleanup();
    main?.cleanup();
    await database?.drop();
    await deleteRedisPrefix(redisPrefix);
  });

  const call = async (nova: RunningNova, method: string, path: string, token?: string, body?: unknown) => {
    const response = await fetch(`${nova.url}/api/v1${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    // biome-ignore lint/suspicious/noExplicitAny: the test reads JSON answers field by field
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as any };
  };
  const account = (name: string) => signUp((p) => `${main.url}${p}`, `${name}_${randomUUID().slice(0, 6)}`);
  const publishKeys = async (nova: RunningNova, who: SignedUp, deviceId: string) => {
    const key = () => randomBytes(32).toString('base64');
    const answer = await call(nova, 'PUT', '/keys', who.token, {
      deviceId,
      identityKey: key(),
      signedPreKey: key(),
      oneTimePreKeys: [key(), key()],
    });
    expect(answer.status).toBe(204);
  };
  /** What a client would send: opaque bytes, here the marker and noise so the run can look for both. */
  const ciphertext = () => {
    const value = Buffer.concat([Buffer.from(marker), randomBytes(24)]).toString('base64');
    sentCiphertexts.push(value);
    return value;
  };
  const socket = async (nova: RunningNova, who: SignedUp, deviceId?: string) => {
    const client = await connect(nova.url, { token: who.token, ...(deviceId ? { deviceId } : {}) });
    sockets.push(client);
    return client;
  };
  const frameOf = (channel: string, type?: string) => (f: { channel: string; type: string }) =>
    f.channel === channel && (type === undefined || f.type === type);

  it('two users with two devices each exchange messages live across the processes; offline catch-up, blocks, groups', async () => {
    const alice = await account('alice');
    const bob = await account('bob');
    const carol = await account('carol');
    await publishKeys(other, alice, 'phone');
    await publishKeys(main, alice, 'laptop');
    await publishKeys(main, bob, 'phone');
    await publishKeys(other, bob, 'tablet');
    await publishKeys(main, carol, 'phone');
    // Key bundles are claimed once per device, across processes.
    const bundles = await call(other, 'GET', `/users/${bob.id}/keys`, alice.token);
    expect(bundles.body.devices.map((d: { deviceId: string }) => d.deviceId)).toEqual(['phone', 'tablet']);
    const again = await call(main, 'GET', `/users/${bob.id}/keys`, alice.token);
    expect(again.body.devices[0].oneTimePreKey).not.toBe(bundles.body.devices[0].oneTimePreKey);

    const created = await call(other, 'POST', '/conversations', alice.token, { memberIds: [bob.id] });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    expect((await call(main, 'POST', '/conversations', bob.token, { memberIds: [alice.id] })).status).toBe(
      200,
    );

    const alicePhone = await socket(other, alice, 'phone');
    const aliceLaptop = await socket(main, alice, 'laptop');
    const bobPhone = await socket(main, bob, 'phone');
    const bobTablet = await socket(other, bob, 'tablet');

    const toBob = () => [
      { deviceId: 'phone', userId: bob.id, ciphertext: ciphertext() },
      { deviceId: 'tablet', userId: bob.id, ciphertext: ciphertext() },
      { deviceId: 'laptop', userId: alice.id, ciphertext: ciphertext() },
    ];
    const envelopes = toBob();
    const sent = await call(other, 'POST', `/conversations/${id}/messages`, alice.token, {
      clientMessageId: 'hello-1',
      senderDeviceId: 'phone',
      envelopes,
    });
    expect(sent.status).toBe(201);
    expect((await bobPhone.next(frameOf('message'))).data).toMatchObject({
      messageId: sent.body.id,
      senderId: alice.id,
      senderDeviceId: 'phone',
      ciphertext: envelopes[0]?.ciphertext,
    });
    expect((await bobTablet.next(frameOf('message'))).data).toMatchObject({
      ciphertext: envelopes[1]?.ciphertext,
    });
    expect((await aliceLaptop.next(frameOf('message'))).data).toMatchObject({
      ciphertext: envelopes[2]?.ciphertext,
    });

    // Bob's phone (on main) acknowledges; Alice's phone (on the messaging process) hears it. Then a read receipt.
    bobPhone.send({ channel: 'receipt', type: 'delivered', data: { conversationId: id, upTo: 1 } });
    expect((await alicePhone.next(frameOf('receipt', 'delivered'))).data).toMatchObject({
      userId: bob.id,
      deviceId: 'phone',
      messageIds: [sent.body.id],
    });
    expect((await call(main, 'POST', `/conversations/${id}/read`, bob.token, { upTo: 1 })).status).toBe(204);
    expect((await alicePhone.next(frameOf('receipt', 'read'))).data).toMatchObject({
      userId: bob.id,
      upTo: 1,
    });
    bobTablet.send({ channel: 'typing', type: 'start', data: { conversationId: id } });
    expect((await aliceLaptop.next(frameOf('typing'))).data).toEqual({ conversationId: id, userId: bob.id });

    // The tablet goes offline; two messages later it catches up from its last sequence.
    bobTablet.ws.close();
    await bobTablet.closed;
    for (const n of [2, 3])
      expect(
        (
          await call(main, 'POST', `/conversations/${id}/messages`, alice.token, {
            clientMessageId: `offline-${n}`,
            senderDeviceId: 'laptop',
            envelopes: [
              { deviceId: 'phone', userId: bob.id, ciphertext: ciphertext() },
              { deviceId: 'tablet', userId: bob.id, ciphertext: ciphertext() },
              { deviceId: 'phone', userId: alice.id, ciphertext: ciphertext() },
            ],
          })
        ).body.seq,
      ).toBe(n);
    const caughtUp = await call(
      other,
      'GET',
      `/conversations/${id}/messages?deviceId=tablet&after=1`,
      bob.token,
    );
    expect(caughtUp.body.items.map((m: { seq: number }) => m.seq)).toEqual([2, 3]);

    // A block in social stops the pair in both directions, through either process.
    expect((await call(main, 'POST', `/users/${alice.id}/block`, bob.token)).status).toBe(204);
    const blocked = await call(other, 'POST', `/conversations/${id}/messages`, alice.token, {
      clientMessageId: 'blocked',
      senderDeviceId: 'phone',
      envelopes: toBob(),
    });
    expect(blocked).toMatchObject({ status: 403, body: { code: 'blocked' } });
    expect((await call(main, 'DELETE', `/users/${alice.id}/block`, bob.token)).status).toBe(204);

    // A group with membership changes: carol added by bob, then leaves.
    const group = await call(main, 'POST', '/conversations', alice.token, {
      memberIds: [bob.id],
      kind: 'group',
    });
    expect(group.status).toBe(201);
    const added = await call(other, 'POST', `/conversations/${group.body.id}/members`, bob.token, {
      userIds: [carol.id],
    });
    expect(added.body.memberIds).toHaveLength(3);
    const carolPhone = await socket(main, carol, 'phone');
    const groupSend = await call(other, 'POST', `/conversations/${group.body.id}/messages`, bob.token, {
      clientMessageId: 'group-1',
      senderDeviceId: 'phone',
      envelopes: [
        { deviceId: 'tablet', userId: bob.id, ciphertext: ciphertext() },
        { deviceId: 'phone', userId: alice.id, ciphertext: ciphertext() },
        { deviceId: 'laptop', userId: alice.id, ciphertext: ciphertext() },
        { deviceId: 'phone', userId: carol.id, ciphertext: ciphertext() },
      ],
    });
    expect(groupSend.status).toBe(201);
    expect((await carolPhone.next(frameOf('message'))).data).toMatchObject({ conversationId: group.body.id });
    expect(
      (await call(main, 'DELETE', `/conversations/${group.body.id}/members/${carol.id}`, carol.token)).status,
    ).toBe(204);
    expect((await call(other, 'GET', `/conversations/${group.body.id}`, carol.token)).status).toBe(404);

    // message.sent reached the outbox for every stored message (a consumer-facing contract), with no ciphertext.
    const db = new pg.Client({ connectionString: database.url });
    await db.connect();
    try {
      const { rows } = await db.query(
        `select payload from messaging.outbox where type = 'message.sent' order by seq`,
      );
      expect(rows.map((r) => r.payload.seq)).toEqual([1, 2, 3, 1]);
    } finally {
      await db.end();
    }
  }, 180_000);

  it('keeps the marker nowhere and the ciphertext only in messaging’s envelopes (database and logs)', async () => {
    expect(sentCiphertexts.length).toBeGreaterThan(10);
    const db = new pg.Client({ connectionString: database.url });
    await db.connect();
    try {
      const { rows: tables } = await db.query<{ schema: string; name: string }>(
        `select table_schema as schema, table_name as name from information_schema.tables
          where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema')`,
      );
      expect(tables.length).toBeGreaterThan(20);
      const hits = async (needle: string) => {
        const found: string[] = [];
        for (const { schema, name } of tables) {
          const { rows } = await db.query(
            `select count(*)::int as n from "${schema}"."${name}" t where t::text like '%' || $1 || '%'`,
            [needle],
          );
          if (rows[0].n > 0) found.push(`${schema}.${name}:${rows[0].n}`);
        }
        return found;
      };
      expect(await hits(marker)).toEqual([]);
      // Each ciphertext sent (blocked sends aside) lies in exactly one envelope row, and nowhere else.
      const stored = await hits(sentCiphertexts[0] as string);
      expect(stored).toEqual(['messaging.envelopes:1']);
      const anywhere = await hits(sentCiphertexts.at(-1) as string);
      expect(anywhere).toEqual(['messaging.envelopes:1']);
    } finally {
      await db.end();
    }
    for (const nova of [main, other]) {
      const logs = nova.output();
      expect(logs.length).toBeGreaterThan(0);
      expect(logs).not.toContain(marker);
      for (const value of sentCiphertexts) expect(logs).not.toContain(value);
    }
  });
});
