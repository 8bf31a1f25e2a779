import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import { PROFILE_COLUMNS, type ProfileRow } from './profile-mapper.js';
import type { SocialTables } from './tables.js';

type Db = Kysely<SocialTables>;

export interface RequestPageRow extends ProfileRow {
  seq: string;
  requested_at: Date;
}

export const followRequestRepository = {
  /** Idempotent; true when a new request was recorded. */
  async insert(db: Db, requesterId: string, targetId: string): Promise<boolean> {
    const row = await db
      .insertInto('follow_requests')
      .values({ requester_id: requesterId, target_id: targetId })
      .onConflict((oc) => oc.columns(['requester_id', 'target_id']).doNothing())
      .returning('requester_id')
      .executeTakeFirst();
    return row !== undefined;
  },

  async remove(db: Db, requesterId: string, targetId: string): Promise<boolean> {
    const rows = await db
      .deleteFrom('follow_requests')
      .where('requester_id', '=', requesterId)
      .where('target_id', '=', targetId)
      .returning('requester_id')
      .execute();
    return rows.length > 0;
  },

  async removeBetween(db: Db, a: string, b: string): Promise<void> {
    await db
      .deleteFrom('follow_requests')
      .where((eb) =>
        eb.or([
          eb.and([eb('requester_id', '=', a), eb('target_id', '=', b)]),
          eb.and([eb('requester_id', '=', b), eb('target_id', '=', a)]),
        ]),
      )
      .execute();
  },

  async pendingRequesterIds(db: Db, targetId: string): Promise<string[]> {
    const rows = await db
      .selectFrom('follow_requests')
      .select('requester_id')
      .where('target_id', '=', targetId)
      .execute();
    return rows.map((r) => r.requester_id);
  },

  /** Removes every pending request to the account; returns the requesters, oldest first. */
  async removeAllTo(db: Db, targetId: string): Promise<string[]> {
    const rows = await db
      .deleteFrom('follow_requests')
      .where('target_id', '=', targetId)
      .returning(['requester_id', sql<string>`seq::text`.as('seq')])
      .execute();
    return rows.sort((x, y) => (BigInt(x.seq) < BigInt(y.seq) ? -1 : 1)).map((r) => r.requester_id);
  },

  /** The account's pending incoming requests, newest first, keyset on the request's sequence. */
  async page(db: Db, targetId: string, afterSeq: string | null, limit: number): Promise<RequestPageRow[]> {
    let query = db
      .selectFrom('follow_requests as r')
      .innerJoin('profiles as p', 'p.id', 'r.requester_id')
      .select(PROFILE_COLUMNS.map((c) => `p.${c}` as const))
      .select([sql<string>`r.seq::text`.as('seq'), 'r.created_at as requested_at'])
      .where('r.target_id', '=', targetId);
    if (afterSeq !== null) query = query.where('r.seq', '<', afterSeq);
    return query.orderBy('r.seq', 'desc').limit(limit).execute();
  },
};
