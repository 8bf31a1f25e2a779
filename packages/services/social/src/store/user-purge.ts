import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { SocialTables } from './tables.js';
import { tablesOf } from './tables-of.js';

type Db = Kysely<SocialTables>;

/**
 * Removes everything of one user from the social schema: the other side's
 * counters are corrected first (one statement per direction), then deleting
 * the profile cascades to follows, requests, blocks and mutes both ways.
 * Running it again for the same user changes nothing. Returns whether a
 * profile existed.
 */
export async function purgeUser(db: Db, userId: string): Promise<boolean> {
  const t = tablesOf(db);
  await sql`
    UPDATE ${t.profiles} AS p
       SET follower_count = p.follower_count - 1
      FROM ${t.follows} f
     WHERE f.follower_id = ${userId} AND p.id = f.followee_id`.execute(db);
  await sql`
    UPDATE ${t.profiles} AS p
       SET following_count = p.following_count - 1
      FROM ${t.follows} f
     WHERE f.followee_id = ${userId} AND p.id = f.follower_id`.execute(db);
  const deleted = await db.deleteFrom('profiles').where('id', '=', userId).returning('id').executeTakeFirst();
  return deleted !== undefined;
}
