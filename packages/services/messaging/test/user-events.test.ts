import { randomUUID } from 'node:crypto';
import { AUTH_USER_AGGREGATE, assertEventPayload } from '@nova/contracts';
import type { Database, Worker } from '@nova/kernel';
import { type ConsumerTestBed, DATABASE_KINDS, openConsumerTestBed } from '@nova/kernel/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEY_LIMITS } from '../src/domain/key-rules.js';
import { createMessagingHandlers, MESSAGING_MIGRATIONS_DIR } from '../src/index.js';
import type { MessagingTables } from '../src/store/tables.js';
import { createUserEventsConsumer, USER_EVENTS_GROUP } from '../src/workers/user-events-consumer.js';
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

  it('removes the devices and keys of a deleted account and nobody else’s', async () => {
    const ctx = {
      database: messaging,
      eventLog: bed.eventLog,
      logger: bed.logger,
      settings: { keys: KEY_LIMITS },
    };
    const handlers = createMessagingHandlers(ctx);
    const gone = randomUUID();
    const kept = randomUUID();
    const upload = (deviceId: string) => ({
      deviceId,
      identityKey: fakeKey(`id-${deviceId}`),
      signedPreKey: fakeKey(`spk-${deviceId}`),
      oneTimePreKeys: [fakeKey(`${deviceId}-1`), fakeKey(`${deviceId}-2`)],
    });
    await handlers.keys.publish(gone, upload('a'));
    await handlers.keys.publish(gone, upload('b'));
    await handlers.keys.publish(kept, upload('a'));
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
  });
});
