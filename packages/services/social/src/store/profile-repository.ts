import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import { PROFILE_COLUMNS, type ProfileRow } from './profile-mapper.js';
import type { SocialTables } from './tables.js';
import { tablesOf } from './tables-of.js';

type Db = Kysely<SocialTables>;

export interface LockedProfile {
  id: string;
  isPrivate: boolean;
}

/** Net change to one account's counters. */
export interface CountDelta {
  id: string;
  followers: number;
  following: number;
}

export const profileRepository = {
  async findByIds(db: Db, ids: readonly string[]): Promise<ProfileRow[]> {
    if (ids.length === 0) return [];
    return db
      .selectFrom('profiles')
      .select(PROFILE_COLUMNS)
      .where('id', '=', sql<string>`any(${[...ids]}::text[])`)
      .execute();
  },

  async findById(db: Db, id: string): Promise<ProfileRow | undefined> {
    return db.selectFrom('profiles').select(PROFILE_COLUMNS).where('id', '=', id).executeTakeFirst();
  },

  async findByUsername(db: Db, username: string): Promise<ProfileRow | undefined> {
    return db
      .selectFrom('profiles')
      .select(PROFILE_COLUMNS)
      .where(sql`lower(username)`, '=', username.toLowerCase())
      .executeTakeFirst();
  },

  /** One query; the usernames compared case-insensitively. */
  async findIdsByUsernames(
    db: Db,
    usernames: readonly string[],
  ): Promise<{ id: string; username: string }[]> {
    if (usernames.length === 0) return [];
    const lowered = [...new Set(usernames.map((u) => u.toLowerCase()))];
    return db
      .selectFrom('profiles')
      .select(['id', 'username'])
      .where(sql`lower(username)`, '=', sql<string>`any(${lowered}::text[])`)
      .execute();
  },

  /**
   * Idempotent: a redelivered registration leaves the existing profile alone.
   * 'username_taken' when another profile holds the username (no error: the
   * caller's transaction stays usable).
   */
  async createIfAbsent(
    db: Db,
    profile: { id: string; username: string; createdAt: string },
  ): Promise<'created' | 'exists' | 'username_taken'> {
    const inserted = await db
      .insertInto('profiles')
      .values({ id: profile.id, username: profile.username, created_at: profile.createdAt })
      // No conflict target: the id and the username index both count.
      .onConflict((oc) => oc.doNothing())
      .returning('id')
      .executeTakeFirst();
    if (inserted) return 'created';
    const existing = await db
      .selectFrom('profiles')
      .select('id')
      .where('id', '=', profile.id)
      .executeTakeFirst();
    return existing ? 'exists' : 'username_taken';
  },

  async update(
    db: Db,
    id: string,
    values: {
      displayName: string | null;
      bio: string | null;
      avatarMediaId: string | null;
      isPrivate: boolean;
    },
  ): Promise<ProfileRow> {
    return db
      .updateTable('profiles')
      .set({
        display_name: values.displayName,
        bio: values.bio,
        avatar_media_id: values.avatarMediaId,
        is_private: values.isPrivate,
      })
      .where('id', '=', id)
      .returning(PROFILE_COLUMNS)
      .executeTakeFirstOrThrow();
  },

  /**
   * Row-locks the given profiles in id order. Every transaction that changes
   * counters locks first, in the same order, so two users following each other
   * at once queue instead of deadlocking. Missing ids are simply absent.
   */
  async lock(db: Db, ids: readonly string[]): Promise<LockedProfile[]> {
    const unique = [...new Set(ids)].sort();
    if (unique.length === 0) return [];
    const rows = await db
      .selectFrom('profiles')
      .select(['id', 'is_private'])
      .where('id', '=', sql<string>`any(${unique}::text[])`)
      .orderBy('id')
      .forNoKeyUpdate()
      .execute();
    return rows.map((r) => ({ id: r.id, isPrivate: r.is_private }));
  },

  /**
   * postCount follows content's post events, never below zero (a deletion
   * seen without its creation). Several accounts' changes in one statement. Each entry folds one
   * account's changes, in order, into `total` and `floor` (see
   * postCountChanges): the result equals applying them one by one with the
   * count clamped at 0 after each.
   */
  async applyPostCountChanges(db: Db, changes: readonly PostCountChange[]): Promise<void> {
    if (changes.length === 0) return;
    const values = sql.join(
      changes.map((c) => sql`(${c.id}::text, ${c.total}::int, ${c.floor}::int)`),
      sql`, `,
    );
    const t = tablesOf(db);
    await sql`
      UPDATE ${t.profiles} AS p
         SET post_count = greatest(p.post_count + c.total, c.floor)
        FROM (VALUES ${values}) AS c (id, total, floor)
       WHERE p.id = c.id`.execute(db);
  },

  /** Applies counter changes in one statement. */
  async adjustCounts(db: Db, deltas: readonly CountDelta[]): Promise<void> {
    const changed = deltas.filter((d) => d.followers !== 0 || d.following !== 0);
    if (changed.length === 0) return;
    const values = sql.join(
      changed.map((d) => sql`(${d.id}::text, ${d.followers}::int, ${d.following}::int)`),
      sql`, `,
    );
    const t = tablesOf(db);
    await sql`
      UPDATE ${t.profiles} AS p
         SET follower_count = p.follower_count + d.followers,
             following_count = p.following_count + d.following
        FROM (VALUES ${values}) AS d (id, followers, following)
       WHERE p.id = d.id`.execute(db);
  },
};

/** Counter deltas for follow edges appearing (+1) or disappearing (-1). */
export function edgeDeltas(
  edges: readonly { followerId: string; followeeId: string }[],
  sign: 1 | -1,
): CountDelta[] {
  const byId = new Map<string, CountDelta>();
  const entry = (id: string): CountDelta => {
    let d = byId.get(id);
    if (!d) {
      d = { id, followers: 0, following: 0 };
      byId.set(id, d);
    }
    return d;
  };
  for (const edge of edges) {
    entry(edge.followerId).following += sign;
    entry(edge.followeeId).followers += sign;
  }
  return [...byId.values()];
}

/** One account's post-count changes folded for applyPostCountChanges. */
export interface PostCountChange {
  id: string;
  /** Sum of the changes. */
  total: number;
  /** Lowest count the clamped steps can end on: total − (lowest running sum, 0 included). */
  floor: number;
}

/**
 * Folds ±1 changes per account, in order. Applying x ← max(x + d, 0) step by
 * step ends on max(x₀ + S, S − min Sₖ), Sₖ the running sums after each step
 * and S the last; so one UPDATE per batch counts exactly what one UPDATE per
 * event did, a deletion of a post counted before the count existed included.
 */
export function postCountChanges(changes: readonly { id: string; delta: number }[]): PostCountChange[] {
  const byId = new Map<string, { sum: number; lowest: number }>();
  for (const { id, delta } of changes) {
    const entry = byId.get(id) ?? { sum: 0, lowest: 0 };
    entry.sum += delta;
    entry.lowest = Math.min(entry.lowest, entry.sum);
    byId.set(id, entry);
  }
  return [...byId].map(([id, { sum, lowest }]) => ({ id, total: sum, floor: sum - lowest }));
}
