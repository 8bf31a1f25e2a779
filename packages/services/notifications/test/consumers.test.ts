import { randomUUID } from 'node:crypto';
import { assertEventPayload } from '@nova/contracts';
import type { Worker } from '@nova/kernel';
import {
  type ConsumerTestBed,
  DATABASE_KINDS,
  eventsPassed,
  openConsumerTestBed,
} from '@nova/kernel/testing';
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createNotifyCommands } from '../src/commands/notify-commands.js';
import { NOTIFICATIONS_MIGRATIONS_DIR } from '../src/index.js';
import type { NotificationsTables } from '../src/store/tables.js';
import { CONTENT_EVENTS_GROUP, createContentEventsConsumer } from '../src/workers/content-events-consumer.js';
import { createSocialEventsConsumer, SOCIAL_EVENTS_GROUP } from '../src/workers/social-events-consumer.js';
import { contextOver } from './support/consumer-context.js';
import { events } from './support/start-notifications.js';

// The consumers on the real embedded log (producers' outboxes), each on both databases.
describe.each(DATABASE_KINDS)('notification consumers on %s', (kind) => {
  const bedFor = (producer: string) =>
    openConsumerTestBed<NotificationsTables>(kind, {
      consumer: { name: 'notifications', migrationsDir: NOTIFICATIONS_MIGRATIONS_DIR },
      producer,
      validate: assertEventPayload,
    });
  let content: ConsumerTestBed<NotificationsTables>;
  let social: ConsumerTestBed<NotificationsTables>;
  const running: Worker[] = [];
  const processed = async (bed: ConsumerTestBed<NotificationsTables>, group: string) => {
    const { rows } = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM ${sql.table(`${bed.database.schema}.processed_events`)} WHERE group_id = ${group}`.execute(
      bed.database.db,
    );
    return rows[0]?.n ?? 0;
  };
  const group = async (bed: ConsumerTestBed<NotificationsTables>, recipientId: string) =>
    bed.database.db
      .selectFrom('notifications')
      .select(['kind', 'actor_count', 'latest_actor_ids'])
      .where('recipient_id', '=', recipientId)
      .execute();

  const framesOf = (recipientId: string) =>
    content.database.db
      .selectFrom('socket_deliveries')
      .select('id')
      .where('recipient_id', '=', recipientId)
      .execute();

  beforeAll(async () => {
    [content, social] = await Promise.all([bedFor('content'), bedFor('social')]);
  });
  afterEach(async () => {
    for (const worker of running.splice(0)) await worker.stop(Date.now() + 5000);
  });
  afterAll(async () => {
    await content?.close();
    await social?.close();
  });

  it('applies a redelivered event once: the group is rewound and every like arrives again', async () => {
    const ctx = await contextOver(content);
    const author = randomUUID();
    const post = randomUUID();
    await content.publish([
      events.like('like.created', post, author, randomUUID()),
      events.like('like.created', post, author, randomUUID()),
    ]);
    const first = createContentEventsConsumer(ctx, createNotifyCommands(ctx));
    running.push(first);
    await first.start();
    await expect
      .poll(() => eventsPassed(content.database, content.producer, CONTENT_EVENTS_GROUP), { timeout: 15_000 })
      .toBe(2);
    await first.stop(Date.now() + 5000);
    // A batch's likes of one group make one frame: count them as they are.
    const framesBefore = (await framesOf(author)).length;
    expect(framesBefore).toBeGreaterThanOrEqual(1);
    // Forget the position: the next consumer reads the topic from its start.
    await sql`DELETE FROM ${sql.table(`${content.database.schema}.consumer_offsets`)}`.execute(
      content.database.db,
    );
    await content.publish([events.like('like.created', post, author, randomUUID())]);
    const second = createContentEventsConsumer(ctx, createNotifyCommands(ctx));
    running.push(second);
    await second.start();
    await expect
      .poll(() => eventsPassed(content.database, content.producer, CONTENT_EVENTS_GROUP), { timeout: 15_000 })
      .toBe(3);
    expect(await group(content, author)).toEqual([
      { kind: 'like', actor_count: 3, latest_actor_ids: expect.any(Array) },
    ]);
    const { rows } = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM ${sql.table(`${content.database.schema}.notification_actions`)}
       WHERE recipient_id = ${author}`.execute(content.database.db);
    expect(rows[0]?.n).toBe(3);
    // Nor is any frame sent twice: the one fresh like makes the one new frame.
    expect(await framesOf(author)).toHaveLength(framesBefore + 1);
  });

  it('keeps one follow group when 40 follows of one account arrive on 40 keys at once', async () => {
    const ctx = await contextOver(social);
    const star = randomUUID();
    const fans = Array.from({ length: 40 }, () => randomUUID());
    await social.publish(fans.map((fan) => events.follow('follow.created', fan, star)));
    const consumer = createSocialEventsConsumer(ctx, createNotifyCommands(ctx));
    running.push(consumer);
    await consumer.start();
    await expect.poll(() => processed(social, SOCIAL_EVENTS_GROUP), { timeout: 20_000 }).toBe(40);
    const rows = await group(social, star);
    expect(rows).toHaveLength(1);
    expect(rows[0]?.actor_count).toBe(40);
    expect(rows[0]?.latest_actor_ids).toHaveLength(3);
    const frames = await social.database.db
      .selectFrom('socket_deliveries')
      .select('notification_id')
      .where('recipient_id', '=', star)
      .execute();
    expect(frames).toHaveLength(40);
  });
});
