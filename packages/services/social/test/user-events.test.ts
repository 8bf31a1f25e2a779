import { randomUUID } from 'node:crypto';
import { AUTH_USER_AGGREGATE, assertEventPayload } from '@nova/contracts';
import { createMemoryStore, createOutboxWriter, type Database, type Worker } from '@nova/kernel';
import { type ConsumerTestBed, DATABASE_KINDS, openConsumerTestBed } from '@nova/kernel/testing';
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSocialCache } from '../src/cache/social-cache.js';
import type { SocialContext } from '../src/context.js';
import { createSocialHandlers, SOCIAL_MIGRATIONS_DIR } from '../src/index.js';
import type { SocialTables } from '../src/store/tables.js';
import { tablesOf } from '../src/store/tables-of.js';
import { createUserEventsConsumer, USER_EVENTS_GROUP } from '../src/workers/user-events-consumer.js';

type Registered = { userId: string; username: string; createdAt: string };

// The consumer as it runs in production: auth's outbox is the embedded log,
// events are delivered by the real consumer runtime (lanes, retries, dead
// letters). Only the order in which auth's events reach social is chosen here.
describe.each(DATABASE_KINDS)('social user-events consumer on %s', (kind) => {
  let bed: ConsumerTestBed<SocialTables>;
  let auth: Database<unknown>;
  let social: Database<SocialTables>;
  let ctx: SocialContext;
  let consumer: Worker | undefined;

  beforeAll(async () => {
    bed = await openConsumerTestBed<SocialTables>(kind, {
      consumer: { name: 'social', migrationsDir: SOCIAL_MIGRATIONS_DIR },
      producer: 'auth',
      validate: assertEventPayload,
    });
    auth = bed.producer;
    social = bed.database;
    ctx = {
      database: social,
      outbox: createOutboxWriter(assertEventPayload),
      eventLog: bed.eventLog,
      logger: bed.logger,
      cache: createSocialCache(createMemoryStore(), bed.logger),
    };
  });
  afterEach(async () => {
    await consumer?.stop(Date.now() + 5000);
    consumer = undefined;
  });
  afterAll(async () => {
    await bed?.close();
  });

  const publish = async (...events: { type: string; payload: Registered | { userId: string } }[]) => {
    await bed.publish(
      events.map((e) => ({
        aggregateType: AUTH_USER_AGGREGATE,
        aggregateId: e.payload.userId,
        type: e.type,
        payload:
          e.type === 'user.deleted'
            ? { userId: e.payload.userId, deletedAt: new Date().toISOString() }
            : e.payload,
      })),
    );
  };
  const registered = (userId: string, username: string, createdAt: string) => ({
    type: 'user.registered',
    payload: { userId, username, createdAt },
  });
  const deleted = (userId: string) => ({ type: 'user.deleted', payload: { userId } });

  /** Runs the consumer until every event written so far has an outcome. */
  const drain = async () => {
    if (!consumer) {
      consumer = createUserEventsConsumer(ctx);
      await consumer.start();
    }
    const { rows } = await sql<{ n: string }>`
      SELECT count(*)::text AS n FROM ${sql.table(`${auth.schema}.outbox`)}`.execute(auth.db);
    const total = Number(rows[0]?.n);
    await expect
      .poll(
        async () => {
          const r = await sql<{ n: string }>`
            SELECT count(*)::text AS n FROM ${sql.table(`${social.schema}.processed_events`)}
             WHERE group_id = ${USER_EVENTS_GROUP}`.execute(social.db);
          return Number(r.rows[0]?.n);
        },
        { timeout: 15_000, interval: 25 },
      )
      .toBe(total);
  };
  const deadLetters = async () => {
    const { rows } = await sql<{ type: string; reason: string }>`
      SELECT type, reason FROM ${sql.table(`${social.schema}.dead_letters`)}`.execute(social.db);
    return rows;
  };
  afterEach(async () => {
    // One test's dead letters must not fail the next.
    await sql`DELETE FROM ${sql.table(`${social.schema}.dead_letters`)}`.execute(social.db);
  });
  const profileOf = async (username: string) => {
    const t = tablesOf(social.db);
    const { rows } = await sql<{ id: string; follower_count: number; following_count: number }>`
      SELECT id, follower_count, following_count FROM ${t.profiles}
       WHERE lower(username) = lower(${username})`.execute(social.db);
    return rows;
  };
  const at = (secondsAgo: number) => new Date(Date.now() - secondsAgo * 1000).toISOString();

  it('gives a re-registered username to the new account when the old one is deleted but not yet purged', async () => {
    const name = `alice_${randomUUID().slice(0, 8)}`;
    const [oldId, newId, fan] = [randomUUID(), randomUUID(), randomUUID()];
    await publish(registered(oldId, name, at(60)), registered(fan, `fan_${fan.slice(0, 8)}`, at(60)));
    await drain();
    await createSocialHandlers(ctx).follows.follow(fan, oldId);
    // The deletion reaches social after the new registration (Kafka: other partition;
    // embedded: another lane, or the consumer was behind).
    await publish(registered(newId, name, at(1)));
    await drain();
    expect(await deadLetters()).toEqual([]);
    expect((await profileOf(name)).map((p) => p.id)).toEqual([newId]);
    // The old owner's edges went with it: the fan's counter is exact.
    const [fanProfile] = await createSocialHandlers(ctx).queries.getProfiles([fan]);
    expect(fanProfile?.followingCount).toBe(0);
    await publish(deleted(oldId));
    await drain();
    expect(await deadLetters()).toEqual([]);
    expect((await profileOf(name)).map((p) => p.id)).toEqual([newId]);
  });

  it('keeps the newer owner when the older registration arrives late', async () => {
    const name = `bob_${randomUUID().slice(0, 8)}`;
    const [oldId, newId] = [randomUUID(), randomUUID()];
    await publish(registered(newId, name, at(1)), registered(oldId, name, at(120)), deleted(oldId));
    await drain();
    expect(await deadLetters()).toEqual([]);
    expect((await profileOf(name)).map((p) => p.id)).toEqual([newId]);
  });

  it('never gives a profile back to a purged account (a redelivered or redriven registration)', async () => {
    const name = `carol_${randomUUID().slice(0, 8)}`;
    const gone = randomUUID();
    await publish(registered(gone, name, at(30)), deleted(gone));
    await drain();
    expect(await profileOf(name)).toEqual([]);
    // A second copy of the registration with a new event id (as a redrive or a replay delivers it).
    await publish(registered(gone, name, at(30)));
    await drain();
    expect(await deadLetters()).toEqual([]);
    expect(await profileOf(name)).toEqual([]);
  });

  it('settles many delete/re-register cycles of one username in any interleaving', async () => {
    const name = `dave_${randomUUID().slice(0, 8)}`;
    const ids = Array.from({ length: 6 }, () => randomUUID());
    const events = ids.flatMap((id, i) => {
      const own = [registered(id, name, at(600 - i * 10))];
      return i < ids.length - 1 ? [...own, deleted(id)] : own;
    });
    // Registrations first, deletions last: the worst order for the username index.
    await publish(
      ...events.filter((e) => e.type === 'user.registered').reverse(),
      ...events.filter((e) => e.type === 'user.deleted'),
    );
    await drain();
    expect(await deadLetters()).toEqual([]);
    expect((await profileOf(name)).map((p) => p.id)).toEqual([ids.at(-1)]);
  });
});
