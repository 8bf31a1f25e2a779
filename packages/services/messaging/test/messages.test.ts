import { randomUUID } from 'node:crypto';
import { DATABASE_KINDS } from '@nova/kernel/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messageRepository, type SendState } from '../src/store/message-repository.js';
import { tablesOf } from '../src/store/tables-of.js';
import { purgeDeliveredMessages, purgeUndeliveredEnvelopes } from '../src/workers/retention-job.js';
import {
  failureOf,
  type MessagingFixture,
  openMessagingFixture,
  TEST_RETENTION_MS,
  TEST_UNDELIVERED_RETENTION_MS,
} from './support/fixture.js';

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

describe.each(DATABASE_KINDS)('messages on %s', (kind) => {
  let f: MessagingFixture;
  beforeAll(async () => {
    f = await openMessagingFixture(kind);
  });
  afterAll(() => f?.close());

  const code = failureOf;

  /** alice (phone, laptop) and bob (phone, tablet) in a direct conversation. */
  const pair = async () => {
    const alice = await f.user('phone', 'laptop');
    const bob = await f.user('phone', 'tablet');
    const { conversation } = await f.messaging.conversations.create(alice, { memberIds: [bob] });
    const toBob = (text: string) => [
      { deviceId: 'phone', userId: bob, ciphertext: b64(`${text}/bob-phone`) },
      { deviceId: 'tablet', ciphertext: b64(`${text}/bob-tablet`) },
      { deviceId: 'laptop', userId: alice, ciphertext: b64(`${text}/alice-laptop`) },
    ];
    return { alice, bob, id: conversation.id, toBob };
  };

  it('stores one envelope per device, numbers messages, publishes message.sent without ciphertext and pushes frames', async () => {
    const { alice, bob, id, toBob } = await pair();
    const first = await f.messaging.messages.send(alice, id, {
      clientMessageId: 'c1',
      senderDeviceId: 'phone',
      envelopes: toBob('one'),
    });
    expect(first).toMatchObject({
      created: true,
      message: { seq: 1, senderId: alice, senderDeviceId: 'phone' },
    });
    const second = await f.messaging.messages.send(alice, id, {
      clientMessageId: 'c2',
      senderDeviceId: 'phone',
      envelopes: toBob('two'),
    });
    expect(second.message.seq).toBe(2);
    const [event] = (await f.events('message.sent')).filter((e) => e.payload.conversationId === id);
    expect(event).toEqual({
      type: 'message.sent',
      aggregateid: id,
      payload: {
        messageId: first.message.id,
        conversationId: id,
        conversationKind: 'direct',
        seq: 1,
        senderId: alice,
        senderDeviceId: 'phone',
        recipientIds: [bob],
        sentAt: first.message.sentAt.toISOString(),
      },
    });
    expect(JSON.stringify(await f.events('message.sent'))).not.toContain(b64('one/bob-phone'));
    expect(f.realtime.framesFor(bob, 'tablet')).toContainEqual({
      channel: 'message',
      type: 'new',
      data: {
        conversationId: id,
        messageId: first.message.id,
        seq: 1,
        senderId: alice,
        senderDeviceId: 'phone',
        ciphertext: b64('one/bob-tablet'),
        sentAt: first.message.sentAt.toISOString(),
      },
    });
    // The sender's other device gets its own copy; the sending device none.
    expect(f.realtime.framesFor(alice, 'laptop')).toHaveLength(2);
    expect(f.realtime.framesFor(alice, 'phone')).toHaveLength(0);
    const history = await f.messaging.reads.messages(bob, id, { deviceId: 'phone', limit: 10 });
    expect(history.items.map((m) => [m.seq, m.envelope])).toEqual([
      [1, { deviceId: 'phone', ciphertext: b64('one/bob-phone') }],
      [2, { deviceId: 'phone', ciphertext: b64('two/bob-phone') }],
    ]);
  });

  it('validates the envelope set against the members’ registered devices', async () => {
    const { alice, bob, id, toBob } = await pair();
    const send = (
      envelopes: { deviceId: string; userId?: string; ciphertext: string }[],
      senderDeviceId = 'phone',
    ) =>
      code(
        f.messaging.messages.send(alice, id, {
          clientMessageId: `v-${Math.random()}`,
          senderDeviceId,
          envelopes,
        }),
      );
    expect(await send([...toBob('x'), { deviceId: 'watch', userId: bob, ciphertext: 'AAAA' }])).toMatchObject(
      {
        status: 400,
        code: 'unknown_device',
      },
    );
    // "phone" is both bob's and (as the sender's own) excluded; without userId it names bob's only.
    expect(await send(toBob('x').slice(1))).toMatchObject({
      status: 409,
      code: 'missing_devices',
      missingDevices: [{ userId: bob, deviceId: 'phone' }],
    });
    expect(
      await send([...toBob('x'), { deviceId: 'tablet', userId: bob, ciphertext: 'AAAA' }]),
    ).toMatchObject({
      status: 400,
      code: 'duplicate_envelope',
    });
    expect(
      await send([...toBob('x'), { deviceId: 'phone', userId: alice, ciphertext: 'AAAA' }]),
    ).toMatchObject({
      status: 400,
      code: 'unknown_device',
    });
    // Sending from the laptop: "phone" is then alice's and bob's both.
    expect(
      await send(
        [
          { deviceId: 'phone', ciphertext: 'AAAA' },
          { deviceId: 'tablet', ciphertext: 'AAAA' },
        ],
        'laptop',
      ),
    ).toMatchObject({ status: 400, code: 'ambiguous_device' });
    expect(await send(toBob('x'), 'toaster')).toMatchObject({ status: 400, code: 'unknown_sender_device' });
    expect(
      await code(
        f.messaging.messages.send(alice, id, { clientMessageId: 'no-device', envelopes: toBob('x') }),
      ),
    ).toMatchObject({ status: 400, code: 'sender_device_required' });
    expect(
      await code(f.messaging.messages.send(await f.user('z'), id, { clientMessageId: 'x', envelopes: [] })),
    ).toMatchObject({
      status: 404,
      code: 'conversation_not_found',
    });
    // Nothing was stored by any refusal.
    expect((await f.messaging.reads.conversation(alice, id)).lastSeq).toBe(0);
    expect((await f.events('message.sent')).filter((e) => e.payload.conversationId === id)).toEqual([]);
  });

  it('sends in two statements: the state read and one store with its message.sent (no transaction)', async () => {
    const { alice, id, toBob } = await pair();
    const before = f.database.stats.queries;
    const { created } = await f.messaging.messages.send(alice, id, {
      clientMessageId: 'two-statements',
      senderDeviceId: 'phone',
      envelopes: toBob('x'),
    });
    expect(created).toBe(true);
    expect(f.database.stats.queries - before).toBe(2);
    expect(
      (await f.events('message.sent'))
        .filter((e) => e.payload.conversationId === id)
        .map((e) => e.payload.seq),
    ).toEqual([1]);
  });

  it('stores a message once however many times its clientMessageId is sent at the same time', async () => {
    const { alice, id, toBob } = await pair();
    const sends = await Promise.all(
      Array.from({ length: 20 }, () =>
        f.messaging.messages.send(alice, id, {
          clientMessageId: 'race',
          senderDeviceId: 'phone',
          envelopes: toBob('r'),
        }),
      ),
    );
    expect(new Set(sends.map((s) => s.message.id)).size).toBe(1);
    expect(sends.filter((s) => s.created)).toHaveLength(1);
    expect((await f.messaging.reads.conversation(alice, id)).lastSeq).toBe(1);
    expect((await f.events('message.sent')).filter((e) => e.payload.conversationId === id)).toHaveLength(1);
    // Distinct ids sent at once get distinct, gapless sequences.
    const many = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        f.messaging.messages.send(alice, id, {
          clientMessageId: `p${i}`,
          senderDeviceId: 'phone',
          envelopes: toBob(`${i}`),
        }),
      ),
    );
    expect(many.map((s) => s.message.seq).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 2),
    );
  });

  it('stores nothing when the sequence or the membership changed after the send read its state', async () => {
    const { alice, bob, id, toBob } = await pair();
    const view = () => messageRepository.sendView(f.database.db, id, alice, 'stale');
    const insert = async (state: SendState) => {
      const { rows } = await messageRepository
        .insertStatement(
          f.database.db,
          {
            id: randomUUID(),
            conversationId: id,
            seq: state.lastSeq + 1,
            senderId: alice,
            senderDeviceId: 'phone',
            clientMessageId: 'stale',
            sentAt: new Date(),
          },
          [{ recipientId: bob, deviceId: 'phone', ciphertext: b64('stale') }],
          state,
        )
        .execute(f.database.db);
      return rows[0]?.stored === 1;
    };
    const before = (await view()) as SendState;
    expect(await messageRepository.sendView(f.database.db, id, await f.user('phone'), 'x')).toBeUndefined();

    // A send in between: the earlier view is stale and stores nothing.
    await f.messaging.messages.send(alice, id, {
      clientMessageId: 'between',
      senderDeviceId: 'phone',
      envelopes: toBob('b'),
    });
    expect(await insert(before)).toBe(false);

    // A membership change in between (the trigger bumps the version): stale too.
    const fresh = (await view()) as SendState;
    await sql`DELETE FROM ${tablesOf(f.database.db).conversation_members} WHERE conversation_id = ${id} AND user_id = ${bob}`.execute(
      f.database.db,
    );
    const after = (await view()) as SendState;
    expect(after.membersVersion).toBeGreaterThan(fresh.membersVersion);
    expect(await insert(fresh)).toBe(false);
    expect((await f.messaging.reads.conversation(alice, id)).lastSeq).toBe(1);

    // The current view stores.
    expect(await insert(after)).toBe(true);
    expect((await f.messaging.reads.conversation(alice, id)).lastSeq).toBe(2);
  });

  it('pages a device’s history, resumes after a sequence and acknowledges delivery to the sender', async () => {
    const { alice, bob, id, toBob } = await pair();
    for (let i = 1; i <= 5; i++)
      await f.messaging.messages.send(alice, id, {
        clientMessageId: `h${i}`,
        senderDeviceId: 'phone',
        envelopes: toBob(`${i}`),
      });
    const page1 = await f.messaging.reads.messages(bob, id, { deviceId: 'tablet', limit: 2 });
    expect(page1.items.map((m) => m.seq)).toEqual([1, 2]);
    const page2 = await f.messaging.reads.messages(bob, id, {
      deviceId: 'tablet',
      limit: 2,
      cursor: page1.nextCursor as string,
    });
    expect(page2.items.map((m) => m.seq)).toEqual([3, 4]);
    const before = f.realtime.framesFor(alice).filter((frame) => frame.type === 'delivered').length;
    const resumed = await f.messaging.reads.messages(bob, id, { deviceId: 'tablet', limit: 10, after: 3 });
    expect(resumed.items.map((m) => m.seq)).toEqual([4, 5]);
    expect(resumed.nextCursor).toBeNull();
    const delivered = f.realtime
      .framesFor(alice)
      .filter((frame) => frame.type === 'delivered')
      .slice(before);
    expect(delivered).toEqual([
      {
        channel: 'receipt',
        type: 'delivered',
        data: { conversationId: id, userId: bob, deviceId: 'tablet', messageIds: expect.any(Array), upTo: 3 },
      },
    ]);
    expect((delivered[0] as { data: { messageIds: string[] } }).data.messageIds).toHaveLength(3);
    // Acknowledging again sends no second receipt.
    await f.messaging.messages.acknowledge({ userId: bob, deviceId: 'tablet' }, id, 3);
    expect(
      f.realtime
        .framesFor(alice)
        .filter((frame) => frame.type === 'delivered')
        .slice(before),
    ).toHaveLength(1);
    expect(await code(f.messaging.reads.messages(bob, id, { deviceId: 'laptop', limit: 5 }))).toMatchObject({
      status: 404,
      code: 'device_not_found',
    });
    expect(
      await code(f.messaging.reads.messages(await f.user('phone'), id, { deviceId: 'phone', limit: 5 })),
    ).toMatchObject({
      status: 404,
      code: 'conversation_not_found',
    });
  });

  it('stops a blocked direct pair but not a group with a blocked member', async () => {
    const { alice, bob, id, toBob } = await pair();
    f.social.block(bob, alice);
    expect(
      await code(
        f.messaging.messages.send(alice, id, {
          clientMessageId: 'b1',
          senderDeviceId: 'phone',
          envelopes: toBob('b'),
        }),
      ),
    ).toMatchObject({ status: 403, code: 'blocked' });
    expect(
      await code(
        f.messaging.messages.send(bob, id, { clientMessageId: 'b2', senderDeviceId: 'phone', envelopes: [] }),
      ),
    ).toMatchObject({
      status: 403,
      code: 'blocked',
    });
    const carol = await f.user('c');
    const { conversation: group } = await f.messaging.conversations.create(carol, {
      memberIds: [alice, bob],
    });
    const sent = await f.messaging.messages.send(alice, group.id, {
      clientMessageId: 'g1',
      senderDeviceId: 'phone',
      envelopes: [...toBob('g'), { deviceId: 'c', ciphertext: 'AAAA' }],
    });
    expect(sent.message.seq).toBe(1);
    f.social.unblock(bob, alice);
  });

  it('removes messages delivered to every device once past retention, and keeps undelivered ones', async () => {
    const { alice, bob, id, toBob } = await pair();
    for (const n of [1, 2])
      await f.messaging.messages.send(alice, id, {
        clientMessageId: `t${n}`,
        senderDeviceId: 'phone',
        envelopes: toBob(`${n}`),
      });
    // Message 1 reaches all three devices; message 2 only two of them.
    await f.messaging.messages.acknowledge({ userId: bob, deviceId: 'phone' }, id, 2);
    await f.messaging.messages.acknowledge({ userId: bob, deviceId: 'tablet' }, id, 2);
    await f.messaging.messages.acknowledge({ userId: alice, deviceId: 'laptop' }, id, 1);
    expect(await purgeDeliveredMessages(f.ctx, new Date())).toBe(0);
    const later = new Date(Date.now() + TEST_RETENTION_MS + 60_000);
    expect(await purgeDeliveredMessages(f.ctx, later)).toBeGreaterThanOrEqual(1);
    const left = await f.messaging.reads.messages(alice, id, { deviceId: 'laptop', limit: 10 });
    expect(left.items.map((m) => m.seq)).toEqual([2]);
    expect(
      (await f.messaging.reads.messages(bob, id, { deviceId: 'phone', limit: 10 })).items.map((m) => m.seq),
    ).toEqual([2]);
  });

  it('drops an envelope no device acknowledged once past the undelivered retention, then its message', async () => {
    const { alice, bob, id, toBob } = await pair();
    await f.messaging.messages.send(alice, id, {
      clientMessageId: 'u1',
      senderDeviceId: 'phone',
      envelopes: toBob('u'),
    });
    // Bob's devices take it; Alice's laptop never comes back.
    await f.messaging.messages.acknowledge({ userId: bob, deviceId: 'phone' }, id, 1);
    await f.messaging.messages.acknowledge({ userId: bob, deviceId: 'tablet' }, id, 1);
    const seqsOf = async (user: string, deviceId: string) =>
      (await f.messaging.reads.messages(user, id, { deviceId, limit: 10 })).items.map((m) => m.seq);
    // Past the delivered retention only: still owed to the laptop, so nothing of it goes.
    const pastDelivered = new Date(Date.now() + TEST_RETENTION_MS + 60_000);
    await purgeUndeliveredEnvelopes(f.ctx, pastDelivered);
    await purgeDeliveredMessages(f.ctx, pastDelivered);
    expect(await seqsOf(alice, 'laptop')).toEqual([1]);
    expect(await seqsOf(bob, 'phone')).toEqual([1]);
    // Past the undelivered retention: the laptop's envelope goes, and with it the message.
    const pastUndelivered = new Date(Date.now() + TEST_UNDELIVERED_RETENTION_MS + 60_000);
    expect(await purgeUndeliveredEnvelopes(f.ctx, pastUndelivered)).toBeGreaterThanOrEqual(1);
    expect(await purgeDeliveredMessages(f.ctx, pastUndelivered)).toBeGreaterThanOrEqual(1);
    expect(await seqsOf(alice, 'laptop')).toEqual([]);
    expect(await seqsOf(bob, 'phone')).toEqual([]);
  });
});
