import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { SuggestionCursor } from '../domain/cursors.js';
import type { ProfileRow } from './profile-mapper.js';
import type { SocialTables } from './tables.js';
import { tablesOf } from './tables-of.js';

type Db = Kysely<SocialTables>;

export interface SuggestionRow extends ProfileRow {
  mutual_count: number;
}

/**
 * Friends of friends: accounts followed by the accounts the user follows,
 * ranked by how many of them do (then follower count, then id), excluding the
 * user, accounts already followed or requested, blocked either way, or muted.
 */
export async function querySuggestions(
  db: Db,
  userId: string,
  after: SuggestionCursor | null,
  limit: number,
): Promise<SuggestionRow[]> {
  const position = after
    ? sql`AND (c.mutual_count < ${after.m}
              OR (c.mutual_count = ${after.m} AND p.follower_count < ${after.f})
              OR (c.mutual_count = ${after.m} AND p.follower_count = ${after.f} AND p.id > ${after.id}))`
    : sql``;
  const t = tablesOf(db);
  const { rows } = await sql<SuggestionRow>`
    WITH candidates AS (
      SELECT f2.followee_id AS id, count(*)::int AS mutual_count
        FROM ${t.follows} f1
        JOIN ${t.follows} f2 ON f2.follower_id = f1.followee_id
       WHERE f1.follower_id = ${userId}
         AND f2.followee_id <> ${userId}
       GROUP BY f2.followee_id
    )
    SELECT p.id, p.username, p.display_name, p.bio, p.avatar_media_id, p.is_private,
           p.follower_count, p.following_count, p.post_count, p.created_at, c.mutual_count
      FROM candidates c
      JOIN ${t.profiles} p ON p.id = c.id
     WHERE NOT EXISTS (SELECT 1 FROM ${t.follows} x WHERE x.follower_id = ${userId} AND x.followee_id = c.id)
       AND NOT EXISTS (SELECT 1 FROM ${t.follow_requests} r WHERE r.requester_id = ${userId} AND r.target_id = c.id)
       AND NOT EXISTS (SELECT 1 FROM ${t.blocks} b
                        WHERE (b.blocker_id = ${userId} AND b.blocked_id = c.id)
                           OR (b.blocker_id = c.id AND b.blocked_id = ${userId}))
       AND NOT EXISTS (SELECT 1 FROM ${t.mutes} m WHERE m.muter_id = ${userId} AND m.muted_id = c.id)
       ${position}
     ORDER BY c.mutual_count DESC, p.follower_count DESC, p.id ASC
     LIMIT ${limit}`.execute(db);
  return rows;
}
