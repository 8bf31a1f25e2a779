import { generatePopulation, generatePosts } from '@nova/contracts/seed';
import { ConflictError, createLogger, type KernelTables, runMigrations } from '@nova/kernel';
import { DATABASE_KINDS, openTestDatabases, type TestDatabases } from '@nova/kernel/testing';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FEED_MIGRATIONS_DIR, type FeedTables } from '../src/index.js';
import { loadReadModel } from '../src/seed/load-read-model.js';
import { candidateQuery } from '../src/store/candidate-query.js';
import { FOLLOW_EVENTS_GROUP } from '../src/workers/graph-events-consumer.js';

describe.each(DATABASE_KINDS)('feed seed hook on %s', (kind) => {
  let dbs: TestDatabases;
  const population = generatePopulation({ users: 300, seed: 7, avgFollows: 12 });
  const posts = generatePosts(population, { posts: 900, endMs: Date.UTC(2026, 0, 1) });
  const threshold = 25;

  beforeAll(async () => {
    dbs = await openTestDatabases(kind);
  });
  afterAll(() => dbs?.close());

  it('loads the population’s follows and posts; celebrities’ posts are merged, not fanned out', async () => {
    const database = await dbs.provider.open<FeedTables>('feed');
    await runMigrations(database, FEED_MIGRATIONS_DIR, createLogger('silent'));
    const result = await loadReadModel(database, population, posts, {
      celebrityFollowers: threshold,
      postgresUrl: dbs.config.database.defaultUrl,
    });
    expect(result).toMatchObject({ follows: population.followCount, posts: 900 });

    const { followers } = population.counts();
    const authors = await database.db.selectFrom('authors').select(['author_id', 'follower_count']).execute();
    const countOf = new Map(authors.map((a) => [a.author_id, a.follower_count]));
    for (let i = 0; i < population.options.users; i++)
      expect(countOf.get(population.userId(i)) ?? 0).toBe(followers[i]);
    expect(result.celebrities).toBe([...followers].filter((n) => n >= threshold).length);
    expect(result.celebrities).toBeGreaterThan(0);

    const rows = await database.db
      .selectFrom('posts')
      .select(['post_id', 'author_id', 'fanned_out', 'like_count'])
      .execute();
    expect(rows).toHaveLength(900);
    for (const row of rows) expect(row.fanned_out).toBe((countOf.get(row.author_id) ?? 0) < threshold);
    expect(rows.reduce((sum, r) => sum + r.like_count, 0)).toBe(posts.likeTotal);

    // A seeded user's feed straight from the read model: the newest posts of whom they follow.
    const viewer = population.userId(3);
    const page = await candidateQuery.pull(database.db, viewer, null, 20);
    const followed = new Set<string>([viewer]);
    for (const chunk of population.followChunks())
      for (let i = 0; i < chunk.length; i++)
        if (chunk.followers[i] === 3) followed.add(population.userId(chunk.followees[i] as number));
    const expected = rows
      .filter((r) => followed.has(r.author_id))
      .map((r) => r.post_id)
      .sort()
      .reverse()
      .slice(0, 20);
    expect(page.map((c) => c.postId)).toEqual(expected);

    // The loaded graph is social's snapshot: the follows group must not page through it again on its first start.
    const backfill = await (database.db as unknown as Kysely<KernelTables>)
      .selectFrom('consumer_backfills')
      .select('state')
      .where('group_id', '=', FOLLOW_EVENTS_GROUP)
      .executeTakeFirst();
    expect(backfill?.state).toBe('done');

    await expect(
      loadReadModel(database, population, posts, { celebrityFollowers: threshold }),
    ).rejects.toBeInstanceOf(ConflictError);
  });
});
