import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { FeedPosition } from '../domain/cursors.js';
import type { TimelineEntry } from '../timelines/timeline-cache.js';
import type { FeedTables } from './tables.js';
import { tablesOf } from './tables-of.js';

type Db = Kysely<FeedTables>;

/** A post that may appear in a viewer's feed, with what ranking needs of it. */
export interface Candidate {
  postId: string;
  authorId: string;
  createdAtMs: number;
  hasMedia: boolean;
  likeCount: number;
  commentCount: number;
}

interface CandidateRow {
  post_id: string;
  author_id: string;
  created_at: Date | string;
  has_media: boolean;
  like_count: number;
  comment_count: number;
}

const toCandidate = (r: CandidateRow): Candidate => ({
  postId: r.post_id,
  authorId: r.author_id,
  createdAtMs: new Date(r.created_at).getTime(),
  hasMedia: r.has_media,
  likeCount: r.like_count,
  commentCount: r.comment_count,
});

/**
 * The feed's rules in one place (the "rules" step of the read pipeline): a
 * post is shown to a viewer when its author is the viewer or one they follow,
 * neither blocks the other and the viewer does not mute the author.
 */
function shownTo(db: Db, viewerId: string, authorColumn: RawBuilder<unknown>): RawBuilder<unknown> {
  const t = tablesOf(db);
  return sql`
    (${authorColumn} = ${viewerId}
      OR EXISTS (SELECT 1 FROM ${t.follows} f WHERE f.follower_id = ${viewerId} AND f.followee_id = ${authorColumn}))
    AND NOT EXISTS (SELECT 1 FROM ${t.blocks} b
                     WHERE (b.blocker_id = ${viewerId} AND b.blocked_id = ${authorColumn})
                        OR (b.blocker_id = ${authorColumn} AND b.blocked_id = ${viewerId}))
    AND NOT EXISTS (SELECT 1 FROM ${t.mutes} m WHERE m.muter_id = ${viewerId} AND m.muted_id = ${authorColumn})`;
}

/** Strictly older than the position in (created_at, post_id) order; everything without one. */
function olderThan(before: FeedPosition | null): RawBuilder<unknown> {
  return before
    ? sql`(p.created_at, p.post_id) < (${new Date(before.createdAtMs)}, ${before.postId})`
    : sql`true`;
}

export const candidateQuery = {
  /**
   * A page straight from the read model (the durable truth): the newest posts
   * of the viewer and the accounts they follow, older than `before`. One
   * statement; each followee contributes through its (author, time) index.
   */
  async pull(db: Db, viewerId: string, before: FeedPosition | null, limit: number): Promise<Candidate[]> {
    const t = tablesOf(db);
    const { rows } = await sql<CandidateRow>`
      SELECT p.post_id, p.author_id, p.created_at, p.has_media, p.like_count, p.comment_count
        FROM (SELECT followee_id AS author_id FROM ${t.follows} WHERE follower_id = ${viewerId}
              UNION SELECT ${viewerId}) s
        CROSS JOIN LATERAL (
          SELECT * FROM ${t.posts} p
           WHERE p.author_id = s.author_id AND ${olderThan(before)}
           ORDER BY p.created_at DESC, p.post_id DESC LIMIT ${limit}) p
       WHERE ${shownTo(db, viewerId, sql.ref('p.author_id'))}
       ORDER BY p.created_at DESC, p.post_id DESC LIMIT ${limit}`.execute(db);
    return rows.map(toCandidate);
  },

  /**
   * Checks a cached timeline's ids against the rules (unfollowed, blocked,
   * muted, deleted ones drop out) and adds the followees' posts that were not
   * fanned out (celebrities) older than `before`, plus the timeline version
   * the cache must carry. One statement.
   */
  async check(
    db: Db,
    viewerId: string,
    ids: readonly string[],
    before: FeedPosition | null,
    mergeLimit: number,
  ): Promise<{ version: string; valid: Candidate[]; merged: Candidate[] }> {
    const t = tablesOf(db);
    const { rows } = await sql<CandidateRow & { source: 'timeline' | 'merge' | 'version'; version: string }>`
      SELECT 'version' AS source, coalesce((SELECT version::text FROM ${t.timeline_versions} WHERE user_id = ${viewerId}), '0') AS version,
             NULL AS post_id, NULL AS author_id, NULL AS created_at, false AS has_media, 0 AS like_count, 0 AS comment_count
      UNION ALL
      SELECT 'timeline', NULL, p.post_id, p.author_id, p.created_at, p.has_media, p.like_count, p.comment_count
        FROM ${t.posts} p
       WHERE p.post_id = ANY(${[...ids]}::text[]) AND ${shownTo(db, viewerId, sql.ref('p.author_id'))}
      UNION ALL
      SELECT 'merge', NULL, m.post_id, m.author_id, m.created_at, m.has_media, m.like_count, m.comment_count FROM (
        SELECT p.* FROM ${t.follows} f
         CROSS JOIN LATERAL (
           SELECT * FROM ${t.posts} p
            WHERE p.author_id = f.followee_id AND NOT p.fanned_out AND ${olderThan(before)}
            ORDER BY p.created_at DESC, p.post_id DESC LIMIT ${mergeLimit}) p
         WHERE f.follower_id = ${viewerId} AND ${shownTo(db, viewerId, sql.ref('p.author_id'))}
         ORDER BY p.created_at DESC, p.post_id DESC LIMIT ${mergeLimit}) m`.execute(db);
    let version = '0';
    const valid: Candidate[] = [];
    const merged: Candidate[] = [];
    for (const row of rows) {
      if (row.source === 'version') version = row.version;
      else if (row.source === 'timeline') valid.push(toCandidate(row));
      else merged.push(toCandidate(row));
    }
    return { version, valid, merged };
  },

  /**
   * What a rebuilt timeline holds: the newest `cap` posts shown to the user
   * (ids and times: all a timeline keeps), and the version it matches. The
   * cold page's main cost at size (10M follows / 1M posts): each followee
   * contributes up to `cap` rows through posts_by_author, which holds every
   * column read here, so the scan is index-only (no heap page per post once
   * the table is vacuumed) — and, unlike `pull`, the follow is not checked
   * again per post: the authors ARE the follow list (or the user).
   */
  async rebuildSource(
    db: Db,
    userId: string,
    cap: number,
  ): Promise<{ version: string; posts: TimelineEntry[] }> {
    const t = tablesOf(db);
    const { rows } = await sql<{
      version: string | null;
      post_id: string | null;
      created_at: Date | string | null;
    }>`
      SELECT coalesce((SELECT version::text FROM ${t.timeline_versions} WHERE user_id = ${userId}), '0') AS version,
             NULL AS post_id, NULL AS created_at
      UNION ALL
      SELECT NULL, q.post_id, q.created_at FROM (
        SELECT p.post_id, p.created_at
          FROM (SELECT followee_id AS author_id FROM ${t.follows} WHERE follower_id = ${userId}
                UNION SELECT ${userId}) s
          CROSS JOIN LATERAL (
            SELECT p.post_id, p.author_id, p.created_at FROM ${t.posts} p
             WHERE p.author_id = s.author_id
             ORDER BY p.created_at DESC, p.post_id DESC LIMIT ${cap}) p
         WHERE NOT EXISTS (SELECT 1 FROM ${t.blocks} b
                            WHERE (b.blocker_id = ${userId} AND b.blocked_id = p.author_id)
                               OR (b.blocker_id = p.author_id AND b.blocked_id = ${userId}))
           AND NOT EXISTS (SELECT 1 FROM ${t.mutes} m WHERE m.muter_id = ${userId} AND m.muted_id = p.author_id)
         ORDER BY p.created_at DESC, p.post_id DESC LIMIT ${cap}) q`.execute(db);
    let version = '0';
    const posts: TimelineEntry[] = [];
    for (const row of rows) {
      if (row.post_id === null) version = row.version ?? '0';
      else
        posts.push({ postId: row.post_id, createdAtMs: new Date(row.created_at as Date | string).getTime() });
    }
    return { version, posts };
  },
};
