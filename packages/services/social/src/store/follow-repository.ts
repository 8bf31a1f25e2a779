import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import { PROFILE_COLUMNS, type ProfileRow } from './profile-mapper.js';
import type { SocialTables } from './tables.js';

type Db = Kysely<SocialTables>;

export interface FollowEdge {
  followerId: string;
  followeeId: string;
}

export interface EdgePageRow extends ProfileRow {
  seq: string;
}

/** One direction of the follow graph: "followers of" or "followed by" an account. */
export type Direction = 'followers' | 'following';

export const followRepository = {
  async exists(db: Db, edge: FollowEdge): Promise<boolean> {
    const row = await db
      .selectFrom('follows')
      .select('follower_id')
      .where('follower_id', '=', edge.followerId)
      .where('followee_id', '=', edge.followeeId)
      .executeTakeFirst();
    return row !== undefined;
  },

  /** Inserts the edges that do not exist yet; returns the ones actually created. */
  async insert(db: Db, edges: readonly FollowEdge[]): Promise<FollowEdge[]> {
    if (edges.length === 0) return [];
    const rows = await db
      .insertInto('follows')
      .values(edges.map((e) => ({ follower_id: e.followerId, followee_id: e.followeeId })))
      .onConflict((oc) => oc.columns(['follower_id', 'followee_id']).doNothing())
      .returning(['follower_id', 'followee_id'])
      .execute();
    return rows.map((r) => ({ followerId: r.follower_id, followeeId: r.followee_id }));
  },

  /** Removes the follow edges between two accounts in the given directions; returns those removed. */
  async removeBetween(db: Db, a: string, b: string, bothWays: boolean): Promise<FollowEdge[]> {
    const rows = await db
      .deleteFrom('follows')
      .where((eb) =>
        bothWays
          ? eb.or([
              eb.and([eb('follower_id', '=', a), eb('followee_id', '=', b)]),
              eb.and([eb('follower_id', '=', b), eb('followee_id', '=', a)]),
            ])
          : eb.and([eb('follower_id', '=', a), eb('followee_id', '=', b)]),
      )
      .returning(['follower_id', 'followee_id'])
      .execute();
    return rows.map((r) => ({ followerId: r.follower_id, followeeId: r.followee_id }));
  },

  /**
   * Every edge after `after` in primary-key order, `limit` of them: keyset
   * paging on (follower_id, followee_id), one index range scan per page.
   */
  async list(db: Db, after: FollowEdge | null, limit: number): Promise<FollowEdge[]> {
    let query = db.selectFrom('follows').select(['follower_id', 'followee_id']);
    if (after !== null)
      query = query.where(({ eb, refTuple, tuple }) =>
        eb(refTuple('follower_id', 'followee_id'), '>', tuple(after.followerId, after.followeeId)),
      );
    const rows = await query.orderBy('follower_id').orderBy('followee_id').limit(limit).execute();
    return rows.map((r) => ({ followerId: r.follower_id, followeeId: r.followee_id }));
  },

  /**
   * One page of an account's followers or followees, newest edge first.
   * Keyset on the edge's sequence number: edges added or removed while a
   * client pages never shift the remaining pages (no duplicates, no gaps).
   * With a viewer, accounts the viewer blocks or is blocked by are left out
   * in the query itself, so pages stay full.
   */
  async page(
    db: Db,
    userId: string,
    direction: Direction,
    afterSeq: string | null,
    limit: number,
    viewerId?: string,
  ): Promise<EdgePageRow[]> {
    const [own, other] =
      direction === 'followers'
        ? (['followee_id', 'follower_id'] as const)
        : (['follower_id', 'followee_id'] as const);
    let query = db
      .selectFrom('follows as f')
      .innerJoin('profiles as p', 'p.id', `f.${other}`)
      .select(PROFILE_COLUMNS.map((c) => `p.${c}` as const))
      .select(sql<string>`f.seq::text`.as('seq'))
      .where(`f.${own}`, '=', userId);
    if (afterSeq !== null) query = query.where('f.seq', '<', afterSeq);
    // The owner's own lists hold no blocked account (a block severs follows both ways).
    if (viewerId !== undefined && viewerId !== userId) {
      // Two probes of the blocks primary key rather than one OR.
      query = query
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom('blocks as b')
                .select('b.blocker_id')
                .where('b.blocker_id', '=', viewerId)
                .whereRef('b.blocked_id', '=', `f.${other}`),
            ),
          ),
        )
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom('blocks as b')
                .select('b.blocker_id')
                .whereRef('b.blocker_id', '=', `f.${other}`)
                .where('b.blocked_id', '=', viewerId),
            ),
          ),
        );
    }
    return query.orderBy('f.seq', 'desc').limit(limit).execute();
  },
};
