import { notifyOnCommit } from '@nova/kernel';
import { type Kysely, sql } from 'kysely';
import type { NotificationsTables } from './tables.js';
import { tablesOf } from './tables-of.js';

type Db = Kysely<NotificationsTables>;

/** The NOTIFY channel that wakes the delivery workers (per schema: test databases share a server). */
export function deliveryChannel(db: Db): string {
  return `${tablesOf(db).schemaPrefix.replace(/\.$/, '') || 'public'}_notification_deliveries`.toLowerCase();
}

/** A group's change for its recipient: a socket frame, and a push when the group is new or grew. */
export interface Delivery {
  recipientId: string;
  notificationId: string;
  push?: unknown;
}

/** A socket frame due for one recipient: the notification's state when it is sent. */
export interface DueFrame {
  recipientId: string;
  notificationId: string;
}

/** A push claimed for sending, with its subscription. */
export interface ClaimedPush {
  id: string;
  version: number;
  attempts: number;
  notificationId: string;
  payload: unknown;
  subscriptionId: string;
  endpoint: string;
  p256dh: string;
  auth: string;
}

export const deliveryQueue = {
  /**
   * Queues a socket frame per delivery and, for a new or grown group, a push
   * to each of the recipient's subscriptions (one pending push per
   * subscription and group: a newer state replaces the payload), in at most
   * three statements. One delivery per group. NOTIFY reaches the workers
   * only if this transaction commits.
   */
  async enqueue(tx: Db, deliveries: readonly Delivery[]): Promise<void> {
    if (deliveries.length === 0) return;
    const t = tablesOf(tx);
    await tx
      .insertInto('socket_deliveries')
      .values(deliveries.map((d) => ({ recipient_id: d.recipientId, notification_id: d.notificationId })))
      .execute();
    const pushes = deliveries.filter((d) => d.push !== undefined);
    if (pushes.length > 0)
      await sql`
        INSERT INTO ${t.push_deliveries} AS d (subscription_id, notification_id, payload)
        SELECT s.id, p.notification_id, p.payload
          FROM jsonb_to_recordset(${JSON.stringify(
            pushes.map((d) => ({
              recipient_id: d.recipientId,
              notification_id: d.notificationId,
              payload: d.push,
            })),
          )}::jsonb) AS p(recipient_id text, notification_id uuid, payload jsonb)
          JOIN ${t.push_subscriptions} s ON s.user_id = p.recipient_id
        ON CONFLICT (subscription_id, notification_id) DO UPDATE
          SET payload = EXCLUDED.payload, version = d.version + 1, attempts = 0,
              next_attempt_at = now(), last_error = NULL`.execute(tx);
    await notifyOnCommit(tx, deliveryChannel(tx));
  },

  /** Takes up to `limit` due frames off the queue (each taken by one process). */
  async takeFrames(db: Db, limit: number): Promise<DueFrame[]> {
    const t = tablesOf(db);
    const { rows } = await sql<{ recipient_id: string; notification_id: string }>`
      DELETE FROM ${t.socket_deliveries} WHERE id IN (
        SELECT id FROM ${t.socket_deliveries} ORDER BY id LIMIT ${limit} FOR UPDATE SKIP LOCKED)
      RETURNING recipient_id, notification_id`.execute(db);
    return rows.map((r) => ({ recipientId: r.recipient_id, notificationId: r.notification_id }));
  },

  /**
   * Claims up to `limit` due pushes for `leaseMs`: a process that dies while
   * sending leaves them to be claimed again when the lease ends.
   */
  async claimPushes(db: Db, limit: number, leaseMs: number): Promise<ClaimedPush[]> {
    const t = tablesOf(db);
    const { rows } = await sql<{
      id: string;
      version: number;
      attempts: number;
      notification_id: string;
      payload: unknown;
      subscription_id: string;
      endpoint: string;
      p256dh: string;
      auth: string;
    }>`
      WITH due AS (
        SELECT id FROM ${t.push_deliveries} WHERE next_attempt_at <= now()
         ORDER BY next_attempt_at LIMIT ${limit} FOR UPDATE SKIP LOCKED),
      claimed AS (
        UPDATE ${t.push_deliveries} d
           SET attempts = d.attempts + 1, next_attempt_at = now() + ${`${leaseMs} milliseconds`}::interval
          FROM due WHERE d.id = due.id
        RETURNING d.id, d.version, d.attempts, d.notification_id, d.payload, d.subscription_id)
      SELECT c.id::text AS id, c.version, c.attempts, c.notification_id, c.payload, c.subscription_id,
             s.endpoint, s.p256dh, s.auth
        FROM claimed c JOIN ${t.push_subscriptions} s ON s.id = c.subscription_id`.execute(db);
    return rows.map((r) => ({
      id: r.id,
      version: r.version,
      attempts: r.attempts,
      notificationId: r.notification_id,
      payload: r.payload,
      subscriptionId: r.subscription_id,
      endpoint: r.endpoint,
      p256dh: r.p256dh,
      auth: r.auth,
    }));
  },

  /** Sent: retires the push unless a newer state of the group replaced it meanwhile. */
  async completePush(db: Db, push: Pick<ClaimedPush, 'id' | 'version'>): Promise<void> {
    await db
      .deleteFrom('push_deliveries')
      .where('id', '=', push.id)
      .where('version', '=', push.version)
      .execute();
  },

  async retryPush(
    db: Db,
    push: Pick<ClaimedPush, 'id' | 'version'>,
    delayMs: number,
    error: string,
  ): Promise<void> {
    await db
      .updateTable('push_deliveries')
      .set({
        next_attempt_at: sql<Date>`now() + ${`${delayMs} milliseconds`}::interval`,
        last_error: error.slice(0, 500),
      })
      .where('id', '=', push.id)
      .where('version', '=', push.version)
      .execute();
  },

  async dropPush(db: Db, push: Pick<ClaimedPush, 'id' | 'version'>): Promise<void> {
    await this.completePush(db, push);
  },

  async pendingPushes(db: Db): Promise<number> {
    const row = await db
      .selectFrom('push_deliveries')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  },
};
