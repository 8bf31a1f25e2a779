import { type Kysely, sql } from 'kysely';
import type { FeedTables } from './tables.js';
import { tablesOf } from './tables-of.js';

export interface TrendingPost {
  postId: string;
  score: number;
}

export interface TrendingHashtag {
  tag: string;
  score: number;
  postCount: number;
}

/** Authors the viewer blocked, muted or is blocked by. */
function hiddenAuthors(t: ReturnType<typeof tablesOf>, viewerId: string) {
  return sql`(
      SELECT blocked_id FROM ${t.blocks} WHERE blocker_id = ${viewerId}
      UNION SELECT blocker_id FROM ${t.blocks} WHERE blocked_id = ${viewerId}
      UNION SELECT muted_id FROM ${t.mutes} WHERE muter_id = ${viewerId})`;
}

/**
 * Trending over a window ending now, with exponential time decay (τ = a
 * quarter of the window): posts by their likes (1) and comments (2) inside
 * the window, each weighted by how recent it is; hashtags by the public posts
 * of the window carrying them, each weighted (1 + likes + 2 × comments) by
 * the post's age. Public posts only; authors the viewer blocked, muted or is
 * blocked by are left out.
 */
export const trendingQuery = {
  async read(
    db: Kysely<FeedTables>,
    viewerId: string,
    window: { nowMs: number; lengthMs: number },
    limits: { posts: number; hashtags: number },
  ): Promise<{ posts: TrendingPost[]; hashtags: TrendingHashtag[] }> {
    const t = tablesOf(db);
    const now = new Date(window.nowMs);
    const from = new Date(window.nowMs - window.lengthMs);
    const tauSeconds = window.lengthMs / 4000;
    const hidden = hiddenAuthors(t, viewerId);
    const posts = await sql<{ post_id: string; score: number }>`
      WITH engagement AS (
        SELECT post_id, created_at, 1 AS weight FROM ${t.likes} WHERE created_at > ${from} AND created_at <= ${now}
        UNION ALL
        SELECT post_id, created_at, 2 FROM ${t.comments} WHERE created_at > ${from} AND created_at <= ${now}
      )
      SELECT p.post_id,
             sum(e.weight * exp(-extract(epoch FROM (${now}::timestamptz - e.created_at)) / ${tauSeconds}))::float8 AS score
        FROM engagement e JOIN ${t.posts} p ON p.post_id = e.post_id
       WHERE p.visibility = 'public' AND p.author_id NOT IN ${hidden}
       GROUP BY p.post_id
       ORDER BY score DESC, p.post_id DESC
       LIMIT ${limits.posts}`.execute(db);
    const hashtags = await sql<{ tag: string; score: number; post_count: number }>`
      SELECT tag,
             sum((1 + p.like_count + 2 * p.comment_count)
                 * exp(-extract(epoch FROM (${now}::timestamptz - p.created_at)) / ${tauSeconds}))::float8 AS score,
             count(*)::int AS post_count
        FROM ${t.posts} p CROSS JOIN LATERAL unnest(p.hashtags) AS tag
       WHERE p.created_at > ${from} AND p.created_at <= ${now}
         AND p.visibility = 'public' AND p.author_id NOT IN ${hidden}
       GROUP BY tag
       ORDER BY score DESC, tag
       LIMIT ${limits.hashtags}`.execute(db);
    const round = (n: number) => Math.round(n * 1e6) / 1e6;
    return {
      posts: posts.rows.map((r) => ({ postId: r.post_id, score: round(r.score) })),
      hashtags: hashtags.rows.map((r) => ({ tag: r.tag, score: round(r.score), postCount: r.post_count })),
    };
  },

  /** Which of `postIds` trending may show the viewer: public, known, no hidden author. */
  async visible(db: Kysely<FeedTables>, viewerId: string, postIds: readonly string[]): Promise<Set<string>> {
    if (postIds.length === 0) return new Set();
    const t = tablesOf(db);
    const { rows } = await sql<{ post_id: string }>`
      SELECT p.post_id FROM ${t.posts} p
       WHERE p.post_id = ANY(${[...postIds]}::text[])
         AND p.visibility = 'public' AND p.author_id NOT IN ${hiddenAuthors(t, viewerId)}`.execute(db);
    return new Set(rows.map((r) => r.post_id));
  },
};
