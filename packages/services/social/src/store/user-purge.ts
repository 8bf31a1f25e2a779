import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { SocialTables } from './tables.js';
import { tablesOf } from './tables-of.js';

type Db = Kysely<SocialTables>;

/**
 * Removes everything of one deleted account from the social schema and
 * remembers the id as deleted (deleted_users), so no later registration event
 * of that id recreates it. The profile row is locked first: purges of one
 * account can run at once (its own user.deleted and another account's
 * registration of the same username, in two lanes), and only the first may
 * correct the other side's counters. Then the counters (one statement per
 * direction), then deleting the profile cascades to follows, requests, blocks
 * and mutes both ways. Running it again changes nothing. Returns the purged
 * profile's username and the accounts whose counters changed, or null when
 * there was no profile.
 */
export async function purgeUser(
  db: Db,
  userId: string,
): Promise<{ username: string; counterparts: string[] } | null> {
  const t = tablesOf(db);
  // Lock order everywhere: the profile row, then the deleted_users key.
  const profile = await db
    .selectFrom('profiles')
    .select(['id', 'username'])
    .where('id', '=', userId)
    .forUpdate()
    .executeTakeFirst();
  await db
    .insertInto('deleted_users')
    .values({ id: userId })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
  if (!profile) return null;
  const followees = await sql<{ id: string }>`
    UPDATE ${t.profiles} AS p
       SET follower_count = p.follower_count - 1
      FROM ${t.follows} f
     WHERE f.follower_id = ${userId} AND p.id = f.followee_id
    RETURNING p.id`.execute(db);
  const followers = await sql<{ id: string }>`
    UPDATE ${t.profiles} AS p
       SET following_count = p.following_count - 1
      FROM ${t.follows} f
     WHERE f.followee_id = ${userId} AND p.id = f.follower_id
    RETURNING p.id`.execute(db);
  await db.deleteFrom('profiles').where('id', '=', userId).execute();
  return {
    username: profile.username,
    counterparts: [...followees.rows, ...followers.rows].map((r) => r.id),
  };
}

/** Whether auth deleted this account (its user.deleted was applied or implied). */
export async function isDeletedUser(db: Db, userId: string): Promise<boolean> {
  const row = await db.selectFrom('deleted_users').select('id').where('id', '=', userId).executeTakeFirst();
  return row !== undefined;
}

/** Records an account as deleted without a profile to purge (it never got one). */
export async function markUserDeleted(db: Db, userId: string): Promise<void> {
  await db
    .insertInto('deleted_users')
    .values({ id: userId })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
}
