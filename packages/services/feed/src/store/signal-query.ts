import { type Kysely, sql } from 'kysely';
import type { FeedTables } from './tables.js';
import { tablesOf } from './tables-of.js';

/** Ranking signals for a set of candidates, read in one statement. */
export interface RankingSignals {
  /** post id → likes + 2 × comments in the window before the anchor. */
  recentEngagement: Map<string, number>;
  /** author id → the viewer's likes and comments on that author's posts. */
  affinity: Map<string, number>;
}

export const signalQuery = {
  async read(
    db: Kysely<FeedTables>,
    viewerId: string,
    postIds: readonly string[],
    authorIds: readonly string[],
    window: { fromMs: number; toMs: number },
  ): Promise<RankingSignals> {
    const t = tablesOf(db);
    const from = new Date(window.fromMs);
    const to = new Date(window.toMs);
    const { rows } = await sql<{ kind: 'post' | 'author'; id: string; n: number }>`
      SELECT 'post' AS kind, x.id,
             ((SELECT count(*) FROM ${t.likes} l WHERE l.post_id = x.id AND l.created_at > ${from} AND l.created_at <= ${to})
            + 2 * (SELECT count(*) FROM ${t.comments} c WHERE c.post_id = x.id AND c.created_at > ${from} AND c.created_at <= ${to}))::int AS n
        FROM unnest(${[...postIds]}::text[]) AS x(id)
      UNION ALL
      SELECT 'author', a.id,
             ((SELECT count(*) FROM ${t.likes} l WHERE l.user_id = ${viewerId} AND l.post_author_id = a.id)
            + (SELECT count(*) FROM ${t.comments} c WHERE c.author_id = ${viewerId} AND c.post_author_id = a.id))::int
        FROM unnest(${[...new Set(authorIds)]}::text[]) AS a(id)`.execute(db);
    const recentEngagement = new Map<string, number>();
    const affinity = new Map<string, number>();
    for (const row of rows) (row.kind === 'post' ? recentEngagement : affinity).set(row.id, row.n);
    return { recentEngagement, affinity };
  },
};
