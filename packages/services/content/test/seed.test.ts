import { generatePopulation, generatePosts } from '@nova/contracts/seed';
import { ConflictError, type Database } from '@nova/kernel';
import { DATABASE_KINDS, openMigratedDatabase, type TestDatabases } from '@nova/kernel/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTENT_MIGRATIONS_DIR } from '../src/index.js';
import { loadPosts } from '../src/seed/load-posts.js';
import type { ContentTables } from '../src/store/tables.js';
import { tablesOf } from '../src/store/tables-of.js';

describe.each(DATABASE_KINDS)('posts seed loader on %s', (kind) => {
  let dbs: TestDatabases;
  let database: Database<ContentTables>;
  beforeAll(async () => {
    ({ dbs, database } = await openMigratedDatabase<ContentTables>(kind, 'content', CONTENT_MIGRATIONS_DIR));
  });
  afterAll(async () => {
    await dbs?.close();
  });

  it('loads posts, tags, likes and comments with counters matching the rows, in monthly partitions', async () => {
    const population = generatePopulation({ users: 300, seed: 5, avgFollows: 5 });
    const posts = generatePosts(population, { posts: 3_000, endMs: Date.now() - 3_600_000 });
    const result = await loadPosts(database, population, posts, {
      postgresUrl: dbs.config.database.defaultUrl,
    });
    expect(result).toMatchObject({ posts: 3_000, likes: posts.likeTotal, comments: posts.commentTotal });
    expect(result.method).toBe(kind === 'postgres' ? 'copy' : 'insert');

    const t = tablesOf(database.db);
    const { rows } = await sql<Record<string, number>>`
      SELECT (SELECT count(*) FROM ${t.posts})::int AS posts,
             (SELECT count(*) FROM ${t.likes})::int AS likes,
             (SELECT count(*) FROM ${t.comments})::int AS comments,
             (SELECT count(*) FROM ${t.post_hashtags})::int AS tags,
             (SELECT count(*) FROM ${t.posts} p
               WHERE p.like_count <> (SELECT count(*) FROM ${t.likes} l WHERE l.post_id = p.id)
                  OR p.comment_count <> (SELECT count(*) FROM ${t.comments} c WHERE c.post_id = p.id))::int AS wrong_counts,
             (SELECT count(*) FROM ${t.comments} c
               WHERE c.reply_count <> (SELECT count(*) FROM ${t.comments} r WHERE r.parent_id = c.id))::int AS wrong_replies,
             (SELECT count(*) FROM ${sql.table(`${database.schema}.posts_default`)})::int AS in_default`.execute(
      database.db,
    );
    const tags = [...posts.postChunks()].flat().reduce((n, p) => n + p.hashtags.length, 0);
    expect(rows[0]).toEqual({
      posts: 3_000,
      likes: posts.likeTotal,
      comments: posts.commentTotal,
      tags,
      wrong_counts: 0,
      wrong_replies: 0,
      in_default: 0,
    });
    // A seeded post reads like one the service wrote: the id names its partition.
    const sample = posts.post(1_234);
    const found = await database.db
      .selectFrom('posts')
      .select(['author_id', 'hashtags', 'visibility'])
      .where('id', '=', sample.id)
      .where('created_at', '=', new Date(sample.createdAtMs))
      .executeTakeFirstOrThrow();
    expect(found).toEqual({
      author_id: population.userId(sample.authorIndex),
      hashtags: sample.hashtags,
      visibility: sample.visibility,
    });
    await expect(loadPosts(database, population, posts)).rejects.toBeInstanceOf(ConflictError);
  });
});
