import { assertEventPayload, CONTENT_POST_AGGREGATE } from '@nova/contracts';
import { createMemoryStore, createOutboxWriter, type Database, type Worker } from '@nova/kernel';
import { type ConsumerTestBed, DATABASE_KINDS, openConsumerTestBed } from '@nova/kernel/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSocialCache } from '../src/cache/social-cache.js';
import { createProfileFromRegistration } from '../src/commands/profile-commands.js';
import type { SocialContext } from '../src/context.js';
import { createSocialHandlers, SOCIAL_MIGRATIONS_DIR } from '../src/index.js';
import type { SocialTables } from '../src/store/tables.js';
import { createPostEventsConsumer, POST_EVENTS_GROUP } from '../src/workers/post-events-consumer.js';

// Content's outbox is the embedded log; the consumer runs in the real runtime.
describe.each(DATABASE_KINDS)('social post-events consumer (postCount) on %s', (kind) => {
  let bed: ConsumerTestBed<SocialTables>;
  let social: Database<SocialTables>;
  let ctx: SocialContext;
  let consumer: Worker;

  beforeAll(async () => {
    bed = await openConsumerTestBed<SocialTables>(kind, {
      consumer: { name: 'social', migrationsDir: SOCIAL_MIGRATIONS_DIR },
      producer: 'content',
      validate: assertEventPayload,
    });
    social = bed.database;
    const outbox = createOutboxWriter(assertEventPayload);
    ctx = {
      database: social,
      outbox,
      eventLog: bed.eventLog,
      logger: bed.logger,
      cache: createSocialCache(createMemoryStore(), bed.logger),
    };
    consumer = createPostEventsConsumer(ctx);
    await consumer.start();
  });
  afterAll(async () => {
    await consumer?.stop(Date.now() + 5000);
    await bed?.close();
  });

  const post = (type: string, authorId: string, postId: string) => ({
    aggregateType: CONTENT_POST_AGGREGATE,
    aggregateId: authorId,
    type,
    payload:
      type === 'post.created'
        ? {
            postId,
            authorId,
            visibility: 'public',
            hashtags: [],
            mediaIds: [],
            createdAt: new Date().toISOString(),
          }
        : type === 'post.updated'
          ? { postId, authorId, hashtags: [], editedAt: new Date().toISOString() }
          : { postId, authorId, deletedAt: new Date().toISOString() },
  });

  /** True once the group's checkpoint has passed every event published so far. */
  const consumed = async () => {
    const { rows: last } = await sql<{ seq: number | null }>`
      SELECT max(seq)::int AS seq FROM ${sql.table(`${bed.producer.schema}.outbox`)}`.execute(
      bed.producer.db,
    );
    const { rows: at } = await sql<{ position: number | null }>`
      SELECT max(position)::int AS position FROM ${sql.table(`${social.schema}.consumer_offsets`)}
       WHERE group_id = ${POST_EVENTS_GROUP}`.execute(social.db);
    return (at[0]?.position ?? 0) >= (last[0]?.seq ?? 0);
  };

  const newAuthor = async () => {
    const author = crypto.randomUUID();
    await social.transaction((tx) =>
      createProfileFromRegistration(
        tx,
        { userId: author, username: `poster_${author.slice(0, 8)}`, createdAt: new Date().toISOString() },
        ctx.cache,
      ),
    );
    return author;
  };

  it('counts a burst of posts with fewer statements than posts, exactly and in order', async () => {
    const authors = await Promise.all(Array.from({ length: 4 }, newAuthor));
    const [first, second] = authors as [string, string];
    const statements = social.stats.queries;
    await bed.publish([
      // A deletion of a post counted before the count existed stays at zero; the creation after it counts.
      post('post.deleted', first, 'gone'),
      ...Array.from({ length: 40 }, (_, i) => post('post.created', authors[i % 4] as string, `burst${i}`)),
      post('post.deleted', second, 'burst1'),
    ]);
    await expect.poll(consumed, { timeout: 15_000, interval: 25 }).toBe(true);
    // One transaction and one UPDATE per batch, not four statements per event
    // (the checkpoint rides along per batch).
    expect(social.stats.queries - statements).toBeLessThan(42);
    const profiles = await createSocialHandlers(ctx).queries.getProfiles(authors);
    expect(new Map(profiles.map((p) => [p.id, p.postCount]))).toEqual(
      new Map(authors.map((a, i) => [a, i === 1 ? 9 : 10])),
    );
  });

  it('counts created posts and uncounts deleted ones, edits aside', async () => {
    const author = crypto.randomUUID();
    await social.transaction((tx) =>
      createProfileFromRegistration(
        tx,
        {
          userId: author,
          username: `poster_${author.slice(0, 8)}`,
          createdAt: new Date().toISOString(),
        },
        ctx.cache,
      ),
    );
    await bed.publish([
      post('post.created', author, 'p1'),
      post('post.created', author, 'p2'),
      post('post.updated', author, 'p1'),
      post('post.created', author, 'p3'),
      post('post.deleted', author, 'p2'),
      // A post of an account social does not know: nothing to count, nothing fails.
      post('post.created', crypto.randomUUID(), 'p4'),
    ]);
    await expect.poll(consumed, { timeout: 15_000, interval: 25 }).toBe(true);
    const [profile] = await createSocialHandlers(ctx).queries.getProfiles([author]);
    expect(profile?.postCount).toBe(2);
    const { rows } = await sql`SELECT * FROM ${sql.table(`${social.schema}.dead_letters`)}`.execute(
      social.db,
    );
    expect(rows).toEqual([]);
  });
});
