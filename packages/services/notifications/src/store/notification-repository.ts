import { randomUUID } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import {
  LATEST_ACTORS,
  type NotificationKind,
  type NotifyingAction,
  type WithdrawnAction,
} from '../domain/kinds.js';
import type { NotificationsTable, NotificationsTables } from './tables.js';
import { tablesOf } from './tables-of.js';

type Db = Kysely<NotificationsTables>;
export type NotificationRow = Pick<
  NotificationsTable,
  'id' | 'recipient_id' | 'kind' | 'target_id' | 'actor_count' | 'latest_actor_ids'
> & { opened_at: Date; updated_at: Date };

/** A group an undo or a purge changed: still there (fewer actors) or gone. */
export interface ChangedGroup {
  id: string;
  recipientId: string;
  removed: boolean;
}

export interface AddedAction {
  notificationId: string;
  /** False when the action was already part of its group (nothing changed). */
  changed: boolean;
}

const COLUMNS = [
  'id',
  'recipient_id',
  'kind',
  'target_id',
  'actor_count',
  'latest_actor_ids',
  'opened_at',
  'updated_at',
] as const;

export const notificationRepository = {
  /**
   * Adds one action to the open group of (recipient, kind, target) — the
   * newest one opened within `windowMs` before the action — or opens a new
   * group. A transaction-scoped advisory lock on the group key serialises
   * writers of one group (follows of one account arrive on many log keys).
   */
  async addAction(tx: Db, action: NotifyingAction, windowMs: number): Promise<AddedAction> {
    await lockGroup(tx, action.recipientId, action.kind, action.targetId);
    const open = await tx
      .selectFrom('notifications')
      .select(['id', 'actor_count', 'latest_actor_ids', 'updated_at'])
      .where('recipient_id', '=', action.recipientId)
      .where('kind', '=', action.kind)
      .where('target_id', '=', action.targetId)
      .where('opened_at', '>', new Date(action.actedAt.getTime() - windowMs))
      .orderBy('opened_at', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (!open) {
      const id = randomUUID();
      await tx
        .insertInto('notifications')
        .values({
          id,
          recipient_id: action.recipientId,
          kind: action.kind,
          target_id: action.targetId,
          actor_count: 1,
          latest_actor_ids: [action.actorId],
          opened_at: action.actedAt,
          updated_at: action.actedAt,
        })
        .execute();
      await insertAction(tx, id, action);
      return { notificationId: id, changed: true };
    }
    const actorKnown = await tx
      .selectFrom('notification_actions')
      .select('source_id')
      .where('notification_id', '=', open.id)
      .where('actor_id', '=', action.actorId)
      .limit(1)
      .executeTakeFirst();
    if (!(await insertAction(tx, open.id, action))) return { notificationId: open.id, changed: false };
    const latest = [action.actorId, ...open.latest_actor_ids.filter((a) => a !== action.actorId)];
    await tx
      .updateTable('notifications')
      .set({
        actor_count: open.actor_count + (actorKnown ? 0 : 1),
        latest_actor_ids: latest.slice(0, LATEST_ACTORS),
        updated_at: action.actedAt > open.updated_at ? action.actedAt : open.updated_at,
      })
      .where('id', '=', open.id)
      .execute();
    return { notificationId: open.id, changed: true };
  },

  /** Takes an undone action out of its group(s); a group left without actions is deleted. */
  async withdraw(tx: Db, withdrawn: WithdrawnAction): Promise<ChangedGroup[]> {
    let query = tx
      .deleteFrom('notification_actions')
      .where('kind', '=', withdrawn.kind)
      .where('target_id', '=', withdrawn.targetId)
      .where('source_id', '=', withdrawn.sourceId);
    if (withdrawn.recipientId) query = query.where('recipient_id', '=', withdrawn.recipientId);
    const rows = await query.returning(['notification_id', 'recipient_id']).execute();
    return refreshGroups(tx, rows);
  },

  /**
   * Takes every action of `actorId` out of the groups of `recipientId` (a
   * block or mute), or of everyone (`recipientId` undefined: the account
   * was deleted).
   */
  async removeActor(tx: Db, actorId: string, recipientId?: string): Promise<ChangedGroup[]> {
    let query = tx.deleteFrom('notification_actions').where('actor_id', '=', actorId);
    if (recipientId) query = query.where('recipient_id', '=', recipientId);
    const rows = await query.returning(['notification_id', 'recipient_id']).execute();
    return refreshGroups(tx, rows);
  },

  /** Deletes the groups about a target that is gone (a deleted post). */
  async removeTarget(tx: Db, targetId: string, kinds: readonly NotificationKind[]): Promise<ChangedGroup[]> {
    const rows = await tx
      .deleteFrom('notifications')
      .where('target_id', '=', targetId)
      .where('kind', 'in', kinds)
      .returning(['id', 'recipient_id'])
      .execute();
    if (rows.length > 0)
      await tx
        .deleteFrom('push_deliveries')
        .where(
          'notification_id',
          'in',
          rows.map((r) => r.id),
        )
        .execute();
    return rows.map((r) => ({ id: r.id, recipientId: r.recipient_id, removed: true }));
  },

  /** Everything addressed to an account: its notifications, read marker and preferences. */
  async purgeRecipient(tx: Db, userId: string): Promise<number> {
    const removed = await tx
      .deleteFrom('notifications')
      .where('recipient_id', '=', userId)
      .executeTakeFirst();
    await tx.deleteFrom('socket_deliveries').where('recipient_id', '=', userId).execute();
    await tx.deleteFrom('read_markers').where('user_id', '=', userId).execute();
    await tx.deleteFrom('preferences').where('user_id', '=', userId).execute();
    return Number(removed.numDeletedRows);
  },

  async findByIds(db: Db, ids: readonly string[]): Promise<NotificationRow[]> {
    if (ids.length === 0) return [];
    return db.selectFrom('notifications').select(COLUMNS).where('id', 'in', ids).execute();
  },

  async findOwned(db: Db, recipientId: string, id: string): Promise<NotificationRow | undefined> {
    return db
      .selectFrom('notifications')
      .select(COLUMNS)
      .where('id', '=', id)
      .where('recipient_id', '=', recipientId)
      .executeTakeFirst();
  },

  /** Newest first, keyset on (updated_at, id). */
  async page(
    db: Db,
    recipientId: string,
    limit: number,
    after?: { updatedAt: Date; id: string },
  ): Promise<NotificationRow[]> {
    let query = db
      .selectFrom('notifications')
      .select(COLUMNS)
      .where('recipient_id', '=', recipientId)
      .orderBy('updated_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit);
    if (after)
      query = query.where((eb) =>
        eb.or([
          eb('updated_at', '<', after.updatedAt),
          eb.and([eb('updated_at', '=', after.updatedAt), eb('id', '<', after.id)]),
        ]),
      );
    return query.execute();
  },

  async unreadCount(db: Db, recipientId: string): Promise<number> {
    const t = tablesOf(db);
    const { rows } = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM ${t.notifications} n
       WHERE n.recipient_id = ${recipientId}
         AND n.updated_at > coalesce(
           (SELECT read_up_to FROM ${t.read_markers} WHERE user_id = ${recipientId}), '-infinity')`.execute(
      db,
    );
    return rows[0]?.n ?? 0;
  },

  /**
   * Deletes up to `limit` read notifications (at or before their
   * recipient's read marker) whose newest action is older than `before`.
   */
  async deleteReadBefore(db: Db, before: Date, limit: number): Promise<number> {
    const t = tablesOf(db);
    const { rows } = await sql<{ id: string }>`
      DELETE FROM ${t.notifications} WHERE id IN (
        SELECT n.id FROM ${t.notifications} n
          JOIN ${t.read_markers} m ON m.user_id = n.recipient_id
         WHERE n.updated_at < ${before} AND n.updated_at <= m.read_up_to
         LIMIT ${limit})
      RETURNING id`.execute(db);
    return rows.length;
  },
};

async function lockGroup(tx: Db, recipientId: string, kind: string, targetId: string): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(hashtext('nova.notifications'), hashtext(${`${recipientId}|${kind}|${targetId}`}))`.execute(
    tx,
  );
}

async function insertAction(tx: Db, notificationId: string, action: NotifyingAction): Promise<boolean> {
  const inserted = await tx
    .insertInto('notification_actions')
    .values({
      notification_id: notificationId,
      recipient_id: action.recipientId,
      kind: action.kind,
      target_id: action.targetId,
      actor_id: action.actorId,
      source_id: action.sourceId,
      acted_at: action.actedAt,
    })
    .onConflict((oc) => oc.columns(['notification_id', 'source_id']).doNothing())
    .returning('source_id')
    .executeTakeFirst();
  return inserted !== undefined;
}

/**
 * Recomputes the actor count and the latest actors of each group that lost
 * actions, deleting the ones left empty (and their pending pushes).
 */
async function refreshGroups(
  tx: Db,
  rows: readonly { notification_id: string; recipient_id: string }[],
): Promise<ChangedGroup[]> {
  const groups = new Map(rows.map((r) => [r.notification_id, r.recipient_id]));
  const changed: ChangedGroup[] = [];
  const t = tablesOf(tx);
  for (const [id, recipientId] of [...groups].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const { rows: stats } = await sql<{ actors: number; latest: string[] | null }>`
      SELECT count(*)::int AS actors,
             (array_agg(actor_id ORDER BY last_at DESC))[1:${sql.lit(LATEST_ACTORS)}] AS latest
        FROM (SELECT actor_id, max(acted_at) AS last_at FROM ${t.notification_actions}
               WHERE notification_id = ${id} GROUP BY actor_id) a`.execute(tx);
    const actors = stats[0]?.actors ?? 0;
    if (actors === 0) {
      await tx.deleteFrom('notifications').where('id', '=', id).execute();
      await tx.deleteFrom('push_deliveries').where('notification_id', '=', id).execute();
      changed.push({ id, recipientId, removed: true });
    } else {
      await tx
        .updateTable('notifications')
        .set({ actor_count: actors, latest_actor_ids: stats[0]?.latest ?? [] })
        .where('id', '=', id)
        .execute();
      changed.push({ id, recipientId, removed: false });
    }
  }
  return changed;
}
