import { randomUUID } from 'node:crypto';
import { assertEventPayload } from '@nova/contracts';
import type { Worker } from '@nova/kernel';
import {
  type ConsumerTestBed,
  DATABASE_KINDS,
  eventsPassed,
  openConsumerTestBed,
} from '@nova/kernel/testing';
import { type KyselyPlugin, sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createNotifyCommands } from '../src/commands/notify-commands.js';
import type { NotificationChange } from '../src/domain/kinds.js';
import { NOTIFICATIONS_MIGRATIONS_DIR } from '../src/index.js';
import { silenceRepository } from '../src/store/silence-repository.js';
import type { NotificationsTables } from '../src/store/tables.js';
import { createMessageEventsConsumer, MESSAGE_EVENTS_GROUP } from '../src/workers/message-events-consumer.js';
import { contextOver } from './support/consumer-context.js';
import { events } from './support/start-notifications.js';

/** Counts the statements executed through the Kysely instance it is plugged into. */
function statementCounter(): KyselyPlugin & { count: number } {
  const counter = {
    count: 0,
    transformQuery: ({ node }: Parameters<KyselyPlugin['transformQuery']>[0]) => node,
    async transformResult({ result }: Parameters<KyselyPlugin['transformResult']>[0]) {
      counter.count++;
      return result;
    },
  };
  return counter;
}

// message.sent is applied a batch at a time (as content events are): the
// result must be what one-by-one application gave — every message once,
// grouped per conversation, muted and switched-off recipients skipped — at a
// cost per batch that does not grow with its messages.
describe.each(DATABASE_KINDS)('message notifications in batches on %s', (kind) => {
  let bed: ConsumerTestBed<NotificationsTables>;
  const running: Worker[] = [];

  const groupsOf = (recipientId: string) =>
    bed.database.db
      .selectFrom('notifications')
      .select(['kind', 'target_id', 'actor_count', 'latest_actor_ids'])
      .where('recipient_id', '=', recipientId)
      .orderBy('target_id')
      .execute();
  const sourcesOf = async (recipientId: string, conversationId: string) => {
    const rows = await bed.database.db
      .selectFrom('notification_actions')
      .select('source_id')
      .where('recipient_id', '=', recipientId)
      .where('target_id', '=', conversationId)
      .execute();
    return rows.map((r) => r.source_id).sort();
  };
  // Batch consumers record their position, not a row per event (ADR 039).
  const processed = () => eventsPassed(bed.database, bed.producer, MESSAGE_EVENTS_GROUP);

  beforeAll(async () => {
    bed = await openConsumerTestBed<NotificationsTables>(kind, {
      consumer: { name: 'notifications', migrationsDir: NOTIFICATIONS_MIGRATIONS_DIR },
      producer: 'messaging',
      validate: assertEventPayload,
    });
  });
  afterEach(async () => {
    for (const worker of running.splice(0)) await worker.stop(Date.now() + 5000);
  });
  afterAll(async () => {
    await bed?.close();
  });

  it('notifies each message once when three consumers race over redelivered batches', async () => {
    const ctx = await contextOver(bed);
    const [sender, a, b, quiet] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    const direct = randomUUID();
    const group = randomUUID();
    await silenceRepository.add(bed.database.db, b, sender, 'mute');
    await bed.database.db
      .insertInto('preferences')
      .values({ user_id: quiet, follow: true, like: true, comment: true, mention: true, message: false })
      .execute();
    // 250 direct messages sender → a (more than one batch of 200), and a group
    // conversation where sender and a write in turns to everyone.
    const directEvents = Array.from({ length: 250 }, (_, i) => events.message(direct, sender, [a], i + 1));
    const groupEvents = Array.from({ length: 40 }, (_, i) =>
      i % 2 === 0
        ? events.message(group, sender, [a, b, quiet], i + 1)
        : events.message(group, a, [sender, b, quiet], i + 1),
    );
    for (let i = 0; i < directEvents.length; i += 100) await bed.publish(directEvents.slice(i, i + 100));
    await bed.publish(groupEvents);
    const total = directEvents.length + groupEvents.length;

    // Three workers of one group, each reading from the start: every event
    // is delivered three times, concurrently.
    const notify = createNotifyCommands(ctx);
    const consumers = [1, 2, 3].map(() => createMessageEventsConsumer(ctx, notify));
    running.push(...consumers);
    await Promise.all(consumers.map((c) => c.start()));
    await expect.poll(processed, { timeout: 60_000, interval: 100 }).toBe(total);
    await Promise.all(running.splice(0).map((c) => c.stop(Date.now() + 10_000)));
    // Batches, not one transaction per message: the notification actions of
    // 290 messages were written by a few transactions (xmin tells which).
    const { rows } = await sql<{ n: number }>`
      SELECT count(DISTINCT xmin::text)::int AS n FROM ${sql.table(`${bed.database.schema}.notification_actions`)}
       WHERE target_id IN (${direct}, ${group})`.execute(bed.database.db);
    expect(rows[0]?.n).toBeLessThanOrEqual(total / 10);

    const idsOf = (list: typeof directEvents, from?: string) =>
      list
        .filter((e) => from === undefined || (e.payload as { senderId: string }).senderId === from)
        .map((e) => (e.payload as { messageId: string }).messageId)
        .sort();
    expect(await sourcesOf(a, direct)).toEqual(idsOf(directEvents));
    expect(await sourcesOf(a, group)).toEqual(idsOf(groupEvents, sender));
    expect(await sourcesOf(sender, group)).toEqual(idsOf(groupEvents, a));
    // b mutes the sender: only a's group messages notify b.
    expect(await sourcesOf(b, group)).toEqual(idsOf(groupEvents, a));
    expect(await groupsOf(quiet)).toEqual([]);
    expect(await groupsOf(a)).toEqual(
      [
        { kind: 'message', target_id: direct, actor_count: 1, latest_actor_ids: [sender] },
        { kind: 'message', target_id: group, actor_count: 1, latest_actor_ids: [sender] },
      ].sort((x, y) => x.target_id.localeCompare(y.target_id)),
    );
    expect(await groupsOf(b)).toEqual([
      { kind: 'message', target_id: group, actor_count: 1, latest_actor_ids: [a] },
    ]);
  });

  it('applies a batch of 200 messages with as many statements as a batch of 10', async () => {
    const ctx = await contextOver(bed);
    const notify = createNotifyCommands(ctx);
    const statementsFor = async (messages: number) => {
      const conversations = Array.from({ length: 10 }, () => ({
        id: randomUUID(),
        sender: randomUUID(),
        recipient: randomUUID(),
      }));
      const changes: NotificationChange[] = Array.from({ length: messages }, (_, i) => {
        const c = conversations[i % conversations.length] as (typeof conversations)[number];
        return {
          op: 'notify',
          action: {
            recipientId: c.recipient,
            kind: 'message',
            targetId: c.id,
            actorId: c.sender,
            sourceId: randomUUID(),
            actedAt: new Date(),
          },
        };
      });
      const counter = statementCounter();
      await ctx.database.transaction((tx) => notify.apply(tx.withPlugin(counter), changes));
      const stored = await bed.database.db
        .selectFrom('notification_actions')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where(
          'target_id',
          'in',
          conversations.map((c) => c.id),
        )
        .executeTakeFirstOrThrow();
      expect(Number(stored.n)).toBe(messages);
      return counter.count;
    };
    const few = await statementsFor(10);
    const many = await statementsFor(200);
    expect(many).toBe(few);
    expect(many).toBeLessThanOrEqual(10);
  });
});
