import { AUTH_USER_AGGREGATE, assertEventPayload } from '@nova/contracts';
import { createOutboxWriter, type Database, type Worker } from '@nova/kernel';
import { type ConsumerTestBed, DATABASE_KINDS, openConsumerTestBed } from '@nova/kernel/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEY_LIMITS } from '../src/domain/key-rules.js';
import { createMessagingHandlers, MESSAGING_MIGRATIONS_DIR } from '../src/index.js';
import type { MessagingTables } from '../src/store/tables.js';
import { createUserEventsConsumer, USER_EVENTS_GROUP } from '../src/workers/user-events-consumer.js';
import { createRecordingRealtime } from './support/recording-realtime.js';
import { createSocialDouble } from './support/social-double.js';
import { fakeKey } from './support/start-messaging.js';

// The consumer as it runs in production: auth's outbox is the embedded log,
// events are delivered by the real consumer runtime.
describe.each(DATABASE_KINDS)('messaging user-events consumer on %s', (kind) => {
  let bed: ConsumerTestBed<MessagingTables>;
  let messaging: Database<MessagingTables>;
  let consumer: Worker | undefined;

  beforeAll(async () => {
    bed = await openConsumerTestBed<MessagingTables>(kind, {
      consumer: { name: 'messaging', migrationsDir: MESSAGING_MIGRATIONS_DIR },
      producer: 'auth',
      validate: assertEventPayload,
    });
    messaging = bed.database;
  });
  afterAll(async () => {
    await consumer?.stop(Date.now() + 5000);
    await bed?.close();
  });

  it('removes the devices, keys, envelopes, messages and memberships of a deleted account and nobody else’s', async () => {
    const social = createSocialDouble();
    const ctx = {
      database: messaging,
      outbox: createOutboxWriter(assertEventPayload),
      eventLog: bed.eventLog,
      logger: bed.logger,
      settings: { keys: KEY_LIMITS, retentionMs: 3_600_000, undeliveredRetentionMs: 86_400_000 },
      social,
      realtime: createRecordingRealtime(),
    };
    const handlers = createMessagingHandlers(ctx);
    const gone = social.addUser();
    const kept = social.addUser();
    const third = social.addUser();
    const upload = (deviceId: string) => ({
      deviceId,
      identityKey: fakeKey(`id-${deviceId}`),
      signedPreKey: fakeKey(`spk-${deviceId}`),
      oneTimePreKeys: [fakeKey(`${deviceId}-1`), fakeKey(`${deviceId}-2`)],
    });
    await handlers.keys.publish(gone, upload('a'));
    await handlers.keys.publish(gone, upload('b'));
    await handlers.keys.publish(kept, upload('a'));
    await handlers.keys.publish(third, upload('t'));
    const { conversation: direct } = await handlers.conversations.create(kept, { memberIds: [gone] });
    const { conversation: group } = await handlers.conversations.create(kept, { memberIds: [gone, third] });
    const ciphertext = fakeKey('opaque');
    // To the gone account's two devices, and from it to the others.
    await handlers.messages.send(kept, direct.id, {
      clientMessageId: 'm1',
      envelopes: [
        { deviceId: 'a', userId: gone, ciphertext },
        { deviceId: 'b', userId: gone, ciphertext },
      ],
    });
    await handlers.messages.send(gone, group.id, {
      clientMessageId: 'm2',
      senderDeviceId: 'a',
      envelopes: [
        { deviceId: 'b', userId: gone, ciphertext },
        { deviceId: 'a', userId: kept, ciphertext },
        { deviceId: 't', ciphertext },
      ],
    });
    await handlers.messages.send(third, group.id, {
      clientMessageId: 'm3',
      envelopes: [
        { deviceId: 'a', userId: gone, ciphertext },
        { deviceId: 'b', userId: gone, ciphertext },
        { deviceId: 'a', userId: kept, ciphertext },
      ],
    });
    await bed.publish([
      {
        aggregateType: AUTH_USER_AGGREGATE,
        aggregateId: gone,
        type: 'user.deleted',
        payload: { userId: gone, deletedAt: new Date().toISOString() },
      },
    ]);
    consumer = createUserEventsConsumer(ctx);
    await consumer.start();
    await expect
      .poll(
        async () => {
          const { rows } = await sql<{ n: string }>`
            SELECT count(*)::text AS n FROM ${sql.table(`${messaging.schema}.processed_events`)}
             WHERE group_id = ${USER_EVENTS_GROUP}`.execute(messaging.db);
          return Number(rows[0]?.n);
        },
        { timeout: 15_000, interval: 25 },
      )
      .toBe(1);
    expect(await handlers.queries.ownDevices(gone)).toEqual([]);
    expect(await handlers.queries.ownDevices(kept)).toEqual([{ deviceId: 'a', oneTimePreKeysLeft: 2 }]);
    const { rows } = await sql<{ n: string }>`
      SELECT count(*)::text AS n FROM ${sql.table(`${messaging.schema}.one_time_pre_keys`)}
       WHERE user_id = ${gone}`.execute(messaging.db);
    expect(Number(rows[0]?.n)).toBe(0);
    const count = async (table: string, where: ReturnType<typeof sql>) => {
      const { rows } = await sql<{ n: string }>`
        SELECT count(*)::text AS n FROM ${sql.table(`${messaging.schema}.${table}`)} WHERE ${where}`.execute(
        messaging.db,
      );
      return Number(rows[0]?.n);
    };
    expect(await count('envelopes', sql`recipient_id = ${gone}`)).toBe(0);
    expect(await count('messages', sql`sender_id = ${gone}`)).toBe(0);
    expect(await count('conversation_members', sql`user_id = ${gone}`)).toBe(0);
    // The others keep their conversations and what was sent to them by others.
    expect((await handlers.reads.conversation(kept, group.id)).memberIds.sort()).toEqual(
      [kept, third].sort(),
    );
    const keptHistory = await handlers.reads.messages(kept, group.id, { deviceId: 'a', limit: 10 });
    expect(keptHistory.items.map((m) => m.senderId)).toEqual([third]);
  });
});
