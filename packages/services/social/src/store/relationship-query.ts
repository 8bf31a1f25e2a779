import type { Relationship } from '@nova/contracts';
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { TargetView } from '../domain/visibility.js';
import type { SocialTables } from './tables.js';
import { tablesOf } from './tables-of.js';

type Db = Kysely<SocialTables>;

interface RelationshipRow {
  id: string;
  following: boolean;
  follow_requested: boolean;
  followed_by: boolean;
  blocking: boolean;
  blocked_by: boolean;
  muting: boolean;
}

/** The viewer's relationship to each distinct id, in one query whatever the list size. */
export async function queryRelationships(
  db: Db,
  viewerId: string,
  ids: readonly string[],
): Promise<Relationship[]> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return [];
  const t = tablesOf(db);
  const { rows } = await sql<RelationshipRow>`
    SELECT t.id,
           EXISTS (SELECT 1 FROM ${t.follows} WHERE follower_id = ${viewerId} AND followee_id = t.id) AS following,
           EXISTS (SELECT 1 FROM ${t.follow_requests} WHERE requester_id = ${viewerId} AND target_id = t.id) AS follow_requested,
           EXISTS (SELECT 1 FROM ${t.follows} WHERE follower_id = t.id AND followee_id = ${viewerId}) AS followed_by,
           EXISTS (SELECT 1 FROM ${t.blocks} WHERE blocker_id = ${viewerId} AND blocked_id = t.id) AS blocking,
           EXISTS (SELECT 1 FROM ${t.blocks} WHERE blocker_id = t.id AND blocked_id = ${viewerId}) AS blocked_by,
           EXISTS (SELECT 1 FROM ${t.mutes} WHERE muter_id = ${viewerId} AND muted_id = t.id) AS muting
      FROM unnest(${unique}::text[]) WITH ORDINALITY AS t (id, n)
     ORDER BY t.n`.execute(db);
  return rows.map((r) => ({
    userId: r.id,
    following: r.following,
    followRequested: r.follow_requested,
    followedBy: r.followed_by,
    blocking: r.blocking,
    blockedBy: r.blocked_by,
    muting: r.muting,
  }));
}

/** What one viewer (possibly anonymous) may see of one account, in one query. */
export async function queryTargetView(
  db: Db,
  viewerId: string | undefined,
  targetId: string,
): Promise<TargetView> {
  const viewer = viewerId ?? null;
  const t = tablesOf(db);
  const { rows } = await sql<{ is_private: boolean; blocked: boolean; viewer_follows: boolean }>`
    SELECT p.is_private,
           EXISTS (SELECT 1 FROM ${t.blocks}
                    WHERE (blocker_id = ${viewer} AND blocked_id = p.id)
                       OR (blocker_id = p.id AND blocked_id = ${viewer})) AS blocked,
           EXISTS (SELECT 1 FROM ${t.follows} WHERE follower_id = ${viewer} AND followee_id = p.id) AS viewer_follows
      FROM ${t.profiles} p
     WHERE p.id = ${targetId}`.execute(db);
  const row = rows[0];
  if (!row) return { exists: false, isPrivate: false, blocked: false, viewerFollows: false };
  return { exists: true, isPrivate: row.is_private, blocked: row.blocked, viewerFollows: row.viewer_follows };
}

/** True when either account blocks the other. */
export async function isBlockedEitherWay(db: Db, a: string, b: string): Promise<boolean> {
  const row = await db
    .selectFrom('blocks')
    .select('blocker_id')
    .where((eb) =>
      eb.or([
        eb.and([eb('blocker_id', '=', a), eb('blocked_id', '=', b)]),
        eb.and([eb('blocker_id', '=', b), eb('blocked_id', '=', a)]),
      ]),
    )
    .executeTakeFirst();
  return row !== undefined;
}
