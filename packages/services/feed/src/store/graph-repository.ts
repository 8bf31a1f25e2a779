import { type Kysely, sql } from 'kysely';
import type { FeedTables } from './tables.js';
import { tablesOf } from './tables-of.js';

type Db = Kysely<FeedTables>;

/**
 * Follow, block and mute edges as the feed mirrors them. Every write is
 * state-setting (edge present / absent), as a backfilled group requires
 * (ADR 018); the follower count changes only when a row really changes.
 */
export const graphRepository = {
  /** True when the edge is new. */
  async addFollow(db: Db, followerId: string, followeeId: string): Promise<boolean> {
    const t = tablesOf(db);
    const { rows } = await sql<{ added: number }>`
      WITH added AS (
        INSERT INTO ${t.follows} (follower_id, followee_id) VALUES (${followerId}, ${followeeId})
        ON CONFLICT DO NOTHING RETURNING 1
      ), counted AS (
        INSERT INTO ${t.authors} (author_id, follower_count)
        SELECT ${followeeId}, count(*) FROM added
        ON CONFLICT (author_id) DO UPDATE
          SET follower_count = ${t.authors}.follower_count + EXCLUDED.follower_count
        RETURNING 1
      )
      SELECT (SELECT count(*) FROM added)::int AS added, (SELECT count(*) FROM counted)::int AS counted`.execute(
      db,
    );
    return (rows[0]?.added ?? 0) > 0;
  },

  /** Many edges at once (a backfill page); counts follow the rows actually inserted. */
  async addFollows(db: Db, edges: readonly { followerId: string; followeeId: string }[]): Promise<void> {
    if (edges.length === 0) return;
    const t = tablesOf(db);
    await sql`
      WITH added AS (
        INSERT INTO ${t.follows} (follower_id, followee_id)
        SELECT * FROM unnest(${edges.map((e) => e.followerId)}::text[], ${edges.map((e) => e.followeeId)}::text[])
        ON CONFLICT DO NOTHING RETURNING followee_id
      )
      INSERT INTO ${t.authors} (author_id, follower_count)
      SELECT followee_id, count(*) FROM added GROUP BY followee_id
      ON CONFLICT (author_id) DO UPDATE SET follower_count = ${t.authors}.follower_count + EXCLUDED.follower_count`.execute(
      db,
    );
  },

  /** True when there was an edge. */
  async removeFollow(db: Db, followerId: string, followeeId: string): Promise<boolean> {
    const t = tablesOf(db);
    const { rows } = await sql<{ removed: number }>`
      WITH removed AS (
        DELETE FROM ${t.follows} WHERE follower_id = ${followerId} AND followee_id = ${followeeId} RETURNING 1
      ), counted AS (
        UPDATE ${t.authors} SET follower_count = greatest(0, follower_count - (SELECT count(*) FROM removed))
         WHERE author_id = ${followeeId} AND EXISTS (SELECT 1 FROM removed) RETURNING 1
      )
      SELECT (SELECT count(*) FROM removed)::int AS removed, (SELECT count(*) FROM counted)::int AS counted`.execute(
      db,
    );
    return (rows[0]?.removed ?? 0) > 0;
  },

  async setBlock(db: Db, blockerId: string, blockedId: string, present: boolean): Promise<void> {
    if (present)
      await db
        .insertInto('blocks')
        .values({ blocker_id: blockerId, blocked_id: blockedId })
        .onConflict((c) => c.doNothing())
        .execute();
    else
      await db
        .deleteFrom('blocks')
        .where('blocker_id', '=', blockerId)
        .where('blocked_id', '=', blockedId)
        .execute();
  },

  async setMute(db: Db, muterId: string, mutedId: string, present: boolean): Promise<void> {
    if (present)
      await db
        .insertInto('mutes')
        .values({ muter_id: muterId, muted_id: mutedId })
        .onConflict((c) => c.doNothing())
        .execute();
    else
      await db.deleteFrom('mutes').where('muter_id', '=', muterId).where('muted_id', '=', mutedId).execute();
  },

  /**
   * The author's follower count, with the author's row locked until the
   * transaction ends (created if absent). A new post takes it before it is
   * inserted, as a new follow's count update does before it reads the
   * followee's recent posts: so a post and a follow of its author never both
   * miss each other — either the follow's backfill reads the post, or the
   * post's fan-out, which starts after its commit, reads the follow. Without
   * it, each transaction read before the other committed and the post was in
   * neither the timeline nor its backfill (the timeline still claiming to be
   * current). An upsert, not SELECT … FOR SHARE: that would not wait for a
   * first follower's row still being inserted.
   */
  async lockAuthor(db: Db, authorId: string): Promise<number> {
    const t = tablesOf(db);
    const { rows } = await sql<{ follower_count: number }>`
      INSERT INTO ${t.authors} (author_id, follower_count) VALUES (${authorId}, 0)
      ON CONFLICT (author_id) DO UPDATE SET follower_count = ${t.authors}.follower_count
      RETURNING follower_count`.execute(db);
    return rows[0]?.follower_count ?? 0;
  },

  async followerCount(db: Db, authorId: string): Promise<number> {
    const row = await db
      .selectFrom('authors')
      .select('follower_count')
      .where('author_id', '=', authorId)
      .executeTakeFirst();
    return row?.follower_count ?? 0;
  },

  /**
   * Active followers of an author after `after` (keyset, follower id order), at
   * most `limit`: the next bounded step of a fan-out.
   */
  async activeFollowers(
    db: Db,
    authorId: string,
    after: string | null,
    limit: number,
    activeSince: Date,
  ): Promise<{ followers: string[]; last: string | null }> {
    const t = tablesOf(db);
    // The keyset walks every follower (active or not) so a step's cost is bounded by `limit`.
    const { rows } = await sql<{ follower_id: string; active: boolean }>`
      SELECT f.follower_id, coalesce(a.last_active_at >= ${activeSince}, false) AS active
        FROM ${t.follows} f LEFT JOIN ${t.activity} a ON a.user_id = f.follower_id
       WHERE f.followee_id = ${authorId} AND (${after}::text IS NULL OR f.follower_id > ${after})
       ORDER BY f.follower_id LIMIT ${limit}`.execute(db);
    return {
      followers: rows.filter((r) => r.active).map((r) => r.follower_id),
      last: rows.length === limit ? (rows.at(-1)?.follower_id ?? null) : null,
    };
  },

  /**
   * Marks that what `userIds`' timelines should hold changed: cached copies of
   * an older version are rebuilt on read. Resolves to the new versions, in order.
   */
  async bumpTimelineVersions(db: Db, userIds: readonly string[]): Promise<number[]> {
    if (userIds.length === 0) return [];
    const t = tablesOf(db);
    const { rows } = await sql<{ user_id: string; version: string }>`
      INSERT INTO ${t.timeline_versions} (user_id, version)
      SELECT u, 1 FROM unnest(${[...new Set(userIds)]}::text[]) AS u
      ON CONFLICT (user_id) DO UPDATE SET version = ${t.timeline_versions}.version + 1
      RETURNING user_id, version::text`.execute(db);
    const byUser = new Map(rows.map((r) => [r.user_id, Number(r.version)]));
    return userIds.map((id) => byUser.get(id) ?? 0);
  },

  /** Removes a deleted account from the graph (both directions); counts of the other side follow. */
  async purgeUser(db: Db, userId: string): Promise<string[]> {
    const t = tablesOf(db);
    const { rows } = await sql<{ follower_id: string }>`
      WITH gone AS (
        DELETE FROM ${t.follows} WHERE follower_id = ${userId} OR followee_id = ${userId}
        RETURNING follower_id, followee_id
      ), recount AS (
        UPDATE ${t.authors} a SET follower_count = greatest(0, a.follower_count - g.n)
          FROM (SELECT followee_id, count(*) AS n FROM gone WHERE follower_id = ${userId} GROUP BY followee_id) g
         WHERE a.author_id = g.followee_id
      )
      SELECT follower_id FROM gone WHERE followee_id = ${userId}`.execute(db);
    await db.deleteFrom('authors').where('author_id', '=', userId).execute();
    await db
      .deleteFrom('blocks')
      .where((eb) => eb.or([eb('blocker_id', '=', userId), eb('blocked_id', '=', userId)]))
      .execute();
    await db
      .deleteFrom('mutes')
      .where((eb) => eb.or([eb('muter_id', '=', userId), eb('muted_id', '=', userId)]))
      .execute();
    await db.deleteFrom('activity').where('user_id', '=', userId).execute();
    await db.deleteFrom('timeline_versions').where('user_id', '=', userId).execute();
    return rows.map((r) => r.follower_id);
  },
};
