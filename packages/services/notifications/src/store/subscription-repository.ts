import { randomUUID } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import type { NotificationsTables } from './tables.js';
import { tablesOf } from './tables-of.js';

type Db = Kysely<NotificationsTables>;

export interface SubscriptionRow {
  id: string;
  user_id: string;
  endpoint: string;
  p256dh: string;
  auth: string;
}

export const subscriptionRepository = {
  /**
   * Registers the endpoint for `userId`. An endpoint is one browser profile:
   * registered again (new keys, or another account signed in there) it moves
   * to the caller with the new keys, and pending pushes to it are dropped.
   */
  async upsert(
    db: Db,
    userId: string,
    input: { endpoint: string; p256dh: string; auth: string },
  ): Promise<{ id: string; created: boolean }> {
    const t = tablesOf(db);
    const { rows } = await sql<{ id: string; created: boolean }>`
      INSERT INTO ${t.push_subscriptions} AS s (id, user_id, endpoint, p256dh, auth)
      VALUES (${randomUUID()}, ${userId}, ${input.endpoint}, ${input.p256dh}, ${input.auth})
      ON CONFLICT (endpoint) DO UPDATE SET user_id = EXCLUDED.user_id, p256dh = EXCLUDED.p256dh, auth = EXCLUDED.auth
      RETURNING id, (xmax = 0) AS created`.execute(db);
    const row = rows[0];
    if (!row) throw new Error('push subscription upsert returned nothing');
    if (!row.created) await db.deleteFrom('push_deliveries').where('subscription_id', '=', row.id).execute();
    return row;
  },

  /** Removes the caller's subscription of that endpoint; true when there was one. */
  async remove(db: Db, userId: string, endpoint: string): Promise<boolean> {
    const result = await db
      .deleteFrom('push_subscriptions')
      .where('user_id', '=', userId)
      .where('endpoint', '=', endpoint)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  },

  async removeById(db: Db, id: string): Promise<void> {
    await db.deleteFrom('push_subscriptions').where('id', '=', id).execute();
  },

  async removeUser(db: Db, userId: string): Promise<number> {
    const result = await db.deleteFrom('push_subscriptions').where('user_id', '=', userId).executeTakeFirst();
    return Number(result.numDeletedRows);
  },

  async listOf(db: Db, userId: string): Promise<SubscriptionRow[]> {
    return db
      .selectFrom('push_subscriptions')
      .select(['id', 'user_id', 'endpoint', 'p256dh', 'auth'])
      .where('user_id', '=', userId)
      .orderBy('created_at')
      .execute();
  },
};
