import type { Population, PostPopulation } from '@nova/contracts/seed';
import { ConflictError, type Database, type KernelTables } from '@nova/kernel';
import { type Kysely, sql } from 'kysely';
import type { FeedTables } from '../store/tables.js';
import { tablesOf } from '../store/tables-of.js';
import { FOLLOW_EVENTS_GROUP } from '../workers/graph-events-consumer.js';
import { copyReadModel } from './copy-read-model.js';

export interface LoadReadModelResult {
  follows: number;
  posts: number;
  celebrities: number;
  ms: number;
}

const CHUNK = 5_000;

/**
 * Bulk-loads the feed's read model from the shared seed population, offline
 * (no events): the follow edges social loads, the posts content loads (with
 * their like and comment counts), and the follower counts. A post by an
 * author at or above the celebrity threshold is marked not fanned out, as the
 * consumer would have. Timelines are not written: each user's first read
 * builds theirs (the cold page). Refuses a database that holds the first post.
 */
export async function loadReadModel(
  database: Database<FeedTables>,
  population: Population,
  posts: PostPopulation,
  options: {
    celebrityFollowers: number;
    /** PostgreSQL only: a URL for a raw connection, enabling COPY. Without it, batched INSERTs. */
    postgresUrl?: string;
    onProgress?(done: number, total: number): void;
  },
): Promise<LoadReadModelResult> {
  const started = performance.now();
  const db = database.db;
  const t = tablesOf(db);
  if (posts.count > 0) {
    const first = posts.post(0);
    const existing = await db
      .selectFrom('posts')
      .select('post_id')
      .where('post_id', '=', first.id)
      .executeTakeFirst();
    if (existing) throw new ConflictError('already_seeded', 'This read model is already loaded.');
  }
  const ids = Array.from({ length: population.options.users }, (_, i) => population.userId(i));
  const total = population.followCount + posts.count;
  let done = 0;
  const progress = (rows: number) => {
    done += rows;
    options.onProgress?.(done, total);
  };
  if (database.dialect === 'postgres' && options.postgresUrl) {
    await copyReadModel(options.postgresUrl, database.schema, population, posts, {
      celebrityFollowers: options.celebrityFollowers,
      progress,
    });
    await recordGraphBackfilled(db);
    return {
      ...(await summary(db, options.celebrityFollowers)),
      follows: population.followCount,
      posts: posts.count,
      ms: Math.round(performance.now() - started),
    };
  }

  for (const chunk of population.followChunks(CHUNK)) {
    const followers: string[] = [];
    const followees: string[] = [];
    for (let i = 0; i < chunk.length; i++) {
      followers.push(ids[chunk.followers[i] as number] as string);
      followees.push(ids[chunk.followees[i] as number] as string);
    }
    await sql`INSERT INTO ${t.follows} (follower_id, followee_id)
              SELECT * FROM unnest(${followers}::text[], ${followees}::text[]) ON CONFLICT DO NOTHING`.execute(
      db,
    );
    progress(chunk.length);
  }
  await sql`INSERT INTO ${t.authors} (author_id, follower_count)
            SELECT followee_id, count(*) FROM ${t.follows} GROUP BY followee_id
            ON CONFLICT (author_id) DO UPDATE SET follower_count = EXCLUDED.follower_count`.execute(db);

  for (const chunk of posts.postChunks(CHUNK)) {
    await sql`INSERT INTO ${t.posts}
                (post_id, author_id, created_at, visibility, has_media, hashtags, fanned_out, like_count, comment_count)
              SELECT p, a, c, v, false, string_to_array(h, ' '), true, l, n
                FROM unnest(${chunk.map((p) => p.id)}::text[], ${chunk.map((p) => ids[p.authorIndex] as string)}::text[],
                            ${chunk.map((p) => new Date(p.createdAtMs).toISOString())}::timestamptz[],
                            ${chunk.map((p) => p.visibility)}::text[], ${chunk.map((p) => p.hashtags.join(' '))}::text[],
                            ${chunk.map((p) => p.likeCount)}::int[], ${chunk.map((p) => p.commentCount)}::int[])
                     AS x(p, a, c, v, h, l, n)
              ON CONFLICT DO NOTHING`.execute(db);
    progress(chunk.length);
  }
  await sql`UPDATE ${t.posts} p SET fanned_out = false FROM ${t.authors} a
                            WHERE a.author_id = p.author_id AND a.follower_count >= ${options.celebrityFollowers}`.execute(
    db,
  );
  await sql`ANALYZE ${t.follows}`.execute(db);
  await sql`ANALYZE ${t.posts}`.execute(db);
  await recordGraphBackfilled(db);
  return {
    follows: population.followCount,
    posts: posts.count,
    ...(await summary(db, options.celebrityFollowers)),
    ms: Math.round(performance.now() - started),
  };
}

/**
 * The follow edges loaded are social's, as its snapshot would give them: the
 * follows group is recorded as backfilled (ADR 018), or its first start would
 * page through the whole graph again — at 10M edges, minutes of inserts and a
 * timeline-version bump for every follower, while the server serves. Seeding
 * publishes no events, so the group starts at the log's beginning. A group
 * that already has a backfill row keeps it.
 */
async function recordGraphBackfilled(db: Kysely<FeedTables>): Promise<void> {
  await (db as unknown as Kysely<KernelTables>)
    .insertInto('consumer_backfills')
    .values({ group_id: FOLLOW_EVENTS_GROUP, state: 'done', finished_at: new Date() })
    .onConflict((oc) => oc.column('group_id').doNothing())
    .execute();
}

async function summary(
  db: Database<FeedTables>['db'],
  celebrityFollowers: number,
): Promise<{ celebrities: number }> {
  const celebrities = await db
    .selectFrom('authors')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('follower_count', '>=', celebrityFollowers)
    .executeTakeFirst();
  return { celebrities: Number(celebrities?.n ?? 0) };
}
