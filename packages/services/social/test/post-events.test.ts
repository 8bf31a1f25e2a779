import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { assertEventPayload, CONTENT_POST_AGGREGATE } from '@nova/contracts';
import {
  createEmbeddedEventLog,
  createLogger,
  createMetricsRegistry,
  createOutboxWriter,
  type Database,
  type EventLog,
  runMigrations,
  type Worker,
} from '@nova/kernel';
import { DATABASE_KINDS, openTestDatabases, type TestDatabases } from '@nova/kernel/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProfileFromRegistration } from '../src/commands/profile-commands.js';
import type { SocialContext } from '../src/context.js';
import { createSocialHandlers, SOCIAL_MIGRATIONS_DIR } from '../src/index.js';
import type { SocialTables } from '../src/store/tables.js';
import { createPostEventsConsumer, POST_EVENTS_GROUP } from '../src/workers/post-events-consumer.js';

// Content's outbox is the embedded log; the consumer runs in the real runtime.
describe.each(DATABASE_KINDS)('social post-events consumer (postCount) on %s', (kind) => {
  let dbs: TestDatabases;
  let content: Database<unknown>;
  let social: Database<SocialTables>;
  let eventLog: EventLog;
  let ctx: SocialContext;
  let consumer: Worker;
  const logger = createLogger('silent');
  const outbox = createOutboxWriter(assertEventPayload);

  beforeAll(async () => {
    dbs = await openTestDatabases(kind);
    content = await dbs.provider.open('content');
    social = await dbs.provider.open<SocialTables>('social');
    await runMigrations(content, mkdtempSync(path.join(os.tmpdir(), 'nova-no-migrations-')), logger);
    await runMigrations(social, SOCIAL_MIGRATIONS_DIR, logger);
    eventLog = createEmbeddedEventLog({
      provider: dbs.provider,
      logger,
      metrics: createMetricsRegistry(),
      validate: assertEventPayload,
      pollIntervalMs: 50,
      checkpointIntervalMs: 20,
    });
    ctx = { database: social, outbox, eventLog, logger };
    consumer = createPostEventsConsumer(ctx);
    await consumer.start();
  });
  afterAll(async () => {
    await consumer?.stop(Date.now() + 5000);
    await eventLog?.close();
    await dbs?.close();
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

  it('counts created posts and uncounts deleted ones, edits aside', async () => {
    const author = crypto.randomUUID();
    await social.transaction((tx) =>
      createProfileFromRegistration(tx, {
        userId: author,
        username: `poster_${author.slice(0, 8)}`,
        createdAt: new Date().toISOString(),
      }),
    );
    await content.transaction((tx) =>
      outbox.write(tx, [
        post('post.created', author, 'p1'),
        post('post.created', author, 'p2'),
        post('post.updated', author, 'p1'),
        post('post.created', author, 'p3'),
        post('post.deleted', author, 'p2'),
        // A post of an account social does not know: nothing to count, nothing fails.
        post('post.created', crypto.randomUUID(), 'p4'),
      ]),
    );
    await expect
      .poll(
        async () => {
          const { rows } = await sql<{ n: number }>`
            SELECT count(*)::int AS n FROM ${sql.table(`${social.schema}.processed_events`)}
             WHERE group_id = ${POST_EVENTS_GROUP}`.execute(social.db);
          return rows[0]?.n;
        },
        { timeout: 15_000, interval: 25 },
      )
      // Ignored types (the edit) leave no processed-event record.
      .toBe(5);
    const [profile] = await createSocialHandlers(ctx).queries.getProfiles([author]);
    expect(profile?.postCount).toBe(2);
    const { rows } = await sql`SELECT * FROM ${sql.table(`${social.schema}.dead_letters`)}`.execute(
      social.db,
    );
    expect(rows).toEqual([]);
  });
});
