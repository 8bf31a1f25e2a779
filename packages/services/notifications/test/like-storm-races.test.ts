import { randomUUID } from 'node:crypto';
import { assertEventPayload } from '@nova/contracts';
import type { Worker } from '@nova/kernel';
import {
  type ConsumerTestBed,
  DATABASE_KINDS,
  eventsPassed,
  openConsumerTestBed,
} from '@nova/kernel/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createNotifyCommands } from '../src/commands/notify-commands.js';
import type { NotificationChange } from '../src/domain/kinds.js';
import { NOTIFICATIONS_MIGRATIONS_DIR } from '../src/index.js';
import type { NotificationsTables } from '../src/store/tables.js';
import { CONTENT_EVENTS_GROUP, createContentEventsConsumer } from '../src/workers/content-events-consumer.js';
import { contextOver } from './support/consumer-context.js';
import { events } from './support/start-notifications.js';

/** A like of `post` by `liker`, notifying `author`, as the content consumer makes it. */
const likeOf =
  (author: string, post: string) =>
  (liker: string): NotificationChange => ({
    op: 'notify',
    action: {
      recipientId: author,
      kind: 'like',
      targetId: post,
      actorId: liker,
      sourceId: liker,
      actedAt: new Date(),
    },
  });

// Likes applied a batch at a time must count exactly what a one-by-one
// application would: redelivered, raced by parallel writers, undone in the
// same batch.
describe.each(DATABASE_KINDS)('like storms on %s', (kind) => {
  let bed: ConsumerTestBed<NotificationsTables>;
  const running: Worker[] = [];

  const groupsOf = (recipientId: string) =>
    bed.database.db
      .selectFrom('notifications')
      .select(['target_id', 'actor_count', 'latest_actor_ids'])
      .where('recipient_id', '=', recipientId)
      .orderBy('target_id')
      .execute();
  const actionsOf = async (recipientId: string, targetId: string) => {
    const rows = await bed.database.db
      .selectFrom('notification_actions')
      .select('actor_id')
      .where('recipient_id', '=', recipientId)
      .where('target_id', '=', targetId)
      .execute();
    return rows.map((r) => r.actor_id).sort();
  };
  // The group's checkpoint: batch consumers keep no processed-event row per event (ADR 039).
  const processed = () => eventsPassed(bed.database, bed.producer, CONTENT_EVENTS_GROUP);

  beforeAll(async () => {
    bed = await openConsumerTestBed<NotificationsTables>(kind, {
      consumer: { name: 'notifications', migrationsDir: NOTIFICATIONS_MIGRATIONS_DIR },
      producer: 'content',
      validate: assertEventPayload,
    });
  });
  afterEach(async () => {
    for (const worker of running.splice(0)) await worker.stop(Date.now() + 5000);
  });
  afterAll(async () => {
    await bed?.close();
  });

  it('counts every liker once when four transactions apply the same likes at once, each in its own order', async () => {
    const ctx = await contextOver(bed);
    const notify = createNotifyCommands(ctx);
    const author = randomUUID();
    const post = randomUUID();
    const likers = Array.from({ length: 120 }, () => randomUUID());
    const like = likeOf(author, post);
    // The same likes under other event ids (a producer retry): the
    // processed-event record cannot tell, the group's lock and sources must.
    await Promise.all(
      [0, 30, 60, 90].map((shift) =>
        ctx.database.transaction((tx) =>
          notify.apply(tx, [...likers.slice(shift), ...likers.slice(0, shift)].map(like)),
        ),
      ),
    );
    const groups = await groupsOf(author);
    expect(groups).toHaveLength(1);
    expect(groups[0]?.actor_count).toBe(120);
    expect(groups[0]?.latest_actor_ids).toHaveLength(3);
    expect(await actionsOf(author, post)).toEqual([...likers].sort());
  });

  it.runIf(kind === 'postgres')(
    'a block waits for a batch of likes in flight and removes the blocked account’s like it brought',
    async () => {
      const ctx = await contextOver(bed);
      const notify = createNotifyCommands(ctx);
      const [author, blocked, other, post] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
      const like = likeOf(author, post);
      let commitLikes = () => {};
      const held = new Promise<void>((resolve) => {
        commitLikes = resolve;
      });
      let applied = () => {};
      const likesWritten = new Promise<void>((resolve) => {
        applied = resolve;
      });
      // The batch read the silences (none yet) and wrote its actions, but has not committed.
      const likes = ctx.database.transaction(async (tx) => {
        await notify.apply(tx, [like(blocked), like(other)]);
        applied();
        await held;
      });
      await likesWritten;
      let blockDone = false;
      const block = ctx.database
        .transaction((tx) => notify.silenceBothWays(tx, author, blocked))
        .then(() => {
          blockDone = true;
        });
      try {
        await new Promise((resolve) => setTimeout(resolve, 500));
        expect(blockDone).toBe(false);
      } finally {
        commitLikes();
        await likes;
        await block;
      }
      expect(await actionsOf(author, post)).toEqual([other]);
      expect((await groupsOf(author))[0]?.actor_count).toBe(1);
      // And the other way round: a batch after the block skips the blocked account.
      await ctx.database.transaction((tx) => notify.apply(tx, [like(blocked)]));
      expect(await actionsOf(author, post)).toEqual([other]);
    },
  );

  it('applies redelivered likes, unlikes and re-likes exactly once when three consumers race over them', async () => {
    const ctx = await contextOver(bed);
    const author = randomUUID();
    const storm = randomUUID();
    const likers = Array.from({ length: 300 }, () => randomUUID());
    const unliked = likers.slice(0, 50);
    const reliked = unliked.slice(0, 10);
    for (let i = 0; i < likers.length; i += 100)
      await bed.publish(likers.slice(i, i + 100).map((u) => events.like('like.created', storm, author, u)));
    await bed.publish(unliked.map((u) => events.like('like.removed', storm, author, u)));
    await bed.publish(reliked.map((u) => events.like('like.created', storm, author, u)));
    // One batch each: a like undone in its own batch leaves nothing; like, unlike, like leaves the like.
    const undone = randomUUID();
    const redone = randomUUID();
    const fan = randomUUID();
    await bed.publish([
      events.like('like.created', undone, author, fan),
      events.like('like.removed', undone, author, fan),
      events.like('like.created', redone, author, fan),
      events.like('like.removed', redone, author, fan),
      events.like('like.created', redone, author, fan),
    ]);
    const total = likers.length + unliked.length + reliked.length + 5;

    // Three workers of one group, each reading the topic from its start:
    // every event is delivered three times, concurrently.
    const notify = createNotifyCommands(ctx);
    const consumers = [1, 2, 3].map(() => createContentEventsConsumer(ctx, notify));
    running.push(...consumers);
    await Promise.all(consumers.map((c) => c.start()));
    await expect.poll(processed, { timeout: 60_000, interval: 100 }).toBe(total);
    // Let the slower workers finish their (now empty) redeliveries.
    await Promise.all(running.splice(0).map((c) => c.stop(Date.now() + 10_000)));

    const kept = [...likers.slice(50), ...reliked].sort();
    expect(await actionsOf(author, storm)).toEqual(kept);
    expect(await actionsOf(author, undone)).toEqual([]);
    expect(await actionsOf(author, redone)).toEqual([fan]);
    const groups = new Map((await groupsOf(author)).map((g) => [g.target_id, g]));
    expect(groups.get(storm)?.actor_count).toBe(260);
    expect(groups.has(undone)).toBe(false);
    expect(groups.get(redone)).toMatchObject({ actor_count: 1, latest_actor_ids: [fan] });
  });
});
