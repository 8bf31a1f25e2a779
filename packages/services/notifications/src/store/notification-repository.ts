import { randomUUID } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import {
  foldIntoGroups,
  type GroupFold,
  type GroupMembers,
  type GroupState,
  groupKeyOf,
} from '../domain/grouping.js';
import {
  isNotificationKind,
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
   * Takes the transaction-scoped advisory locks of the group keys, in one
   * order for every writer (no lock cycles), so writers of one group take
   * turns: follows of one account arrive on many log keys.
   */
  async lockGroups(tx: Db, keys: Iterable<string>): Promise<void> {
    const distinct = [...new Set(keys)];
    if (distinct.length === 0) return;
    // Ordered by the lock's own id (two keys may share a hash); PostgreSQL
    // calls a volatile function in the target list after the sort.
    await sql`SELECT pg_advisory_xact_lock(hashtext('nova.notifications'), h)
                FROM (SELECT DISTINCT hashtext(k) AS h FROM unnest(${distinct}::text[]) AS u(k)) AS l
               ORDER BY h`.execute(tx);
  },

  /**
   * Adds `actions` (log order) to their groups as if one at a time (see
   * foldIntoGroups), in five statements however many actions and groups:
   * the newest group per key, what those groups already hold of these
   * actors and sources, one upsert of every changed group, one insert of
   * the actions. The caller holds the keys' locks (lockGroups).
   */
  async addActions(tx: Db, actions: readonly NotifyingAction[], windowMs: number): Promise<GroupState[]> {
    if (actions.length === 0) return [];
    const byKey = new Map<string, NotifyingAction[]>();
    for (const action of actions) {
      const key = groupKeyOf(action);
      const list = byKey.get(key);
      if (list) list.push(action);
      else byKey.set(key, [action]);
    }
    const newest = await newestGroups(
      tx,
      [...byKey.values()].map((list) => list[0] as NotifyingAction),
    );
    const members = await storedMembers(
      tx,
      [...newest.values()].map((g) => g.id),
      actions,
    );
    const none: GroupMembers = { actors: new Set(), sources: new Set() };
    const changed: Array<GroupState & { opened: boolean }> = [];
    const joined: GroupFold['joined'] = [];
    for (const [key, list] of byKey) {
      const fold = foldIntoGroups(
        list,
        newest.get(key),
        (id) => members.get(id) ?? none,
        windowMs,
        randomUUID,
      );
      changed.push(...fold.changed);
      joined.push(...fold.joined);
    }
    if (changed.length === 0) return [];
    await tx
      .insertInto('notifications')
      .values(
        changed.map((g) => ({
          id: g.id,
          recipient_id: g.recipientId,
          kind: g.kind,
          target_id: g.targetId,
          actor_count: g.actorCount,
          latest_actor_ids: g.latestActorIds,
          opened_at: g.openedAt,
          updated_at: g.updatedAt,
        })),
      )
      .onConflict((oc) =>
        oc.column('id').doUpdateSet((eb) => ({
          actor_count: eb.ref('excluded.actor_count'),
          latest_actor_ids: eb.ref('excluded.latest_actor_ids'),
          updated_at: eb.ref('excluded.updated_at'),
        })),
      )
      .execute();
    // No ON CONFLICT: under the keys' locks the fold knows every stored
    // source, so a duplicate here is a bug that must fail the batch loudly.
    await tx
      .insertInto('notification_actions')
      .values(
        joined.map(({ notificationId, action }) => ({
          notification_id: notificationId,
          recipient_id: action.recipientId,
          kind: action.kind,
          target_id: action.targetId,
          actor_id: action.actorId,
          source_id: action.sourceId,
          acted_at: action.actedAt,
        })),
      )
      .execute();
    return changed.map(({ opened: _, ...group }) => group);
  },

  /** Takes an undone action out of its group(s); a group left without actions is deleted. */
  async withdraw(tx: Db, withdrawn: WithdrawnAction): Promise<ChangedGroup[]> {
    let query = tx
      .deleteFrom('notification_actions')
      .where('kind', '=', withdrawn.kind)
      .where('target_id', '=', withdrawn.targetId)
      .where('source_id', '=', withdrawn.sourceId);
    if (withdrawn.recipientId) query = query.where('recipient_id', '=', withdrawn.recipientId);
    const rows = await query.returning(['notification_id', 'recipient_id', 'kind', 'target_id']).execute();
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
    const rows = await query.returning(['notification_id', 'recipient_id', 'kind', 'target_id']).execute();
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

/** The newest stored group of each (recipient, kind, target) that `firsts` name. */
async function newestGroups(tx: Db, firsts: readonly NotifyingAction[]): Promise<Map<string, GroupState>> {
  const t = tablesOf(tx);
  const { rows } = await sql<NotificationRow>`
    SELECT DISTINCT ON (n.recipient_id, n.kind, n.target_id)
           n.id, n.recipient_id, n.kind, n.target_id, n.actor_count, n.latest_actor_ids, n.opened_at, n.updated_at
      FROM ${t.notifications} n
      JOIN unnest(${firsts.map((a) => a.recipientId)}::text[], ${firsts.map((a) => a.kind)}::text[],
                  ${firsts.map((a) => a.targetId)}::text[]) AS k(recipient_id, kind, target_id)
        ON n.recipient_id = k.recipient_id AND n.kind = k.kind AND n.target_id = k.target_id
     ORDER BY n.recipient_id, n.kind, n.target_id, n.opened_at DESC`.execute(tx);
  return new Map(
    rows.map((r) => {
      const group = toGroupState(r);
      return [groupKeyOf(group), group];
    }),
  );
}

/** What the stored groups `ids` hold of the actions' actors and sources. */
async function storedMembers(
  tx: Db,
  ids: readonly string[],
  actions: readonly NotifyingAction[],
): Promise<Map<string, GroupMembers>> {
  const members = new Map<string, GroupMembers>();
  if (ids.length === 0) return members;
  const t = tablesOf(tx);
  const actors = [...new Set(actions.map((a) => a.actorId))];
  const sources = [...new Set(actions.map((a) => a.sourceId))];
  const { rows } = await sql<{ notification_id: string; actor_id: string; source_id: string }>`
    SELECT notification_id, actor_id, source_id FROM ${t.notification_actions}
     WHERE notification_id = ANY(${ids}::uuid[])
       AND (actor_id = ANY(${actors}::text[]) OR source_id = ANY(${sources}::text[]))`.execute(tx);
  for (const row of rows) {
    let known = members.get(row.notification_id);
    if (!known) {
      known = { actors: new Set(), sources: new Set() };
      members.set(row.notification_id, known);
    }
    known.actors.add(row.actor_id);
    known.sources.add(row.source_id);
  }
  return members;
}

function toGroupState(row: NotificationRow): GroupState {
  if (!isNotificationKind(row.kind)) throw new Error(`unknown notification kind "${row.kind}" in the store`);
  return {
    id: row.id,
    recipientId: row.recipient_id,
    kind: row.kind,
    targetId: row.target_id,
    actorCount: row.actor_count,
    latestActorIds: row.latest_actor_ids,
    openedAt: new Date(row.opened_at),
    updatedAt: new Date(row.updated_at),
  };
}

/**
 * Recomputes the actor count and the latest actors of each group that lost
 * actions, deleting the ones left empty (and their pending pushes).
 */
async function refreshGroups(
  tx: Db,
  rows: readonly { notification_id: string; recipient_id: string; kind: string; target_id: string }[],
): Promise<ChangedGroup[]> {
  if (rows.length === 0) return [];
  // After the writers that hold these groups now: the recount then sees their actions.
  await notificationRepository.lockGroups(
    tx,
    rows.map((r) => groupKeyOf({ recipientId: r.recipient_id, kind: r.kind, targetId: r.target_id })),
  );
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
